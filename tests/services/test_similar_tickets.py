"""Already reported? (services/similar.py) and 我也遇到了 (services/followers.py) on a real
database: what the typed kind and place resolve to, which tickets count as the same
problem, and one follower per phone, also when two taps arrive at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from hotline.models import Ticket, TicketFollower
from hotline.services.followers import add_follower
from hotline.services.router_cache import RouterCache
from hotline.services.similar import resolve, similar_open_tickets
from tests.conftest import TEST_DATABASE
from tests.helpers import VALID, auth

MARKET = {**VALID, "address": "和平农贸市场", "reporter_phone": "13812341234"}


def file(client, **changes) -> str:
    response = client.post("/api/v1/tickets", json={**MARKET, **changes}, headers=auth())
    assert response.status_code == 201, response.json
    return response.json["number"]


def where(session, category="street-vending", address="和平农贸市场", description=""):
    compiled = RouterCache(refresh_seconds=0).active(session)
    return resolve(compiled, category=category, description=description or VALID["description"],
                   address=address)  # fmt: skip


def test_the_typed_place_and_kind_resolve_to_unit_and_category(db) -> None:
    with db.transaction() as session:
        found = where(session)
        assert found.place == "和平农贸市场" and found.category_name == "占道经营"
        assert where(session, category=None).category_id == found.category_id  # routing's guess
        assert where(session, address="") is None
        assert where(session, address="我家楼下") is None  # no known place: nothing to compare
        assert where(session, category="no-such-kind") is None


def test_only_open_recent_tickets_of_that_kind_and_unit(client, db, clock) -> None:
    kept = file(client)
    file(client, category="graffiti", description="和平农贸市场墙上被乱涂乱画，很难看。")
    file(client, address="红旗菜市场")
    old, closed = file(client), file(client)
    with db.transaction() as session:
        session.execute(update(Ticket).where(Ticket.number == old)
                        .values(created_at=clock.now - timedelta(days=31)))  # fmt: skip
        session.execute(update(Ticket).where(Ticket.number == closed).values(status="closed"))
    with db.transaction() as session:
        shown = similar_open_tickets(session, where(session), now=clock.now)
        numbers = [session.get(Ticket, t.id).number for t in shown]
    assert numbers == [kept]
    assert shown[0].place == "和平农贸市场" and shown[0].category == "占道经营"


def test_a_phone_follows_a_ticket_once(client, db, clock) -> None:
    number = file(client)
    with db.transaction() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert add_follower(session, ticket, "13900001111", clock.now) is True
        assert add_follower(session, ticket, "13900001111", clock.now) is False
        assert add_follower(session, ticket, "13812341234", clock.now) is False  # the reporter
        assert add_follower(session, ticket, "13900002222", clock.now) is True
    with db.transaction() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket.follower_count == 2 and ticket.version == 1


@pytest.mark.skipif(TEST_DATABASE != "postgresql", reason="a real race needs PostgreSQL")
def test_two_taps_at_once_add_one_follower(client, db, clock) -> None:
    import threading

    number = file(client)
    barrier = threading.Barrier(4)
    results: list[bool] = []

    def tap() -> None:
        with db.transaction() as session:
            ticket = session.scalar(select(Ticket).where(Ticket.number == number))
            barrier.wait()
            results.append(add_follower(session, ticket, "13900001111", clock.now))

    threads = [threading.Thread(target=tap) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, False, True]
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(TicketFollower)) == 1
        assert session.scalar(select(Ticket.follower_count)) == 1
