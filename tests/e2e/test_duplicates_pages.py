"""可能重复 in a real browser, on a phone and a desktop: the manual-dispatch queue marks a
ticket that may repeat an older open one and links to it; the call intake lists the likely
original found by its words at another address of the same street."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.e2e.conftest import no_sideways_scroll, shot, sign_in
from tests.helpers import VALID, auth

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
SIZES = [pytest.param(PHONE, id="phone"), pytest.param(DESKTOP, id="desktop")]
AGAIN = "早晚高峰时段菜市场门口又有流动摊贩占道经营，行人只好走到机动车道上，太危险了"


def file(client, **changes) -> str:
    # The chosen kind disagrees with routing: the ticket waits in the manual queue.
    body = {**VALID, "category": "illegal-parking", **changes}
    response = client.post("/api/v1/tickets", json=body, headers=auth())
    assert response.status_code == 201, response.json
    return response.json["number"]


def name(size: dict) -> str:
    return "phone" if size is PHONE else "desktop"


@pytest.mark.parametrize("size", SIZES)
def test_the_queue_shows_a_possible_repeat(page, server, client, clock, size) -> None:
    first = file(client)
    clock.now += timedelta(hours=3)
    second = file(client, description=AGAIN, address="和平路菜市场西门")
    page.set_viewport_size(size)
    sign_in(page, server, "operator", "demo-operator-1")
    page.goto(f"{server}/console/queue?sort=newest")
    card = page.locator("li.q-item").filter(has=page.get_by_role("link", name=second, exact=True))
    note = card.locator(".q-dup")
    assert note.is_visible() and "可能重复" in note.inner_text()
    assert "内容相似" in note.inner_text()
    no_sideways_scroll(page)
    shot(page, f"90-queue-duplicate-{name(size)}")
    with page.expect_navigation():
        note.get_by_role("link", name=first).click()
    assert page.url.endswith(f"/console/tickets/{first}")


@pytest.mark.parametrize("size", SIZES)
def test_the_call_intake_suggests_the_original_by_its_words(page, server, client,
                                                            size) -> None:  # fmt: skip
    first = file(client)
    page.set_viewport_size(size)
    sign_in(page, server, "operator", "demo-operator-1")
    page.goto(f"{server}/console/call")
    page.get_by_label("来电号码").fill("139 0000 2222")
    page.get_by_label("事件发生地").fill("和平路菜市场西门")
    page.get_by_label("诉求内容").fill(AGAIN)
    duplicates = page.locator("#duplicates")
    duplicates.get_by_role("button", name=f"登记并合并到 {first}").wait_for()
    item = duplicates.locator("li.dup").first
    assert "可能重复" in item.inner_text() and "内容相似" in item.inner_text()
    no_sideways_scroll(page)
    shot(page, f"91-call-intake-duplicate-{name(size)}")
