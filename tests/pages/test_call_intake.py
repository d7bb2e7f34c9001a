"""接听登记: the caller's history, likely duplicates, and one-click merge."""

from __future__ import annotations

import re

from sqlalchemy import select

from hotline.models import Ticket
from tests.helpers import VALID, auth, signed_in, token_of


def post(client, **form: str):
    page = client.get("/console/call").get_data(as_text=True)
    return client.post("/console/call", data={"csrf_token": token_of(page), **form})


def test_history_duplicates_and_merge(app, client, db) -> None:
    first = client.post("/api/v1/tickets", json=VALID, headers=auth()).json["number"]
    operator = signed_in(app, "operator", "demo-operator-1")
    checked = post(operator, step="check", reporter_phone="138 1234 1234",
                   description="和平路菜市场门口又有流动摊贩占道经营", address="")  # fmt: skip
    text = checked.get_data(as_text=True)
    assert checked.status_code == 200
    assert text.count(first) >= 2  # the caller's history and a likely duplicate
    assert f'value="merge:{first}"' in text
    merged = post(operator, step=f"merge:{first}", reporter_phone="13812341234",
                  description="和平路菜市场门口又有流动摊贩占道经营")  # fmt: skip
    assert merged.status_code == 302 and merged.headers["Location"].endswith(first)
    with db.transaction() as session:
        newest = session.scalar(select(Ticket).order_by(Ticket.id.desc()))
        assert newest.status == "merged" and newest.duplicate_of.number == first
        assert newest.channel == "call_centre"


def test_register_a_new_call_and_see_errors_next_to_fields(app) -> None:
    operator = signed_in(app, "operator", "demo-operator-1")
    bad = post(operator, step="submit", reporter_phone="12", description="")
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert re.search(r'id="description-error"', text) and 'id="reporter_phone-error"' in text
    made = post(operator, step="submit", reporter_phone="13900001111",
                description="振兴路工地夜间施工噪音扰民，已经持续一周")  # fmt: skip
    assert made.status_code == 302
    page = operator.get(made.headers["Location"]).get_data(as_text=True)
    assert "已登记工单" in page
    assert signed_in(app, "cgj", "demo-unit-1").get("/console/call").status_code == 403
