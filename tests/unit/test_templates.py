"""Notification templates: defaults are valid, edits are checked, residents get no staff data."""

from __future__ import annotations

import time

import pytest
from jinja2 import TemplateError

from hotline.domain import templates as t
from hotline.services.outbox import RESIDENT_EVENTS, SUPERVISOR_EVENTS, UNIT_EVENTS


@pytest.mark.parametrize("key", sorted(t.DEFAULTS))
def test_every_built_in_template_passes_its_own_checks(key: str) -> None:
    default = t.DEFAULTS[key]
    assert t.check(key, default.body, default.subject) == {}
    named = t.SAMPLE["ruleset"] if t.audience_of(key) == "admin" else "WM20261121-0007"
    assert named in t.render(default.body, t.SAMPLE)


def test_every_notified_event_has_its_own_template() -> None:
    for audience, events in (("resident", RESIDENT_EVENTS), ("unit", UNIT_EVENTS),
                             ("supervisor", SUPERVISOR_EVENTS)):  # fmt: skip
        for event in events:
            assert t.template_key(audience, event) == f"{audience}.{event}"
    assert t.template_key("unit", "something_new") == "unit.other"


def test_resident_texts_cannot_use_staff_only_variables() -> None:
    problems = t.check("resident.accepted", "工单{{ number }}：{{ body }}，地址 {{ address }}")
    (message,) = problems["body"]
    assert message.startswith("发给市民的模板不能使用：address、body")
    assert "{{ link }}" in message  # says what may be used instead


def test_staff_texts_cannot_use_the_residents_tracking_link() -> None:
    # The link carries the resident's token, which confirms the ticket as them.
    assert "link" in t.check("unit.dispatched", "工单{{ number }} {{ link }}")["body"][0]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("工单{{ number }", "第 1 行模板语法有误"),
        ("工单{{ numbr }}", "未知的变量：numbr"),
        ("{{ number.__class__.__mro__ }}", "不能使用变量的属性或下标"),
        ("{{ number.upper.__globals__ }}", "不能使用变量的属性或下标"),
        ("   ", "模板内容不能为空"),
        ("工单{{ number }}" + "请" * 300, "超过上限 300 个字"),
    ],
)
def test_bad_edits_are_refused_with_a_reason(body: str, expected: str) -> None:
    problems = t.check("resident.feedback", body)
    assert any(expected in message for message in problems["body"]), problems


def test_conditionals_and_subjects() -> None:
    body = "工单{{ number }}{% if resolve_by %}，{{ resolve_by }}前办结{% endif %}。"
    assert t.check("unit.dispatched", body, "【督办】{{ number }}") == {}
    assert t.render(body, t.SAMPLE) == "工单WM20261121-0007，11月27日17:00前办结。"
    assert "subject" in t.check("unit.dispatched", body, "{{ nope }}")


def test_unknown_keys_are_refused() -> None:
    assert t.check("resident.nothing", "x") == {"key": ["没有名为 resident.nothing 的通知模板"]}


# Texts that used to answer 500 (an exception out of the check) or to build huge values or
# run for ever in a preview: each is refused when checked, at once, saying what it uses.
RUNAWAY = [
    ("{% for i in range(99999999) %}x{% endfor %}", "循环（for，第 1 行）"),
    ("{% for a in number %}{% for b in number %}{% for c in number %}{% endfor %}"
     "{% endfor %}{% endfor %}", "循环"),
    ('工单{{ number }}{% include "footer.txt" %}', "引用其他模板"),
    ('{% import "macros.txt" as m %}{{ number }}', "引用其他模板"),
    ('{% from "macros.txt" import f %}{{ number }}', "引用其他模板"),
    ('{% extends "base.txt" %}', "引用其他模板"),
    ("{{ (number * 10000000)|length }}", "算术运算"),
    ('{{ "%99999999s"|format(number) }}', "过滤器 |format"),
    ("{{ number|center(99999999) }}", "过滤器 |center"),
    ('{{ number|replace("", number)|replace("", number) }}', "过滤器 |replace"),
    ("{{ number.zfill(99999999) }}", "函数调用"),
    ("{{ lipsum(5) }}", "函数调用"),
    ("{% set ns = namespace(x=number) %}{{ ns.x }}", "变量赋值"),
    ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "宏"),
    ("{% for a in [1] recursive %}{{ loop([1]) }}{% endfor %}", "循环"),
    ("{{ self }}", "未知的变量：self"),
    ("{{ " + "(" * 3000 + "number" + ")" * 3000 + " }}", "嵌套过深"),
    ("{{ number > 5 }}", "参数或比较的类型不对"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "expected"), RUNAWAY)
def test_texts_that_loop_repeat_or_reach_outside_are_refused_at_once(body, expected) -> None:
    started = time.perf_counter()
    problems = t.check("unit.dispatched", body)
    assert time.perf_counter() - started < 5  # a guard against a blow-up, not a speed target
    (message,) = problems["body"]
    assert expected in message, message


def test_what_a_notification_needs_still_works_and_nothing_more() -> None:
    body = ("工单{{ number|trim }}{% if status == '办理中' %}办理中"
            "{% elif status in ['a', 'b'] %}？{% else %}{{ status }}{% endif %}，"
            "{{ body|truncate(12, end='…') }}，{{ (unit ~ '承办')|default('未派单') }}"
            "{{ '（急）' if category is defined else '' }}")  # fmt: skip
    assert t.check("unit.supervised", body) == {}
    expected = "工单WM20261121-0007办理中，该点位属于道路养护范围…，示范市城市管理局承办（急）"
    assert t.render(body, t.SAMPLE) == expected
    message = t.check("unit.supervised", "{{ body|replace('', body) }}")["body"][0]
    assert message.endswith("过滤器 default、trim、truncate、upper、lower")


def test_the_sandbox_itself_refuses_loops_repetition_calls_and_other_templates() -> None:
    # A text that never went through the check (saved by an older version, or by hand).
    sandbox = t.NotificationSandbox()
    for body in ("{{ number * 10000000 }}", "{{ 2 ** (2 ** 40) }}", "{{ range(99999999) }}",
                 "{{ number.zfill(99999999) }}", "{{ number[0] }}",
                 "{% for i in [1] %}{{ loop.index }}{% endfor %}",
                 '{% include "x" %}', '{% import "x" as y %}'):  # fmt: skip
        with pytest.raises(TemplateError):
            sandbox.from_string(body).render(number="WM1")
    with pytest.raises(TemplateError, match="No filter named 'center'"):
        sandbox.from_string("{{ number|center(99999999) }}")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('工单{{ number }}{% include "x" %}', "引用其他模板"),
        ("{% for i in range(99999999) %}x{% endfor %}", "循环"),
        ("{{ (number * 10000000)|length }}", "算术运算"),
        ("{{ numbr }}", "变量未定义"),
        ("{{ number > 5 }}", "参数或比较的类型不对"),
        ("{{ body }}" * 400, "生成的内容超过 20000 个字"),
    ],
)
def test_rendering_a_text_that_breaks_the_rules_fails_with_a_reason(body, expected) -> None:
    values = {**t.SAMPLE, "body": "说明" * 60}
    with pytest.raises(t.RenderError, match=expected):
        t.render(body, values)
