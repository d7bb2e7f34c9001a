"""Property: any sequence of actions by anyone leaves a ticket in a possible state, with every
accepted action recorded as exactly one event and its deadlines in order."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.domain.states import Status
from hotline.domain.workflow import FINAL
from tests.helpers import VALID, auth

TOKENS = ["hl_demo_operator", "hl_demo_unit", "hl_demo_supervisor", "hl_demo_admin"]
PAYLOADS = {
    "dispatch": {"lead_unit": "dept-cgj"},
    "accept": {},
    "return": {"reason": "非本单位职责"},
    "arbitrate": {"decision": "overrule"},
    "feedback": {"body": "正在处理"},
    "note": {"body": "内部备注"},
    "request_extension": {"reason": "需协调", "until": None},
    "decide_extension": {"approve": True},
    "report_part": {"body": "协办完成"},
    "waive_co_units": {},
    "resolve": {"reply": "已处理"},
    "supervise": {"notice": "请加快"},
    "recheck": {"result": "已复查"},
    "confirm": {"resolved": False, "satisfaction": "dissatisfied"},
    "reopen": {"reason": "仍未解决"},
    "reject": {"reason": "不属受理范围"},
    "merge": {"into": None},
}
steps = st.lists(
    st.tuples(st.sampled_from(sorted(PAYLOADS)), st.sampled_from(TOKENS),
              st.integers(min_value=0, max_value=30)),  # hours that pass before the step
    min_size=1, max_size=12,
)  # fmt: skip


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=steps)
def test_random_action_sequences_keep_tickets_consistent(client, clock, plan) -> None:
    other = client.post("/api/v1/tickets", json=VALID, headers=auth()).json["number"]
    ticket = client.post("/api/v1/tickets", json=VALID, headers=auth()).json
    number = ticket["number"]
    events = len(client.get(f"/api/v1/tickets/{number}/events", headers=auth()).json)
    for action, token, hours in plan:
        clock.now += timedelta(hours=hours)
        payload = dict(PAYLOADS[action])
        if action == "request_extension":
            current = client.get(f"/api/v1/tickets/{number}", headers=auth()).json
            if not current["resolve_by"]:
                continue
            from datetime import datetime

            payload["until"] = (
                datetime.fromisoformat(current["resolve_by"]) + timedelta(hours=2)
            ).isoformat()
        if action == "merge":
            payload["into"] = other
        version = client.get(f"/api/v1/tickets/{number}", headers=auth()).json["version"]
        response = client.post(
            f"/api/v1/tickets/{number}/actions/{action}",
            json={"version": version, **payload}, headers=auth(token),
        )  # fmt: skip
        assert response.status_code in (200, 403, 404, 409, 422), response.get_data(as_text=True)
        if response.status_code == 200:
            events += 1
        after = client.get(f"/api/v1/tickets/{number}", headers=auth()).json
        timeline = client.get(f"/api/v1/tickets/{number}/events", headers=auth()).json
        # every accepted action is exactly one event, numbered without gaps
        assert len(timeline) == events
        assert [e["sequence"] for e in timeline] == list(range(1, events + 1))
        status = Status(after["status"])
        assert 0 <= after["supervision_level"] <= 3
        if status in FINAL or status is Status.RESOLVED:
            assert status is not Status.RESOLVED or after["lead_unit"] is not None
        if status in (Status.DISPATCHED, Status.ACCEPTED, Status.IN_PROGRESS):
            assert after["lead_unit"] is not None and after["resolve_by"]
        deadlines = [after[k] for k in ("accept_by", "feedback_by", "resolve_by") if after[k]]
        if len(deadlines) == 3 and status is Status.DISPATCHED:
            assert deadlines == sorted(deadlines)
        if status is Status.MERGED:
            assert after["duplicate_of"] == other
