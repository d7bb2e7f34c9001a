"""Rulesets as data: rules of weighted keywords, a gazetteer of places, and their units.

A ruleset is what people read and edit (YAML or CSV) and what the database stores (as a dict).
Loading validates everything and reports the line of each problem; nothing is half-loaded.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

MAX_WEIGHT = 10.0
UNIT_KINDS = ("department", "district", "street", "community", "grid")
CSV_COLUMNS = (
    "kind", "label", "category", "lead_unit", "territorial", "co_units", "term", "weight",
    "unit", "aliases", "lat", "lng",
)  # fmt: skip


class RulesetError(ValueError):
    """A ruleset that cannot be used; ``problems`` lists (line or None, reason)."""

    def __init__(self, problems: list[tuple[int | None, str]]) -> None:
        self.problems = problems
        lines = [f"第 {line} 行：{reason}" if line else reason for line, reason in problems]
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    kind: str
    parent: str | None = None


@dataclass(frozen=True)
class Rule:
    """One routing target: a category and/or a lead unit, recognised by weighted keywords.

    Negative weights are negative keywords: they count against this rule.
    """

    label: str
    keywords: dict[str, float]
    category: str | None = None
    lead_unit: str | None = None
    # Whether the place's territorial unit co-handles; None = as the category says.
    territorial: bool | None = None
    co_units: tuple[str, ...] = ()
    bias: float = 0.0


@dataclass(frozen=True)
class Place:
    name: str
    unit: str
    aliases: tuple[str, ...] = ()
    lat: float | None = None
    lng: float | None = None


@dataclass(frozen=True)
class Calibration:
    """Confidence of a learned ruleset: σ(best·s + margin·(s − s₂) + intercept), s being the
    best rule's score and s₂ the runner-up's. Fitted on held-out rows (each scored by rules
    learned without it), never on the rows the weights were fitted on."""

    best: float
    margin: float
    intercept: float
    held_out: int = 0
    # (confidence from, to, rows, share right) on the held-out rows: the reliability table.
    reliability: tuple[tuple[float, float, int, float], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "best": self.best, "margin": self.margin, "intercept": self.intercept,
            "held_out": self.held_out, "reliability": [list(r) for r in self.reliability],
        }  # fmt: skip


@dataclass(frozen=True)
class Ruleset:
    name: str
    rules: tuple[Rule, ...]
    places: tuple[Place, ...] = ()
    threshold: float = 0.6
    # Confidence temperature: learned rulesets calibrate it so that confidence matches how
    # often they are right; hand-written ones keep 1.
    scale: float = 1.0
    # Inverse document frequencies of the learned vocabulary: they scale the length
    # normalisation. Hand-written rulesets leave it empty (every term counts 1).
    idf: dict[str, float] = field(default_factory=dict)
    units: dict[str, Unit] = field(default_factory=dict)
    calibration: Calibration | None = None
    # Everyday words (员工, 服务, 信息…) that never decide alone: a decision goes to a person
    # when its strongest keyword is one of them and carries more than ``common_share`` of the
    # evidence, or when the other words carry less than ``specific_share`` of it.
    common_terms: frozenset[str] = frozenset()
    common_share: float = 0.7
    specific_share: float = 0.0
    # The city's own province and city (e.g. 广东, 广州): an address written in full in any
    # other province ("河南省郑州市…") sends a ticket with no place of ours to a person.
    home_regions: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The stored and exported form (units are not part of it: they live with the city)."""
        data: dict[str, Any] = {"name": self.name, "threshold": self.threshold, "rules": []}
        if self.scale != 1.0:
            data["scale"] = self.scale
        if self.calibration is not None:
            data["calibration"] = self.calibration.to_dict()
        if self.home_regions:
            data["home_regions"] = list(self.home_regions)
        if self.common_terms:
            data["common_share"] = self.common_share
            data["specific_share"] = self.specific_share
            data["common_terms"] = sorted(self.common_terms)
        for rule in self.rules:
            item: dict[str, Any] = {"label": rule.label}
            for key in ("category", "lead_unit"):
                if getattr(rule, key):
                    item[key] = getattr(rule, key)
            if rule.territorial is not None:
                item["territorial"] = rule.territorial
            if rule.co_units:
                item["co_units"] = list(rule.co_units)
            if rule.bias:
                item["bias"] = rule.bias
            item["keywords"] = dict(rule.keywords)
            data["rules"].append(item)
        data["places"] = [
            {k: v for k, v in (("name", p.name), ("unit", p.unit), ("aliases", list(p.aliases)),
                               ("lat", p.lat), ("lng", p.lng)) if v not in (None, [])}
            for p in self.places
        ]  # fmt: skip
        if self.idf:
            data["idf"] = dict(self.idf)
        return data


# ---------------------------------------------------------------- parsing and validation


class _LineLoader(yaml.SafeLoader):
    """Remembers the line of every mapping so problems can name it."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    keys = [loader.construct_object(k, deep=True) for k, _ in node.value]
    duplicates = {k for k in keys if keys.count(k) > 1}
    if duplicates:
        raise RulesetError(
            [
                (
                    node.start_mark.line + 1,
                    f"重复的键：{'、'.join(map(str, sorted(duplicates, key=str)))}",
                )
            ]
        )
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(text: str, *, units: dict[str, Unit] | None = None) -> Ruleset:
    return from_dict(yaml_to_data(text), units=units)


def yaml_to_data(text: str) -> dict[str, Any]:
    """The raw mapping, each nested mapping marked with its ``__line__``."""
    try:
        data = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except RulesetError:
        raise
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise RulesetError(
            [(mark.line + 1 if mark else None, f"YAML 语法错误：{getattr(exc, 'problem', exc)}")]
        ) from exc
    if not isinstance(data, dict):
        raise RulesetError([(None, "文件应为一个 YAML 映射（包含 name、rules、places）")])
    return data


def from_dict(data: dict[str, Any], *, units: dict[str, Unit] | None = None) -> Ruleset:
    """Build and validate; ``units`` (code → Unit) lets unit references be checked."""
    problems: list[tuple[int | None, str]] = []

    def line(item: Any) -> int | None:
        return item.get("__line__") if isinstance(item, dict) else None

    def number(value: Any, where: Any, what: str, low: float, high: float) -> float | None:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            problems.append((line(where), f"{what}应为数字"))
            return None
        if not low <= value <= high:
            problems.append((line(where), f"{what} {value} 超出范围 [{low}, {high}]"))
            return None
        return float(value)

    def unit_ref(code: Any, where: Any, what: str) -> str | None:
        if code is None:
            return None
        if not isinstance(code, str) or not code:
            problems.append((line(where), f"{what}应为单位代码"))
            return None
        if units is not None and code not in units:
            problems.append((line(where), f"未知的单位：{code}"))
        return code

    name = data.get("name") or "未命名规则"
    threshold = number(data.get("threshold", 0.6), data, "置信度阈值", 0.0, 1.0)
    scale = number(data.get("scale", 1.0), data, "置信度温度 scale", 0.01, 100.0)
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        problems.append((line(data), "rules 应为非空列表"))
        raw_rules = []
    rules: list[Rule] = []
    labels: set[str] = set()
    for item in raw_rules:
        if not isinstance(item, dict):
            problems.append((None, "每条规则应为映射（label、keywords…）"))
            continue
        label = item.get("label")
        if not isinstance(label, str) or not label.strip():
            problems.append((line(item), "规则缺少 label"))
            continue
        if label in labels:
            problems.append((line(item), f"重复的规则：{label}"))
        labels.add(label)
        keywords = item.get("keywords") or {}
        if not isinstance(keywords, dict):
            problems.append((line(item), f"规则“{label}”的 keywords 应为 词: 权重 的映射"))
            keywords = {}
        clean: dict[str, float] = {}
        for term, weight in keywords.items():
            if term == "__line__":
                continue
            term_text = str(term).strip()
            if not term_text:
                problems.append((line(keywords), f"规则“{label}”有空关键词"))
                continue
            if term_text in clean:
                problems.append((line(keywords), f"规则“{label}”的关键词“{term_text}”重复"))
                continue
            value = number(weight, keywords, f"“{label}”的关键词“{term_text}”的权重",
                           -MAX_WEIGHT, MAX_WEIGHT)  # fmt: skip
            if value is not None and value != 0:
                clean[term_text] = value
        co_units = item.get("co_units") or []
        if not isinstance(co_units, list):
            problems.append((line(item), f"规则“{label}”的 co_units 应为列表"))
            co_units = []
        category = item.get("category")
        if category is not None and not isinstance(category, str):
            problems.append((line(item), f"规则“{label}”的 category 应为类别代码"))
            category = None
        bias = number(item.get("bias", 0.0), item, f"规则“{label}”的 bias", -MAX_WEIGHT, MAX_WEIGHT)
        rules.append(
            Rule(
                label=label.strip(),
                keywords=clean,
                category=category,
                lead_unit=unit_ref(item.get("lead_unit"), item, f"规则“{label}”的 lead_unit"),
                territorial=None if item.get("territorial") is None else bool(item["territorial"]),
                co_units=tuple(c for c in (unit_ref(c, item, "co_units") for c in co_units) if c),
                bias=bias or 0.0,
            )
        )
    places: list[Place] = []
    names: set[str] = set()
    for item in data.get("places") or []:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            problems.append((line(item), "地名条目需要 name"))
            continue
        aliases = item.get("aliases") or []
        if not isinstance(aliases, list):
            problems.append((line(item), f"地名“{item['name']}”的 aliases 应为列表"))
            aliases = []
        for alias in [item["name"], *aliases]:
            if alias in names:
                problems.append((line(item), f"重复的地名：{alias}"))
            names.add(alias)
        unit = unit_ref(item.get("unit"), item, f"地名“{item['name']}”的 unit")
        if unit is None:
            problems.append((line(item), f"地名“{item['name']}”缺少 unit"))
            continue
        lat = item.get("lat")
        lng = item.get("lng")
        if (lat is None) != (lng is None):
            problems.append((line(item), f"地名“{item['name']}”的经纬度需同时填写"))
        places.append(
            Place(
                name=item["name"],
                unit=unit,
                aliases=tuple(str(a) for a in aliases),
                lat=number(lat, item, "纬度", -90, 90) if lat is not None else None,
                lng=number(lng, item, "经度", -180, 180) if lng is not None else None,
            )
        )
    idf_raw = data.get("idf") or {}
    idf = {
        str(t): v
        for t, w in idf_raw.items()
        if t != "__line__" and (v := number(w, idf_raw, f"idf“{t}”", 0.0, 50.0)) is not None
    } if isinstance(idf_raw, dict) else {}  # fmt: skip
    calibration = _calibration(data.get("calibration"), problems)
    common_raw = data.get("common_terms") or []
    if not isinstance(common_raw, list) or not all(isinstance(t, str) for t in common_raw):
        problems.append((line(data), "common_terms 应为词语列表"))
        common_raw = []
    common_share = number(data.get("common_share", 0.7), data, "常用词占比 common_share", 0.0, 1.0)
    specific_share = number(data.get("specific_share", 0.0), data,
                            "其他词最低占比 specific_share", 0.0, 1.0)  # fmt: skip
    home = data.get("home_regions") or []
    if not isinstance(home, list) or not all(isinstance(t, str) and t.strip() for t in home):
        problems.append((line(data), "home_regions 应为地名列表（本省、本市）"))
        home = []
    if problems:
        raise RulesetError(problems)
    return Ruleset(
        name=str(name),
        rules=tuple(rules),
        places=tuple(places),
        threshold=threshold or 0.0,
        scale=scale or 1.0,
        idf=idf,
        units=dict(units or {}),
        calibration=calibration,
        common_terms=frozenset(t.strip() for t in common_raw if t.strip()),
        common_share=common_share if common_share is not None else 0.7,
        specific_share=specific_share or 0.0,
        home_regions=tuple(t.strip() for t in home),
    )


def _calibration(raw: Any, problems: list[tuple[int | None, str]]) -> Calibration | None:
    if raw is None:
        return None
    where = raw.get("__line__") if isinstance(raw, dict) else None
    if not isinstance(raw, dict):
        problems.append((where, "calibration 应为映射（best、margin、intercept）"))
        return None
    values = {}
    for key in ("best", "margin", "intercept"):
        value = raw.get(key)
        if (isinstance(value, bool) or not isinstance(value, int | float)
                or not math.isfinite(value)):  # fmt: skip
            problems.append((where, f"calibration.{key} 应为数字"))
            return None
        values[key] = float(value)
    reliability = []
    for row in raw.get("reliability") or []:
        if (
            isinstance(row, list | tuple)
            and len(row) == 4
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in row)
        ):
            reliability.append((float(row[0]), float(row[1]), int(row[2]), float(row[3])))
        else:
            problems.append((where, "calibration.reliability 每行应为 [起, 止, 行数, 正确率]"))
            return None
    held_out = raw.get("held_out", 0)
    held = int(held_out) if isinstance(held_out, int | float) else 0
    return Calibration(values["best"], values["margin"], values["intercept"], held,
                       tuple(reliability))  # fmt: skip


def dump_yaml(ruleset: Ruleset) -> str:
    # The C dumper when PyYAML has it: the same text, three times faster on a city's gazetteer.
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(ruleset.to_dict(), Dumper=dumper, allow_unicode=True, sort_keys=False,
                     width=100)  # fmt: skip


def csv_rows(ruleset: Ruleset) -> Iterator[list[Any]]:
    """The CSV form, row by row (header first); the application writes them out as a
    spreadsheet (hotline.exports), so cells that look like formulas are protected."""
    yield list(CSV_COLUMNS)
    yield ["setting", "", "", "", "", "", "name", ruleset.name, "", "", "", ""]
    yield ["setting", "", "", "", "", "", "threshold", ruleset.threshold, "", "", "", ""]
    if ruleset.scale != 1.0:
        yield ["setting", "", "", "", "", "", "scale", ruleset.scale, "", "", "", ""]
    if ruleset.calibration is not None:
        for key in ("best", "margin", "intercept", "held_out"):
            value = getattr(ruleset.calibration, key)
            yield ["setting", "", "", "", "", "", f"calibration_{key}", value, "", "", "", ""]
    if ruleset.home_regions:
        yield ["setting", "", "", "", "", "", "home_regions", " ".join(ruleset.home_regions),
               "", "", "", ""]  # fmt: skip
    if ruleset.common_terms:
        for key in ("common_share", "specific_share"):
            yield ["setting", "", "", "", "", "", key, getattr(ruleset, key), "", "", "", ""]
    for rule in ruleset.rules:
        common = [rule.label, rule.category or "", rule.lead_unit or "",
                  {True: "true", False: "false", None: ""}[rule.territorial],
                  " ".join(rule.co_units)]  # fmt: skip
        if rule.bias:
            yield ["bias", *common, "", rule.bias, "", "", "", ""]
        for term, weight in rule.keywords.items():
            yield ["keyword", *common, term, weight, "", "", "", ""]
    for place in ruleset.places:
        yield ["place", "", "", "", "", "", place.name, "", place.unit,
               " ".join(place.aliases), place.lat or "", place.lng or ""]  # fmt: skip
    for term, value in ruleset.idf.items():
        yield ["idf", "", "", "", "", "", term, value, "", "", "", ""]
    for term in sorted(ruleset.common_terms):
        yield ["common", "", "", "", "", "", term, "", "", "", "", ""]


def load_csv(text: str, *, units: dict[str, Unit] | None = None) -> Ruleset:
    """The CSV form: one row per keyword, place, idf entry or setting (see CSV_COLUMNS)."""
    return from_dict(csv_to_data(text), units=units)


def _tristate(raw: str | None) -> bool | None:
    value = (raw or "").strip().lower()
    return True if value in {"true", "1"} else False if value in {"false", "0"} else None


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _unprotected(cell: Any) -> Any:
    # Spreadsheet exports put an apostrophe before a cell that would start a formula
    # (= + - @ tab CR); a file that went out and came back has it still.
    if isinstance(cell, str) and cell[:1] == "'" and cell[1:2] in FORMULA_START:
        return cell[1:]
    return cell


def csv_to_data(text: str) -> dict[str, Any]:
    """The CSV rows as the same mapping the YAML form gives, marked with row numbers."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in ("kind", "label", "term", "weight") if c not in (reader.fieldnames or [])]
    if missing:
        raise RulesetError([(1, f"缺少列：{'、'.join(missing)}")])
    data: dict[str, Any] = {"rules": [], "places": [], "idf": {}}
    by_label: dict[str, dict[str, Any]] = {}
    problems: list[tuple[int | None, str]] = []

    def weight(row: dict[str, str], number_line: int) -> float | str:
        try:
            return float(row.get("weight") or "")
        except ValueError:
            problems.append((number_line, f"权重“{row.get('weight')}”不是数字"))
            return "?"

    for number_line, raw in enumerate(reader, start=2):
        row = {key: _unprotected(value) for key, value in raw.items()}
        kind = (row.get("kind") or "").strip()
        term = (row.get("term") or "").strip()
        if kind == "setting":
            value = (row.get("weight") or "").strip()
            if term.startswith("calibration_"):
                data.setdefault("calibration", {"__line__": number_line})[
                    term.removeprefix("calibration_")
                ] = weight(row, number_line)
            elif term in ("threshold", "scale", "common_share", "specific_share"):
                data[term] = weight(row, number_line)
            elif term == "home_regions":
                data[term] = value.split()
            else:
                data[term] = value
        elif kind in ("keyword", "bias"):
            label = (row.get("label") or "").strip()
            rule = by_label.get(label)
            if rule is None:
                rule = {
                    "label": label, "__line__": number_line, "keywords": {"__line__": number_line},
                    "category": (row.get("category") or "").strip() or None,
                    "lead_unit": (row.get("lead_unit") or "").strip() or None,
                    "territorial": _tristate(row.get("territorial")),
                    "co_units": (row.get("co_units") or "").split(),
                }  # fmt: skip
                by_label[label] = rule
                data["rules"].append(rule)
            if kind == "bias":
                rule["bias"] = weight(row, number_line)
            elif term in rule["keywords"]:
                problems.append((number_line, f"规则“{label}”的关键词“{term}”重复"))
            else:
                rule["keywords"][term] = weight(row, number_line)
                rule["keywords"]["__line__"] = number_line
        elif kind == "place":
            place: dict[str, Any] = {
                "__line__": number_line, "name": term, "unit": (row.get("unit") or "").strip(),
                "aliases": (row.get("aliases") or "").split(),
            }  # fmt: skip
            for key in ("lat", "lng"):
                if (row.get(key) or "").strip():
                    try:
                        place[key] = float(row[key])
                    except ValueError:
                        problems.append((number_line, f"{key}“{row[key]}”不是数字"))
            data["places"].append(place)
        elif kind == "idf":
            data["idf"][term] = weight(row, number_line)
        elif kind == "common":
            data.setdefault("common_terms", []).append(term)
        else:
            problems.append((number_line, f"未知的 kind：{kind!r}"
                             "（应为 keyword、bias、place、idf、common、setting）"))  # fmt: skip
    if problems:
        raise RulesetError(problems)
    return data
