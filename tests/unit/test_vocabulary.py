"""One vocabulary per concept: event kinds, status groups, roles and ratings named once in
hotline.domain, every stored value a member; local days as UTC ranges; tracking links."""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from hotline.config import Settings, SettingsError
from hotline.domain import templates
from hotline.domain.clock import local_day_bounds, local_period, utc_now
from hotline.domain.events import EVENT_LABELS, OTHER, EventKind, event_label
from hotline.domain.numbering import local_day
from hotline.domain.states import (
    COUNTS_AS_SATISFIED,
    FINAL,
    HANDLING,
    NOT_FINAL,
    PUBLIC_ROLE_LABELS,
    ROLE_LABELS,
    SATISFACTION_LABELS,
    UNASSIGNED,
    WITH_UNIT,
    Role,
    Satisfaction,
    Status,
)
from hotline.domain.tracking import tracking_link, tracking_token
from hotline.domain.workflow import EVENT_KIND, Action

HOTLINE = Path(__file__).resolve().parents[2] / "hotline"

# ---------------------------------------------------------------- local days → UTC


def test_a_shanghai_day_is_16_00_utc_the_day_before_to_16_00_utc() -> None:
    start, end = local_day_bounds(date(2026, 11, 21), "Asia/Shanghai")
    assert start == datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
    assert end == datetime(2026, 11, 21, 16, 0, tzinfo=UTC)
    assert start.tzinfo is UTC and end.tzinfo is UTC


def test_the_bounds_agree_with_the_local_day_of_an_instant() -> None:
    start, end = local_day_bounds(date(2026, 11, 21), "Asia/Shanghai")
    just_before = datetime(2026, 11, 20, 15, 59, 59, tzinfo=UTC)  # 23:59:59 on the 20th
    assert local_day(just_before, "Asia/Shanghai") == date(2026, 11, 20) and just_before < start
    assert local_day(start, "Asia/Shanghai") == date(2026, 11, 21)
    assert local_day(end, "Asia/Shanghai") == date(2026, 11, 22)  # end is excluded


def test_a_period_crosses_month_and_year_boundaries_at_local_midnight() -> None:
    start, end = local_period(date(2026, 12, 31), date(2027, 1, 1), "Asia/Shanghai")
    assert start == datetime(2026, 12, 30, 16, 0, tzinfo=UTC)
    assert end == datetime(2027, 1, 1, 16, 0, tzinfo=UTC)
    assert local_period(date(2026, 11, 21), date(2026, 11, 21), "Asia/Shanghai") == (
        local_day_bounds(date(2026, 11, 21), "Asia/Shanghai")
    )


def test_shanghai_days_are_always_24_hours_and_the_zone_is_an_argument() -> None:
    for day in (date(2026, 3, 29), date(2026, 6, 30), date(2026, 10, 25), date(2028, 2, 29)):
        start, end = local_day_bounds(day, "Asia/Shanghai")
        assert (end - start).total_seconds() == 24 * 3600
    start, end = local_day_bounds(date(2026, 3, 29), "Europe/Berlin")  # clocks go forward
    assert start == datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert (end - start).total_seconds() == 23 * 3600
    assert local_day_bounds(date(2026, 11, 21), "UTC")[0] == datetime(2026, 11, 21, tzinfo=UTC)


def test_utc_now_is_aware_utc() -> None:
    assert utc_now().tzinfo is UTC


# ---------------------------------------------------------------- event kinds


def test_every_action_is_recorded_as_an_event_kind() -> None:
    assert set(EVENT_KIND) == set(Action)
    assert all(isinstance(kind, EventKind) for kind in EVENT_KIND.values())


def test_every_event_kind_has_its_label_and_the_labels_are_unchanged() -> None:
    assert set(EVENT_LABELS) == set(EventKind)
    assert {kind.value: EVENT_LABELS[kind] for kind in EventKind} == {
        "submitted": "受理", "routed": "自动分派", "dispatched": "派单", "accepted": "签收",
        "returned": "退单", "arbitrated": "退单裁决", "feedback": "反馈进展", "note": "备注",
        "extension_requested": "申请延期", "extension_decided": "延期审批",
        "part_reported": "协办报告", "co_units_waived": "免除协办报告", "resolved": "办结",
        "supervised": "督办", "rechecked": "回头看", "confirmed": "回访", "reopened": "重办",
        "rejected": "不予受理", "merged": "合并", "closed_unrated": "超时未评价办结",
        "sla_warning": "时限预警", "overdue": "超期", "escalated": "升级督办",
        "updated": "热线更新", "personal_data_erased": "删除个人信息",
        "callback_attempted": "回访未成功", "imported": "历史导入",
    }  # fmt: skip
    assert event_label("returned") == "退单" and event_label(OTHER) == "其他事件"
    assert event_label("something_new") == "something_new"


def test_every_template_is_for_an_event_kind_or_the_audiences_other() -> None:
    for key in templates.DEFAULTS:
        event = key.split(".", 1)[1]
        assert event == OTHER or event in set(EventKind) or key in templates.STANDALONE, key


def kind_literals(source: str) -> list[tuple[int, str]]:
    """String literals a module stores or looks up as an event kind: the kind given to
    ``new_event``, the first item of an event tuple appended to ``events`` (the sweep, the
    import plans), and what ``TicketEvent.kind`` or ``event.kind`` is compared with."""
    found = []
    for node in ast.walk(ast.parse(source)):
        candidates: list[ast.expr] = []
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name == "new_event":
                candidates += node.args[2:3] + [k.value for k in node.keywords if k.arg == "kind"]
            target = node.func.value if isinstance(node.func, ast.Attribute) else None
            target_name = getattr(target, "id", None) or getattr(target, "attr", None)
            if name == "append" and target_name == "events" and node.args:
                first = node.args[0]
                if isinstance(first, ast.Tuple) and first.elts:
                    candidates.append(first.elts[0])
        if (isinstance(node, ast.Compare) and isinstance(node.left, ast.Attribute)
                and node.left.attr == "kind"
                and getattr(node.left.value, "id", None) in {"TicketEvent", "event"}):
            candidates += node.comparators  # fmt: skip
        found += [(node.lineno, c.value) for c in candidates
                  if isinstance(c, ast.Constant) and isinstance(c.value, str)]  # fmt: skip
    return found


def test_the_scan_finds_bare_kinds_where_they_are_written_and_read() -> None:
    source = (
        'new_event(t, 1, "routed", actor=a)\n'
        'new_event(t, 2, kind="noted", actor=a)\n'
        'plan.events.append(("dispatched", a, True))\n'
        'events.append(("escalated", "body", {}, True))\n'
        'x = TicketEvent.kind == "returned"\n'
        'y = event.kind == "extension_decided"\n'
        'z = unit.kind == "district"\n'
    )
    assert [value for _, value in kind_literals(source)] == [
        "routed", "noted", "dispatched", "escalated", "returned", "extension_decided"]  # fmt: skip


def test_every_kind_the_code_writes_or_looks_up_is_an_event_kind() -> None:
    strays = [(str(path.relative_to(HOTLINE)), line, value)
              for path in sorted(HOTLINE.rglob("*.py"))
              for line, value in kind_literals(path.read_text(encoding="utf-8"))
              if value not in set(EventKind)]  # fmt: skip
    assert strays == []


# ---------------------------------------------------------------- status groups


def test_status_groups_are_what_each_place_used_to_spell_out() -> None:
    s = Status
    # The workflow's "open" (notes, supervision): everything not final.
    assert {s.REPORTED, s.DISPATCHED, s.ACCEPTED, s.RETURNED, s.IN_PROGRESS, s.REOPENED,
            s.RESOLVED} == NOT_FINAL  # fmt: skip
    # The worklists', metrics' and sweep's "open": a unit has it and its deadlines run.
    assert {s.DISPATCHED, s.ACCEPTED, s.IN_PROGRESS, s.REOPENED} == WITH_UNIT
    assert {s.REPORTED, s.RETURNED} == UNASSIGNED and {s.CLOSED, s.REJECTED, s.MERGED} == FINAL


def test_status_groups_partition_the_statuses() -> None:
    assert frozenset(Status) - FINAL == NOT_FINAL
    assert HANDLING < WITH_UNIT and UNASSIGNED < NOT_FINAL
    parts = (UNASSIGNED, WITH_UNIT, frozenset({Status.RESOLVED}), FINAL)
    assert sum(len(p) for p in parts) == len(Status)
    assert frozenset().union(*parts) == frozenset(Status)


# ---------------------------------------------------------------- roles and ratings


def test_every_role_has_a_staff_and_a_public_label() -> None:
    assert set(ROLE_LABELS) == set(Role) == set(PUBLIC_ROLE_LABELS)
    assert ROLE_LABELS[Role.OPERATOR] == "话务员" and ROLE_LABELS[Role.SUPERVISOR] == "督办"
    assert PUBLIC_ROLE_LABELS[Role.OPERATOR] == "12345 热线"


def test_satisfaction_values_and_labels() -> None:
    assert [(s.value, SATISFACTION_LABELS[s]) for s in Satisfaction] == [
        ("satisfied", "满意"), ("basic", "基本满意"), ("dissatisfied", "不满意")]  # fmt: skip
    assert {Satisfaction.SATISFIED, Satisfaction.BASIC} == COUNTS_AS_SATISFIED


# ---------------------------------------------------------------- tracking links


def test_tracking_link_shape() -> None:
    token = tracking_token("k", "WM20261121-0001", "salt")
    assert tracking_link("k", "WM20261121-0001", "salt") == (
        f"/track/WM20261121-0001?token={token}"
    )
    assert tracking_link("k", "WM20261121-0001", "salt", base="https://12345.example.gov.cn",
                         new="1") == (
        f"https://12345.example.gov.cn/track/WM20261121-0001?token={token}&new=1"
    )  # fmt: skip


def test_production_needs_the_public_base_url() -> None:
    env = {"HOTLINE_ENV": "production", "HOTLINE_SECRET_KEY": "s" * 32}
    with pytest.raises(SettingsError, match="HOTLINE_PUBLIC_BASE_URL"):
        Settings.from_env(env)
    settings = Settings.from_env({**env, "HOTLINE_PUBLIC_BASE_URL": "https://12345.example.gov.cn/"})
    assert settings.public_base_url == "https://12345.example.gov.cn"
