"""A pushed call's description, and an uploaded export's cell, up to 20,000 characters come
in whole; one character more is a problem+json that says how many there are."""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy import select

from hotline.models import Ticket
from tests.helpers import auth
from tests.helpers import upload_export as upload
from tests.services.test_import_long_texts import long_complaint

CALL = {"external_ref": "P-LONG", "lead_unit": "城管局", "reported_at": "2026-11-21 08:15"}


def stored(db, ref: str) -> str | None:
    with db.transaction() as session:
        return session.scalar(select(Ticket.description).where(Ticket.external_ref == ref))


def test_a_pushed_call_of_20000_characters_comes_in_whole(client, db) -> None:
    text = long_complaint(20_000)
    # Sent as UTF-8 (≈60 KB) and as \\uXXXX escapes (≈120 KB): both within the body limit.
    utf8 = json.dumps({**CALL, "description": text}, ensure_ascii=False).encode()
    assert len(utf8) > 55_000
    response = client.post("/api/v1/intake/calls", data=utf8, headers=auth(),
                           content_type="application/json")  # fmt: skip
    assert response.status_code == 201, response.json
    assert response.json["description"] == text
    assert stored(db, "P-LONG") == text
    escaped = json.dumps({**CALL, "external_ref": "P-LONG-2", "description": text})
    assert len(escaped) > 110_000
    again = client.post("/api/v1/intake/calls", data=escaped, headers=auth(),
                        content_type="application/json")  # fmt: skip
    assert again.status_code == 201, again.json
    assert stored(db, "P-LONG-2") == text


def test_a_pushed_call_of_20001_characters_is_refused_with_the_count(client, db) -> None:
    response = client.post("/api/v1/intake/calls", headers=auth(),
                           json={**CALL, "description": long_complaint(20_001)})  # fmt: skip
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.json["errors"]["description"] == ["超过 20000 个字（实有 20001 个字）"]
    assert stored(db, "P-LONG") is None  # nothing half-saved


def test_trailing_blanks_do_not_count(client, db) -> None:
    text = long_complaint(20_000)
    response = client.post("/api/v1/intake/calls", headers=auth(),
                           json={**CALL, "description": text + "\n  \n"})  # fmt: skip
    assert response.status_code == 201, response.json
    assert stored(db, "P-LONG") == text


def test_an_uploaded_export_with_a_7000_character_order(client, db) -> None:
    text = long_complaint(7000)
    buffer = io.StringIO()
    csv.writer(buffer).writerows([["工单编号", "诉求内容", "来电时间"],
                                  ["U-LONG", text, "2026-11-20 09:30"]])  # fmt: skip
    response = upload(client, buffer.getvalue().encode("gb18030"))
    assert response.status_code == 201, response.json
    assert (response.json["created"], response.json["rejected"]) == (1, 0)
    assert stored(db, "U-LONG") == text
