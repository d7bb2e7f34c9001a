"""One row of a call-centre export, or one pushed call → a checked work order, or the
reasons it is refused.

Every check names the column (the field, for a pushed call) and says what is wrong in
Chinese, so the person who fixes the file knows where to look. Nothing here touches the
database.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..domain.call_records import CallRecord, Handling, Standing
from ..domain.states import Priority, Satisfaction
from ..domain.text import TextError, normalize_phone, normalize_text
from .mapping import FIELDS, Binding

LIMITS = {"external_ref": 64, "title": 100, "description": 20_000, "category": 100,
          "name": 50, "address": 200, "street": 100, "community": 100, "lead_unit": 100,
          "co_units": 300, "urgency": 20}  # fmt: skip
URGENCY = {
    "": None, "一般": Priority.NORMAL, "普通": Priority.NORMAL, "正常": Priority.NORMAL,
    "不紧急": Priority.NORMAL, "紧急": Priority.URGENT, "加急": Priority.URGENT,
    "较急": Priority.URGENT, "急": Priority.URGENT, "特急": Priority.EMERGENCY,
    "特别紧急": Priority.EMERGENCY, "非常紧急": Priority.EMERGENCY, "突发": Priority.EMERGENCY,
}  # fmt: skip
DATE_FORMATS = (
    "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%Y.%m.%d %H:%M:%S", "%Y.%m.%d %H:%M",
    "%Y.%m.%d", "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H:%M", "%Y年%m月%d日%H:%M",
    "%Y年%m月%d日 %H时%M分%S秒", "%Y年%m月%d日 %H时%M分", "%Y年%m月%d日%H时%M分",
    "%Y年%m月%d日", "%Y%m%d%H%M%S", "%Y%m%d%H%M", "%Y%m%d",
)  # fmt: skip
_DATE_SHAPE = re.compile(r"^\s*\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}")
_SPLIT_UNITS = re.compile(r"[、,，;；/\s]+")
_EXCEL_EPOCH = datetime(1899, 12, 30)
ORDER_KIND_LIMIT = 20  # tickets.order_kind
HISTORY_LIMITS = {"status": 20, "resolution": 20_000, "complaint": 2_000}
HISTORY_DATES = ("dispatched_at", "accepted_at", "resolved_at", "callback_at")
# An export's own status words (folded: no spaces). Anything else is judged by its times.
STANDINGS = {
    Standing.CLOSED: ("已办结", "办结", "已结案", "结案", "已归档", "归档", "已完成", "完成",
                      "已关闭", "关闭", "已回访", "已评价", "已答复", "答复完毕", "办结归档"),
    Standing.AWAITING_CALLBACK: ("待回访", "待评价", "已办结待回访", "办结待回访", "待确认"),
    Standing.REJECTED: ("不予受理", "已作废", "作废", "无效工单", "已退件"),
    Standing.OPEN: ("办理中", "处理中", "待办理", "待处理", "待签收", "已签收", "已派单",
                    "待派单", "未办结", "在办", "延期办理", "退回重办", "重办"),
}  # fmt: skip
STANDING_WORDS = {word: standing for standing, words in STANDINGS.items() for word in words}
SATISFACTION_WORDS = {
    "满意": Satisfaction.SATISFIED, "非常满意": Satisfaction.SATISFIED,
    "很满意": Satisfaction.SATISFIED, "比较满意": Satisfaction.BASIC,
    "基本满意": Satisfaction.BASIC, "一般": Satisfaction.BASIC,
    "不满意": Satisfaction.DISSATISFIED, "非常不满意": Satisfaction.DISSATISFIED,
    "很不满意": Satisfaction.DISSATISFIED, "不太满意": Satisfaction.DISSATISFIED,
}  # fmt: skip
CONFIRMED_WORDS = {"是": True, "已解决": True, "解决": True, "已经解决": True, "基本解决": True,
                   "否": False, "未解决": False, "没有解决": False, "没解决": False,
                   "未能解决": False}  # fmt: skip


@dataclass(frozen=True)
class Problem:
    column: str | None
    reason: str


def check_fields(values: Mapping[str, str], *, tz: ZoneInfo,
                 date_formats: tuple[str, ...] = DATE_FORMATS, history: bool = False,
                 ) -> CallRecord | list[tuple[str, str]]:  # fmt: skip
    """A work order's raw text by field (a missing field is empty) → the checked record,
    or (field, reason) for each problem: lengths, dates, phone, urgency; with ``history``
    also how it was handled (:func:`check_handling`)."""
    problems: list[tuple[str, str]] = []
    text: dict[str, str | None] = {}
    for field in LIMITS:
        raw = values.get(field, "")
        try:
            clean = normalize_text(raw, multiline=field == "description") if raw else ""
        except TextError:
            problems.append((field, "包含无法识别的字符"))
            continue
        if len(clean) > LIMITS[field]:
            problems.append((field, f"超过 {LIMITS[field]} 个字（实有 {len(clean)} 个字）"))
            continue
        text[field] = clean or None
    if "external_ref" in text and not text["external_ref"]:
        problems.append(("external_ref", "工单编号为空"))
    if "description" in text and not text["description"]:
        if text.get("title"):
            text["description"] = text["title"]  # some exports put the gist in the title
        else:
            problems.append(("description", "诉求内容为空"))
    phone = None
    if values.get("phone", "").strip():
        try:
            phone = normalize_phone(values["phone"])
        except ValueError:
            problems.append(("phone", f"电话号码无效：{values['phone'][:30]}"))
    dates: dict[str, datetime | None] = {}
    for field in ("reported_at", "deadline"):
        raw = values.get(field, "").strip()
        try:
            dates[field] = parse_date(raw, tz=tz, formats=date_formats) if raw else None
        except ValueError as exc:
            problems.append((field, str(exc)))
    order_kind = _order_kind(values.get("order_kind", ""), problems)
    urgency = (text.get("urgency") or "").replace(" ", "")
    if urgency not in URGENCY:
        allowed = "、".join(k for k in URGENCY if k)
        problems.append(("urgency", f"无法识别的紧急程度：{urgency}（可用：{allowed}）"))
    handling = None
    if history:
        if dates.get("reported_at") is None and "reported_at" not in dict(problems):
            problems.append(("reported_at", "历史工单缺少来电时间"))
        handling = check_handling(values, problems, tz=tz, date_formats=date_formats,
                                  reported_at=dates.get("reported_at"))  # fmt: skip
    if problems:
        return problems
    priority = URGENCY.get(urgency)
    co_units = tuple(n for n in _SPLIT_UNITS.split(text.get("co_units") or "") if n)
    return CallRecord(
        external_ref=text["external_ref"] or "", description=text["description"] or "",
        title=text.get("title"), category=text.get("category"),
        reported_at=dates.get("reported_at"), phone=phone, name=text.get("name"),
        address=text.get("address"), street=text.get("street"),
        community=text.get("community"), lead_unit=text.get("lead_unit"),
        co_units=co_units, priority=priority.value if priority else None,
        deadline=dates.get("deadline"), order_kind=order_kind, handling=handling,
    )  # fmt: skip


def check_handling(values: Mapping[str, str], problems: list[tuple[str, str]], *, tz: ZoneInfo,
                   date_formats: tuple[str, ...], reported_at: datetime | None,
                   ) -> Handling | None:  # fmt: skip
    """How a history order was handled, or its problems added to ``problems``: the times in
    order (nothing before the call), known words for status, resolution and satisfaction.

    Where it stood: the export's status word when we know it; otherwise answered (a
    handling time or a reply) means closed, and anything else is still open.
    """
    before = len(problems)
    text: dict[str, str | None] = {}
    for field, limit in HISTORY_LIMITS.items():
        try:
            raw = values.get(field, "")
            clean = normalize_text(raw, multiline=field != "status") if raw else ""
        except TextError:
            problems.append((field, "包含无法识别的字符"))
            continue
        if len(clean) > limit:
            problems.append((field, f"超过 {limit} 个字（实有 {len(clean)} 个字）"))
        text[field] = clean or None
    times: dict[str, datetime | None] = {}
    for field in HISTORY_DATES:
        raw = values.get(field, "").strip()
        try:
            times[field] = parse_date(raw, tz=tz, formats=date_formats) if raw else None
        except ValueError as exc:
            problems.append((field, str(exc)))
    if reported_at is not None:
        for field, value in times.items():
            if value is not None and value < reported_at - timedelta(minutes=1):
                problems.append((field, f"{_LABELS[field]}早于来电时间"))
    if times.get("callback_at") and times.get("resolved_at") and \
            times["callback_at"] < times["resolved_at"] - timedelta(minutes=1):  # fmt: skip
        problems.append(("callback_at", "回访时间早于办结时间"))
    satisfaction = _word(values.get("satisfaction", ""), SATISFACTION_WORDS, "satisfaction",
                         "满意度", problems)  # fmt: skip
    confirmed = _word(values.get("confirmed", ""), CONFIRMED_WORDS, "confirmed", "是否解决",
                      problems)  # fmt: skip
    if len(problems) > before:
        return None
    status_text = (text.get("status") or "").replace(" ", "") or None
    standing = STANDING_WORDS.get(status_text or "")
    if standing is None:
        answered = times.get("resolved_at") or text.get("resolution")
        standing = Standing.CLOSED if answered else Standing.OPEN
    return Handling(
        standing, status_text, dispatched_at=times.get("dispatched_at"),
        accepted_at=times.get("accepted_at"), resolved_at=times.get("resolved_at"),
        resolution=text.get("resolution"), callback_at=times.get("callback_at"),
        confirmed=confirmed, satisfaction=satisfaction.value if satisfaction else None,
        complaint=text.get("complaint"),
    )  # fmt: skip


_LABELS = {"dispatched_at": "派单时间", "accepted_at": "签收时间", "resolved_at": "办结时间",
           "callback_at": "回访时间"}  # fmt: skip


def _word(raw: str, words: dict[str, Any], field: str, label: str,
          problems: list[tuple[str, str]]) -> Any:  # fmt: skip
    """A known word of a closed list (满意度, 是否解决), or None when the cell is empty."""
    word = re.sub(r"\s+", "", raw)
    if not word:
        return None
    if word not in words:
        allowed = "、".join(words)
        problems.append((field, f"无法识别的{label}：{word[:20]}（可用：{allowed}）"))
        return None
    return words[word]


def _order_kind(raw: str, problems: list[tuple[str, str]]) -> str | None:
    try:
        clean = normalize_text(raw).replace(" ", "") if raw else ""
    except TextError:
        problems.append(("order_kind", "包含无法识别的字符"))
        return None
    if len(clean) > ORDER_KIND_LIMIT:
        problems.append(("order_kind", f"超过 {ORDER_KIND_LIMIT} 个字（实有 {len(clean)} 个字）"))
    return clean or None


def parse_date(raw: str, *, tz: ZoneInfo, formats: tuple[str, ...] = DATE_FORMATS) -> datetime:
    """A local date/time in any of the usual spellings → UTC."""
    value = None
    text = raw.strip()
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        for fmt in formats:
            try:
                value = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if value is None and re.fullmatch(r"\d{5}(\.\d+)?", text):
        serial = float(text)  # Excel's day count, as CSV exports from Excel may carry it
        if 20000 <= serial <= 80000:
            value = _EXCEL_EPOCH + timedelta(days=serial)
    if value is None:
        if _DATE_SHAPE.match(text):
            raise ValueError(f"日期不存在：{text[:30]}")
        raise ValueError(f"无法识别的日期：{text[:30]}（如 2026-11-21 09:30）")
    if not 2000 <= value.year <= 2100:
        raise ValueError(f"日期超出合理范围：{text[:30]}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(UTC)


class RowReader:
    """Turns rows of one file into records; knows its columns, time zone and date formats."""

    def __init__(self, binding: Binding, timezone: str, *, history: bool = False) -> None:
        self.binding = binding
        self.history = history
        self.tz = ZoneInfo(timezone)
        self.formats = binding.mapping.date_formats + DATE_FORMATS
        self.width = len(binding.header)

    def column_of(self, field: str) -> str:
        found = self.binding.positions.get(field)
        return self.binding.header[found[0]] if found else FIELDS[field][0]

    def read(self, cells: list[str]) -> CallRecord | list[Problem]:
        if len(cells) < self.width and any(cells):
            # A short row: the file was cut off, or a cell's quotes never closed.
            last = self.binding.header[len(cells) - 1] if cells else None
            return [Problem(last, f"该行只有 {len(cells)} 列，表头有 {self.width} 列"
                                  "（文件可能不完整或引号未闭合）")]  # fmt: skip
        values: dict[str, str] = dict(self.binding.mapping.fixed)
        for field, found in self.binding.positions.items():
            parts = [cells[i] for i in found if i < len(cells) and cells[i]]
            values[field] = "\n".join(parts)
        checked = check_fields(values, tz=self.tz, date_formats=self.formats,
                               history=self.history)  # fmt: skip
        if isinstance(checked, CallRecord):
            return checked
        return [Problem(self.column_of(field), reason) for field, reason in checked]
