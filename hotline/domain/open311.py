"""Open311 GeoReport v2, the pure part: a posted form's ``attribute[code]`` answers checked
against a service definition's attributes, and the notice a client shows its user.

FixMyStreet (the most widely deployed client) posts every attribute of the definition, with
``''`` for those its user left unanswered: an empty answer to an optional attribute is "not
answered", never an error.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from .sla import HOURS_PER_DAY, policy_for
from .text import TextError, normalize_text

DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
STRING_MAX = 200  # characters of a one-line answer
TEXT_MAX = 2000  # ... and of a free text
LIST_MAX = 50  # values of one multivaluelist answer
ATTRIBUTE_KEY = re.compile(r"^attribute\[([^\[\]]{1,64})\](?:\[\])?$")


@dataclass(frozen=True)
class AttributeCheck:
    """Clean answers ({code: value or [keys]}) and, per attribute code, what was wrong (in
    Chinese, naming the question as the resident read it)."""

    answers: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def attribute_answers(items: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """The ``attribute[code]`` fields of a form, every value each code was sent with.

    A multivaluelist comes as the key repeated, with or without ``[]``
    (``attribute[impact][]=walkway&attribute[impact][]=noise``); both spellings add up.
    """
    answers: dict[str, list[str]] = {}
    for key, value in items:
        match = ATTRIBUTE_KEY.match(key)
        if match:
            answers.setdefault(match.group(1), []).append(value)
    return answers


def _label(definition: Mapping[str, Any]) -> str:
    return str(definition.get("description") or definition.get("code"))


def check_attributes(definitions: Sequence[Mapping[str, Any]],
                     raw: Mapping[str, Sequence[str]]) -> AttributeCheck:  # fmt: skip
    """Check ``raw`` answers against ``definitions`` (a category's ``attributes``).

    Codes the definition does not know are ignored (a client may send more than we ask);
    attributes with ``variable: false`` are information, not questions.
    """
    result = AttributeCheck()
    for definition in definitions:
        code = str(definition.get("code", ""))
        if not code or definition.get("variable") is False:
            continue
        given = [value.strip() for value in raw.get(code, ()) if isinstance(value, str)]
        given = [value for value in given if value]
        label = _label(definition)
        if not given:
            if definition.get("required"):
                result.errors[code] = f"请回答“{label}”"
            continue
        try:
            result.answers[code] = _answer(definition, given)
        except ValueError as exc:
            result.errors[code] = f"“{label}”{exc}"
    return result


def _answer(definition: Mapping[str, Any], given: list[str]) -> Any:
    datatype = definition.get("datatype", "string")
    if datatype == "multivaluelist":
        keys = _keys(definition)
        chosen = list(dict.fromkeys(given))  # a key sent twice counts once
        unknown = [key for key in chosen if key not in keys]
        if unknown:
            raise ValueError(f"没有这个选项：{'、'.join(unknown[:5])[:100]}")
        if len(chosen) > LIST_MAX:
            raise ValueError(f"最多选择 {LIST_MAX} 项")
        return chosen
    if len(set(given)) > 1:
        raise ValueError("只能填写一个值")
    value = given[0]
    if datatype == "singlevaluelist":
        if value not in _keys(definition):
            raise ValueError(f"没有这个选项：{value[:50]}")
        return value
    if datatype == "number":
        return _number(value)
    if datatype == "datetime":
        return _w3c(value)
    limit = TEXT_MAX if datatype == "text" else STRING_MAX
    try:
        text = normalize_text(value, multiline=datatype == "text")
    except TextError as exc:
        raise ValueError("包含无法识别的字符") from exc
    if len(text) > limit:
        raise ValueError(f"不能超过 {limit} 个字")
    return text


def _keys(definition: Mapping[str, Any]) -> list[str]:
    return [str(item.get("key")) for item in definition.get("values") or ()
            if isinstance(item, Mapping)]  # fmt: skip


def _number(value: str) -> int | float:
    try:
        number = float(value) if len(value) <= 40 else math.nan
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise ValueError("应为数字")
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def _w3c(value: str) -> str:
    """A W3C datetime (a day, or a time with its zone), as ``2026-12-04`` or UTC with ``Z``."""
    text = value[:-1] + "+00:00" if value[-1:] in "zZ" else value
    try:
        if len(text) == 10:
            return date.fromisoformat(text).isoformat()
        parsed = datetime.fromisoformat(text)
        # (year 1 or 9999 may overflow once moved to UTC)
        aware = parsed.tzinfo is not None and "T" in text[:11]
        moment = parsed.astimezone(UTC) if aware else None
    except (ValueError, OverflowError):
        moment = None
    if moment is None:
        raise ValueError("应为带时区的时间，如 2026-12-04T08:30:00+08:00")
    return moment.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def describe_answers(definitions: Sequence[Mapping[str, Any]],
                     answers: Mapping[str, Any]) -> list[str]:  # fmt: skip
    """The answers as staff read them (``时段：早上（6—9点）``), in the definition's order."""
    lines = []
    for definition in definitions:
        code = definition.get("code")
        if code not in answers:
            continue
        names = {str(v.get("key")): str(v.get("name") or v.get("key"))
                 for v in definition.get("values") or () if isinstance(v, Mapping)}  # fmt: skip
        value = answers[code]
        shown = "、".join(names.get(k, k) for k in value) if isinstance(value, list) else \
            names.get(str(value), str(value))  # fmt: skip
        lines.append(f"{_label(definition).rstrip('？?')}：{shown}")
    return lines


def service_notice(time_limit: str | None, priority: str) -> str:
    """What the client tells its user: when to expect the outcome (the category's limit)."""
    limit = policy_for(time_limit, priority).resolve
    if limit.plain:
        return f"已受理，请在 {limit.hours:g} 小时内留意处理结果"
    return f"已受理，请在 {limit.hours / HOURS_PER_DAY:g} 个工作日内留意处理结果"


BATCH_NOTICE = "已收到，正在登记编号；请稍后凭 token 查询受理编号"
