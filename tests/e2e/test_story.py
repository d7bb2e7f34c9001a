"""The whole story in a real browser: a resident reports with a photo, routing dispatches it,
the unit accepts, gives feedback and resolves with evidence, the resident confirms on the
tracking page, and the supervisor's dashboard counts it. Plus the scope and board checks."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import update

from hotline.models import Ticket
from tests.e2e.conftest import action_box, shot, sign_in, ticket_action
from tests.helpers import VALID, auth, image_bytes


def action(page, label: str, **fields: str) -> None:
    """One action on the ticket page (the next step's button or a form from the menu), filled
    in and submitted; the page that answers says it is done."""
    ticket_action(page, label, **fields)
    assert page.get_by_text(f"{label}：已完成").is_visible(), page.content()[:2000]


def test_report_to_confirmation_to_dashboard(page, server, tmp_path) -> None:
    photo = tmp_path / "street.jpg"
    photo.write_bytes(image_bytes())
    page.goto(f"{server}/")
    shot(page, "01-public-form")
    page.get_by_label("问题描述").fill(VALID["description"])
    page.get_by_label("发生地点").fill("和平路菜市场门口")
    page.locator("#photos").set_input_files(str(photo))
    page.get_by_label("联系电话").fill("13812341234")
    with page.expect_navigation():
        page.get_by_role("button", name="提交").click()
    assert page.get_by_text("提交成功").is_visible()
    number = page.locator(".success .number").inner_text()
    tracking = page.locator("#track-link").input_value()
    shot(page, "02-tracking-new")

    # Routing dispatched it to 城管局 at intake: it is on the unit's worklist.
    sign_in(page, server, "cgj", "demo-unit-1")
    assert page.url.endswith("/console/worklist")
    page.get_by_role("link", name=number).click()
    shot(page, "03-unit-ticket")
    action(page, "签收")
    action(page, "反馈进展", **{"反馈内容（市民可见）": "已安排执法队员到场处理"})

    # The street is co-unit for this category; the supervisor lets the lead unit finish.
    context = page.context
    context.clear_cookies()
    sign_in(page, server, "supervisor", "demo-supervisor-1")
    page.goto(f"{server}/console/tickets/{number}")
    if page.locator("summary", has_text=re.compile("^免除协办报告$")).count():
        action(page, "免除协办报告", **{"说明": "属地已配合，无需单独报告"})
    context.clear_cookies()

    sign_in(page, server, "cgj", "demo-unit-1")
    page.goto(f"{server}/console/tickets/{number}")
    box = action_box(page, "办结")
    box.get_by_label("办理结果（市民可见）").fill("摊贩已劝离，设置了提示牌")
    box.locator("input[type=file]").set_input_files(str(photo))
    with page.expect_navigation():
        box.get_by_role("button", name="办结", exact=True).click()
    assert page.get_by_text("办结：已完成").is_visible()
    shot(page, "04-unit-resolved")
    context.clear_cookies()

    page.goto(tracking)
    assert page.get_by_text("已办结，请您确认").is_visible()
    assert page.locator(".photos img").count() == 2  # the resident's photo and the evidence
    page.get_by_label("已解决").check()
    page.get_by_label("满意", exact=True).check()
    with page.expect_navigation():
        page.get_by_role("button", name="提交评价").click()
    assert page.get_by_text("已办结", exact=True).first.is_visible()
    shot(page, "05-tracking-confirmed")

    sign_in(page, server, "supervisor", "demo-supervisor-1")
    page.goto(f"{server}/console/dashboard?from=2026-11-01&to=2026-11-30")
    row = page.locator("#ranking tr", has_text="示范市城市管理局")
    assert row.count() == 1 and "100.0%" in row.inner_text()  # satisfied, resolved
    page.wait_for_function("document.querySelector('#chart-ranking canvas') !== null")
    shot(page, "06-dashboard")


def test_a_unit_cannot_open_another_units_ticket(page, server, client) -> None:
    other = client.post("/api/v1/tickets", headers=auth(),
                        json={**VALID, "category": None,
                              "description": "小区旁边的河道发黑发臭，还有死鱼"}).json  # fmt: skip
    sign_in(page, server, "cgj", "demo-unit-1")
    response = page.goto(f"{server}/console/tickets/{other['number']}")
    assert response.status == 404
    shot(page, "07-unit-other-ticket")


def test_a_returned_ticket_reaches_the_operator_queue(page, server, client) -> None:
    number = client.post("/api/v1/tickets", json=VALID, headers=auth()).json["number"]
    sign_in(page, server, "cgj", "demo-unit-1")
    page.goto(f"{server}/console/tickets/{number}")
    ticket_action(page, "退单", **{"退单理由": "该点位属于市场监管职责"})
    assert page.get_by_text(f"工单 {number} 已退单").is_visible()  # back on the worklist
    page.context.clear_cookies()
    sign_in(page, server, "operator", "demo-operator-1")
    assert page.url.endswith("/console/queue")
    assert page.get_by_role("link", name=number).is_visible()
    shot(page, "08-operator-queue")


def test_an_overdue_ticket_shows_on_the_supervisor_board(page, server, client, db, clock) -> None:
    number = client.post("/api/v1/tickets", json=VALID, headers=auth()).json["number"]
    with db.transaction() as session:
        session.execute(update(Ticket).where(Ticket.number == number)
                        .values(resolve_by=clock.now - timedelta(hours=2)))  # fmt: skip
    sign_in(page, server, "supervisor", "demo-supervisor-1")
    row = page.locator("tr.overdue", has_text=number)
    assert row.is_visible() and "超期" in row.inner_text()
    shot(page, "09-supervisor-board")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto(f"{server}/console/tickets/{number}")
    assert page.get_by_text("超期").first.is_visible()
    shot(page, "10-ticket-on-a-phone")


def tab_to(page, text: str, tag: str = "BUTTON", most: int = 80) -> None:
    """Press Tab until the element named ``text`` has the focus (as a person would)."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if page.evaluate("[document.activeElement.tagName, document.activeElement.textContent"
                         ".trim()]") == [tag, text]:  # fmt: skip
            return
    raise AssertionError(f"{text} cannot be reached with Tab")


def test_a_unit_works_with_the_keyboard_alone(page, server, client) -> None:
    number = client.post("/api/v1/tickets", json=VALID, headers=auth()).json["number"]
    page.goto(f"{server}/login")
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.textContent") == "跳到正文"
    page.locator("#username").focus()
    page.keyboard.type("cgj")
    page.keyboard.press("Tab")
    page.keyboard.type("demo-unit-1")
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/worklist")
    page.get_by_role("link", name=number).focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/console/tickets/{number}")
    # The next step is a button reached by Tab (no form to open first).
    tab_to(page, "签收")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_text("签收：已完成").is_visible()
    # An action from the menu: Enter on its summary opens the form, Tab goes through it.
    tab_to(page, "内部备注", tag="SUMMARY")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # to its only field
    page.keyboard.type("已电话联系市民，明早到场")
    page.keyboard.press("Tab")  # to its button
    assert page.evaluate("document.activeElement.textContent") == "内部备注"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_text("内部备注：已完成").is_visible()
    assert "已电话联系市民，明早到场" in page.locator("ol.timeline").inner_text()
    shot(page, "11-keyboard-accepted")


def test_screenshots_of_the_other_main_pages(page, server, client) -> None:
    client.post("/api/v1/tickets", json=VALID, headers=auth())
    pages = {
        ("operator", "demo-operator-1"): {
            "12-call-intake": "/console/call?reporter_phone=13812341234&description="
                              "和平路菜市场门口流动摊贩占道经营",
            "13-callbacks": "/console/callbacks", "14-search": "/console/search?q=菜市场"},
        ("cgj", "demo-unit-1"): {"15-unit-worklist": "/console/worklist"},
        ("admin", "demo-admin-1"): {
            "16-admin-users": "/console/admin/users",
            "17-admin-templates": "/console/admin/templates",
            "18-admin-routing": "/console/admin/routing?text=夜里工地施工噪音很大",
            "19-admin-outbox": "/console/admin/outbox"},
    }  # fmt: skip
    for (user, password), paths in pages.items():
        page.context.clear_cookies()
        sign_in(page, server, user, password)
        for name, path in paths.items():
            response = page.goto(f"{server}{path}")
            assert response.status == 200, path
            assert page.locator("h1").first.is_visible()
            shot(page, name)
