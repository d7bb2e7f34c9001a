"""Ruleset files: YAML and CSV, all-or-nothing validation with line numbers."""

from __future__ import annotations

import pytest

from hotline.exports import csv_text
from routing.rules import RulesetError, csv_rows, dump_yaml, load_csv, load_yaml
from tests.unit.routing.conftest import UNITS


def problems(text: str, loader=load_yaml) -> list[tuple[int | None, str]]:
    with pytest.raises(RulesetError) as info:
        loader(text, units=UNITS)
    return info.value.problems


def test_yaml_and_csv_round_trip(ruleset) -> None:
    again = load_yaml(dump_yaml(ruleset), units=UNITS)
    assert again.to_dict() == ruleset.to_dict()
    from_csv = load_csv(csv_text(csv_rows(ruleset)), units=UNITS)
    assert from_csv.to_dict() == ruleset.to_dict()


def test_syntax_error_names_the_line() -> None:
    found = problems("name: x\nrules:\n  - label: a\n    keywords: {噪音: 2\n")
    assert found[0][0] is not None and "YAML 语法错误" in found[0][1]


def test_unknown_unit_names_the_line() -> None:
    text = "name: x\nrules:\n  - label: a\n    lead_unit: dept-nope\n    keywords: {噪音: 2}\n"
    assert problems(text) == [(3, "未知的单位：dept-nope")]


def test_duplicate_keyword_is_refused() -> None:
    text = "name: x\nrules:\n  - label: a\n    keywords:\n      噪音: 2\n      噪音: 3\n"
    assert problems(text) == [(5, "重复的键：噪音")]


def test_weight_out_of_range_and_not_a_number() -> None:
    text = "name: x\nrules:\n  - label: a\n    keywords:\n      噪音: 12\n      吵: abc\n"
    found = problems(text)
    assert any("超出范围" in reason for _, reason in found)
    assert any("应为数字" in reason for _, reason in found)
    assert all(line == 5 for line, _ in found)


def test_all_problems_are_reported_together() -> None:
    text = (
        "name: x\nthreshold: 2\nrules:\n  - label: a\n    lead_unit: nope\n"
        "    keywords: {噪音: 2}\n"
        "  - label: a\n    keywords: {吵: 1}\nplaces:\n  - name: 某路\n    unit: nowhere\n"
    )
    reasons = [reason for _, reason in problems(text)]
    assert len(reasons) == 4
    assert any("阈值" in r for r in reasons) and any("重复的规则" in r for r in reasons)


def test_csv_problems_name_the_row() -> None:
    csv_text = (
        "kind,label,category,lead_unit,territorial,co_units,term,weight,unit,aliases,lat,lng\n"
        "keyword,a,,dept-cgj,,,噪音,2,,,,\n"
        "keyword,a,,dept-cgj,,,噪音,3,,,,\n"
        "keyword,b,,dept-cgj,,,吵,x,,,,\n"
        "weird,,,,,,,,,,,\n"
    )
    found = problems(csv_text, load_csv)
    assert (3, "规则“a”的关键词“噪音”重复") in found
    assert any(line == 4 and "不是数字" in reason for line, reason in found)
    assert any(line == 5 and "未知的 kind" in reason for line, reason in found)


def test_not_a_mapping() -> None:
    assert "YAML 映射" in problems("- just\n- a list\n")[0][1]


def test_default_ruleset_file_is_valid() -> None:
    from importlib.resources import files

    text = (files("routing") / "data" / "default_ruleset.yaml").read_text("utf-8")
    ruleset = load_yaml(text)
    assert len(ruleset.rules) >= 40
    assert all(rule.keywords for rule in ruleset.rules)
    assert any(w < 0 for rule in ruleset.rules for w in rule.keywords.values())
    assert len(ruleset.places) >= 20
