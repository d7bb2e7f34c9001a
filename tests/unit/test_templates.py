"""Notification templates: defaults are valid, edits are checked, residents get no staff data."""

from __future__ import annotations

import pytest

from hotline.domain import templates as t
from hotline.services.outbox import RESIDENT_EVENTS, SUPERVISOR_EVENTS, UNIT_EVENTS


@pytest.mark.parametrize("key", sorted(t.DEFAULTS))
def test_every_built_in_template_passes_its_own_checks(key: str) -> None:
    default = t.DEFAULTS[key]
    assert t.check(key, default.body, default.subject) == {}
    assert "WM20261121-0007" in t.render(default.body, t.SAMPLE)


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
        ("{{ number.__class__.__mro__ }}", "模板无法生成内容"),
        ("{{ number.upper.__globals__ }}", "模板无法生成内容"),
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
