"""Routing rulesets for admins (``/api/v1/rulesets``): versions, tests, evaluation."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from .fields import StrictSchema, Text, coordinate


class RulesetSummarySchema(Schema):
    id = fields.Integer()
    name = fields.String()
    version = fields.Integer()
    status = fields.String(metadata={"description": "draft / active / archived"})
    source = fields.String()
    notes = fields.String(allow_none=True)
    rules = fields.Integer(metadata={"description": "规则（标签）数"})
    keywords = fields.Integer()
    places = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    activated_at = fields.DateTime(allow_none=True)


class RulesetDetailSchema(RulesetSummarySchema):
    data = fields.Dict(metadata={"description": "规则集内容：threshold、rules、places、idf"})


class DecisionSchema(Schema):
    ruleset = fields.String()
    ruleset_id = fields.Integer()
    ruleset_version = fields.Integer()
    label = fields.String(allow_none=True)
    category = fields.String(allow_none=True)
    lead_unit = fields.String(allow_none=True)
    lead_unit_name = fields.String(allow_none=True)
    co_units = fields.List(fields.String())
    territorial_unit = fields.String(allow_none=True)
    territorial_unit_name = fields.String(allow_none=True)
    territorial_path = fields.List(fields.String())
    confidence = fields.Float()
    confident = fields.Boolean(metadata={"description": "达到阈值且有承办单位：可自动派单"})
    threshold = fields.Float()
    reason = fields.String()
    notes = fields.List(fields.String())
    candidates = fields.List(
        fields.Dict(),
        metadata={"description": "前三个候选：label、score、matches（词、权重、次数、贡献）"},
    )
    places = fields.List(fields.Dict(), metadata={"description": "识别到的地名及其属地单位"})


class ReportSchema(Schema):
    n = fields.Integer()
    accuracy = fields.Float()
    macro_f1 = fields.Float()
    per_label = fields.Dict(metadata={"description": "标签 → precision、recall、f1、support"})
    confusion = fields.Dict(metadata={"description": "实际标签 → {预测标签: 数量}"})
    coverage = fields.Float(metadata={"description": "置信度达到阈值的比例"})
    confident_accuracy = fields.Float()
    tickets_per_second = fields.Float()


class RulesetWriteSchema(StrictSchema):
    data = fields.Dict(metadata={"description": "规则集内容（与导出的 JSON 相同）"})
    yaml = fields.String(validate=validate.Length(max=16_000_000))
    csv = fields.String(validate=validate.Length(max=16_000_000))
    name = Text(max_len=100, allow_none=True)
    notes = Text(max_len=500, allow_none=True, multiline=True)

    @validates_schema
    def _one_source(self, data: dict[str, Any], **_: Any) -> None:
        given = [k for k in ("data", "yaml", "csv") if data.get(k) is not None]
        if len(given) != 1:
            raise ValidationError("请只提供 data、yaml、csv 中的一项", field_name="data")


class RouteTestSchema(StrictSchema):
    text = Text(required=True, max_len=100_000, multiline=True)
    title = Text(max_len=100, allow_none=True)
    place = Text(max_len=200, allow_none=True)
    latitude = coordinate(-90.0, 90.0, "纬度")
    longitude = coordinate(-180.0, 180.0, "经度")


class LabelledRowSchema(StrictSchema):
    text = fields.String(required=True, validate=validate.Length(max=100_000))
    label = fields.String(required=True, validate=validate.Length(min=1, max=100))


class EvaluateSchema(StrictSchema):
    rows = fields.List(
        fields.Nested(LabelledRowSchema), required=True,
        validate=validate.Length(min=1, max=20_000, error="需要 1–20000 行"),
    )  # fmt: skip


class ExportQuerySchema(StrictSchema):
    format = fields.String(load_default="yaml", validate=validate.OneOf(["yaml", "csv", "json"]))
