"""The pages added for sessions and personal data fit a 390 px phone without sideways
scrolling: 修改密码, the admin's account page (with 重置密码) and 个人信息删除."""

from __future__ import annotations

from tests.e2e.conftest import shot, sign_in
from tests.helpers import VALID, auth

PHONE = {"width": 390, "height": 844}


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_account_and_privacy_pages_fit_a_phone(page, server, client) -> None:
    client.post("/api/v1/tickets", json=VALID, headers=auth())
    page.set_viewport_size(PHONE)
    sign_in(page, server, "admin", "demo-admin-1")
    for name, path in (("20-password", "/console/password"),
                       ("21-admin-users-reset", "/console/admin/users"),
                       ("22-admin-privacy", "/console/admin/privacy")):  # fmt: skip
        assert page.goto(f"{server}{path}").status == 200
        assert fits(page), path
        shot(page, name)
    page.get_by_label("市民的电话号码").fill("138 1234 1234")
    with page.expect_navigation():
        page.get_by_role("button", name="查找工单数量").click()
    assert page.get_by_text("件工单").first.is_visible() and fits(page)
    shot(page, "23-admin-privacy-confirm")
    page.goto(f"{server}/console/password")
    page.get_by_label("当前密码").fill("wrong-password")
    page.get_by_label("新密码（至少 10 位）").fill("short")
    page.get_by_label("再次输入新密码").fill("other")
    with page.expect_navigation():
        page.get_by_role("button", name="修改密码").click()
    assert page.get_by_text("当前密码不正确").is_visible() and fits(page)
    shot(page, "24-password-errors")
