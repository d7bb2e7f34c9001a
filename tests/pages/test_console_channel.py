"""The demo channel on the admins' outbox page: the latest messages it "sent", as rendered,
with their recipients — what residents and units would have received."""

from __future__ import annotations

from sqlalchemy import select

from hotline.models import OutboxMessage
from notifications.outbox import flush
from tests.helpers import VALID, api_act, auth, signed_in

PAGE = "/console/admin/outbox"


def test_admins_see_the_latest_demo_messages_as_rendered(app, client, db, settings, clock,
                                                         capsys) -> None:  # fmt: skip
    number = client.post("/api/v1/tickets", json=VALID, headers=auth()).json["number"]
    api_act(client, number, "accept", auth("hl_demo_unit"))
    admin = signed_in(app, "admin", "demo-admin-1")
    assert "还没有通过演示通道发出的消息" in admin.get(PAGE).get_data(as_text=True)
    flush(settings, db, now=clock.now)
    printed = capsys.readouterr().out
    assert f"→ {VALID['reporter_phone']}" in printed and "→ dept-cgj" in printed
    page = admin.get(PAGE).get_data(as_text=True)
    assert "最近发出的消息（演示通道）" in page
    assert f"您反映的问题（工单{number}）已由承办单位签收" in page  # the text as rendered
    # Admins do not see residents' phones, nor the token that confirms as the resident.
    assert "138****1234" in page and VALID["reporter_phone"] not in page
    assert f"/track/{number}?token=…" in page and "token=" + "x" not in page
    with db.transaction() as session:
        full = [m.payload["console_text"] for m in session.scalars(select(OutboxMessage))
                if m.audience == "resident"]  # fmt: skip
    assert all("token=…" not in text for text in full)  # the server's output has it whole
    assert "resident.accepted" in page and "unit.dispatched" in page
    with db.transaction() as session:
        texts = [m.payload.get("console_text") for m in session.scalars(
            select(OutboxMessage).order_by(OutboxMessage.id))]  # fmt: skip
    # Newest first: the acceptance's SMS above the dispatch notice.
    assert page.index(texts[-1][:20]) < page.index(texts[0][:20])


def test_only_admins_see_them(app) -> None:
    assert signed_in(app, "supervisor", "demo-supervisor-1").get(PAGE).status_code == 403
