"""A real browser (Debian's chromium, driven by Playwright) against the app served on a local
port with the test database. Screenshots of each main page go to tests/artifacts/."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import IN_CI

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]  # fmt: skip


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail("chromium is required under CI=true (make test installs it)")
        pytest.skip("chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    yield tab
    context.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page, server: str, username: str, password: str) -> None:
    page.goto(f"{server}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()


def action_box(page, label: str):
    """Where one action's form is on the ticket page: the next step's section when it is that
    action (its button in sight), else its section in the menu of other actions, opened."""
    step = page.locator("section.next-step").filter(
        has=page.get_by_role("button", name=label, exact=True)
    )
    if step.count():
        return step
    box = page.locator("details.action").filter(
        has=page.locator("summary", has_text=re.compile(f"^{re.escape(label)}$"))
    )
    box.locator("summary").click()
    return box


def ticket_action(page, label: str, **fields: str) -> None:
    """One action on the ticket page, as a person does it: the next step's form when it is
    that action (one click), else its form in the menu of other actions, opened first.
    ``fields`` are filled by their labels; waits for the page that answers."""
    box = action_box(page, label)
    for field, value in fields.items():
        box.get_by_label(field).fill(value)
    with page.expect_navigation():
        box.get_by_role("button", name=label, exact=True).click()


def fits(page) -> bool:
    """The page does not scroll sideways (asserted on every staff page at both sizes)."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def no_sideways_scroll(page) -> None:
    """Asserts ``fits``, naming both widths when it does not."""
    assert fits(page), (page.evaluate("document.documentElement.scrollWidth"),
                        page.viewport_size)  # fmt: skip
