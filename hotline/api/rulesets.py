"""``/api/v1/rulesets``: routing rulesets for admins — list, read, edit drafts, test, evaluate,
activate, export."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from routing.learn import evaluate
from routing.rules import RulesetError, csv_rows, dump_yaml

from ..domain.states import Role
from ..errors import ValidationFailed
from ..exports import csv_text
from ..extensions import hotline
from ..models import RulesetRecord
from ..schemas import StrictSchema, Text, _coordinate
from ..services import routing as service
from .auth import authenticated, db_session, principal

blp = Blueprint(
    "rulesets", __name__, url_prefix="/api/v1/rulesets",
    description="自动分派规则集（管理员）：草稿 → 启用 → 归档",
)  # fmt: skip
ADMIN = (Role.ADMIN,)
SECURITY = [{"bearerAuth": []}]


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
    latitude = _coordinate(-90.0, 90.0, "纬度")
    longitude = _coordinate(-180.0, 180.0, "经度")


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


def summary(record: RulesetRecord, *, detail: bool = False) -> dict[str, Any]:
    rules = record.data.get("rules", [])
    result = {
        "id": record.id, "name": record.name, "version": record.version, "status": record.status,
        "source": record.source, "notes": record.notes, "rules": len(rules),
        "keywords": sum(len(r.get("keywords", {})) for r in rules),
        "places": len(record.data.get("places", [])), "created_at": record.created_at,
        "updated_at": record.updated_at, "activated_at": record.activated_at,
    }  # fmt: skip
    if detail:
        result["data"] = record.data
    return result


def _payload(args: dict[str, Any]) -> dict[str, Any]:
    try:
        if args.get("yaml") is not None:
            return service.parse_ruleset_text(args["yaml"], "yaml")
        if args.get("csv") is not None:
            return service.parse_ruleset_text(args["csv"], "csv")
    except RulesetError as exc:
        raise service.ruleset_problem(exc) from exc
    return args["data"]


@blp.route("")
class RulesetCollection(MethodView):
    @blp.response(200, RulesetSummarySchema(many=True))
    @authenticated(*ADMIN)
    @blp.doc(security=SECURITY)
    def get(self) -> list[dict[str, Any]]:
        """所有规则集版本（新的在前）"""
        from sqlalchemy import select

        records = db_session().scalars(select(RulesetRecord).order_by(RulesetRecord.id.desc()))
        return [summary(r) for r in records]

    @blp.response(201, RulesetDetailSchema)
    @authenticated(*ADMIN)
    @blp.arguments(RulesetWriteSchema())
    @blp.doc(security=SECURITY)
    def post(self, args: dict[str, Any]) -> dict[str, Any]:
        """新建草稿（JSON、YAML 或 CSV）；有任何错误则整份不保存"""
        record = service.create_ruleset(
            db_session(), _payload(args), source="api", now=hotline().now(),
            actor=principal().actor, name=args.get("name"), notes=args.get("notes"),
        )  # fmt: skip
        return summary(record, detail=True)


@blp.route("/<int:ruleset_id>")
class RulesetItem(MethodView):
    @blp.response(200, RulesetDetailSchema)
    @authenticated(*ADMIN)
    @blp.doc(security=SECURITY)
    def get(self, ruleset_id: int) -> dict[str, Any]:
        """一个版本的全部内容"""
        return summary(service.get_ruleset(db_session(), ruleset_id), detail=True)

    @blp.response(200, RulesetDetailSchema)
    @authenticated(*ADMIN)
    @blp.arguments(RulesetWriteSchema())
    @blp.doc(security=SECURITY)
    def put(self, args: dict[str, Any], ruleset_id: int) -> dict[str, Any]:
        """修改草稿（已启用或已归档的版本不可修改：请先复制）"""
        session = db_session()
        record = service.get_ruleset(session, ruleset_id)
        service.update_draft(session, record, _payload(args), now=hotline().now())
        return summary(record, detail=True)


@blp.route("/<int:ruleset_id>/copy")
class RulesetCopy(MethodView):
    @blp.response(201, RulesetDetailSchema)
    @authenticated(*ADMIN)
    @blp.doc(security=SECURITY)
    def post(self, ruleset_id: int) -> dict[str, Any]:
        """复制为新的草稿版本，以便修改"""
        session = db_session()
        record = service.copy_as_draft(
            session, service.get_ruleset(session, ruleset_id), now=hotline().now(),
            actor=principal().actor,
        )  # fmt: skip
        return summary(record, detail=True)


@blp.route("/<int:ruleset_id>/activate")
class RulesetActivate(MethodView):
    @blp.response(200, RulesetSummarySchema)
    @authenticated(*ADMIN)
    @blp.doc(security=SECURITY)
    def post(self, ruleset_id: int) -> dict[str, Any]:
        """启用该版本（原启用的版本归档）；记入审计日志"""
        app, session = hotline(), db_session()
        record = service.activate(
            session, service.get_ruleset(session, ruleset_id), now=app.now(),
            actor=principal().actor,
        )  # fmt: skip
        app.routers.forget_active()
        return summary(record)


@blp.route("/<int:ruleset_id>/test")
class RulesetTest(MethodView):
    @blp.response(200, DecisionSchema)
    @authenticated(*ADMIN)
    @blp.arguments(RouteTestSchema())
    @blp.doc(security=SECURITY)
    def post(self, args: dict[str, Any], ruleset_id: int) -> dict[str, Any]:
        """用该版本分派一段文字，返回结论与依据"""
        session = db_session()
        compiled = hotline().routers.compiled(session, service.get_ruleset(session, ruleset_id))
        decision = compiled.router.route(
            args["text"], title=args.get("title") or "", place=args.get("place") or "",
            lat=args.get("latitude"), lng=args.get("longitude"),
        )  # fmt: skip
        return service.decision_record(compiled, decision)


@blp.route("/<int:ruleset_id>/evaluate")
class RulesetEvaluate(MethodView):
    @blp.response(200, ReportSchema)
    @authenticated(*ADMIN)
    @blp.arguments(EvaluateSchema())
    @blp.doc(security=SECURITY)
    def post(self, args: dict[str, Any], ruleset_id: int) -> dict[str, Any]:
        """在带标签的样本上评估：准确率、宏平均 F1、各标签得分、混淆矩阵、速度"""
        session = db_session()
        compiled = hotline().routers.compiled(session, service.get_ruleset(session, ruleset_id))
        texts = [row["text"] for row in args["rows"]]
        labels = [row["label"] for row in args["rows"]]
        report = evaluate(
            compiled.router, texts, labels,
            matches=service.label_matcher(compiled.router.ruleset, compiled.city),
        )  # fmt: skip
        return report.to_dict()


@blp.route("/<int:ruleset_id>/export")
class RulesetExport(MethodView):
    @authenticated(*ADMIN)
    @blp.arguments(ExportQuerySchema(), location="query", unknown=RAISE)
    @blp.doc(security=SECURITY, responses={"200": {"description": "YAML、CSV 或 JSON 文件"}})
    def get(self, args: dict[str, Any], ruleset_id: int) -> Response:
        """导出为 YAML / CSV / JSON"""
        import json

        from routing.rules import from_dict

        record = service.get_ruleset(db_session(), ruleset_id)
        fmt = args["format"]
        if fmt == "json":
            body, mimetype = (
                json.dumps(record.data, ensure_ascii=False, indent=2),
                "application/json",
            )
        else:
            try:
                ruleset = from_dict(record.data)
            except RulesetError as exc:  # stored data is validated; this is defensive
                raise ValidationFailed({"ruleset": str(exc).splitlines()}) from exc
            body = dump_yaml(ruleset) if fmt == "yaml" else csv_text(csv_rows(ruleset), bom=False)
            mimetype = "application/yaml" if fmt == "yaml" else "text/csv"
        filename = f"ruleset-{record.id}-v{record.version}.{fmt}"
        return Response(
            body, content_type=mimetype + "; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )  # fmt: skip
