"""An operator's day in a real browser, on a phone and a desktop: the queue's one-click
suggestion and bulk dispatch (a stale ticket reported, the others dispatched), callbacks
with nothing preset (未接通 leaves the ticket due), and the call intake's lookups appearing
while typing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from hotline.models import Ticket, TicketEvent
from tests.e2e.conftest import no_sideways_scroll, shot, sign_in
from tests.helpers import VALID, api_act, auth

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
SIZES = [pytest.param(PHONE, id="phone"), pytest.param(DESKTOP, id="desktop")]
# Routing finds two rules with the same score: a person decides, with both candidates shown.
TIE = "小区门口有人乱停车，还有垃圾乱堆，很久没人管"
UNSURE = "请问这个事情找谁办理呢，拖了很久"


def report(client, text: str, **more) -> dict:
    body = client.post("/api/v1/tickets", headers=auth(), json={
        **VALID, "category": None, "description": text, **more}).json  # fmt: skip
    assert body["status"] == "reported", body
    return body


def resolved(client, phone: str = "13812341234") -> str:
    """A ticket the unit has resolved: waiting for the callback."""
    number = client.post("/api/v1/tickets", headers=auth(),
                         json={**VALID, "reporter_phone": phone}).json["number"]  # fmt: skip
    api_act(client, number, "accept", auth("hl_demo_unit"))
    if client.get(f"/api/v1/tickets/{number}", headers=auth()).json["co_units"]:
        api_act(client, number, "waive_co_units", auth("hl_demo_supervisor"))
    api_act(client, number, "resolve", auth("hl_demo_unit"), reply="摊贩已劝离，设置了提示牌")
    return number


@pytest.mark.parametrize("size", SIZES)
def test_bulk_dispatch_of_three_tickets_reports_the_stale_one(page, server, client, db, clock,
                                                              size) -> None:  # fmt: skip
    numbers = [report(client, f"{UNSURE}（第 {i} 件）")["number"] for i in range(4)]
    page.set_viewport_size(size)
    sign_in(page, server, "operator", "demo-operator-1")
    page.goto(f"{server}/console/queue?sort=waiting")
    no_sideways_scroll(page)
    for number in numbers:
        page.get_by_label(f"选择 {number}").check()
    assert page.locator("#bulk-count").inner_text() == "已选 4 件"
    page.get_by_label("主办单位", exact=True).select_option("dept-cgj")
    name = "phone" if size is PHONE else "desktop"
    shot(page, f"30-queue-bulk-{name}")
    # Someone else changes the last one while the operator is choosing.
    clock.now += timedelta(minutes=2)
    api_act(client, numbers[3], "note", auth(), body="市民又来电补充了情况")
    with page.expect_navigation():
        page.get_by_role("button", name="派给所选单位").click()
    assert page.get_by_text("已派给示范市城市管理局 3 件").is_visible()
    stale = page.locator(".alert", has_text=numbers[3])
    assert stale.is_visible() and "已被他人修改" in stale.inner_text()
    no_sideways_scroll(page)
    shot(page, f"31-queue-after-bulk-{name}")
    with db.transaction() as session:
        for number in numbers[:3]:
            ticket = session.scalar(select(Ticket).where(Ticket.number == number))
            assert ticket.status == "dispatched" and ticket.lead_unit.code == "dept-cgj"
            dispatches = session.scalar(select(func.count()).where(
                TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "dispatched"))  # fmt: skip
            assert dispatches == 1
        left = session.scalar(select(Ticket).where(Ticket.number == numbers[3]))
        assert left.status == "reported" and left.lead_unit is None
    assert page.get_by_role("link", name=numbers[3]).is_visible()  # still in the queue


@pytest.mark.parametrize("size", SIZES)
def test_one_click_accepts_the_suggestion_but_never_the_returning_unit(page, server, client,
                                                                       size) -> None:  # fmt: skip
    tie = report(client, TIE)["number"]
    back = client.post("/api/v1/tickets", json=VALID, headers=auth()).json  # to 城管局
    api_act(client, back["number"], "return", auth("hl_demo_unit"), reason="应由市场监管处理")
    page.set_viewport_size(size)
    sign_in(page, server, "operator", "demo-operator-1")
    card = page.locator(".q-item", has=page.get_by_role("link", name=tie))
    text = card.inner_text()
    assert "乱堆乱放" in text and "乱停乱放" in text and "得分 1.25" in text  # top two
    returned = page.locator(".q-item", has=page.get_by_role("link", name=back["number"]))
    assert "应由市场监管处理" in returned.inner_text()
    assert "已排除刚退单的示范市城市管理局" in returned.inner_text()
    assert "按建议派给示范市城市管理局" not in returned.inner_text()
    no_sideways_scroll(page)
    shot(page, f"32-queue-suggestions-{'phone' if size is PHONE else 'desktop'}")
    with page.expect_navigation():
        card.get_by_role("button", name="按建议派给示范市城市管理局").click()
    assert page.get_by_text(f"已按建议派单：{tie} → 示范市城市管理局").is_visible()
    ticket = client.get(f"/api/v1/tickets/{tie}", headers=auth()).json
    assert ticket["status"] == "dispatched" and ticket["lead_unit"]["code"] == "dept-cgj"
    assert ticket["category"]["code"] == "clutter-piling"


@pytest.mark.parametrize("size", SIZES)
def test_the_dispatch_form_preselects_the_suggestion_in_grouped_lists(page, server, client,
                                                                      size) -> None:  # fmt: skip
    number = report(client, TIE)["number"]
    page.set_viewport_size(size)
    sign_in(page, server, "operator", "demo-operator-1")
    page.goto(f"{server}/console/tickets/{number}")
    form = page.locator("#next-step form")
    lead = form.locator("select[name=lead_unit]")
    assert lead.input_value() == "dept-cgj"  # routing's suggestion, preselected
    assert lead.locator("optgroup").evaluate_all("gs => gs.map(g => g.label)") == [
        "条：市级部门", "块：文明区"]  # fmt: skip
    assert form.get_by_label("和平街道", exact=True).is_checked()
    assert form.locator("[id$=-picked]").inner_text() == "已选：和平街道"
    # The search box narrows the co-units and opens their group; ticking updates 已选.
    form.get_by_placeholder("输入名称筛选，如 城管、和平").last.fill("东门社区第一")
    grid = form.get_by_label("东门社区第一网格")
    assert grid.is_visible() and not form.get_by_label("和平新村社区", exact=True).is_visible()
    grid.check()
    assert "东门社区第一网格" in form.locator("[id$=-picked]").inner_text()
    no_sideways_scroll(page)
    shot(page, f"36-dispatch-form-{'phone' if size is PHONE else 'desktop'}")
    with page.expect_navigation():
        form.get_by_role("button", name="派单 / 改派").click()
    ticket = client.get(f"/api/v1/tickets/{number}", headers=auth()).json
    assert ticket["lead_unit"]["code"] == "dept-cgj"
    assert ticket["category"]["code"] == "clutter-piling"
    assert {u["code"] for u in ticket["co_units"]} == {"st-heping", "grid-heping-dongmen-01"}


@pytest.mark.parametrize("size", SIZES)
def test_a_callback_marked_no_answer_leaves_the_ticket_due(page, server, client, size) -> None:
    number = resolved(client, phone="13900002222")
    page.set_viewport_size(size)
    sign_in(page, server, "operator", "demo-operator-1")
    page.goto(f"{server}/console/callbacks")
    card = page.locator(".cb-item", has=page.get_by_role("link", name=number))
    assert card.get_by_role("link", name="13900002222").get_attribute("href") == "tel:13900002222"
    no_sideways_scroll(page)
    name = "phone" if size is PHONE else "desktop"
    shot(page, f"33-callbacks-{name}")
    with page.expect_navigation():
        card.get_by_role("button", name="未接通").click()
    assert page.get_by_text(f"{number}：第 1 次回访未成功（未接通），仍在待回访中").is_visible()
    card = page.locator(".cb-item", has=page.get_by_role("link", name=number))
    assert "已回访 1 次未成功（最近一次：未接通" in card.inner_text()
    assert client.get(f"/api/v1/tickets/{number}", headers=auth()).json["status"] == "resolved"

    # The answer: nothing is preset, and submitting without one is refused next to the fields.
    card.locator("summary", has_text="登记回访结果").click()
    assert card.locator("input[type=radio]:checked").count() == 0
    with page.expect_navigation():
        card.get_by_role("button", name="提交回访结果").click()
    card = page.locator(".cb-item", has=page.get_by_role("link", name=number))
    assert card.get_by_text("请选择问题是否解决").is_visible()
    assert card.get_by_text("请选择满意程度").is_visible()
    no_sideways_scroll(page)
    shot(page, f"34-callback-refused-{name}")
    card.get_by_label("未解决").check()
    card.get_by_label("不满意").check()
    card.get_by_label("市民意见").fill("摊贩晚上又回来了")
    with page.expect_navigation():
        card.get_by_role("button", name="提交回访结果").click()
    assert page.get_by_text(f"回访登记：{number} 已记录市民答复").is_visible()
    assert client.get(f"/api/v1/tickets/{number}", headers=auth()).json["status"] == "reopened"


@pytest.mark.parametrize("size", SIZES)
def test_call_intake_shows_history_and_duplicates_while_typing(page, server, client,
                                                               size) -> None:  # fmt: skip
    earlier = client.post("/api/v1/tickets", json=VALID, headers=auth()).json["number"]
    page.set_viewport_size(size)
    sign_in(page, server, "operator", "demo-operator-1")
    page.goto(f"{server}/console/call")
    page.get_by_label("来电号码").fill("138 1234 1234")
    history = page.locator("#earlier")
    history.get_by_role("link", name=earlier).wait_for()  # no button pressed
    page.get_by_label("诉求内容").fill("和平路菜市场门口又有流动摊贩占道经营")
    page.locator("#duplicates").get_by_role("button", name=f"登记并合并到 {earlier}").wait_for()
    page.get_by_label("特急").check()
    page.get_by_label("来电时间").fill("2026-11-21T10:05")
    page.get_by_label("诉求类型").select_option("street-vending")
    no_sideways_scroll(page)
    shot(page, f"35-call-intake-{'phone' if size is PHONE else 'desktop'}")
    with page.expect_navigation():
        page.get_by_role("button", name="登记为新工单").click()
    assert page.get_by_text("已登记工单").is_visible()
    made = page.url.rsplit("/", 1)[-1]
    ticket = client.get(f"/api/v1/tickets/{made}", headers=auth()).json
    assert ticket["priority"] == "emergency" and ticket["channel"] == "call_centre"
