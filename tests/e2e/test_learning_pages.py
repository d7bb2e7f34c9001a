"""The learning loop in a real browser: 立即学习新草稿 on the routing page, then the draft's
page with its shadow evaluation and changes per category, at a phone's width (390) and a
desktop's (1366); neither scrolls sideways."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import no_sideways_scroll, shot, sign_in
from tests.helpers.learning_city import add_ticket, corrections, history

SIZES = {"phone": (390, 844), "desktop": (1366, 900)}
LONG = (
    "和平路与解放路交叉口东北角的人行道上每天傍晚都有十几个流动摊贩占道经营，卖水果、"
    "烤串和小商品，油烟和垃圾很多，行人只能走到机动车道上，非常危险，希望尽快处理。"
)


@pytest.mark.parametrize("size", SIZES)
def test_learning_a_draft_and_reading_its_evaluation(page, server, db, clock, size) -> None:
    with db.transaction() as session:
        history(session)
        corrections(session)
        add_ticket(session, LONG, "street-vending", "dept-cgj", at=clock.now)
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, server, "admin", "demo-admin-1")
    assert page.goto(f"{server}/console/admin/routing").status == 200
    card = page.locator("#learning")
    card.scroll_into_view_if_needed()
    no_sideways_scroll(page)
    with page.expect_navigation():
        card.get_by_role("button", name="立即学习新草稿").click()
    assert "#shadow" in page.url
    assert page.get_by_role("heading", name="影子评估：草稿与生效中的规则").is_visible()
    assert page.locator("#draft-changes details[open]").count() >= 1
    assert page.get_by_text("草稿对").first.is_visible()
    no_sideways_scroll(page)
    shot(page, f"learning-draft-{size}")
    page.goto(f"{server}/console/admin/routing#learning")
    assert page.locator("#learning").get_by_text("上次学习").is_visible()
    no_sideways_scroll(page)
    shot(page, f"learning-routing-{size}")
