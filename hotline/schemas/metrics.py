"""三率 and friends (``GET /api/v1/metrics``)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate, validates_schema
from marshmallow import ValidationError as SchemaError

from ..domain.metrics import GROUPS
from .fields import Day, StrictSchema


class MetricsQuery(StrictSchema):
    group_by = fields.String(load_default="unit", validate=validate.OneOf(GROUPS))
    from_ = Day(data_key="from")
    to = Day()

    @validates_schema
    def _order(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("from_") and data.get("to") and data["from_"] > data["to"]:
            raise SchemaError("结束日期不能早于开始日期", field_name="to")

class GroupSchema(Schema):
    key = fields.String(allow_none=True)
    name = fields.String()
    tickets = fields.Integer()
    response_rate = fields.Float(allow_none=True)
    resolution_rate = fields.Float(allow_none=True)
    satisfaction_rate = fields.Float(allow_none=True)
    on_time_rate = fields.Float(allow_none=True)
    return_rate = fields.Float(allow_none=True)
    reopen_rate = fields.Float(allow_none=True)
    overdue = fields.Integer()
    median_handling_hours = fields.Float(allow_none=True)
    counts = fields.Dict()

class MetricsSchema(Schema):
    formula_version = fields.Integer()
    group_by = fields.String()
    period = fields.Dict()
    groups = fields.List(fields.Nested(GroupSchema))
