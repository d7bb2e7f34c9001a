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


RESPONSE_RATE = (
    "响应率（公式第 2 版）= 按时签收且按时首次答复（反馈或办结）/ 应响应的工单。应响应："
    "已派单且未合并为重复件，并且已签收并答复，或签收时限、首次反馈时限已过而未按时做到；"
    "时限未到的工单暂不计入。counts.due_response 为分母，counts.responded 为分子"
)


class GroupSchema(Schema):
    key = fields.String(allow_none=True)
    name = fields.String()
    tickets = fields.Integer()
    response_rate = fields.Float(allow_none=True, metadata={"description": RESPONSE_RATE})
    resolution_rate = fields.Float(allow_none=True)
    satisfaction_rate = fields.Float(allow_none=True)
    on_time_rate = fields.Float(allow_none=True)
    return_rate = fields.Float(allow_none=True)
    reopen_rate = fields.Float(allow_none=True)
    overdue = fields.Integer()
    median_handling_hours = fields.Float(allow_none=True)
    counts = fields.Dict()


class MetricsSchema(Schema):
    formula_version = fields.Integer(
        metadata={"description": "公式版本：2（响应率只计应响应的工单）"}
    )
    group_by = fields.String()
    period = fields.Dict()
    groups = fields.List(fields.Nested(GroupSchema))
