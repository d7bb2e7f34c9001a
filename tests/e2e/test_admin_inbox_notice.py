"""The admin's inbox with the notice of a learned routing draft, in a real browser at a
phone's width (390) and a desktop's (1366): the notice's text and its link to the draft's
shadow evaluation, without sideways scrolling; the link opens the draft's page there."""

from __future__ import annotations

import pytest

from hotline.background.learning import run_learning
from tests.e2e.conftest import no_sideways_scroll, shot, sign_in
from tests.helpers.learning_city import corrections, history

SIZES = {"phone": (390, 844), "desktop": (1366, 900)}


@pytest.mark.parametrize("size", SIZES)
def test_the_admins_inbox_shows_the_draft_notice_and_opens_it(
    page, server, db, settings, clock, size
) -> None:
    with db.transaction() as session:
        history(session)
        corrections(session)
    assert run_learning(settings, db, now=clock.now)["status"] == "learned"
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, server, "admin", "demo-admin-1")
    assert page.goto(f"{server}/console/inbox").status == 200
    assert page.get_by_text("以及待审阅的分派规则草稿").is_visible()
    item = page.locator("li.inbox-item")
    assert item.count() == 1
    assert item.locator(".badge.kind").inner_text() == "规则草稿待审"
    assert item.get_by_text("已从近期工单和话务员改派记录学习生成分派规则草稿").is_visible()
    link = item.get_by_role("link", name="查看草稿的影子评估和变化")
    assert link.is_visible()
    no_sideways_scroll(page)
    shot(page, f"admin-inbox-notice-{size}")
    with page.expect_navigation():
        link.click()
    assert page.url.endswith("#shadow") and "/console/admin/routing/" in page.url
    assert page.get_by_role("heading", name="影子评估：草稿与生效中的规则").is_visible()
    no_sideways_scroll(page)
