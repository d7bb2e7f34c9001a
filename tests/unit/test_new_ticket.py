"""The new-ticket plan both intake and imports write: columns, first events, outbox rows."""

from __future__ import annotations

from datetime import UTC, datetime

from hotline.services.actors import Actor
from hotline.services.events import dispatched_body
from hotline.services.new_ticket import (
    SUBMITTED,
    Handover,
    RoutingNote,
    Submission,
    UnitRef,
    plan_new_ticket,
)

NOW = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
OPERATOR = Actor(7, "话务员")
SAID = Submission(channel="api", description="路灯不亮", priority="normal",
                  reporter_phone="13900001111")  # fmt: skip


def test_a_ticket_nobody_routed_waits_in_the_manual_queue() -> None:
    plan = plan_new_ticket(SAID, actor=OPERATOR, now=NOW, submitted={"channel": "api"},
                           category_id=None)  # fmt: skip
    assert plan.values["status"] == "reported" and plan.values["created_by_id"] == 7
    assert "lead_unit_id" not in plan.values and plan.values["version"] == 1
    (event,) = plan.events
    assert (event.kind, event.actor, event.public, event.body, event.data) == (
        "submitted", OPERATOR, True, SUBMITTED, {"channel": "api"})  # fmt: skip
    assert plan.messages == ()  # being received tells nobody anything yet


def test_a_routed_handover_dispatches_with_its_clock_and_tells_the_unit() -> None:
    lead, helper = UnitRef(3, "dept-cgj", "市城管局"), UnitRef(4, "dept-scjgj", "市场监管局")
    due = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    plan = plan_new_ticket(
        SAID, actor=OPERATOR, now=NOW, submitted={}, category_id=9, territorial_unit_id=5,
        routing=RoutingNote(2, {"confident": True}, "自动识别", {"dispatched": True}),
        handover=Handover(lead, (helper,), data={"automatic": True}),
        deadlines={"resolve_by": due},
    )  # fmt: skip
    assert [e.kind for e in plan.events] == ["submitted", "routed", "dispatched"]
    routed, dispatched = plan.events[1:]
    assert (routed.actor.label, routed.public, routed.body) == ("系统", False, "自动识别")
    assert dispatched.body == "已转交市城管局办理，市场监管局协办。"
    assert dispatched.data == {"lead_unit": "dept-cgj", "co_units": ["dept-scjgj"],
                               "automatic": True}  # fmt: skip
    values = plan.values
    assert (values["status"], values["lead_unit_id"]) == ("dispatched", 3)
    assert values["resolve_by"] == due
    assert (values["ruleset_id"], values["category_id"], values["territorial_unit_id"]) == (2, 9, 5)
    assert plan.co_unit_ids == (4,)
    (message,) = plan.messages
    assert message.event == 2
    assert (message.values["audience"], message.values["recipient"]) == ("unit", "dept-cgj")
    assert message.values["payload"] == {"event": "dispatched", "body": dispatched.body}


def test_dispatch_texts() -> None:
    assert dispatched_body("市城管局", []) == "已转交市城管局办理。"
    again = dispatched_body("市城管局", ["环保局", "住建局"], again=True)
    assert again == "已改派市城管局办理，环保局、住建局协办。"
