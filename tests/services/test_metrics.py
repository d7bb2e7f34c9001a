"""The 三率 formulas, version 2: 响应率 counts only the tickets due a response — a limit still
running does not count against the unit — and the units' on-time record beside decisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hotline.models import Unit
from hotline.services.metrics import FORMULA_VERSION, compute, unit_records
from tests.helpers import VALID, api_act, auth

OPERATOR, UNIT, SUPERVISOR = auth(), auth("hl_demo_unit"), auth("hl_demo_supervisor")


def shanghai(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


def new_ticket(client) -> str:
    """Routed to 城管局 at once: accept by 13:00, first feedback by Wednesday 09:00."""
    return client.post("/api/v1/tickets", json=VALID, headers=OPERATOR).json["number"]


def cgj(db, now: datetime) -> dict:
    with db.transaction() as session:
        result = compute(session, group_by="unit", start=shanghai(23, 0), end=shanghai(24, 0),
                         now=now)  # fmt: skip
    assert result["formula_version"] == FORMULA_VERSION == 2
    return {g["key"]: g for g in result["groups"]}["dept-cgj"]


def test_a_fresh_install_counts_only_tickets_due(client, db, clock) -> None:
    clock.now = shanghai(23, 9)  # Monday 09:00
    answered, waiting = new_ticket(client), new_ticket(client)
    clock.now = shanghai(23, 10)
    api_act(client, answered, "accept", UNIT)
    api_act(client, answered, "feedback", UNIT, body="已安排人员到场")
    fresh = cgj(db, shanghai(23, 10, 30))
    # The second ticket's limits are still running: not "not responded" (version 1 said 50%).
    assert fresh["response_rate"] == 1.0
    assert fresh["counts"]["dispatched"] == 2 and fresh["counts"]["due_response"] == 1
    assert fresh["counts"]["responded"] == 1
    # Once its accept-by (13:00) has passed unmet, it counts.
    late = cgj(db, shanghai(23, 14))
    assert late["response_rate"] == 0.5 and late["counts"]["due_response"] == 2
    # Signing for it late does not make it responded: it stays due, and missed.
    clock.now = shanghai(23, 14)
    api_act(client, waiting, "accept", UNIT)
    api_act(client, waiting, "feedback", UNIT, body="已到场")
    answered_late = cgj(db, shanghai(23, 15))
    assert answered_late["counts"]["due_response"] == 2 and answered_late["response_rate"] == 0.5


def test_each_way_to_miss_or_wait_for_a_response(client, db, clock) -> None:
    clock.now = shanghai(23, 9)
    signed, fed_late, never = new_ticket(client), new_ticket(client), new_ticket(client)
    clock.now = shanghai(23, 10)
    for number in (signed, fed_late):
        api_act(client, number, "accept", UNIT)
    # Monday afternoon: all accepted in time or not yet due to be; no feedback due before
    # Wednesday 09:00 — only `never`, unaccepted past 13:00, is decided (missed).
    monday = cgj(db, shanghai(23, 15))
    assert monday["counts"]["due_response"] == 1 and monday["response_rate"] == 0.0
    clock.now = shanghai(25, 10)  # Wednesday 10:00: a first feedback an hour late
    api_act(client, fed_late, "feedback", UNIT, body="正在协调")
    wednesday = cgj(db, shanghai(25, 10, 30))
    # signed: accepted, but its feedback-by passed without feedback; fed_late: answered late.
    assert wednesday["counts"]["due_response"] == 3 and wednesday["response_rate"] == 0.0
    api_act(client, never, "accept", UNIT)  # days late: still counted, still missed
    assert cgj(db, shanghai(25, 11))["counts"]["responded"] == 0


def test_a_duplicate_merged_away_needs_no_answer(client, db, clock) -> None:
    clock.now = shanghai(23, 9)
    kept, duplicate = new_ticket(client), new_ticket(client)
    clock.now = shanghai(23, 10)
    api_act(client, kept, "accept", UNIT)
    api_act(client, kept, "feedback", UNIT, body="已处理")
    api_act(client, duplicate, "merge", OPERATOR, into=kept)
    after = cgj(db, shanghai(24, 10))  # past the duplicate's accept-by
    assert after["counts"]["due_response"] == 1 and after["response_rate"] == 1.0


def test_unit_records_count_recent_resolutions_and_overdue(client, db, clock) -> None:
    clock.now = shanghai(23, 9)
    done, late = new_ticket(client), new_ticket(client)
    clock.now = shanghai(23, 10)
    api_act(client, done, "accept", UNIT)
    api_act(client, done, "waive_co_units", SUPERVISOR)
    api_act(client, done, "resolve", UNIT, reply="已整改")
    with db.transaction() as session:
        unit_id = session.query(Unit.id).filter(Unit.code == "dept-cgj").scalar()
        other = session.query(Unit.id).filter(Unit.code == "dept-zjj").scalar()
        records = unit_records(session, {unit_id, other}, now=shanghai(30, 10))  # `late` overdue
    assert records[unit_id].resolved == 1 and records[unit_id].on_time == 1
    assert records[unit_id].on_time_rate == 1.0 and records[unit_id].overdue == 1
    assert records[other].resolved == 0 and records[other].on_time_rate is None
    assert late  # created with the same deadlines; nothing done
