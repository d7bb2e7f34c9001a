"""The complaint form in a real browser, on a phone first (issue 14): a double tap files one
ticket, every error at once with the focus on the first, the character counter, phone
photos (4 MB JPEG, HEIC) going through, an oversized photo keeping the text, the place from
the phone's position, 我也遇到了, 200% zoom, no JavaScript, and the page's weight."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import func, select

from hotline.models import Attachment, Ticket, TicketFollower
from tests.e2e.conftest import no_sideways_scroll, shot
from tests.helpers import VALID, auth
from tests.helpers.photos import MB, NAMES, over_limit_photo, phone_photo

PHONE = {"width": 390, "height": 844}
SIZES = {"phone": PHONE, "desktop": {"width": 1366, "height": 900}}
TEXT = "和平农贸市场门口流动摊贩占道经营，行人只能走机动车道。"
MARKET = (30.2761, 120.1540)  # 和平农贸市场 in the seeded gazetteer


@pytest.fixture
def settings(settings):
    # Phones' photos as they are: 4–5 MB each.
    return replace(settings, max_photo_bytes=5 * MB, max_photos=4)


@pytest.fixture
def phone(browser):
    context = browser.new_context(locale="zh-CN", viewport=PHONE)
    tab = context.new_page()
    yield tab
    context.close()


def count(db, model=Ticket) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model))


def fill(page, description: str = TEXT, phone: str = "13812341234") -> None:
    page.get_by_label("问题描述").fill(description)
    page.get_by_label("联系电话").fill(phone)


def test_a_double_tap_files_one_ticket(phone, server, db) -> None:
    phone.goto(f"{server}/")
    fill(phone)
    with phone.expect_navigation(url="**/track/**"):
        phone.get_by_role("button", name="提交").dblclick()
    assert "提交成功" in phone.content()
    assert count(db) == 1
    no_sideways_scroll(phone)


def test_the_button_says_it_is_sending(phone, server) -> None:
    phone.goto(f"{server}/")
    fill(phone)
    # Listened to after the form's script: the post is held so the button can be looked at.
    phone.evaluate("document.getElementById('report')"
                   ".addEventListener('submit', function (e) { e.preventDefault(); })")  # fmt: skip
    phone.get_by_role("button", name="提交").click()
    button = phone.locator("#submit")
    assert button.is_disabled() and button.inner_text() == "正在提交…"


@pytest.mark.parametrize("size", list(SIZES))
def test_every_error_at_once_with_the_focus_on_the_first(browser, server, db, size) -> None:
    context = browser.new_context(locale="zh-CN", viewport=SIZES[size])
    page = context.new_page()
    try:
        page.goto(f"{server}/")
        no_sideways_scroll(page)
        shot(page, f"80-form-empty-{size}")
        with page.expect_navigation():
            page.get_by_role("button", name="提交").click()
        summary = page.get_by_role("alert").filter(has_text="请修改以下 2 处后重新提交")
        assert summary.is_visible()
        assert page.evaluate("document.activeElement.id") == "description"
        for field in ("问题描述", "联系电话"):
            assert page.get_by_label(field).get_attribute("aria-invalid") == "true"
        assert page.locator("#description-error").is_visible()
        assert page.locator("#reporter_phone-error").is_visible()
        page.get_by_role("link", name="联系电话：请填写联系电话，或选择匿名反映").click()
        assert page.evaluate("location.hash") == "#reporter_phone"
        no_sideways_scroll(page)
        shot(page, f"81-form-errors-{size}")
        assert count(db) == 0
    finally:
        context.close()


def test_the_counter_says_how_far_over_the_limit(phone, server, db) -> None:
    phone.goto(f"{server}/")
    counter = phone.locator("#description-count")
    phone.get_by_label("问题描述").fill("占" * 1990)
    assert counter.inner_text() == "已输入 1990/2000 字"
    phone.get_by_label("联系电话").fill("13812341234")
    phone.get_by_label("问题描述").fill("占" * 2100)
    assert "已输入 2100/2000 字，超出 100 字" in counter.inner_text()
    assert counter.get_attribute("role") == "alert"
    phone.get_by_role("button", name="提交").click()
    assert phone.evaluate("document.activeElement.id") == "description"
    assert len(phone.get_by_label("问题描述").input_value()) == 2100  # nothing was cut
    assert count(db) == 0
    no_sideways_scroll(phone)


def test_a_4_mb_jpeg_and_a_heic_photo_go_through(phone, server, db) -> None:
    phone.goto(f"{server}/")
    fill(phone)
    phone.locator("#photos").set_input_files([
        {"name": NAMES["JPEG"], "mimeType": "image/jpeg", "buffer": phone_photo("JPEG")},
        {"name": NAMES["HEIF"], "mimeType": "image/heic", "buffer": phone_photo("HEIF")},
    ])  # fmt: skip
    assert phone.locator("#photos-check").is_hidden()
    with phone.expect_navigation(url="**/track/**", timeout=60000):
        phone.get_by_role("button", name="提交").click()
    assert "提交成功" in phone.content()
    with db.transaction() as session:
        types = session.scalars(select(Attachment.content_type)).all()
    assert sorted(types) == ["image/jpeg", "image/jpeg"]  # HEIC is stored as JPEG
    assert phone.locator(".photos img").count() == 2
    no_sideways_scroll(phone)


def test_without_javascript_an_oversized_photo_keeps_the_text(browser, server, db) -> None:
    context = browser.new_context(locale="zh-CN", viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{server}/")
        fill(page)
        page.get_by_label("发生地点").fill("和平农贸市场")
        page.locator("#photos").set_input_files([
            {"name": "IMG_BIG.JPG", "mimeType": "image/jpeg", "buffer": over_limit_photo(5 * MB)}
        ])  # fmt: skip
        with page.expect_navigation():
            page.get_by_role("button", name="提交").click()
        assert page.get_by_label("问题描述").input_value() == TEXT
        assert page.get_by_label("发生地点").input_value() == "和平农贸市场"
        assert "IMG_BIG.JPG" in page.locator("#photos-error").inner_text()
        assert "照片需要重新选择" in page.content()
        no_sideways_scroll(page)
        assert count(db) == 0
    finally:
        context.close()


def test_without_javascript_the_whole_submit_works(browser, server, db) -> None:
    context = browser.new_context(locale="zh-CN", viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{server}/")
        assert page.locator("#locate").is_hidden()  # needs JavaScript and a position
        page.get_by_label("问题类别").select_option(label="占道经营")
        fill(page)
        page.get_by_label("发生地点").fill("和平农贸市场")
        with page.expect_navigation(url="**/track/**"):
            page.get_by_role("button", name="提交").click()
        assert "提交成功" in page.content()
        with db.transaction() as session:
            ticket = session.scalar(select(Ticket))
            assert ticket.territorial_unit.code == "grid-heping-xincun-02"
    finally:
        context.close()


def test_my_position_offers_the_nearest_known_place(browser, server, db) -> None:
    context = browser.new_context(
        locale="zh-CN", viewport=PHONE, permissions=["geolocation"],
        geolocation={"latitude": MARKET[0], "longitude": MARKET[1]},
    )  # fmt: skip
    page = context.new_page()
    try:
        page.goto(f"{server}/")
        page.get_by_role("button", name="使用我的位置").click()
        result = page.locator("#locate-result")
        result.get_by_text("您是否在 和平农贸市场 附近？").wait_for()
        no_sideways_scroll(page)
        shot(page, "82-form-my-position-phone")
        result.get_by_role("button", name="使用该地点").click()
        assert page.get_by_label("发生地点").input_value() == "和平农贸市场"
        fill(page)
        with page.expect_navigation(url="**/track/**"):
            page.get_by_role("button", name="提交").click()
        with db.transaction() as session:
            ticket = session.scalar(select(Ticket))
            assert ticket.address == "和平农贸市场"
            assert (round(ticket.latitude, 4), round(ticket.longitude, 4)) == MARKET
    finally:
        context.close()


@pytest.mark.parametrize("size", list(SIZES))
def test_i_have_it_too_adds_a_follower(browser, server, client, db, size) -> None:
    body = {**VALID, "address": "和平农贸市场"}
    assert client.post("/api/v1/tickets", json=body, headers=auth()).status_code == 201
    context = browser.new_context(locale="zh-CN", viewport=SIZES[size])
    page = context.new_page()
    try:
        page.goto(f"{server}/")
        page.get_by_label("问题类别").select_option(label="占道经营")
        page.get_by_label("联系电话").fill("13900001111")
        page.get_by_label("发生地点").fill("和平农贸市场")
        page.keyboard.press("Escape")  # close the place suggestions, as a tap elsewhere would
        box = page.locator("#similar .similar")
        box.get_by_text("附近已有 1 位市民反映过此问题").wait_for()
        assert "占道经营" in box.inner_text() and "和平农贸市场" in box.inner_text()
        assert box.get_by_label("您的手机号码").input_value() == "13900001111"
        no_sideways_scroll(page)
        shot(page, f"83-form-similar-{size}")
        page.evaluate("window.scrollTo(0, 0)")  # a full-page shot leaves the page scrolled oddly
        with page.expect_navigation():
            box.get_by_role("button", name="我也遇到了").click()
        assert page.get_by_role("heading", name="已关注该问题").is_visible()
        assert "139****1111" in page.content()
        no_sideways_scroll(page)
        shot(page, f"84-followed-{size}")
        assert count(db, TicketFollower) == 1 and count(db) == 1
    finally:
        context.close()


def test_submitting_anyway_stays_possible(phone, server, client, db) -> None:
    body = {**VALID, "address": "和平农贸市场"}
    assert client.post("/api/v1/tickets", json=body, headers=auth()).status_code == 201
    phone.goto(f"{server}/")
    phone.get_by_label("问题类别").select_option(label="占道经营")
    phone.get_by_label("发生地点").fill("和平农贸市场")
    phone.locator("#similar .similar").wait_for()
    fill(phone)
    with phone.expect_navigation(url="**/track/**"):
        phone.get_by_role("button", name="提交").click()
    assert count(db) == 2 and count(db, TicketFollower) == 0


@pytest.mark.parametrize("zoomed", [{"width": 683, "height": 450}, {"width": 320, "height": 568}])
def test_at_200_percent_zoom_nothing_scrolls_sideways(browser, server, zoomed) -> None:
    # 1366 px at 200% is a 683 px wide page; 320 px is where text must reflow (WCAG 1.4.10).
    context = browser.new_context(locale="zh-CN", viewport=zoomed, device_scale_factor=2)
    page = context.new_page()
    try:
        page.goto(f"{server}/")
        with page.expect_navigation():
            page.get_by_role("button", name="提交").click()
        no_sideways_scroll(page)
        shot(page, f"85-form-errors-zoom-{zoomed['width']}")
    finally:
        context.close()


def test_the_form_weighs_under_100_kb(phone, server) -> None:
    sizes: dict[str, int] = {}
    phone.on("response", lambda r: sizes.__setitem__(r.url, len(r.body())))
    phone.goto(f"{server}/", wait_until="networkidle")
    assert any(url.endswith(".css") for url in sizes) and any(url.endswith(".js") for url in sizes)
    assert sum(sizes.values()) < 100 * 1024, sizes
