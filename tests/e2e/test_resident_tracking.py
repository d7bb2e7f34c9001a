"""In a real browser at a phone's and a desktop's size: the tracking page with its copy button,
the photos before and after the fix, the rating's large choices (keyboard too), and finding
the page again by ticket number and phone with the SMS code the console channel "sent"."""

from __future__ import annotations

import io
import logging
import os
import re
from datetime import timedelta
from pathlib import Path

from notifications.outbox import flush
from tests.e2e.conftest import no_sideways_scroll
from tests.helpers import VALID, api_act, auth, csrf_token, image_bytes

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 900}}
SHOTS = Path(os.environ.get("HOTLINE_SHOTS_DIR", "tests/artifacts")) / "tracking"
FORM = {"category": "street-vending", "description": "和平路菜市场门口流动摊贩占道经营。",
        "address": "和平路 12 号", "reporter_name": "张三",
        "reporter_phone": VALID["reporter_phone"]}  # fmt: skip


def file_ticket(client, photos: int = 1) -> str:
    data = {**FORM, "csrf_token": csrf_token(client),
            "photos": [(io.BytesIO(image_bytes("JPEG", (640, 480))), f"p{i}.jpg")
                       for i in range(photos)]}  # fmt: skip
    response = client.post("/", data=data, content_type="multipart/form-data")
    assert response.status_code == 303
    return response.headers["Location"]


def resolve_with_evidence(client, number: str) -> None:
    unit = auth("hl_demo_unit")
    api_act(client, number, "accept", unit)
    upload = client.post(f"/api/v1/tickets/{number}/attachments", headers=unit,
                         data={"photos": [(io.BytesIO(image_bytes("JPEG", (640, 480))), "a.jpg")]},
                         content_type="multipart/form-data")  # fmt: skip
    api_act(client, number, "waive_co_units", auth("hl_demo_supervisor"), reason="已口头报告")
    api_act(client, number, "resolve", unit, reply="摊贩已劝离，已设置提示牌",
            evidence=[upload.json[0]["id"]])  # fmt: skip


def snap(page, name: str, size: str) -> None:
    no_sideways_scroll(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{size}.png"), full_page=True)


def test_tracking_page_copy_button_photos_and_rating_choices(browser, server, client) -> None:
    location = file_ticket(client)
    number = location.split("?")[0].rsplit("/", 1)[1]
    for size, viewport in SIZES.items():
        context = browser.new_context(
            locale="zh-CN", viewport=viewport, permissions=["clipboard-read", "clipboard-write"]
        )
        page = context.new_page()
        page.goto(server + location)
        assert page.get_by_text("本页链接").is_visible()
        page.get_by_role("button", name="复制链接").click()
        page.get_by_text("已复制").wait_for()
        link = page.locator("#track-link").input_value()
        assert page.evaluate("navigator.clipboard.readText()") == link
        snap(page, "track-new", size)
        context.close()

    resolve_with_evidence(client, number)
    plain = location.replace("&new=1", "")
    for size, viewport in SIZES.items():
        context = browser.new_context(locale="zh-CN", viewport=viewport)
        page = context.new_page()
        page.goto(server + plain)
        assert page.get_by_role("heading", name="整改后").is_visible()
        assert page.get_by_role("heading", name="现场照片").is_visible()
        choices = page.locator("label.choice")
        assert choices.count() == 5  # 已解决/未解决 and three levels of satisfaction
        for i in range(choices.count()):
            box = choices.nth(i).bounding_box()
            text = choices.nth(i).locator("span").bounding_box()
            assert box["height"] >= 44, box
            assert box["width"] >= 250, box  # a full-width row, not a two-character column
            assert text["height"] < 30, text  # the label's words on one line, not squeezed
        snap(page, "track-rating", size)
        context.close()


def test_rating_works_with_the_keyboard(browser, server, client) -> None:
    location = file_ticket(client, photos=0)
    resolve_with_evidence(client, location.split("?")[0].rsplit("/", 1)[1])
    context = browser.new_context(locale="zh-CN", viewport=SIZES["phone"])
    page = context.new_page()
    page.goto(server + location.replace("&new=1", ""))
    first = page.get_by_role("radio", name="已解决")
    first.focus()
    page.keyboard.press("Space")
    assert first.is_checked()
    page.keyboard.press("ArrowDown")  # within the group, as native radios do
    assert page.get_by_role("radio", name="未解决").is_checked()
    outline = page.locator("label.choice").nth(1).evaluate("e => getComputedStyle(e).outlineStyle")
    assert outline != "none"  # the focused choice is visibly marked
    page.get_by_role("radio", name="满意", exact=True).check()
    snap(page, "track-rating-checked", "phone")
    with page.expect_navigation():
        page.get_by_role("button", name="提交评价").click()
    assert page.get_by_text("感谢您的评价").is_visible()
    context.close()


def test_finding_the_page_again_by_number_phone_and_sms_code(browser, server, client, clock, db,
                                                             settings, caplog) -> None:  # fmt: skip
    caplog.set_level(logging.INFO, logger="hotline.notifications")
    location = file_ticket(client, photos=0)
    number = location.split("?")[0].rsplit("/", 1)[1]
    for size, viewport in SIZES.items():
        context = browser.new_context(locale="zh-CN", viewport=viewport)
        page = context.new_page()
        page.goto(f"{server}/lookup")
        snap(page, "lookup", size)
        page.get_by_label("工单编号").fill(number.lower())
        page.get_by_label("联系电话").fill("138 1234 1234")
        caplog.clear()
        with page.expect_navigation():
            page.get_by_role("button", name="发送验证码").click()
        assert page.get_by_text("如信息匹配，验证码已发送到该手机").is_visible()
        flush(settings, db)  # what the web process hands on after the response (inline.py)
        code = read_code(caplog, number)
        page.get_by_label("6 位验证码").fill("000000" if code != "000000" else "111111")
        with page.expect_navigation():
            page.get_by_role("button", name="查看办理进度").click()
        assert page.get_by_text("验证码不正确").is_visible()
        snap(page, "lookup-code", size)
        page.get_by_label("6 位验证码").fill(code)
        with page.expect_navigation():
            page.get_by_role("button", name="查看办理进度").click()
        assert re.search(rf"/track/{number}\?token=", page.url)
        assert page.get_by_role("heading", name=re.compile(number)).is_visible()
        no_sideways_scroll(page)
        context.close()
        clock.now += timedelta(seconds=61)  # one code a minute per ticket


def read_code(caplog, number: str) -> str:
    """The code from the console channel's line: the SMS the resident would have received."""
    for record in caplog.records:
        text = record.getMessage()
        if number in text and (found := re.search(r"验证码 (\d{6})", text)):
            return found.group(1)
    raise AssertionError("no lookup code was sent")
