"""A gazetteer as a spreadsheet: rows of name, aliases, unit code, latitude, longitude.

Pure: rows come in as (line number, cells) from whatever read the file (the application's
streaming CSV/XLSX reader), places go out. Every problem is reported with its line and a
Chinese reason, and any problem refuses the whole file (``GazetteerFileError``), so nothing
is half-loaded. Headers may be English or Chinese; exports use the Chinese ones and read back.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from .rules import Place, RulesetError, Unit
from .text import normalize

MAX_ROWS = 100_000
MAX_NAME_CHARS = 100
MAX_ALIASES = 50
# A problem list is for a person to read: past this many, the rest are only counted.
MAX_PROBLEMS = 200
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("name", "地名", "名称", "地点", "地点名称"),
    "aliases": ("aliases", "alias", "别名", "又名"),
    "unit": ("unit", "unit_code", "unit code", "单位代码", "属地单位", "属地单位代码", "单位"),
    "lat": ("lat", "latitude", "纬度"),
    "lng": ("lng", "lon", "long", "longitude", "经度"),
}
COLUMN_NAMES = {"name": "地名", "aliases": "别名", "unit": "单位代码", "lat": "纬度", "lng": "经度"}
EXPORT_HEADER = [COLUMN_NAMES[key] for key in ("name", "aliases", "unit", "lat", "lng")]
# 、，, ; ； and any whitespace (a full-width space included) separate aliases.
ALIAS_SEPARATORS = re.compile(r"[、，,;；\s]+")


# First bytes of files people upload by mistake (a map, a scan, a document).
NOT_A_TABLE = {
    b"\x89PNG": "PNG 图片", b"\xff\xd8\xff": "JPEG 图片", b"GIF8": "GIF 图片",
    b"%PDF": "PDF 文档", b"Rar!": "RAR 压缩包", b"7z\xbc\xaf": "7z 压缩包",
    b"\x1f\x8b": "gzip 压缩包",
}  # fmt: skip


def not_a_table(head: bytes) -> str | None:
    """Why a file that starts with ``head`` is no gazetteer table, if its kind is known."""
    for magic, kind in NOT_A_TABLE.items():
        if head.startswith(magic):
            return f"这是{kind}，不是地名表：请上传 CSV 或 XLSX 文件"
    return None


class GazetteerFileError(RulesetError):
    """The file cannot be used; ``problems`` are (line or None, reason), ``more`` counts the
    problems left out of the list."""

    def __init__(self, problems: list[tuple[int | None, str]], more: int = 0) -> None:
        super().__init__(problems)
        self.more = more

    def lines(self) -> list[str]:
        shown = [f"第 {line} 行：{reason}" if line else reason for line, reason in self.problems]
        if self.more:
            shown.append(f"另有 {self.more:,} 处问题未列出")
        return shown


@dataclass(frozen=True)
class PlaceRow:
    line: int
    place: Place


def _key(header: str) -> str:
    return re.sub(r"\s+", " ", header.strip().lstrip("\ufeff")).lower()


def map_header(header: Sequence[str]) -> dict[str, int]:
    """Column key (name, aliases, unit, lat, lng) → position; a problem if name or unit is
    missing, or a column is given twice."""
    wanted = {_key(alias): key for key, aliases in COLUMNS.items() for alias in aliases}
    found: dict[str, int] = {}
    problems: list[tuple[int | None, str]] = []
    for position, title in enumerate(header):
        key = wanted.get(_key(title))
        if key is None:
            continue
        if key in found:
            twice = f"{header[found[key]]}、{title}"
            problems.append((1, f"“{COLUMN_NAMES[key]}”列出现了两次（{twice}）"))
        found[key] = position
    missing = [COLUMN_NAMES[k] for k in ("name", "unit") if k not in found]
    if missing:
        present = "、".join(h for h in header if h.strip()) or "无"
        expected = "地名、别名、单位代码、纬度、经度，或 name、aliases、unit、lat、lng"
        need = "、".join(missing)
        problems.append((1, f"缺少列：{need}（表头应为 {expected}；现有：{present}）"))
    if ("lat" in found) != ("lng" in found):
        problems.append((1, "纬度、经度两列需同时提供"))
    if problems:
        raise GazetteerFileError(problems)
    return found


def split_aliases(cell: str) -> list[str]:
    return [a for a in ALIAS_SEPARATORS.split(cell.strip()) if a]


def _coordinate(raw: str, what: str, low: float, high: float) -> tuple[float | None, str | None]:
    text = raw.strip().replace("°", "")
    try:
        value = float(text)
    except ValueError:
        return None, f"{what}“{raw}”不是数字"
    if not math.isfinite(value) or not low <= value <= high:
        return None, f"{what} {text} 超出范围（{low:g} 到 {high:g}）"
    return value, None


def read_places(
    header: Sequence[str],
    rows: Iterable[tuple[int, Sequence[str]]],
    *,
    units: Mapping[str, Unit] | None = None,
    max_rows: int = MAX_ROWS,
) -> list[PlaceRow]:
    """Validated places in file order. ``units`` (code → Unit) checks unit codes; a cell
    holding a unit's exact name is taken for its code when exactly one unit has that name.
    Stops reading at once past ``max_rows`` rows."""
    columns = map_header(header)
    by_name = _unit_names(units) if units is not None else {}
    problems: list[tuple[int | None, str]] = []
    more = 0

    def problem(line: int, reason: str) -> None:
        nonlocal more
        if len(problems) < MAX_PROBLEMS:
            problems.append((line, reason))
        else:
            more += 1

    def cell(cells: Sequence[str], key: str) -> str:
        position = columns.get(key)
        return cells[position].strip() if position is not None and position < len(cells) else ""

    seen: dict[str, tuple[int, str]] = {}  # normalised name or alias → (line, as written)
    result: list[PlaceRow] = []
    count = 0
    for line, cells in rows:
        count += 1
        if count > max_rows:
            raise GazetteerFileError([(None, f"地名不能超过 {max_rows:,} 行，请分成几个文件，"
                                             "第二个起用“合并”导入")])  # fmt: skip
        name, unit = cell(cells, "name"), cell(cells, "unit")
        if not name and not unit and not any(c.strip() for c in cells):
            continue
        bad = False
        if not name:
            problem(line, "缺少地名")
            bad = True
        elif len(name) > MAX_NAME_CHARS:
            problem(line, f"地名超过 {MAX_NAME_CHARS} 个字")
            bad = True
        if not unit:
            problem(line, f"地名“{name}”缺少单位代码" if name else "缺少单位代码")
            bad = True
        elif units is not None and unit not in units:
            code = by_name.get(unit)
            if code is None:
                problem(line, f"未知的单位代码：{unit}")
                bad = True
            else:
                unit = code
        # An alias written twice, or only a spelling of the name, says nothing more.
        spelled = {normalize(name)}
        aliases = []
        for alias in split_aliases(cell(cells, "aliases")):
            if normalize(alias) not in spelled:
                spelled.add(normalize(alias))
                aliases.append(alias)
        if len(aliases) > MAX_ALIASES:
            problem(line, f"别名超过 {MAX_ALIASES} 个")
            bad = True
        long_alias = next((a for a in aliases if len(a) > MAX_NAME_CHARS), None)
        if long_alias:
            problem(line, f"别名超过 {MAX_NAME_CHARS} 个字")
            bad = True
        lat_raw, lng_raw = cell(cells, "lat"), cell(cells, "lng")
        lat = lng = None
        if bool(lat_raw) != bool(lng_raw):
            problem(line, "纬度和经度需同时填写（或都不填）")
            bad = True
        elif lat_raw:
            lat, lat_problem = _coordinate(lat_raw, "纬度", -90, 90)
            lng, lng_problem = _coordinate(lng_raw, "经度", -180, 180)
            for reason in filter(None, (lat_problem, lng_problem)):
                problem(line, reason)
                bad = True
        for written in [name, *aliases] if name else []:
            key = normalize(written)
            if len(key) < 2:
                problem(line, f"“{written}”太短：地名和别名至少 2 个字，否则会在任何诉求中误认")
                bad = True
                continue
            if key in seen:
                first_line, first = seen[key]
                same = "" if first == written else f"（“{first}”）"
                problem(line, f"“{written}”与第 {first_line} 行的地名或别名重复{same}")
                bad = True
                continue
            seen[key] = (line, written)
        if not bad:
            result.append(PlaceRow(line, Place(name, unit, tuple(aliases), lat, lng)))
    if problems:
        raise GazetteerFileError(problems, more)
    if not result:
        raise GazetteerFileError([(None, "文件中没有地名数据行")])
    return result


def _unit_names(units: Mapping[str, Unit]) -> dict[str, str]:
    """Exact unit name → code, for names that belong to exactly one unit."""
    codes: dict[str, list[str]] = {}
    for code, unit in units.items():
        codes.setdefault(unit.name, []).append(code)
    return {name: found[0] for name, found in codes.items() if len(found) == 1}


def merge_places(
    existing: Sequence[Place], imported: Sequence[PlaceRow]
) -> tuple[list[Place], int]:
    """``existing`` with ``imported`` laid over it: a row replaces the place of the same
    name; any other clash of a name or alias with a kept place is a problem on that row.
    Returns the places (the existing order, replaced ones in their place, then the new ones)
    and how many were replaced."""
    new_names = {row.place.name for row in imported}
    kept = [p for p in existing if p.name not in new_names]
    taken = {normalize(n): p.name for p in kept for n in (p.name, *p.aliases)}
    problems: list[tuple[int | None, str]] = []
    for row in imported:
        for written in (row.place.name, *row.place.aliases):
            owner = taken.get(normalize(written))
            if owner is not None and len(problems) < MAX_PROBLEMS:
                problems.append((row.line, f"“{written}”已是现有地名“{owner}”的名称或别名"))
    if problems:
        raise GazetteerFileError(problems)
    by_name = {row.place.name: row.place for row in imported}
    old_names = {p.name for p in existing}
    merged = [by_name.get(p.name, p) for p in existing]
    merged += [row.place for row in imported if row.place.name not in old_names]
    return merged, len(existing) - len(kept)


def export_rows(places: Iterable[Place]) -> Iterator[list[str]]:
    """The file form (header first) of ``places``, which ``read_places`` reads back."""
    yield list(EXPORT_HEADER)
    for place in places:
        yield [
            place.name, "、".join(place.aliases), place.unit,
            "" if place.lat is None else repr(place.lat),
            "" if place.lng is None else repr(place.lng),
        ]  # fmt: skip
