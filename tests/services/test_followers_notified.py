"""Followers (我也遇到了): they get the ticket's later public updates by SMS in texts of their
own (never the reporter's tracking link), never staff's inbox; the ticket weighs 1 + its
followers on the unit's worklist and the supervisor's hotspot list; erasure removes them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update

from hotline.domain.states import Role
from hotline.models import OutboxMessage, Ticket, TicketFollower, User
from hotline.photos import PhotoStore
from hotline.services.actors import SYSTEM
from hotline.services.inbox import Reader, inbox_page
from hotline.services.privacy import erase_ticket
from notifications.outbox import flush
from tests.helpers import VALID, api_act, auth, signed_in

OPERATOR, UNIT = auth(), auth("hl_demo_unit")
FOLLOWER = "13900003333"


def new_ticket(client, **overrides) -> str:
    created = client.post("/api/v1/tickets", json={**VALID, **overrides}, headers=OPERATOR)
    assert created.status_code == 201, created.json
    return created.json["number"]


def follow(db, number: str, *phones: str) -> None:
    """What helper A's 我也遇到了 writes: the rows and the count."""
    with db.transaction() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == number)).one()
        for phone in phones:
            session.add(TicketFollower(ticket_id=ticket.id, phone=phone,
                                       created_at=datetime.now(UTC)))  # fmt: skip
        ticket.follower_count = (ticket.follower_count or 0) + len(phones)


def messages(db, settings, clock, number: str) -> list[OutboxMessage]:
    flush(settings, db, now=clock.now)  # the demo channel delivers and keeps the text
    with db.transaction() as session:
        rows = session.scalars(select(OutboxMessage).join(Ticket).where(Ticket.number == number)
                               .order_by(OutboxMessage.id)).all()  # fmt: skip
        session.expunge_all()
        return list(rows)


def test_a_follower_gets_the_next_update_without_the_reporters_link(client, db, settings,
                                                                     clock) -> None:  # fmt: skip
    number = new_ticket(client)
    follow(db, number, FOLLOWER, VALID["reporter_phone"])  # the reporter pressed it too
    api_act(client, number, "accept", UNIT)
    rows = [m for m in messages(db, settings, clock, number) if m.event_id is not None]
    accepted = [m for m in rows if m.template.endswith(".accepted")]
    assert [(m.audience, m.recipient) for m in accepted] == [
        ("resident", VALID["reporter_phone"]), ("follower", FOLLOWER)]  # fmt: skip
    reporter, follower = (m.payload["console_text"] for m in accepted)
    assert "/track/" in reporter and "token=" in reporter
    assert number in follower and "占道经营" in follower and "您关注的问题" in follower
    assert "/track/" not in follower and "token" not in follower
    assert all(m.status == "sent" for m in accepted)


def test_followers_do_not_rate_and_hear_a_reopening_as_one(client, db, settings, clock) -> None:
    number = new_ticket(client)
    follow(db, number, FOLLOWER)
    api_act(client, number, "accept", UNIT)
    api_act(client, number, "waive_co_units", auth("hl_demo_supervisor"), reason="已口头报告")
    api_act(client, number, "resolve", UNIT, reply="摊贩已劝离")
    api_act(client, number, "confirm", OPERATOR, resolved=False, satisfaction="dissatisfied")
    texts = {
        m.template: m.payload.get("console_text", "")
        for m in messages(db, settings, clock, number)
        if m.audience == "follower"
    }
    assert "回复1" not in texts["follower.resolved"] and "评价" not in texts["follower.resolved"]
    assert "follower.confirmed" not in texts and "重新办理" in texts["follower.reopened"]


def test_internal_events_and_anonymous_tickets(client, db, settings, clock) -> None:
    number = new_ticket(client)
    follow(db, number, FOLLOWER)
    with db.transaction() as session:  # anonymous (a web form without a phone): followers hear
        session.execute(update(Ticket).where(Ticket.number == number)
                        .values(reporter_phone=None))  # fmt: skip
    api_act(client, number, "note", OPERATOR, body="内部备注")  # internal: nobody
    api_act(client, number, "accept", UNIT)
    rows = messages(db, settings, clock, number)
    assert [(m.audience, m.template) for m in rows if m.audience != "unit"] == [
        ("follower", "follower.accepted")]  # fmt: skip


def test_the_inbox_never_shows_follower_messages(client, db, clock) -> None:
    number = new_ticket(client)
    follow(db, number, FOLLOWER)
    api_act(client, number, "accept", UNIT)
    with db.transaction() as session:
        user = session.scalars(select(User).where(User.username == "cgj")).one()
        reader = Reader(user.id, Role(user.role), user.unit_id)
        page = inbox_page(session, reader, now=clock.now, scope=None)
        shown = {item.id for item in page.items}
        followers = set(session.scalars(select(OutboxMessage.id).where(
            OutboxMessage.audience == "follower")))  # fmt: skip
    assert followers and not shown & followers


def test_the_worklist_and_hotspots_count_residents_affected(app, client, db, clock) -> None:
    first, *_ = (new_ticket(client) for _ in range(3))
    follow(db, first, FOLLOWER, "13900004444")
    unit = signed_in(app, "cgj", "demo-unit-1")
    page = unit.get("/console/worklist").get_data(as_text=True)
    assert page.count("位市民反映") == 1 and "3 位市民反映" in page
    supervisor = signed_in(app, "supervisor", "demo-supervisor-1")
    board = supervisor.get("/console/dashboard?from=2026-11-01&to=2026-11-30")
    text = board.get_data(as_text=True)
    assert "反映市民" in text and "5 位市民反映" in text  # 3 tickets + 2 followers


def test_a_place_with_few_tickets_but_many_residents_is_a_hotspot(app, client, db) -> None:
    number = new_ticket(client)
    follow(db, number, FOLLOWER, "13900004444")
    supervisor = signed_in(app, "supervisor", "demo-supervisor-1")
    text = supervisor.get("/console/dashboard?from=2026-11-01&to=2026-11-30").get_data(as_text=True)
    assert 'id="hotspots"' in text and "3 位市民反映" in text


def test_erasing_a_tickets_personal_data_removes_its_followers(client, db, settings,
                                                                clock) -> None:  # fmt: skip
    number = new_ticket(client)
    follow(db, number, FOLLOWER)
    api_act(client, number, "accept", UNIT)
    messages(db, settings, clock, number)  # delivered: the demo channel kept the texts
    api_act(client, number, "feedback", UNIT, body="已安排队员")  # pending for the follower
    with db.transaction() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == number)).one()
        erase_ticket(session, ticket, reason="request", actor=SYSTEM, now=clock.now,
                     photos=PhotoStore(settings.upload_dir))  # fmt: skip
    with db.transaction() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == number)).one()
        assert session.scalars(select(TicketFollower)).all() == []
        assert ticket.follower_count == 1  # its weight stays for the statistics
        rows = session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.ticket_id == ticket.id, OutboxMessage.audience == "follower"
            )
        ).all()
        assert rows and all(m.recipient is None for m in rows)
        assert all(m.status in ("sent", "skipped") for m in rows)
        assert any(m.status == "skipped" for m in rows)
        assert all("console_text" not in (m.payload or {}) for m in rows)


def test_a_resident_erased_on_request_leaves_no_follower_rows(app, client, db) -> None:
    from hotline.services.privacy import erase_resident

    number = new_ticket(client, reporter_phone="13955556666")
    follow(db, number, FOLLOWER)
    with db.transaction() as session:
        erase_resident(
            session,
            FOLLOWER,
            actor=SYSTEM,
            now=datetime.now(UTC),
            photos=PhotoStore(app.extensions["hotline"].settings.upload_dir),
        )
    with db.transaction() as session:
        assert session.scalars(select(TicketFollower.phone)).all() == []
