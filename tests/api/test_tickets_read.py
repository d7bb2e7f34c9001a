"""GET /api/v1/tickets and /api/v1/tickets/<number>: staff reading, scoping, filters, paging."""

from __future__ import annotations

from sqlalchemy import select

from hotline.models import Ticket, Unit
from tests.helpers import VALID, auth


def create(client, **overrides) -> str:
    response = client.post("/api/v1/tickets", json={**VALID, **overrides}, headers=auth())
    assert response.status_code == 201, response.json
    return response.json["number"]


def assign(db, number: str, lead: str, co: tuple[str, ...] = ()) -> None:
    with db.transaction() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        ticket.lead_unit = session.scalar(select(Unit).where(Unit.code == lead))
        ticket.co_units = list(session.scalars(select(Unit).where(Unit.code.in_(co))))


def test_detail_for_operator_shows_full_phone(client) -> None:
    number = create(client, reporter_name="张三")
    body = client.get(f"/api/v1/tickets/{number}", headers=auth()).json
    assert body["reporter"]["phone"] == "13812341234"
    assert body["reporter"]["name"] == "张三"
    assert "tracking_url" not in body


def test_admin_sees_masked_phone(client) -> None:
    number = create(client, reporter_name="张三")
    body = client.get(f"/api/v1/tickets/{number}", headers=auth("hl_demo_admin")).json
    assert body["reporter"]["phone"] == "138****1234"
    assert body["reporter"]["name"] == "张*"


def test_unit_sees_own_tickets_only_and_phone_only_with_consent(client, db) -> None:
    mine = create(client, consent_contact=False)
    theirs = create(client)
    co_handled = create(client, consent_contact=True)
    assign(db, mine, "dept-cgj")
    assign(db, theirs, "dept-zjj")
    assign(db, co_handled, "dept-zjj", co=("dept-cgj",))

    unit = auth("hl_demo_unit")
    listed = client.get("/api/v1/tickets", headers=unit).json["items"]
    assert sorted(t["number"] for t in listed) == sorted([mine, co_handled])
    assert client.get(f"/api/v1/tickets/{theirs}", headers=unit).status_code == 404
    assert client.get(f"/api/v1/tickets/{mine}", headers=unit).json["reporter"]["phone"] == (
        "138****1234"
    )
    assert (
        client.get(f"/api/v1/tickets/{co_handled}", headers=unit).json["reporter"]["phone"]
        == "13812341234"
    )


def test_parent_unit_sees_sub_units_tickets(client, db, make_user) -> None:
    # 和平街道 sees what is assigned to its communities and grid cells, and nothing else.
    _, street_token = make_user("heping", "unit", "st-heping")
    below = create(client)
    elsewhere = create(client)
    assign(db, below, "grid-heping-xincun-01")
    assign(db, elsewhere, "dept-cgj")
    assert client.get(f"/api/v1/tickets/{below}", headers=auth(street_token)).status_code == 200
    assert client.get(f"/api/v1/tickets/{elsewhere}", headers=auth(street_token)).status_code == 404


def test_missing_ticket_is_404_problem(client) -> None:
    response = client.get("/api/v1/tickets/WM20990101-0001", headers=auth())
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_filters(client, db, clock) -> None:
    a = create(client, category="street-vending")
    b = create(client, category="noise")
    assign(db, b, "dept-sthjj")
    clock.now = clock.now.replace(day=23)
    c = create(client, category="noise")

    def numbers(query: str) -> list[str]:
        response = client.get(f"/api/v1/tickets?{query}", headers=auth())
        assert response.status_code == 200, response.json
        return [t["number"] for t in response.json["items"]]

    assert numbers("") == [c, b, a]
    assert numbers("category=noise") == [c, b]
    assert numbers("unit=dept-sthjj") == [b]
    assert numbers("status=reported&status=dispatched&status=closed") == [c, b, a]
    assert numbers("status=closed") == []
    assert numbers("created_from=2026-11-22") == [c]
    assert numbers("created_to=2026-11-21") == [b, a]
    assert numbers("created_from=2026-11-21&created_to=2026-11-21") == [b, a]


def test_bad_filters_are_422(client) -> None:
    for query, field in [
        ("status=nope", "status"),
        ("created_from=21/11/2026", "created_from"),
        ("created_from=2026-11-22&created_to=2026-11-21", "created_to"),
        ("limit=0", "limit"),
        ("limit=abc", "limit"),
        ("cursor=!!!", "cursor"),
        ("bogus=1", "bogus"),
    ]:
        response = client.get(f"/api/v1/tickets?{query}", headers=auth())
        assert response.status_code == 422, query
        assert field in response.json["errors"], (query, response.json)


def test_keyset_pagination_walks_everything_once(client) -> None:
    created = [create(client) for _ in range(7)]
    seen, cursor = [], None
    while True:
        url = "/api/v1/tickets?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=auth()).json
        seen += [t["number"] for t in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(created))


def test_reading_requires_a_token(client) -> None:
    assert client.get("/api/v1/tickets").status_code == 401
    assert client.get("/api/v1/tickets/WM20261121-0001").status_code == 401
