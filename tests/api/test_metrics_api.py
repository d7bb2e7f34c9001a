"""Metrics against hand-computed expectations on a small fixture."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.helpers import VALID, auth
from tests.helpers import api_act as act

OPERATOR, UNIT, SUPERVISOR = auth(), auth("hl_demo_unit"), auth("hl_demo_supervisor")


def test_rates_for_one_unit(client, clock) -> None:
    clock.now = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai
    new = [client.post("/api/v1/tickets", json=VALID, headers=OPERATOR).json["number"]
           for _ in range(4)]  # fmt: skip
    a, b, c, _d = new  # all routed to 城管局; D: nothing happens, a week later it is overdue
    # A: accepted, fed back and resolved in time; resident satisfied.
    clock.now += timedelta(hours=1)
    act(client, a, "accept", UNIT)
    act(client, a, "feedback", UNIT, body="处理中")
    act(client, a, "waive_co_units", SUPERVISOR)
    act(client, a, "resolve", UNIT, reply="已处理")
    act(client, a, "confirm", OPERATOR, resolved=True, satisfaction="satisfied")
    # B: accepted in time, resolved, resident says not resolved → reopened.
    act(client, b, "accept", UNIT)
    act(client, b, "waive_co_units", SUPERVISOR)
    act(client, b, "resolve", UNIT, reply="已处理")
    act(client, b, "confirm", OPERATOR, resolved=False, satisfaction="dissatisfied")
    # C: returned by the unit (it leaves 城管局's group: no lead unit any more).
    act(client, c, "return", UNIT, reason="不归我们管")
    clock.now += timedelta(days=8)
    body = client.get("/api/v1/metrics?group_by=unit&from=2026-11-23&to=2026-11-23",
                      headers=SUPERVISOR).json  # fmt: skip
    groups = {g["key"]: g for g in body["groups"]}
    cgj = groups["dept-cgj"]
    assert cgj["tickets"] == 3  # A, B, D (C has no lead unit now)
    # A and B accepted and answered in time (resolving is an answer); D never accepted.
    assert cgj["response_rate"] == round(2 / 3, 4)
    assert cgj["resolution_rate"] == 0.5  # A yes, B no
    assert cgj["satisfaction_rate"] == 0.5
    assert cgj["on_time_rate"] == 1.0  # A is the only one still resolved… B was reopened
    assert cgj["reopen_rate"] == 0.5  # B reopened / A and B resolved
    assert cgj["overdue"] == 2  # B (reopened) and D, both past resolve-by
    assert cgj["median_handling_hours"] is not None
    assert groups[None]["return_rate"] == 1.0  # C, now unassigned, was returned
    assert body["formula_version"] == 2
    assert cgj["counts"]["due_response"] == 3  # D's limits passed unmet: due, not responded
    streets = client.get("/api/v1/metrics?group_by=street&from=2026-11-23&to=2026-11-23",
                         headers=SUPERVISOR).json["groups"]  # fmt: skip
    assert sum(g["tickets"] for g in streets) == 4


def test_metrics_need_a_staff_role_and_valid_dates(client) -> None:
    assert client.get("/api/v1/metrics", headers=UNIT).status_code == 403
    bad = client.get("/api/v1/metrics?from=2026-11-30&to=2026-11-01", headers=SUPERVISOR)
    assert bad.status_code == 422
