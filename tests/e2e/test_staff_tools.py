"""What every staff member shares, in a real browser on a phone and a desktop: the inbox with
the header's unread count, search with its filters and its export downloaded and opened, and
the keyboard shortcuts (j / k / Enter / d) with their "?" overlay."""

from __future__ import annotations

import openpyxl
import pytest
from sqlalchemy import select

from hotline.models import Ticket
from hotline.services import exports
from tests.e2e.conftest import ARTIFACTS, no_sideways_scroll, shot, sign_in
from tests.helpers import VALID, api_act, auth

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
SIZES = [pytest.param(PHONE, id="phone"), pytest.param(DESKTOP, id="desktop")]
UNIT, SUPERVISOR = auth("hl_demo_unit"), auth("hl_demo_supervisor")
HOSTILE = "=HYPERLINK(\"http://evil.example/\",\"点我\") 和平路菜市场门口流动摊贩占道经营"
# Routing finds two rules with the same score: it waits in the queue with a suggestion.
TIE = "小区门口有人乱停车，还有垃圾乱堆，很久没人管"


def name_of(size: dict) -> str:
    return "phone" if size is PHONE else "desktop"


def new_ticket(client, **fields) -> str:
    response = client.post("/api/v1/tickets", json={**VALID, **fields}, headers=auth())
    assert response.status_code == 201, response.json
    return response.json["number"]


def queued(client, text: str) -> str:
    body = client.post("/api/v1/tickets", headers=auth(),
                       json={**VALID, "category": None, "description": text}).json  # fmt: skip
    assert body["status"] == "reported", body
    return body["number"]


@pytest.mark.parametrize("size", SIZES)
def test_the_inbox_counts_what_is_unread_and_opens_the_ticket(page, server, client,
                                                              size) -> None:  # fmt: skip
    decided = new_ticket(client)
    api_act(client, decided, "accept", UNIT)
    api_act(client, decided, "request_extension", UNIT, reason="摊主流动性大，需联合执法",
            until="2026-12-01T17:00:00+08:00")  # fmt: skip
    api_act(client, decided, "decide_extension", SUPERVISOR, approve=True,
            reason="同意，请在新时限前办结并上传整改后照片")  # fmt: skip
    fresh = new_ticket(client, description="解放路流动摊贩占道经营，堵住了人行道，"
                                           "早晚高峰行人只能走机动车道，十分危险")  # fmt: skip
    page.set_viewport_size(size)
    sign_in(page, server, "cgj", "demo-unit-1")
    badge = page.locator("nav.console .inbox-link .count")
    assert badge.inner_text() == "3"  # two dispatches and the extension's decision
    page.locator("nav.console .inbox-link").click()
    page.wait_for_url("**/console/inbox")
    no_sideways_scroll(page)
    decision = page.locator("li.inbox-item", has_text="延期审批")
    assert "已批准" in decision.inner_text() and decided in decision.inner_text()
    shot(page, f"60-inbox-{name_of(size)}")
    # Open the newest (a dispatch): it is read, the header counts one fewer.
    with page.expect_navigation():
        page.locator("li.inbox-item", has_text=fresh).get_by_role("button", name=fresh).click()
    assert page.url.endswith(f"/console/tickets/{fresh}")
    assert badge.inner_text() == "2"
    page.goto(f"{server}/console/inbox")
    with page.expect_navigation():
        page.get_by_role("button", name="全部标为已读").click()
    assert page.get_by_text("已将 2 条消息标为已读").is_visible()
    assert badge.count() == 0 and page.locator("li.inbox-item.unread").count() == 0
    no_sideways_scroll(page)


@pytest.mark.parametrize("size", SIZES)
def test_search_filters_and_its_export_opens_in_a_spreadsheet(page, server, client, db,
                                                             tmp_path, size) -> None:  # fmt: skip
    hostile = new_ticket(client, description=HOSTILE, reporter_name="张三")
    other = new_ticket(client, description="人民路人行道护栏损坏，一直没人修", category=None)
    api_act(client, other, "dispatch", auth(), lead_unit="dept-zjj")
    for n in range(3):
        new_ticket(client, description=f"和平路第 {n} 个路口流动摊贩占道经营，行人只能走机动车道")
    page.set_viewport_size(size)
    sign_in(page, server, "operator", "demo-operator-1")
    page.goto(f"{server}/console/search")
    page.get_by_label("主办单位").select_option("dept-cgj")
    page.get_by_label("类别").select_option("street-vending")
    page.get_by_label("已派单").check()
    with page.expect_navigation():
        page.get_by_role("button", name="查询", exact=True).click()
    assert "unit=dept-cgj" in page.url and "category=street-vending" in page.url
    assert "共 4 件" in page.locator(".search-summary").inner_text()
    rows = page.locator("table.search-results tbody tr")
    assert rows.count() == 4 and other not in page.locator("table.search-results").inner_text()
    first = rows.first.inner_text()
    assert "受理时间" in page.locator("table.search-results").inner_text() or size is PHONE
    assert "2026-11-21 10:30" in first and "签收" in first
    no_sideways_scroll(page)
    shot(page, f"61-search-{name_of(size)}")
    with page.expect_download() as download:
        page.get_by_role("link", name="Excel（XLSX）").click()
    name = download.value.suggested_filename
    assert name.startswith("工单查询-") and name.endswith(".xlsx")
    download.value.save_as(tmp_path / name)
    sheet = openpyxl.load_workbook(tmp_path / name).active
    header, *cells = list(sheet.iter_rows(values_only=True))
    assert header == exports.COLUMNS and len(cells) == 4
    row = {h: v for h, v in zip(header, cells[-1], strict=True)}  # the oldest: the hostile one
    assert row["工单编号"] == hostile and row["诉求内容"] == "'" + HOSTILE
    assert row["承办单位"] == "示范市城市管理局" and row["系统受理时间"] == "2026-11-21 10:30"
    assert row["来电号码"] == "13812341234" and row["工单状态"] == "已派单"
    with db.transaction() as session:  # nothing changed by looking
        assert session.scalar(select(Ticket.status).where(Ticket.number == other)) == "dispatched"


@pytest.mark.parametrize("size", SIZES)
def test_the_queue_by_keyboard_and_the_shortcuts_overlay(page, server, client, db,
                                                        size) -> None:  # fmt: skip
    numbers = [queued(client, f"{TIE}（第 {n} 次反映）") for n in range(3)]
    page.set_viewport_size(size)
    sign_in(page, server, "operator", "demo-operator-1")
    page.goto(f"{server}/console/queue?sort=waiting")
    no_sideways_scroll(page)
    current = page.locator("[data-ticket-url].is-current")
    page.keyboard.press("j")
    assert numbers[0] in current.inner_text()
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert numbers[2] in current.inner_text()
    page.keyboard.press("k")
    assert numbers[1] in current.inner_text() and current.count() == 1
    # "?" explains the keys; Esc closes it and the keys work again.
    page.keyboard.press("?")
    overlay = page.locator("dialog#shortcuts-help")
    assert overlay.is_visible() and "键盘快捷键" in overlay.inner_text()
    assert "按建议派给" in overlay.inner_text()
    assert page.evaluate("""() => { const box = document.querySelector('#shortcuts-help')
        .getBoundingClientRect(); return box.left >= 0 && box.right <= innerWidth; }""")
    # The viewport, not the full page: a modal dialog belongs to what is on the screen.
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"62-shortcuts-{name_of(size)}.png"))
    page.keyboard.press("Escape")
    assert not overlay.is_visible()
    # d brings the suggestion's button forward; nothing is sent until Enter.
    page.keyboard.press("d")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused.startswith("按建议派给")
    with db.transaction() as session:
        assert session.scalar(select(Ticket.status).where(Ticket.number == numbers[1])) == \
            "reported"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_text(f"已按建议派单：{numbers[1]}").is_visible()
    with db.transaction() as session:
        assert session.scalar(select(Ticket.status).where(Ticket.number == numbers[1])) == \
            "dispatched"
    # Enter opens the chosen ticket.
    page.keyboard.press("j")
    chosen = current.get_attribute("data-ticket-url")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(chosen)


def test_the_worklist_by_keyboard(page, server, client) -> None:
    numbers = [new_ticket(client, description=f"和平路第 {n} 个路口流动摊贩占道经营")
               for n in range(2)]  # fmt: skip
    page.set_viewport_size(DESKTOP)
    sign_in(page, server, "cgj", "demo-unit-1")
    page.goto(f"{server}/console/worklist")
    page.keyboard.press("j")
    page.keyboard.press("j")
    chosen = page.locator("[data-ticket-url].is-current").get_attribute("data-ticket-url")
    assert chosen.rsplit("/", 1)[1] in numbers
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(chosen)
    # Typing in a field is typing, not a shortcut.
    page.goto(f"{server}/console/search")
    page.keyboard.press("/")
    page.keyboard.type("jk?")
    assert page.get_by_label("工单编号、热线工单号、来电号码、内容或地点").input_value() == "jk?"
    assert not page.locator("dialog#shortcuts-help").is_visible()
