"""services/duplicates.py on a real database: candidates by place, kind and address within the
window, ranked by the words; what the call intake, the queue and the public list get."""

from __future__ import annotations

from dataclasses import fields
from datetime import timedelta

from sqlalchemy import select, update

from hotline.models import Ticket
from hotline.services import duplicates
from hotline.services.dispatch_queue import likely_originals
from hotline.services.lookups import likely_duplicates
from hotline.services.router_cache import RouterCache
from hotline.services.similar import resolve, similar_open_tickets
from tests.helpers import VALID, auth

VENDING = "和平路菜市场门口流动摊贩占道经营，早晚高峰行人只能走机动车道，很危险。"
# The same complaint from another caller, told in other words, at another number of the street.
AGAIN = "早晚高峰时段菜市场门口又有流动摊贩占道经营，行人只好走到机动车道上，太危险了"
FUMES = "和平路 30 号一楼饭店油烟直排，楼上住户开不了窗。"


def file(client, **changes) -> str:
    response = client.post("/api/v1/tickets", json={**VALID, **changes}, headers=auth())
    assert response.status_code == 201, response.json
    return response.json["number"]


def routing(session):
    return RouterCache(refresh_seconds=0).active(session)


def lookup(session, clock, text=AGAIN, address="和平路菜市场西门", category=None):
    return likely_duplicates(session, text=text, address=address, category=category,
                             routing=routing(session), now=clock.now)  # fmt: skip


def test_call_intake_finds_the_complaint_by_its_words_at_another_address_of_the_street(
    client, db, clock
) -> None:
    # The first caller chose another kind (the carts block the road): place and kind no longer
    # agree, only the street and the words do.
    first = file(client, description=VENDING, address="文明区和平路 12 号",
                 category="illegal-parking")  # fmt: skip
    fumes = file(client, description=FUMES, address="文明区和平路 30 号", category="cooking-fumes")
    elsewhere = file(client, description=VENDING, address="新华大街 8 号")
    with db.transaction() as session:
        found = lookup(session, clock)
    numbers = [m.original.number for m in found]
    assert numbers[0] == first, [(m.original.number, m.why) for m in found]
    assert fumes not in numbers  # same street, other words, other kind
    assert elsewhere in numbers  # same kind, same words, other street: listed after it
    best = found[0]
    assert best.likely and best.score >= duplicates.MARK
    assert "同一地点（和平街道）" in best.why and f"内容相似 {best.score:.2f}" in best.why
    assert "同一地址" not in best.why


def test_the_same_address_and_kind_is_suggested_whatever_the_words(client, db, clock) -> None:
    first = file(client, description="菜市场门口天天有人卖菜", address="和平农贸市场东门")
    with db.transaction() as session:
        found = lookup(session, clock, text="门口摊位太多了", address="和平农贸市场东门",
                       category="street-vending")  # fmt: skip
    assert [m.original.number for m in found] == [first]
    assert found[0].why.startswith("同一地址")


def test_closed_or_old_tickets_are_not_suggested(client, db, clock) -> None:
    kept, old, closed, merged = (file(client, description=VENDING) for _ in range(4))
    with db.transaction() as session:
        session.execute(update(Ticket).where(Ticket.number == old)
                        .values(created_at=clock.now - timedelta(days=31)))  # fmt: skip
        session.execute(update(Ticket).where(Ticket.number == closed).values(status="closed"))
        session.execute(update(Ticket).where(Ticket.number == merged).values(status="merged"))
    with db.transaction() as session:
        found = lookup(session, clock)
    assert [m.original.number for m in found] == [kept]


def test_nothing_to_compare_is_no_suggestion(client, db, clock) -> None:
    file(client, description=VENDING)
    with db.transaction() as session:
        assert lookup(session, clock, text="   ", address="") == []
        assert lookup(session, clock, text="12345", address="") == []  # no place, no words


def test_the_queue_marks_the_newer_of_two_as_the_possible_repeat(client, db, clock) -> None:
    # Both wait in the manual queue: the chosen kind disagrees with routing.
    first = file(client, description=VENDING, category="illegal-parking")
    clock.now += timedelta(hours=2)
    second = file(client, description=AGAIN, category="illegal-parking")
    other = file(client, description=FUMES, address="文明区和平路 30 号", category="cooking-fumes")
    with db.transaction() as session:
        tickets = list(session.scalars(select(Ticket).where(
            Ticket.number.in_([first, second, other])).order_by(Ticket.id)))  # fmt: skip
        marked = likely_originals(session, tickets, routing(session))
        by_number = {t.number: marked.get(t.id) for t in tickets}
    assert by_number[first] is None  # the original is nobody's repeat
    assert by_number[second] is not None and by_number[second].original.number == first
    assert by_number[other] is None


def test_the_public_list_compares_words_and_never_shows_the_description(
    app, client, db, clock
) -> None:
    secret = "和平农贸市场门口流动摊贩占道经营，我是住在三楼的王阿姨，电话13800001111"
    shown = file(client, description=secret, address="和平农贸市场", category="illegal-parking")
    # Same place, another kind, other words: not the resident's problem.
    file(client, description="和平农贸市场旁边饭店油烟直排，楼上住户开不了窗。",
         address="和平农贸市场", category="cooking-fumes")  # fmt: skip
    with db.transaction() as session:
        compiled = routing(session)
        where = resolve(compiled, category="street-vending", description=AGAIN,
                        address="和平农贸市场")  # fmt: skip
        found = similar_open_tickets(session, where, now=clock.now, description=secret,
                                     routing=compiled)  # fmt: skip
        number = {session.get(Ticket, t.id).number for t in found}
    assert number == {shown}  # other kind, same place, the same words
    assert {f.name for f in fields(found[0])} == {"id", "category", "place", "created_at",
                                                  "status"}  # fmt: skip
    page = app.test_client().get(
        "/similar",
        query_string={
            "description": secret,
            "address": "和平农贸市场",
            "category": "street-vending",
        },
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "和平农贸市场" in html
    for private in ("王阿姨", "13800001111", "三楼", shown):
        assert private not in html


def test_tickets_at_the_same_place_come_before_a_busy_kind_elsewhere(client, db, clock) -> None:
    # The cap on candidates (200 in use; 1 here) must not be filled by the newest tickets of
    # the same kind across the city while the one at the resident's place waits behind them.
    here = file(client, description=VENDING, address="和平农贸市场", category="street-vending")
    file(client, description=VENDING, address="新华大街 8 号", category="street-vending")
    with db.transaction() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == here))
        probe = duplicates.Probe(AGAIN, clock.now, category_id=ticket.category_id,
                                 territorial_unit_id=ticket.territorial_unit_id)  # fmt: skip
        found = duplicates.candidates(session, [probe], limit=1)
    assert [c.number for c in found] == [here]
