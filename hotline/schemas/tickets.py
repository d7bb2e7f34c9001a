"""A resident's complaint as it comes in (the public form, machine clients) and a ticket as
staff read it (the API)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

from ..domain.states import Priority
from .fields import Day, Phone, StrictSchema, Text, boolean, coordinate, messages


class TicketSubmissionSchema(StrictSchema):
    """A resident's complaint, from the public form or a machine client."""

    category = fields.String(
        allow_none=True,
        validate=validate.Length(max=40, error="类别代码过长"),
        error_messages=messages(invalid="类别应为类别代码"),
        metadata={"description": "类别代码（Open311 service_code）；留空表示“不确定”"},
    )
    title = Text(max_len=100, allow_none=True, metadata={"description": "标题（可选）"})
    description = Text(
        required=True,
        min_len=5,
        max_len=2000,
        multiline=True,
        metadata={"description": "问题描述，5–2000 字"},
    )
    address = Text(max_len=200, allow_none=True, metadata={"description": "事发地址"})
    latitude = coordinate(-90.0, 90.0, "纬度")
    longitude = coordinate(-180.0, 180.0, "经度")
    reporter_name = Text(max_len=50, allow_none=True, metadata={"description": "姓名（可选）"})
    reporter_phone = Phone(
        allow_none=True, metadata={"description": "手机号码或带区号的固定电话；匿名时可不填"}
    )
    anonymous = boolean(load_default=False)
    consent_contact = boolean(load_default=False, metadata={"description": "同意承办单位联系本人"})
    sms_opt_out = boolean(load_default=False, metadata={"description": "不接收短信通知"})

    @pre_load
    def _blank_is_missing(self, data: Any, **_: Any) -> Any:
        # Forms send "" for untouched optional fields; treat that like "not given".
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not (isinstance(v, str) and v.strip() == "")}
        return data

    # Also when fields failed: an empty form must list the phone with the description at
    # once. Presence is judged on what was sent, so a field that failed gets no second message.
    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _cross_field(self, data: Any, original: Any, **_: Any) -> None:
        if not isinstance(data, dict) or not isinstance(original, dict):
            return
        errors: dict[str, list[str]] = {}
        if not data.get("anonymous") and not _given(original, "reporter_phone"):
            errors["reporter_phone"] = ["请填写联系电话，或选择匿名反映"]
        has_lat, has_lng = _given(original, "latitude"), _given(original, "longitude")
        if has_lat != has_lng:
            errors["latitude" if not has_lat else "longitude"] = ["经纬度需同时填写"]
        if errors:
            raise ValidationError(errors)


def _given(original: dict[str, Any], name: str) -> bool:
    value = original.get(name)
    return value is not None and not (isinstance(value, str) and value.strip() == "")


class FollowSchema(StrictSchema):
    """我也遇到了: a resident's phone, to hear of another resident's ticket by SMS."""

    phone = Phone(required=True)


class ApiTicketSubmissionSchema(TicketSubmissionSchema):
    """The API adds what machine clients know: their own reference and a priority."""

    external_ref = Text(max_len=64, allow_none=True, metadata={"description": "调用方系统中的编号"})
    priority = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(
            [p.value for p in Priority], error="紧急程度应为 normal、urgent 或 emergency"
        ),
        error_messages=messages(invalid="应为文本"),
    )


class CallTicketSchema(TicketSubmissionSchema):
    """A call an operator takes (接听登记): also how urgent it is and when the call came in."""

    priority = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf([p.value for p in Priority], error="紧急程度应为一般、紧急或特急"),
        error_messages=messages(invalid="应为文本"),
    )
    reported_at = fields.AwareDateTime(
        allow_none=True,
        default_timezone=ZoneInfo("Asia/Shanghai"),
        error_messages=messages(invalid="来电时间格式应为 2026-11-21 09:30"),
    )


class TicketQuerySchema(StrictSchema):
    status = fields.List(
        fields.String(validate=validate.Length(max=20)),
        load_default=list,
        metadata={"description": "状态，可重复传入多个"},
    )
    category = fields.String(validate=validate.Length(max=40), metadata={"description": "类别代码"})
    unit = fields.String(
        validate=validate.Length(max=40), metadata={"description": "单位代码（主办或协办）"}
    )
    created_from = Day(metadata={"description": "受理日期起（含，北京时间）"})
    created_to = Day(metadata={"description": "受理日期止（含，北京时间）"})
    limit = fields.Integer(
        load_default=50,
        validate=validate.Range(1, 200, error="每页条数应在 1 到 200 之间"),
        error_messages=messages(invalid="应为整数"),
    )
    cursor = fields.String(
        validate=validate.Length(max=40), metadata={"description": "上一页返回的 next_cursor"}
    )


class UnitRefSchema(Schema):
    code = fields.String()
    name = fields.String()


class CategoryRefSchema(Schema):
    code = fields.String()
    name = fields.String()


class ReporterSchema(Schema):
    name = fields.String(allow_none=True, metadata={"description": "按权限脱敏"})
    phone = fields.String(allow_none=True, metadata={"description": "按权限脱敏，如 138****1234"})
    anonymous = fields.Boolean()
    consent_contact = fields.Boolean()


class AttachmentSchema(Schema):
    id = fields.Integer()
    content_type = fields.String()
    size = fields.Integer()
    width = fields.Integer()
    height = fields.Integer()


class TicketSchema(Schema):
    number = fields.String(metadata={"example": "WM20261121-0007"})
    status = fields.String()
    status_label = fields.String()
    channel = fields.String()
    external_ref = fields.String(allow_none=True)
    title = fields.String(allow_none=True)
    description = fields.String()
    address = fields.String(allow_none=True)
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)
    category = fields.Nested(CategoryRefSchema, allow_none=True)
    priority = fields.String()
    lead_unit = fields.Nested(UnitRefSchema, allow_none=True)
    territorial_unit = fields.Nested(
        UnitRefSchema, allow_none=True, metadata={"description": "属地单位（街道/社区/网格）"}
    )
    co_units = fields.List(fields.Nested(UnitRefSchema))
    reporter = fields.Nested(ReporterSchema)
    supervision_level = fields.Integer()
    reported_at = fields.DateTime(
        allow_none=True, metadata={"description": "来电时间（早于受理时）"}
    )
    callback_attempts = fields.Integer(
        metadata={"description": "本次办结后未接通或被拒绝的回访次数"}
    )
    accept_by = fields.DateTime(allow_none=True)
    feedback_by = fields.DateTime(allow_none=True)
    resolve_by = fields.DateTime(allow_none=True)
    duplicate_of = fields.String(allow_none=True)
    attachments = fields.List(fields.Nested(AttachmentSchema))
    routing = fields.Dict(
        allow_none=True,
        metadata={
            "description": "自动分派的结论与依据：规则集版本、置信度、匹配的关键词与地名、候选项"
        },
    )
    version = fields.Integer(metadata={"description": "并发控制版本号，操作时需回传"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    tracking_url = fields.String(
        metadata={"description": "市民查询链接，仅在创建时返回；请转交市民"},
    )


class TicketPageSchema(Schema):
    items = fields.List(fields.Nested(TicketSchema))
    next_cursor = fields.String(allow_none=True)


class EventSchema(Schema):
    sequence = fields.Integer()
    kind = fields.String()
    actor = fields.String()
    public = fields.Boolean(metadata={"description": "市民在查询页能否看到"})
    body = fields.String(allow_none=True)
    data = fields.Dict()
    created_at = fields.DateTime()
