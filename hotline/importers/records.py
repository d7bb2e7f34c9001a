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
from zoneinfo import ZoneInfo

from ..domain.call_records import CallRecord
from ..domain.states import Priority
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


@dataclass(frozen=True)
class FileRecord(CallRecord):
    """A work order read from a call-centre export: also its kind (投诉举报、求助、咨询…),
    which real exports carry as 工单类型 apart from the subject (诉求类型)."""

    order_kind: str | None = None


@dataclass(frozen=True)
class Problem:
    column: str | None
    reason: str


def check_fields(values: Mapping[str, str], *, tz: ZoneInfo,
                 date_formats: tuple[str, ...] = DATE_FORMATS,
                 ) -> CallRecord | list[tuple[str, str]]:  # fmt: skip
    """A work order's raw text by field (a missing field is empty) → the checked record,
    or (field, reason) for each problem: lengths, dates, phone, urgency."""
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
    if problems:
        return problems
    priority = URGENCY.get(urgency)
    co_units = tuple(n for n in _SPLIT_UNITS.split(text.get("co_units") or "") if n)
    return FileRecord(
        external_ref=text["external_ref"] or "", description=text["description"] or "",
        title=text.get("title"), category=text.get("category"),
        reported_at=dates.get("reported_at"), phone=phone, name=text.get("name"),
        address=text.get("address"), street=text.get("street"),
        community=text.get("community"), lead_unit=text.get("lead_unit"),
        co_units=co_units, priority=priority.value if priority else None,
        deadline=dates.get("deadline"), order_kind=order_kind,
    )  # fmt: skip


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

    def __init__(self, binding: Binding, timezone: str) -> None:
        self.binding = binding
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
        checked = check_fields(values, tz=self.tz, date_formats=self.formats)
        if isinstance(checked, CallRecord):
            return checked
        return [Problem(self.column_of(field), reason) for field, reason in checked]
