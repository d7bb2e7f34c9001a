"""Callbacks that reach nobody: each is one event on a ticket that stays resolved; the sweep
closes it as unrated once the configured number is reached (or, as before, after N days), and
a new fix starts the count again."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from hotline.domain.calendar import WorkCalendar
from hotline.domain.sla import Clock
from hotline.domain.states import Role
from hotline.domain.workflow import Action
from hotline.models import Ticket, TicketEvent
from hotline.services.actors import Actor
from hotline.services.lifecycle import Who, perform
from hotline.services.queries import lock_ticket
from hotline.services.sweep import sweep
from tests.helpers import VALID, api_act, auth

CLOCK = Clock(WorkCalendar())
OPERATOR = Who(Actor(None, "话务员"), Role.OPERATOR)


def resolved(client) -> str:
    number = client.post("/api/v1/tickets", json=VALID, headers=auth()).json["number"]
    api_act(client, number, "accept", auth("hl_demo_unit"))
    api_act(client, number, "waive_co_units", auth("hl_demo_supervisor"))
    api_act(client, number, "resolve", auth("hl_demo_unit"), reply="已处理")
    return number


def attempt(db, number: str, now: datetime, outcome: str = "no_answer") -> int:
    with db.transaction() as session:
        ticket = lock_ticket(session, number, None)
        perform(session, ticket, Action.CALLBACK_ATTEMPT, {"outcome": outcome}, who=OPERATOR,
                now=now, clock=CLOCK)  # fmt: skip
        return ticket.callback_attempts


def closed_now(db, now: datetime, **limits) -> list[str]:
    with db.transaction() as session:
        return sweep(session, now=now, clock=CLOCK, **limits).tickets


def test_attempts_keep_it_due_until_the_limit_then_the_sweep_closes_it(client, db,
                                                                       clock) -> None:  # fmt: skip
    number = resolved(client)
    now = clock.now + timedelta(hours=1)
    assert attempt(db, number, now) == 1
    assert attempt(db, number, now, "refused") == 2
    assert closed_now(db, now, callback_attempts=3) == []
    assert closed_now(db, now, callback_attempts=0) == []  # 0: only the days count
    assert closed_now(db, now, callback_attempts=2) == [number]
    with db.transaction() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        events = list(session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                                      .order_by(TicketEvent.sequence)))  # fmt: skip
        assert ticket.status == "closed" and ticket.resolved_confirmed is None
        assert [e.kind for e in events[-3:]] == ["callback_attempted", "callback_attempted",
                                                 "closed_unrated"]  # fmt: skip
        assert events[-3].data["outcome"] == "no_answer" and events[-2].data["attempt"] == 2
        assert events[-3].public is False and events[-1].data["callback_attempts"] == 2


def test_the_days_still_close_it_and_a_new_fix_starts_the_count_again(client, db,
                                                                      clock) -> None:  # fmt: skip
    number = resolved(client)
    assert attempt(db, number, clock.now) == 1
    with db.transaction() as session:
        ticket = lock_ticket(session, number, None)
        perform(session, ticket, Action.REOPEN, {"reason": "又回来了"}, who=OPERATOR,
                now=clock.now, clock=CLOCK)  # fmt: skip
    api_act(client, number, "waive_co_units", auth("hl_demo_supervisor"))
    api_act(client, number, "resolve", auth("hl_demo_unit"), reply="再次处理")
    with db.transaction() as session:
        assert session.scalar(select(Ticket.callback_attempts)
                              .where(Ticket.number == number)) == 0  # fmt: skip
    assert closed_now(db, clock.now, callback_attempts=1) == []
    later = clock.now + timedelta(days=8)
    assert closed_now(db, later, callback_attempts=3) == [number]
    with db.transaction() as session:
        last = session.scalar(select(TicketEvent).join(Ticket).where(Ticket.number == number)
                              .order_by(TicketEvent.sequence.desc()).limit(1))  # fmt: skip
        assert "callback_attempts" not in last.data and "自动办结" in last.body
