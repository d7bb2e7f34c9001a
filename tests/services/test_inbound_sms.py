"""The inbound-SMS use case on a real database: which ticket a reply rates, what a phone with
nothing to rate gets, and that every gateway message is handled once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from hotline.models import InboundSms, OutboxMessage, Ticket, TicketEvent, TicketFollower
from hotline.services.inbound_sms import Reply, receive
from tests.helpers import VALID, api_act, auth

OPERATOR, UNIT, SUPERVISOR = auth(), auth("hl_demo_unit"), auth("hl_demo_supervisor")
PHONE = VALID["reporter_phone"]


def resolved(client, **overrides) -> str:
    number = client.post("/api/v1/tickets", json={**VALID, **overrides},
                         headers=OPERATOR).json["number"]  # fmt: skip
    api_act(client, number, "accept", UNIT)
    api_act(client, number, "waive_co_units", SUPERVISOR, reason="已口头报告")
    api_act(client, number, "resolve", UNIT, reply="已处理")
    return number


def handle(app, db, clock, gateway_id: str, phone: str, text: str):
    extension = app.extensions["hotline"]
    with db.transaction() as session:
        return receive(session, Reply(gateway_id, phone, text, clock.now), now=clock.now,
                       clock=extension.calendars.clock(session))  # fmt: skip


def status(db, number: str) -> str:
    with db.transaction() as session:
        return session.scalar(select(Ticket.status).where(Ticket.number == number))


def test_the_reply_rates_the_latest_ticket_awaiting_one(app, client, db, clock) -> None:
    older = resolved(client)
    clock.now += timedelta(hours=2)
    newer = resolved(client)
    clock.now += timedelta(hours=1)
    client.post("/api/v1/tickets", json=VALID, headers=OPERATOR)  # newest, still running
    handled = handle(app, db, clock, "a1", PHONE, "1")
    assert (handled.outcome, handled.number) == ("rated", newer)
    assert status(db, newer) == "closed" and status(db, older) == "resolved"
    assert handle(app, db, clock, "a2", PHONE, "3").number == older  # the next one
    assert status(db, older) == "reopened"


def test_a_phone_with_nothing_to_rate_gets_its_latest_tickets_link(app, client, db,
                                                                    clock) -> None:  # fmt: skip
    number = client.post("/api/v1/tickets", json=VALID, headers=OPERATOR).json["number"]
    handled = handle(app, db, clock, "b1", PHONE, "2")
    assert (handled.outcome, handled.number) == ("no_ticket", number)
    assert status(db, number) == "dispatched"
    with db.transaction() as session:
        help_sms = session.scalars(select(OutboxMessage).where(
            OutboxMessage.template == "resident.sms_reply_help")).one()  # fmt: skip
        ticket = session.scalars(select(Ticket).where(Ticket.number == number)).one()
        assert help_sms.ticket_id == ticket.id and help_sms.recipient == PHONE
        note = session.get(TicketEvent, help_sms.event_id)
        assert note.kind == "note" and not note.public and "2" in note.body


def test_followers_do_not_rate_by_sms(app, client, db, clock) -> None:
    number = resolved(client)
    with db.transaction() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == number)).one()
        session.add(TicketFollower(ticket_id=ticket.id, phone="13900003333",
                                   created_at=clock.now))  # fmt: skip
        session.execute(update(Ticket).where(Ticket.id == ticket.id).values(follower_count=1))
    handled = handle(app, db, clock, "c1", "13900003333", "3")
    assert (handled.outcome, handled.number) == ("no_ticket", None)
    assert status(db, number) == "resolved"


def test_each_gateway_message_is_handled_once(app, client, db, clock) -> None:
    number = resolved(client)
    first = handle(app, db, clock, "d1", PHONE, "3")
    again = handle(app, db, clock, "d1", PHONE, "3")
    assert (first.outcome, first.repeated) == ("reopened", False)
    assert (again.outcome, again.number, again.repeated) == ("reopened", number, True)
    with db.transaction() as session:
        assert len(session.scalars(select(InboundSms)).all()) == 1
        confirmations = session.scalars(select(TicketEvent).where(
            TicketEvent.kind == "confirmed")).all()  # fmt: skip
        assert len(confirmations) == 1
