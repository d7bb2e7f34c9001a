"""Which column of a call-centre export holds which field: presets for the common layouts,
mapping files for any other, and binding a mapping to a file's header row."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from routing.text import normalize

# field → (the name operators know it by, column names seen in real 12345 exports)
FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "external_ref": ("工单编号", ("工单编号", "工单号", "受理编号", "热线编号")),
    "title": ("工单标题", ("工单标题", "标题")),
    "description": ("诉求内容", ("诉求内容", "问题描述", "内容描述", "来电内容", "诉求描述")),
    "category": ("诉求类型", ("诉求类型", "问题分类", "诉求分类", "问题类型", "诉求类别")),
    # The kind of order (投诉举报、求助、咨询…), not its subject: real exports call it 工单类型.
    "order_kind": ("工单性质", ("工单性质", "工单类型", "诉求性质", "来电类别")),
    "reported_at": ("来电时间", ("来电时间", "受理时间", "登记时间")),
    "phone": ("来电号码", ("来电号码", "求助号码", "联系电话", "联系方式")),
    "name": ("求助人员", ("求助人员", "来电人", "联系人", "诉求人")),
    "address": (
        "事件发生地",
        ("事件发生地", "发生地址", "诉求地址", "事发地址", "事件发生地址", "事件地址"),
    ),
    "street": ("街道", ("街道", "所属街道", "街道（乡镇）")),
    "community": ("社区", ("社区", "居村委名", "所属社区", "社区（村）")),
    "lead_unit": ("承办单位", ("承办单位", "主办单位", "责任单位")),
    "co_units": ("协办单位", ("协办单位", "配合单位")),
    "urgency": ("紧急程度", ("紧急程度", "缓急程度")),
    "deadline": ("办理时限", ("办理时限", "办结期限", "办结时限")),
}
# How an order was handled, as history exports carry it: a history import (--history) reads
# these; a live import leaves them to our own workflow and names them as such in its notes.
HISTORY_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "status": ("工单状态", ("工单状态", "办理状态", "处理状态", "办件状态")),
    "dispatched_at": ("派单时间", ("派单时间", "交办时间", "转办时间", "分派时间")),
    "accepted_at": ("签收时间", ("签收时间", "接单时间")),
    "resolved_at": ("办结时间", ("办结时间", "答复时间", "回复时间", "办理完成时间", "完成时间")),
    "resolution": (
        "答复意见",
        ("答复意见", "办理结果", "答复内容", "回复内容", "处理结果", "办理意见", "处理意见"),
    ),
    "callback_at": ("回访时间", ("回访时间",)),
    "confirmed": ("诉求是否解决", ("诉求是否解决", "是否解决", "问题是否解决", "解决情况")),
    "satisfaction": ("回访满意度", ("回访满意度", "市民满意度", "满意度", "满意程度", "评价结果")),
    "complaint": ("不满原因", ("不满原因", "不满意原因", "回访意见")),
}
FIELDS.update(HISTORY_FIELDS)
REQUIRED = ("external_ref", "description")
REQUIRED_FOR_HISTORY = ("reported_at",)  # a history order is dated by when it came in
# Tolerant matching: what real exports put around a column's name.
PREFIXES = ("12345",)
_NOISE = re.compile(r"[\s()\[\]{}【】〔〕<>《》:;,.、_\-—·*#\"'“”‘’]+")
# Fields that can take a fixed value in a mapping file (a whole file from one street...).
FIXABLE = ("category", "street", "community", "lead_unit", "co_units", "urgency")


class MappingError(ValueError):
    """The mapping or the header cannot work; the message says why, in Chinese."""


@dataclass(frozen=True)
class Mapping:
    """field → candidate columns (several are joined for text fields), fixed values, and
    date formats to try before the usual ones."""

    name: str
    columns: dict[str, tuple[str, ...]]
    fixed: dict[str, str] = field(default_factory=dict)
    date_formats: tuple[str, ...] = ()
    exact: bool = False  # a preset names its columns exactly; "auto" tries every alias

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "columns": {k: list(v) for k, v in self.columns.items()},
                "fixed": self.fixed, "date_formats": list(self.date_formats),
                "exact": self.exact}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Mapping:
        return cls(data["name"], {k: tuple(v) for k, v in data["columns"].items()},
                   dict(data.get("fixed", {})), tuple(data.get("date_formats", ())),
                   bool(data.get("exact")))  # fmt: skip


def _preset(name: str, columns: dict[str, str]) -> Mapping:
    return Mapping(name, {f: (c,) for f, c in columns.items()}, exact=True)


PRESETS: dict[str, Mapping] = {
    "auto": Mapping("auto", {f: aliases for f, (_, aliases) in FIELDS.items()}),
    "12345": _preset("12345", {
        "external_ref": "工单编号", "title": "工单标题", "description": "诉求内容",
        "category": "诉求类型", "reported_at": "来电时间", "phone": "来电号码",
        "name": "求助人员", "address": "事件发生地", "street": "街道", "community": "社区",
        "lead_unit": "承办单位", "co_units": "协办单位", "urgency": "紧急程度",
        "deadline": "办理时限", "order_kind": "工单性质", "status": "工单状态",
        "dispatched_at": "派单时间", "accepted_at": "签收时间", "resolved_at": "办结时间",
        "resolution": "答复意见", "callback_at": "回访时间", "confirmed": "诉求是否解决",
        "satisfaction": "回访满意度", "complaint": "不满原因",
    }),
    "12345-v2": _preset("12345-v2", {
        "external_ref": "工单编号", "title": "工单标题", "description": "问题描述",
        "category": "工单类型", "reported_at": "受理时间", "phone": "求助号码",
        "name": "求助人员", "address": "发生地址", "street": "街道", "community": "居村委名",
        "lead_unit": "主办单位", "co_units": "协办单位", "urgency": "紧急程度",
        "deadline": "办结期限", "status": "办理状态", "dispatched_at": "交办时间",
        "resolved_at": "答复时间", "resolution": "答复内容", "callback_at": "回访时间",
        "satisfaction": "市民满意度",
    }),
}  # fmt: skip
PRESET_NOTES = {
    "auto": "按常见列名自动识别（默认）",
    "12345": "12345 热线平台常见导出格式（诉求内容 / 来电时间 / 承办单位 / 办理时限）",
    "12345-v2": "另一种常见导出格式（问题描述 / 受理时间 / 主办单位 / 办结期限 / 居村委名）",
}


def mapping_from_file_data(data: Any) -> Mapping:
    """A mapping file (YAML), checked: ``columns``, optional ``fixed`` and ``date_formats``."""
    if not isinstance(data, dict) or not isinstance(data.get("columns"), dict):
        raise MappingError("映射文件应包含 columns：字段 → 列名")
    problems = []
    columns: dict[str, tuple[str, ...]] = {}
    for name, value in data["columns"].items():
        if name not in FIELDS:
            problems.append(f"未知字段 {name}（可用：{'、'.join(FIELDS)}）")
            continue
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            problems.append(f"字段 {name} 的列名应为文本或文本列表")
            continue
        columns[name] = tuple(n.strip() for n in names)
    fixed = data.get("fixed") or {}
    if not isinstance(fixed, dict):
        problems.append("fixed 应为 字段 → 固定值")
        fixed = {}
    for name, value in fixed.items():
        if name not in FIXABLE:
            problems.append(f"字段 {name} 不能设固定值（可设：{'、'.join(FIXABLE)}）")
        elif not isinstance(value, str | int):
            problems.append(f"字段 {name} 的固定值应为文本")
    formats = data.get("date_formats") or []
    if not isinstance(formats, list) or not all(isinstance(f, str) for f in formats):
        problems.append("date_formats 应为格式列表，如 ['%Y.%m.%d %H:%M']")
        formats = []
    for required in REQUIRED:
        if required not in columns:
            problems.append(f"缺少必需字段 {required}（{FIELDS[required][0]}）的列")
    if problems:
        raise MappingError("；".join(problems))
    return Mapping(str(data.get("name") or "mapping"), columns,
                   {k: str(v) for k, v in fixed.items()}, tuple(formats), exact=True)  # fmt: skip


def fold(name: str) -> str:
    """A column name as tolerant matching compares it: NFKC, simplified (編號 → 编号), without
    spaces, brackets or punctuation (also full-width), without a known prefix (12345)."""
    folded = _NOISE.sub("", normalize(name))
    for prefix in PREFIXES:
        if folded.startswith(prefix) and len(folded) > len(prefix):
            folded = folded[len(prefix) :]
    return folded


@dataclass(frozen=True)
class Binding:
    """A mapping applied to one header: column positions per field."""

    mapping: Mapping
    header: tuple[str, ...]
    positions: dict[str, tuple[int, ...]]
    unknown: tuple[str, ...]  # columns no field uses
    absent: tuple[str, ...]  # optional fields with no column
    conflicts: tuple[str, ...] = ()  # notes: two columns could be one field, which was taken

    def taken(self, *, history: bool = True) -> list[tuple[str, str]]:
        """(column, field's Chinese name) for every column taken, in the file's order; the
        handling results only for a history import."""
        pairs = [(i, FIELDS[name][0]) for name, found in self.positions.items() for i in found
                 if history or name not in HISTORY_FIELDS]  # fmt: skip
        return [(self.header[i], label) for i, label in sorted(pairs)]

    def results(self) -> list[str]:
        """The columns holding handling results (答复意见, 办结时间…), in the file's order."""
        found = (i for name, at in self.positions.items() if name in HISTORY_FIELDS for i in at)
        return [self.header[i] for i in sorted(found)]

    def notes(self, *, history: bool = False) -> list[str]:
        notes = []
        if self.unknown:
            notes.append(f"未识别的列（未导入）：{'、'.join(self.unknown)}")
        if self.results() and not history:
            notes.append(f"办理结果列（仅历史导入读取，本次未导入）：{'、'.join(self.results())}")
        notes.extend(self.conflicts)
        taken = "；".join(f"{column} → {label}" for column, label in self.taken(history=history))
        if taken:
            notes.append(f"列的对应：{taken}")
        return notes


def bind(mapping: Mapping, header: list[str], *, history: bool = False) -> Binding:
    """Find each field's columns in ``header``; missing required ones are fatal (a history
    import also needs the time each order came in)."""
    clean = tuple(h.strip() for h in header)
    if not any(clean):
        raise MappingError("表头为空：第一行应为列名")
    folded = [fold(h) if h else "" for h in clean]
    positions: dict[str, tuple[int, ...]] = {}
    conflicts: list[str] = []
    used: set[int] = set()
    for name, candidates in mapping.columns.items():
        found: list[int] = []
        matched: dict[str, int] = {}  # candidate name → the column taken for it
        # Exact names first, then tolerant ones; a column another field took is not offered.
        for tolerant, candidate in [(t, c) for t in (False, True) for c in candidates]:
            wanted = fold(candidate)
            alike = [
                i
                for i, (h, f) in enumerate(zip(clean, folded, strict=True))
                if i not in used and h and (f == wanted if tolerant else h == candidate)
            ]
            if not alike:
                continue
            # One column per field ("auto"), or per name (text fields join distinct names).
            rival = found[0] if found and _single(mapping, name) else matched.get(candidate)
            if rival is not None or len(alike) > 1:
                kept = rival if rival is not None else alike[0]
                others = "、".join(f"“{clean[i]}”" for i in alike if i != kept)
                conflicts.append(f"列“{clean[kept]}”与{others}都可作为{FIELDS[name][0]}，"
                                 f"已采用“{clean[kept]}”")  # fmt: skip
                used.update(alike)  # seen and named in the note, so not "unrecognised"
            if rival is None:
                found.append(alike[0])
                matched[candidate] = alike[0]
                used.add(alike[0])
        if found:
            positions[name] = tuple(found)
    required = REQUIRED + REQUIRED_FOR_HISTORY if history else REQUIRED
    missing = [f for f in required if f not in positions]
    if missing:
        wanted = "；".join(
            f"{FIELDS[f][0]}（可用列名：{'、'.join(mapping.columns.get(f, FIELDS[f][1]))}）"
            for f in missing
        )
        raise MappingError(f"缺少必需的列：{wanted}。可用 --preset 或 --mapping 指定列名")
    unknown = tuple(h for i, h in enumerate(clean) if i not in used and h)
    absent = tuple(f for f in mapping.columns if f not in positions and f not in mapping.fixed)
    return Binding(mapping, clean, positions, unknown, absent, tuple(conflicts))


def _single(mapping: Mapping, name: str) -> bool:
    """One column per field for "auto"; text fields and named mappings join their columns."""
    return not mapping.exact and name not in ("description", "title")
