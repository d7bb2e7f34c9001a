"""Fields and the base schema every schema builds on: text normalised and bounded, phones,
ids, days, booleans and coordinates with Chinese messages; unknown fields refused.

Field names are English keys; messages are in Simplified Chinese because operators and
residents read them. Schemas never touch the database: existence checks happen in services.
"""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from ..domain.calendar import DAY_RANGE_MESSAGE, EARLIEST_DAY, LATEST_DAY
from ..domain.text import TextError, normalize_phone, normalize_text

REQUIRED = "此项为必填项"
NOT_NULL = "此项不能为空"


def messages(**more: str) -> dict[str, str]:
    return {"required": REQUIRED, "null": NOT_NULL, **more}


class Text(fields.String):
    """A string normalised with :func:`normalize_text`, bounded in characters after trimming."""

    def __init__(
        self, *, min_len: int = 0, max_len: int, multiline: bool = False, **kwargs: Any
    ) -> None:
        kwargs.setdefault("error_messages", messages(invalid="应为文本"))
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
        kwargs.setdefault("error_messages", messages(invalid="应为文本"))
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
        kwargs.setdefault("error_messages", messages(invalid="应为整数编号"))
        kwargs.setdefault("validate", validate.Range(1, MAX_ID, error="编号超出范围"))
        super().__init__(strict=True, **kwargs)


class Day(fields.Date):
    """A calendar day (YYYY-MM-DD) within the days the service knows."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("error_messages", messages(invalid="日期格式应为 YYYY-MM-DD"))
        kwargs.setdefault("validate", validate.Range(EARLIEST_DAY, LATEST_DAY,
                                                     error=DAY_RANGE_MESSAGE))  # fmt: skip
        super().__init__(**kwargs)


def boolean(**kwargs: Any) -> fields.Boolean:
    return fields.Boolean(error_messages=messages(invalid="应为是或否（true/false）"), **kwargs)


def coordinate(low: float, high: float, label: str) -> fields.Float:
    return fields.Float(
        allow_none=True,
        allow_nan=False,
        validate=validate.Range(low, high, error=f"{label}应在 {low} 到 {high} 之间"),
        error_messages=messages(invalid=f"{label}应为数字", special="应为有限的数字"),
    )


class StrictSchema(Schema):
    """Refuses unknown fields, with Chinese messages for whole-body errors."""

    class Meta:
        unknown = RAISE

    error_messages = {  # noqa: RUF012  (marshmallow's own class attribute)
        "unknown": "不支持的字段",
        "type": "请求体应为 JSON 对象",
    }
