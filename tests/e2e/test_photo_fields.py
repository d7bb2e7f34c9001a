"""Photo fields in a real browser, on a phone and a desktop: a photo over the limit is named
before anything is uploaded (photos.js), and without JavaScript the server says the same
next to the field with what was typed kept. Staff pages never scroll sideways."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import action_box, fits, shot, sign_in, ticket_action
from tests.helpers import VALID, api_act, auth, image_bytes

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 900}}
TEXT = "和平路菜市场门口流动摊贩占道经营，行人只能走机动车道。"


def too_big(settings) -> dict:
    data = image_bytes("JPEG", (64, 48))
    return {"name": "IMG_4032.JPG", "mimeType": "image/jpeg",
            "buffer": data + b"\0" * (settings.max_photo_bytes + 1 - len(data))}  # fmt: skip


@pytest.mark.parametrize("size", list(SIZES))
def test_the_form_names_a_photo_over_the_limit_before_uploading(page, server, settings,
                                                                size: str) -> None:  # fmt: skip
    page.set_viewport_size(SIZES[size])
    page.goto(f"{server}/")
    page.get_by_label("问题描述").fill(TEXT)
    page.get_by_label("联系电话").fill("13812341234")
    page.locator("#photos").set_input_files([too_big(settings)])
    warning = page.locator("#photos-check")
    assert "IMG_4032.JPG" in warning.inner_text() and warning.is_visible()
    assert "不能超过 0.5 MB" in warning.inner_text()
    page.get_by_role("button", name="提交").click()
    assert page.url.rstrip("/") == server  # nothing was sent
    assert page.locator("#photos").get_attribute("aria-invalid") == "true"
    assert fits(page)
    shot(page, f"30-form-photo-too-big-{size}")


@pytest.mark.parametrize("size", list(SIZES))
def test_without_javascript_the_server_keeps_the_form(browser, server, settings,
                                                      size: str) -> None:  # fmt: skip
    context = browser.new_context(locale="zh-CN", viewport=SIZES[size], java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{server}/")
        page.get_by_label("问题描述").fill(TEXT)
        page.get_by_label("联系电话").fill("13812341234")
        page.locator("#photos").set_input_files([too_big(settings)])
        with page.expect_navigation():
            page.get_by_role("button", name="提交").click()
        assert page.get_by_label("问题描述").input_value() == TEXT
        error = page.locator("#photos-error")
        assert "IMG_4032.JPG" in error.inner_text() and error.is_visible()
        assert fits(page)
        shot(page, f"31-form-photo-refused-nojs-{size}")
    finally:
        context.close()


@pytest.mark.parametrize("size", list(SIZES))
def test_the_units_evidence_field_on_a_phone_and_a_desktop(page, server, client, settings,
                                                           size: str) -> None:  # fmt: skip
    number = client.post("/api/v1/tickets", json=VALID, headers=auth()).json["number"]
    page.set_viewport_size(SIZES[size])
    sign_in(page, server, "cgj", "demo-unit-1")
    page.goto(f"{server}/console/tickets/{number}")
    assert fits(page)
    ticket_action(page, "签收")
    assert page.get_by_text("签收：已完成").is_visible()
    if client.get(f"/api/v1/tickets/{number}", headers=auth()).json["co_units"]:
        # 办结 is offered once the street's part is waived (a supervisor may, once accepted).
        api_act(client, number, "waive_co_units", auth("hl_demo_supervisor"))
        page.reload()
    resolve = action_box(page, "办结")  # in the menu: the first feedback is the next step
    resolve.locator("input[type=file]").set_input_files([too_big(settings)])
    assert "IMG_4032.JPG" in resolve.locator(".error").first.inner_text()
    assert fits(page)
    shot(page, f"32-unit-ticket-evidence-{size}")
