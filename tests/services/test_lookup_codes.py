"""Lookup codes: a 6-digit code for a ticket's own phone, stored hashed, limited per ticket,
void after five wrong tries, expired after ten minutes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from hotline.domain.templates import LOOKUP_CODE
from hotline.models import LookupCode, OutboxMessage, Ticket
from hotline.services import lookup_codes
from hotline.services.lookup_codes import Outcome
from tests.helpers import VALID, auth

SECRET = "test-secret"


def _ticket(client) -> str:
    return client.post("/api/v1/tickets", json=VALID, headers=auth()).json["number"]


def _send(db, number: str, phone: str, now) -> bool:
    with db.transaction() as session:
        return lookup_codes.request_code(session, number, phone, secret=SECRET, now=now)


def _code(db, number: str) -> str:
    with db.transaction() as session:
        row = session.scalars(
            select(OutboxMessage).where(OutboxMessage.template == LOOKUP_CODE)
            .order_by(OutboxMessage.id.desc())
        ).first()  # fmt: skip
        assert row is not None and row.ticket.number == number
        return row.payload["code"]


def _check(db, number: str, code: str, now) -> lookup_codes.Checked:
    with db.transaction() as session:
        return lookup_codes.check_code(session, number, code, secret=SECRET, now=now)


def test_code_goes_to_the_tickets_phone_and_only_its_hash_is_kept(client, db, clock) -> None:
    number = _ticket(client)
    # The phone as a resident types it, and the number in lower case: both normalised.
    assert _send(db, number.lower(), "138 1234 1234", clock.now)
    code = _code(db, number)
    assert len(code) == 6 and code.isdigit()
    with db.transaction() as session:
        message = session.scalars(
            select(OutboxMessage).where(OutboxMessage.template == LOOKUP_CODE)
        ).one()
        assert (message.audience, message.recipient) == ("resident", "13812341234")
        assert message.payload == {"event": "lookup_code", "code": code}
        stored = session.scalars(select(LookupCode)).one()
        assert code not in stored.code_hash and len(stored.code_hash) == 64
        assert stored.expires_at == clock.now + timedelta(minutes=10)
    checked = _check(db, number, code, clock.now + timedelta(minutes=9))
    assert checked.outcome == Outcome.OPENED and checked.ticket.number == number
    assert _check(db, number, code, clock.now).outcome == Outcome.VOID  # used once only


def test_nothing_is_sent_when_number_and_phone_do_not_match(client, db, clock) -> None:
    number = _ticket(client)
    assert not _send(db, number, "13900000000", clock.now)
    assert not _send(db, "WM20000101-0001", VALID["reporter_phone"], clock.now)
    assert not _send(db, number, "not a phone", clock.now)
    with db.transaction() as session:
        anonymous = session.scalars(select(Ticket)).one()
        anonymous.reporter_phone = None
    assert not _send(db, number, "", clock.now)
    with db.transaction() as session:
        assert session.scalars(select(LookupCode)).all() == []
        assert session.scalars(select(OutboxMessage).where(
            OutboxMessage.template == LOOKUP_CODE)).all() == []  # fmt: skip


def test_one_code_a_minute_and_five_an_hour_per_ticket(client, db, clock) -> None:
    number, phone = _ticket(client), VALID["reporter_phone"]
    assert _send(db, number, phone, clock.now)
    assert not _send(db, number, phone, clock.now + timedelta(seconds=59))
    sent = [_send(db, number, phone, clock.now + timedelta(minutes=m)) for m in range(1, 7)]
    assert sent == [True, True, True, True, False, False]
    assert _send(db, number, phone, clock.now + timedelta(minutes=61))


def test_five_wrong_codes_void_it_and_an_old_one_expires(client, db, clock) -> None:
    number = _ticket(client)
    assert _send(db, number, VALID["reporter_phone"], clock.now)
    code = _code(db, number)
    wrong = "000000" if code != "000000" else "111111"
    answers = [_check(db, number, wrong, clock.now) for _ in range(5)]
    assert [a.outcome for a in answers] == [Outcome.WRONG] * 4 + [Outcome.VOID]
    assert [a.attempts_left for a in answers] == [4, 3, 2, 1, 0]
    assert _check(db, number, code, clock.now).outcome == Outcome.VOID  # even the right one
    later = clock.now + timedelta(minutes=2)
    assert _send(db, number, VALID["reporter_phone"], later)
    fresh = _code(db, number)
    assert _check(db, number, fresh, later + timedelta(minutes=10)).outcome == Outcome.EXPIRED


def test_a_code_reaches_a_resident_who_opted_out_of_progress_texts(client, db, clock,
                                                                   settings) -> None:  # fmt: skip
    from notifications.outbox import flush

    number = _ticket(client)
    with db.transaction() as session:
        session.scalars(select(Ticket)).one().sms_opt_out = True
    assert _send(db, number, VALID["reporter_phone"], clock.now)
    flush(settings, db)
    with db.transaction() as session:
        statuses = dict(session.execute(select(OutboxMessage.template, OutboxMessage.status)).all())
    assert statuses[LOOKUP_CODE] == "sent"
