"""A work order pushed by the call centre (``POST /api/v1/intake/calls``)."""

from __future__ import annotations

from marshmallow import fields, validate

from .fields import StrictSchema

_TEXT = {"validate": validate.Length(max=2000), "load_default": None, "allow_none": True}


class CallSchema(StrictSchema):
    source = fields.String(load_default=None, validate=validate.Length(min=1, max=40),
                           metadata={"description": "来源热线系统，默认 12345"})  # fmt: skip
    external_ref = fields.String(required=True, validate=validate.Length(min=1, max=64),
                                 metadata={"description": "工单编号（幂等键）"})  # fmt: skip
    # Bounded where an export's cell is (importers.records, 20,000 characters after
    # normalising, the refusal saying how many there are): real orders run to 7,000+, and one
    # the call centre accepted is not refused over trailing blanks. The JSON body limit bounds
    # what reaches this.
    description = fields.String(required=True, metadata={"description": "诉求内容，至多 20000 字"})
    title = fields.String(**_TEXT, metadata={"description": "工单标题"})
    category = fields.String(**_TEXT, metadata={"description": "诉求类型"})
    reported_at = fields.String(**_TEXT, metadata={"description": "来电时间，如 2026-11-21 09:30"})
    phone = fields.String(**_TEXT, metadata={"description": "来电号码"})
    name = fields.String(**_TEXT, metadata={"description": "求助人员"})
    address = fields.String(**_TEXT, metadata={"description": "事件发生地"})
    street = fields.String(**_TEXT, metadata={"description": "街道"})
    community = fields.String(**_TEXT, metadata={"description": "社区"})
    lead_unit = fields.String(**_TEXT, metadata={"description": "承办单位（名称、简称或代码）"})
    co_units = fields.List(fields.String(validate=validate.Length(max=100)), load_default=list,
                           validate=validate.Length(max=10),
                           metadata={"description": "协办单位"})  # fmt: skip
    urgency = fields.String(**_TEXT, metadata={"description": "紧急程度：一般、紧急、特急"})
    deadline = fields.String(**_TEXT, metadata={"description": "办理时限"})
