"""Open311 attribute answers checked against a service definition (pure)."""

from __future__ import annotations

import pytest

from hotline.domain.open311 import (
    attribute_answers,
    check_attributes,
    describe_answers,
    service_notice,
)

# The demo city's 占道经营 definition, plus the datatypes it does not use.
DEFINITIONS = [
    {"code": "period", "datatype": "singlevaluelist", "required": True,
     "description": "摊贩通常在什么时段出现？",
     "values": [{"key": "morning", "name": "早上（6—9点）"}, {"key": "evening", "name": "傍晚"}]},
    {"code": "impact", "datatype": "multivaluelist", "required": False,
     "description": "造成了哪些影响？（可多选）",
     "values": [{"key": "walkway", "name": "占用人行道"}, {"key": "noise", "name": "噪音扰民"}]},
    {"code": "stalls", "datatype": "number", "required": False, "description": "大约有几个摊位？"},
    {"code": "detail", "datatype": "text", "required": False, "description": "其他需要说明的情况"},
    {"code": "seen_at", "datatype": "datetime", "required": False, "description": "发现时间"},
    {"code": "plate", "datatype": "string", "required": False, "description": "车牌号"},
    {"code": "note", "datatype": "string", "variable": False, "required": True,
     "description": "仅供说明"},
]  # fmt: skip


def check(**raw):
    return check_attributes(DEFINITIONS, {k: v if isinstance(v, list) else [v]
                                          for k, v in raw.items()})  # fmt: skip


def test_form_keys_with_and_without_brackets_add_up() -> None:
    items = [("attribute[impact][]", "walkway"), ("attribute[impact]", "noise"),
             ("attribute[period]", "evening"), ("attributes[x]", "no"), ("attribute[]", "no"),
             ("description", "x")]  # fmt: skip
    assert attribute_answers(items) == {"impact": ["walkway", "noise"], "period": ["evening"]}


def test_fixmystreet_blanks_for_optional_attributes_are_not_answers() -> None:
    result = check(period="morning", impact="", stalls="", detail="", seen_at="", plate="")
    assert result.errors == {}
    assert result.answers == {"period": "morning"}


def test_a_required_attribute_left_blank_is_named_in_chinese() -> None:
    result = check(period="  ")
    assert result.errors == {"period": "请回答“摊贩通常在什么时段出现？”"}


def test_information_only_attributes_are_not_asked() -> None:
    assert "note" not in check(period="morning").errors


@pytest.mark.parametrize(("raw", "code", "fragment"), [
    ({"period": "noon"}, "period", "没有这个选项"),
    ({"period": ["morning", "evening"]}, "period", "只能填写一个值"),
    ({"impact": ["walkway", "fireworks"]}, "impact", "fireworks"),
    ({"stalls": "六个"}, "stalls", "应为数字"),
    ({"stalls": "nan"}, "stalls", "应为数字"),
    ({"stalls": "1e999"}, "stalls", "应为数字"),
    ({"seen_at": "2026-12-04 08:30"}, "seen_at", "带时区"),
    ({"seen_at": "2026-12-04T08:30:00"}, "seen_at", "带时区"),
    ({"seen_at": "yesterday"}, "seen_at", "带时区"),
    ({"seen_at": "0001-01-01T00:00:00+05:00"}, "seen_at", "带时区"),  # before year 1 in UTC
    ({"seen_at": "9999-12-31T23:00:00-05:00"}, "seen_at", "带时区"),  # after 9999
    ({"plate": "浙" * 201}, "plate", "200"),
    ({"detail": "很" * 2001}, "detail", "2000"),
])  # fmt: skip
def test_wrong_answers_name_their_attribute(raw, code, fragment) -> None:
    result = check(**{"period": "morning", **raw})
    assert fragment in result.errors[code]
    label = next(d["description"] for d in DEFINITIONS if d["code"] == code)
    assert result.errors[code].startswith(f"“{label}”")


def test_clean_answers() -> None:
    result = check(period="evening", impact=["noise", "walkway", "noise"], stalls=" 6 ",
                   detail="晚上 8 点后\n烧烤油烟很大", seen_at="2026-12-04T20:30:00+08:00",
                   plate="浙A·12345", unknown="ignored")  # fmt: skip
    assert result.errors == {}
    assert result.answers == {"period": "evening", "impact": ["noise", "walkway"], "stalls": 6,
                              "detail": "晚上 8 点后\n烧烤油烟很大",
                              "seen_at": "2026-12-04T12:30:00Z", "plate": "浙A·12345"}  # fmt: skip
    assert check(period="morning", stalls="2.5").answers["stalls"] == 2.5
    assert check(period="morning", seen_at="2026-12-04").answers["seen_at"] == "2026-12-04"
    assert check(period="morning", seen_at="2026-12-04T12:30:00Z").errors == {}


def test_answers_as_staff_read_them() -> None:
    lines = describe_answers(DEFINITIONS, {"period": "morning", "impact": ["walkway", "noise"],
                                           "stalls": 3})  # fmt: skip
    assert lines == ["摊贩通常在什么时段出现：早上（6—9点）",
                     "造成了哪些影响？（可多选）：占用人行道、噪音扰民", "大约有几个摊位：3"]


def test_the_notice_says_when_to_expect_the_outcome() -> None:
    assert service_notice("ordinary", "normal") == "已受理，请在 5 个工作日内留意处理结果"
    assert service_notice("complex", "normal") == "已受理，请在 15 个工作日内留意处理结果"
    assert service_notice("ordinary", "emergency") == "已受理，请在 24 小时内留意处理结果"


def test_the_definition_says_which_attributes_are_only_information() -> None:
    from types import SimpleNamespace

    from hotline.services.open311_catalog import service_definition

    category = SimpleNamespace(code="street-vending", attributes=[
        {"code": "notice", "datatype": "string", "variable": False, "order": "x",
         "description": "请勿拍摄他人面部"},
        {"code": "period", "datatype": "string", "description": "时段"}])  # fmt: skip
    listed = service_definition(category)["attributes"]
    assert [(a["code"], a["variable"], a["order"]) for a in listed] == [
        ("notice", False, 1), ("period", True, 2)]  # fmt: skip
