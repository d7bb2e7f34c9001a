"""route(): keywords, negative keywords, places, ties, threshold, bad input."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from routing.classifier import Router


def test_confident_decision_with_explanation(router) -> None:
    decision = router.route("和平新村门口每天都有流动摊贩占道经营")
    assert decision.confident and decision.label == "占道经营"
    assert (decision.category, decision.lead_unit) == ("street-vending", "dept-cgj")
    terms = {m.term: m for m in decision.candidates[0].matches}
    assert set(terms) == {"流动摊贩", "占道经营"}
    assert terms["占道经营"].weight == 3
    # one keyword alone: e^3 / (1 + e^3); two here, divided by √2
    assert decision.confidence == pytest.approx(
        math.exp(5.5 / math.sqrt(2)) / (1 + math.exp(5.5 / math.sqrt(2))), abs=1e-4
    )


def test_territorial_unit_is_the_grid_and_co_handles(router) -> None:
    decision = router.route("和平新村门口有人摆摊占道经营")
    assert decision.territorial_unit == "grid-a1"
    assert decision.territorial_path == ("dist-a", "st-a", "cm-a", "grid-a1")
    assert decision.co_units == ("grid-a1",)


def test_fixed_co_units(router) -> None:
    decision = router.route("小区门口乱停乱放，车都停到了人行道上")
    assert decision.lead_unit == "dept-jj" and decision.co_units == ("dept-cgj",)


def test_address_field_beats_description_and_specific_beats_general(router) -> None:
    decision = router.route("新华大街有人摆摊占道经营", place="和平新村小区 3 栋")
    assert decision.territorial_unit == "grid-a1"
    assert decision.places[0].source == "address"
    decision = router.route("和平路和平菜市场门口有人摆摊占道经营")
    assert decision.territorial_unit == "cm-a"  # community is more specific than the street


def test_keywords_inside_a_place_name_count(router) -> None:
    decision = router.route("和平菜市场的问题")
    assert decision.places and decision.places[0].unit == "cm-a"


def test_coordinates_when_no_place_is_named(router) -> None:
    decision = router.route("门口有人摆摊占道经营", lat=30.2745, lng=120.1549)
    assert decision.territorial_unit == "grid-a1"
    assert decision.places[0].source == "coordinates"
    far = router.route("门口有人摆摊占道经营", lat=31.5, lng=121.0)
    assert far.territorial_unit is None
    assert "未识别到具体地点" in far.notes[0]


def test_negative_keyword_pulls_a_rule_down(router) -> None:
    plain = router.route("小区门口乱停乱放")
    with_bikes = router.route("小区门口共享单车乱停乱放")
    assert plain.confident and plain.label == "乱停乱放"
    # (3 - 2) / √2: two terms found, one counting against the rule
    assert with_bikes.candidates[0].score == pytest.approx(1 / math.sqrt(2), abs=1e-4)
    assert with_bikes.confidence < plain.confidence


def test_tie_goes_to_an_operator(router) -> None:
    decision = router.route("晚上噪音很大")
    assert not decision.confident
    assert "得分相同" in decision.reason
    # deterministic order: the earlier rule first
    assert [c.label for c in decision.candidates[:2]] == ["噪音扰民", "施工噪音"]


def test_below_threshold_goes_to_an_operator(router) -> None:
    decision = router.route("路边停车的问题")  # 停车 alone, weight 1
    assert decision.confident
    assert decision.confidence == pytest.approx(math.exp(1) / (1 + math.exp(1)), abs=1e-4)
    strict = Router(replace(router.ruleset, threshold=0.8))
    assert not strict.route("路边停车的问题").confident
    assert "低于阈值" in strict.route("路边停车的问题").reason


def test_rule_without_lead_unit_is_not_dispatched(router) -> None:
    decision = router.route("楼道里有人飞线充电")
    assert not decision.confident and "没有指定承办单位" in decision.reason
    assert decision.candidates[0].label == "无主规则"


def test_traditional_characters_route_the_same(router) -> None:
    simplified = router.route("和平新村门口有流动摊贩占道经营")
    traditional = router.route("和平新村門口有流動攤販佔道經營")
    assert traditional.label == simplified.label == "占道经营"
    assert traditional.confidence == simplified.confidence
    assert traditional.territorial_unit == "grid-a1"


def test_full_width_and_case_are_folded(router) -> None:
    assert router.route("ＡＢＣ小区门口摆摊").label == router.route("abc小区门口摆摊").label


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        "😀😀😀🙏",
        "\x00\x01\x02\xff\ufffd" * 50,
        "hello world 12345",
        "\ud800 broken",
        "ملاحظة",
    ],
)
def test_bad_input_never_raises_and_goes_to_an_operator(router, text: str) -> None:
    decision = router.route(text)
    assert decision.confidence == 0.0 and not decision.confident
    assert decision.reason


def test_very_long_text_is_bounded_and_still_routes(router) -> None:
    text = "流动摊贩占道经营。" + "今天天气不错。" * 15_000  # ~100k characters
    decision = router.route(text)
    assert decision.label == "占道经营"


def test_mixed_script_text(router) -> None:
    decision = router.route("The street vendors 流动摊贩 are 占道经营 again!!! 😡")
    assert decision.label == "占道经营" and decision.confident


def test_no_keyword_found(router) -> None:
    decision = router.route("今天天气很好，谢谢你们")
    assert not decision.confident and "没有匹配到任何关键词" in decision.reason
    assert decision.confidence == 0.0
