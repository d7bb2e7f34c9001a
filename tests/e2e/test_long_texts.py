"""A 7,000-character work order in a real browser on a phone and a desktop: the worklist shows
one short line of it, the ticket page all of it with its line breaks, neither scrolls
sideways. Screenshots: tests/artifacts/long-text-*.png."""

from __future__ import annotations

import pytest

from hotline.web.filters import excerpt
from tests.e2e.conftest import no_sideways_scroll, shot, sign_in
from tests.helpers import auth
from tests.services.test_import_long_texts import CLOSING, long_complaint

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
SIZES = [pytest.param(PHONE, id="phone"), pytest.param(DESKTOP, id="desktop")]
# A pasted web address or a row of digits has no place to wrap: it must not widen the page.
UNBROKEN = "附件链接：https://example.org/" + "a1b2c3d4" * 40


@pytest.mark.parametrize("size", SIZES)
def test_a_long_order_on_the_worklist_and_the_ticket_page(page, server, client, size) -> None:
    text = long_complaint(7000 - len(UNBROKEN) - 1)
    text = text[:3000] + "\n" + UNBROKEN + text[3000:]
    assert len(text) == 7000
    response = client.post("/api/v1/intake/calls", headers=auth(), json={
        "external_ref": "E2E-LONG", "description": text, "lead_unit": "城管局",
        "reported_at": "2026-11-21 08:15",
    })  # fmt: skip
    assert response.status_code == 201, response.json
    number = response.json["number"]
    name = "phone" if size is PHONE else "desktop"
    page.set_viewport_size(size)
    sign_in(page, server, "cgj", "demo-unit-1")

    page.goto(f"{server}/console/worklist")
    row = page.locator("tr, li, article").filter(has_text=number).last
    assert excerpt(text, 60) in row.inner_text()
    assert CLOSING not in page.locator("body").inner_text()
    shot(page, f"long-text-worklist-{name}")
    no_sideways_scroll(page)

    page.goto(f"{server}/console/tickets/{number}")
    description = page.locator("p.description")
    assert description.inner_text() == text  # whole, line breaks kept
    assert description.evaluate("e => e.getClientRects().length") >= 1
    box = description.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= size["width"]
    shot(page, f"long-text-ticket-{name}")
    no_sideways_scroll(page)
