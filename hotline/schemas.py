"""Edge validation with marshmallow, shared by the public form and the API.

Unknown fields are refused, lengths bounded, text normalised (NFKC, trimmed). Field names are
English keys; messages are in Simplified Chinese because operators and residents read them.
Schemas never touch the database: existence checks happen in services.
"""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate, validates_schema

from .domain.calendar import DAY_RANGE_MESSAGE, EARLIEST_DAY, LATEST_DAY
from .domain.states import Priority
from .domain.text import TextError, normalize_phone, normalize_text

REQUIRED = "此项为必填项"
NOT_NULL = "此项不能为空"


def _messages(**more: str) -> dict[str, str]:
    return {"required": REQUIRED, "null": NOT_NULL, **more}


class Text(fields.String):
    """A string normalised with :func:`normalize_text`, bounded in characters after trimming."""

    def __init__(
        self, *, min_len: int = 0, max_len: int, multiline: bool = False, **kwargs: Any
    ) -> None:
        kwargs.setdefault("error_messages", _messages(invalid="应为文本"))
        super().__init__(**kwargs)
        self.min_len, self.max_len, self.multiline = min_len, max_len, multiline

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            text = normalize_text(text, multiline=self.multiline)
        except TextError as exc:
            raise ValidationError("包含无法识别的字符") from exc
        if len(text) > self.max_len:
            raise ValidationError(f"不能超过 {self.max_len} 个字")
        if len(text) < self.min_len:
            raise ValidationError(f"至少需要 {self.min_len} 个字" if self.min_len > 1 else REQUIRED)
        return text


class Phone(fields.String):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("error_messages", _messages(invalid="应为文本"))
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > 30:
            raise ValidationError("请填写有效的手机号码或带区号的固定电话")
        try:
            return normalize_phone(text)
        except ValueError as exc:
            raise ValidationError("请填写有效的手机号码或带区号的固定电话") from exc


MAX_ID = 2**31 - 1  # ids are 32-bit integer columns


class Id(fields.Integer):
    """A row id in a body (photo, message…): a whole number that fits the column."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("error_messages", _messages(invalid="应为整数编号"))
        kwargs.setdefault("validate", validate.Range(1, MAX_ID, error="编号超出范围"))
        super().__init__(strict=True, **kwargs)


class Day(fields.Date):
    """A calendar day (YYYY-MM-DD) within the days the service knows."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("error_messages", _messages(invalid="日期格式应为 YYYY-MM-DD"))
        kwargs.setdefault("validate", validate.Range(EARLIEST_DAY, LATEST_DAY,
                                                     error=DAY_RANGE_MESSAGE))  # fmt: skip
        super().__init__(**kwargs)


def _bool(**kwargs: Any) -> fields.Boolean:
    return fields.Boolean(error_messages=_messages(invalid="应为是或否（true/false）"), **kwargs)


def _coordinate(low: float, high: float, label: str) -> fields.Float:
    return fields.Float(
        allow_none=True,
        allow_nan=False,
        validate=validate.Range(low, high, error=f"{label}应在 {low} 到 {high} 之间"),
        error_messages=_messages(invalid=f"{label}应为数字", special="应为有限的数字"),
    )


class StrictSchema(Schema):
    """Refuses unknown fields, with Chinese messages for whole-body errors."""

    class Meta:
        unknown = RAISE

    error_messages = {  # noqa: RUF012  (marshmallow's own class attribute)
        "unknown": "不支持的字段",
        "type": "请求体应为 JSON 对象",
    }


class TicketSubmissionSchema(StrictSchema):
    """A resident's complaint, from the public form or a machine client."""

    category = fields.String(
        allow_none=True,
        validate=validate.Length(max=40, error="类别代码过长"),
        error_messages=_messages(invalid="类别应为类别代码"),
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
    latitude = _coordinate(-90.0, 90.0, "纬度")
    longitude = _coordinate(-180.0, 180.0, "经度")
    reporter_name = Text(max_len=50, allow_none=True, metadata={"description": "姓名（可选）"})
    reporter_phone = Phone(
        allow_none=True, metadata={"description": "手机号码或带区号的固定电话；匿名时可不填"}
    )
    anonymous = _bool(load_default=False)
    consent_contact = _bool(load_default=False, metadata={"description": "同意承办单位联系本人"})
    sms_opt_out = _bool(load_default=False, metadata={"description": "不接收短信通知"})

    @pre_load
    def _blank_is_missing(self, data: Any, **_: Any) -> Any:
        # Forms send "" for untouched optional fields; treat that like "not given".
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not (isinstance(v, str) and v.strip() == "")}
        return data

    @validates_schema
    def _cross_field(self, data: dict[str, Any], **_: Any) -> None:
        errors: dict[str, list[str]] = {}
        if not data.get("anonymous") and not data.get("reporter_phone"):
            errors["reporter_phone"] = ["请填写联系电话，或选择匿名反映"]
        has_lat = data.get("latitude") is not None
        has_lng = data.get("longitude") is not None
        if has_lat != has_lng:
            errors["latitude" if not has_lat else "longitude"] = ["经纬度需同时填写"]
        if errors:
            raise ValidationError(errors)


class ApiTicketSubmissionSchema(TicketSubmissionSchema):
    """The API adds what machine clients know: their own reference and a priority."""

    external_ref = Text(max_len=64, allow_none=True, metadata={"description": "调用方系统中的编号"})
    priority = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(
            [p.value for p in Priority], error="紧急程度应为 normal、urgent 或 emergency"
        ),
        error_messages=_messages(invalid="应为文本"),
    )


class DispatchSchema(StrictSchema):
    """派单 / 改派 by an operator."""

    version = fields.Integer(
        required=True,
        strict=True,
        error_messages=_messages(invalid="应为整数"),
        metadata={"description": "你看到的工单版本号；已被他人修改时返回 409"},
    )
    lead_unit = fields.String(
        required=True,
        validate=validate.Length(min=1, max=40, error="单位代码长度有误"),
        error_messages=_messages(invalid="应为单位代码"),
        metadata={"description": "主办单位代码"},
    )
    co_units = fields.List(
        fields.String(validate=validate.Length(min=1, max=40)),
        load_default=list,
        validate=validate.Length(max=10, error="协办单位最多 10 个"),
        error_messages=_messages(invalid="应为单位代码列表"),
    )
    category = fields.String(
        allow_none=True,
        validate=validate.Length(max=40),
        error_messages=_messages(invalid="应为类别代码"),
        metadata={"description": "同时更正问题类别（可选）"},
    )
    note = Text(max_len=500, allow_none=True, metadata={"description": "内部备注"})


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
        error_messages=_messages(invalid="应为整数"),
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
