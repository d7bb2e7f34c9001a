"""Ticket numbers under concurrent intake: unique and gapless per day."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from hotline.domain.states import Channel
from hotline.models import Ticket
from hotline.services.intake import IntakePolicy, submit_ticket
from tests.conftest import TEST_DATABASE

NOW = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
POLICY = IntakePolicy(prefix="WM", timezone="Asia/Shanghai")
DATA = {"description": "小区门口共享单车乱停乱放", "anonymous": True}


@pytest.mark.skipif(
    TEST_DATABASE != "postgresql",
    reason="real row-lock concurrency is a PostgreSQL property; SQLite serialises writers anyway",
)
def test_200_tickets_from_8_threads_are_unique_and_gapless(db) -> None:
    threads, per_thread = 8, 25
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait()
            for _ in range(per_thread):
                with db.transaction() as session:
                    submit_ticket(session, DATA, now=NOW, policy=POLICY, channel=Channel.API)
        except BaseException as exc:
            errors.append(exc)

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert errors == []
    with db.transaction() as session:
        numbers = sorted(session.scalars(select(Ticket.number)))
    assert numbers == [f"WM20261121-{i:04d}" for i in range(1, threads * per_thread + 1)]


def test_rolled_back_intake_does_not_leave_a_gap(db) -> None:
    with pytest.raises(RuntimeError), db.transaction() as session:
        submit_ticket(session, DATA, now=NOW, policy=POLICY, channel=Channel.API)
        raise RuntimeError("abort after numbering")
    with db.transaction() as session:
        ticket = submit_ticket(session, DATA, now=NOW, policy=POLICY, channel=Channel.API)
        assert ticket.number == "WM20261121-0001"


def test_numbers_grow_past_four_digits(db) -> None:
    from hotline.models import TicketCounter

    with db.transaction() as session:
        session.add(TicketCounter(day=date(2026, 11, 21), last=9998))
    numbers = []
    for _ in range(2):
        with db.transaction() as session:
            ticket = submit_ticket(session, DATA, now=NOW, policy=POLICY, channel=Channel.API)
            numbers.append(ticket.number)
    assert numbers == ["WM20261121-9999", "WM20261121-10000"]
    with db.transaction() as session:
        assert sorted(session.scalars(select(Ticket.number))) == sorted(numbers)


def test_numbers_of_many_days_are_reserved_together_and_stay_gapless(db) -> None:
    from hotline.services.numbering import reserve_numbers, reserve_numbers_by_day

    first, second = date(2019, 3, 12), date(2024, 2, 29)
    with db.transaction() as session:
        before = reserve_numbers(session, count=2, prefix="WM", day=second)
        got = reserve_numbers_by_day(session, {second: 2, first: 3, date(2020, 1, 1): 0},
                                     prefix="WM")  # fmt: skip
    assert before == ["WM20240229-0001", "WM20240229-0002"]
    assert got == {first: ["WM20190312-0001", "WM20190312-0002", "WM20190312-0003"],
                   second: ["WM20240229-0003", "WM20240229-0004"]}  # fmt: skip
    try:
        with db.transaction() as session:
            reserve_numbers_by_day(session, {first: 5}, prefix="WM")
            raise RuntimeError("rolled back")
    except RuntimeError:
        pass
    with db.transaction() as session:  # a rolled-back batch gave its numbers back
        assert reserve_numbers_by_day(session, {first: 1}, prefix="WM") == {
            first: ["WM20190312-0004"]}  # fmt: skip
