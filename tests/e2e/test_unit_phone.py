"""A unit's working day on a phone (390×844) and at a desk (1366×900), in a real browser: the
worklist as cards with the next deadline counting down, the ticket page with what to know at
the top and the one next step as a button, a 4 MB photo that survives a refusal, the return
that lands on the worklist, and the printed A4 sheet with its QR code."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, update

from hotline.models import Attachment, Ticket
from tests.e2e.conftest import fits, shot, sign_in, ticket_action
from tests.helpers import VALID, api_act, auth
from tests.helpers.photos import MB, NAMES, phone_photo

PHONE = {"width": 390, "height": 844}
SIZES = {"phone": PHONE, "desktop": {"width": 1366, "height": 900}}
UNIT = auth("hl_demo_unit")
SUPERVISOR = auth("hl_demo_supervisor")


def new_ticket(client, **changes) -> dict:
    return client.post("/api/v1/tickets", json={**VALID, **changes}, headers=auth()).json


def card(page, number: str):
    return page.locator("table.worklist tbody tr", has_text=number)


def test_a_unit_on_a_phone_accepts_then_resolves_with_a_4_mb_photo(
    page, server, client, app, settings, db, make_user, tmp_path
) -> None:
    app.extensions["hotline"].settings = replace(settings, max_photo_bytes=5 * MB, max_photos=4)
    photo = tmp_path / NAMES["JPEG"]
    photo.write_bytes(phone_photo("JPEG"))
    assert photo.stat().st_size >= 4 * MB
    number = new_ticket(client)["number"]
    # The operator puts 市场监管局 on it as co-unit; its staff report through the API.
    api_act(client, number, "dispatch", auth(), lead_unit="dept-cgj", co_units=["dept-scjgj"])
    _, co_token = make_user("scj-staff", "unit", "dept-scjgj")

    page.set_viewport_size(PHONE)
    sign_in(page, server, "cgj", "demo-unit-1")
    assert page.url.endswith("/console/worklist")
    assert "签收剩 4小时" in card(page, number).inner_text()  # the first deadline, shown
    assert fits(page)
    shot(page, "40-unit-worklist-phone")

    card(page, number).locator("a.number").click()
    page.wait_for_url(f"**/console/tickets/{number}")
    assert page.get_by_role("heading", name="下一步：签收").is_visible()
    assert fits(page)
    shot(page, "41-unit-ticket-to-accept-phone")
    ticket_action(page, "签收")  # one tap
    assert page.get_by_text("签收：已完成").is_visible()
    # 办结 is not offered while the co-unit has not reported: the menu says why instead.
    assert page.locator("details.action summary", has_text=re.compile("^办结$")).count() == 0
    assert page.get_by_text("办结：协办单位尚未全部报告").is_visible()
    assert "尚未报告" in page.locator(".facts .co-reports").inner_text()
    shot(page, "42-unit-ticket-waiting-for-co-unit-phone")

    api_act(client, number, "report_part", auth(co_token), body="已检查周边商户，无店外经营")
    page.reload()
    assert "已检查周边商户，无店外经营" in page.locator(".facts .co-reports").inner_text()
    resolve = page.locator("details.action").filter(
        has=page.locator("summary", has_text=re.compile("^办结$")))  # fmt: skip
    resolve.locator("summary").click()
    resolve.get_by_label("办理结果（市民可见）").fill("摊贩已劝离，设置了提示牌")
    resolve.locator("input[type=file]").set_input_files(str(photo))
    # Meanwhile the supervisor urges it: the page the unit holds is now stale.
    api_act(client, number, "supervise", SUPERVISOR, notice="请今天内办结并上传照片")
    with page.expect_navigation():
        resolve.get_by_role("button", name="办结", exact=True).click()
    assert "已被他人修改" in page.get_by_role("alert").inner_text()
    assert "1 张照片已保存" in page.locator("p.kept").inner_text()  # not lost
    assert "请今天内办结并上传照片" in page.locator(".facts").inner_text()
    kept = page.locator("details.action[open] input[name=evidence]")
    assert kept.count() == 1 and kept.is_checked()
    reply = page.locator("details.action[open]").get_by_label("办理结果（市民可见）")
    assert reply.input_value() == "摊贩已劝离，设置了提示牌"  # what was typed, kept
    assert fits(page)
    shot(page, "43-unit-ticket-refused-photo-kept-phone")

    with page.expect_navigation():  # no second upload of 4 MB over the phone network
        page.locator("details.action[open]").get_by_role("button", name="办结", exact=True).click()
    assert page.get_by_text("办结：已完成").is_visible()
    assert "整改后（办结照片）" in page.locator(".complaint").inner_text()
    shot(page, "44-unit-ticket-resolved-phone")
    with db.transaction() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        rows = list(session.scalars(select(Attachment).where(Attachment.ticket_id == ticket.id)))
        assert ticket.status == "resolved"
        assert [(r.public, r.event_id is not None, r.original_name) for r in rows] == [
            (True, True, NAMES["JPEG"])]  # fmt: skip


def test_the_dissatisfied_residents_words_are_at_the_top_of_the_reopened_ticket(
    page, server, client
) -> None:
    created = new_ticket(client)
    number = created["number"]
    api_act(client, number, "accept", UNIT)
    if client.get(f"/api/v1/tickets/{number}", headers=auth()).json["co_units"]:
        api_act(client, number, "waive_co_units", SUPERVISOR)
    api_act(client, number, "resolve", UNIT, reply="摊贩已劝离")

    link = urlsplit(created["tracking_url"])  # made for the API client's host: ours instead
    page.goto(f"{server}{link.path}?{link.query}")  # the resident answers on the tracking page
    page.get_by_label("未解决").check()
    page.get_by_label("不满意").check()
    page.get_by_label("意见或建议（可选）").fill("摊贩第二天又回来了")
    with page.expect_navigation():
        page.get_by_role("button", name="提交评价").click()

    for size, viewport in SIZES.items():
        page.context.clear_cookies()
        page.set_viewport_size(viewport)
        sign_in(page, server, "cgj", "demo-unit-1")
        row = card(page, number)
        badges = row.locator(".badge").all_inner_texts()
        assert "重办" in badges and "催办" in badges  # escalated, its own badge
        assert "超期" not in badges and "overdue" not in (row.get_attribute("class") or "")
        assert fits(page)
        shot(page, f"45-unit-worklist-reopened-{size}")
        page.goto(f"{server}/console/tickets/{number}")
        facts = page.locator("section.facts")
        text = facts.inner_text()
        assert "摊贩第二天又回来了" in text and "不满意" in text and "未解决" in text
        assert "上次办结答复：摊贩已劝离" in text
        # At the top: before the next step and the complaint.
        top = facts.bounding_box()["y"]
        assert top < page.locator("section.next-step").bounding_box()["y"]
        assert top < page.locator("section.complaint").bounding_box()["y"]
        assert page.get_by_role("heading", name="下一步：办结").is_visible()
        assert fits(page)
        shot(page, f"46-unit-ticket-reopened-{size}")


def test_after_a_return_the_unit_lands_on_its_worklist(page, server, client) -> None:
    number = new_ticket(client)["number"]
    page.set_viewport_size(PHONE)
    sign_in(page, server, "cgj", "demo-unit-1")
    page.goto(f"{server}/console/tickets/{number}")
    ticket_action(page, "退单", 退单理由="该点位属于市场监管职责")
    assert page.url.endswith("/console/worklist")
    assert page.get_by_text(f"工单 {number} 已退单").is_visible()
    assert page.get_by_role("heading", name="我的待办").is_visible()
    assert card(page, number).count() == 0
    assert "查询链接" not in page.content()  # not the public 404
    shot(page, "47-unit-returned-to-worklist-phone")


@pytest.mark.parametrize("size", list(SIZES))
def test_the_worklist_and_ticket_pages_fit_the_screen(page, server, client, db, clock,
                                                      size: str) -> None:  # fmt: skip
    numbers = [new_ticket(client)["number"] for _ in range(4)]
    long_place = "文明区和平路与解放大道交叉口东北角菜市场南门外人行道（靠近公交站台）"
    with db.transaction() as session:
        def change(number: str, **values) -> None:
            session.execute(update(Ticket).where(Ticket.number == number).values(**values))

        # 签收 was due Friday 15:00; it is Saturday: two working hours late.
        change(numbers[0], accept_by=clock.now - timedelta(hours=19, minutes=30))
        change(numbers[1], supervision_level=2, address=long_place)
        change(numbers[2], description="夜里" + "工地施工噪音很大，" * 30)
    page.set_viewport_size(SIZES[size])
    sign_in(page, server, "cgj", "demo-unit-1")
    late = card(page, numbers[0])
    assert "overdue" in late.get_attribute("class") and "签收超期 2小时" in late.inner_text()
    assert "督办" in card(page, numbers[1]).locator(".badge").all_inner_texts()
    assert fits(page)
    shot(page, f"48-unit-worklist-mixed-{size}")
    if size == "phone":  # the whole card is the link, a big target
        box = late.bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] - 8)
        page.wait_for_url(f"**/console/tickets/{numbers[0]}")
    page.goto(f"{server}/console/tickets/{numbers[1]}")
    assert fits(page)
    shot(page, f"49-unit-ticket-{size}")


def test_the_printed_ticket_is_one_a4_page_with_a_qr_code(page, server, client) -> None:
    number = new_ticket(client, description="和平路菜市场门口流动摊贩占道经营。" * 20)["number"]
    for note in range(20):  # a long history: the sheet shows the latest events
        api_act(client, number, "note", SUPERVISOR, body=f"第 {note + 1} 次现场核查记录")
    sign_in(page, server, "cgj", "demo-unit-1")
    page.goto(f"{server}/console/tickets/{number}")
    with page.expect_navigation():
        page.get_by_role("link", name="打印工单").click()
    assert page.locator("svg.qr").is_visible()
    assert page.get_by_role("button", name="打印").is_visible()  # print.js showed it
    assert "更早的" in page.locator(".ticket-sheet").inner_text()
    shot(page, "50-unit-ticket-print")
    page.emulate_media(media="print")
    assert not page.locator(".print-tools").is_visible()
    pdf = page.pdf(format="A4", prefer_css_page_size=True)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1  # one sheet of paper
    page.emulate_media(media="screen")
    page.set_viewport_size(PHONE)
    assert fits(page)
    shot(page, "51-unit-ticket-print-phone")
