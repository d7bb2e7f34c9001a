"""A history import from the console in a browser at a phone's and a desktop's size: the
实时/历史 choice, the dry run's closed/open/refused counts, a waiting batch cancelled with its
button (after the confirmation), then the same file imported — and no page scrolls sideways."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.e2e.conftest import no_sideways_scroll, shot, sign_in
from tests.pages.test_import_page_history import export

SIZES = {"phone": (390, 844), "desktop": (1366, 900)}


def upload_history(page, server: str, path) -> None:
    assert page.goto(f"{server}/console/admin/imports").status == 200
    page.get_by_label("导出文件", exact=False).set_input_files(str(path))
    page.get_by_role("radio", name="历史导入").check()
    with page.expect_navigation():
        page.get_by_role("button", name="上传并试运行").click()


@pytest.mark.parametrize("size", SIZES)
def test_a_history_import_and_its_cancel_fit_the_screen(page, server, app, settings, db,
                                                        tmp_path, size) -> None:  # fmt: skip
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    path = tmp_path / "12345办结工单-2019.csv"
    path.write_bytes(export())
    extension = app.extensions["hotline"]
    # Above the inline size and no runner here: the batch waits, so it can be cancelled.
    extension.settings = replace(settings, import_inline_bytes=256)
    sign_in(page, server, "admin", "demo-admin-1")
    assert page.goto(f"{server}/console/admin/imports").status == 200
    assert page.get_by_role("radio", name="实时导入").is_checked()
    page.get_by_role("radio", name="历史导入").check()
    no_sideways_scroll(page)
    shot(page, f"70-admin-import-upload-history-{size}")

    upload_history(page, server, path)
    assert page.get_by_text("导入方式", exact=False).first.is_visible()
    closed = page.locator(".figures div").filter(has_text="已办结/已关闭")
    assert closed.locator("strong").inner_text() == "3"
    assert page.locator(".figures div").filter(has_text="仍在办理").locator("strong") \
        .inner_text() == "1"  # fmt: skip
    no_sideways_scroll(page)
    shot(page, f"71-admin-import-check-history-{size}")

    with page.expect_navigation():
        page.get_by_role("button", name="开始导入", exact=False).click()
    assert page.get_by_role("heading", name="状态：等待开始").is_visible()
    button = page.get_by_role("button", name="取消导入")
    assert button.is_visible()
    no_sideways_scroll(page)
    shot(page, f"72-admin-import-batch-waiting-{size}")
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        button.click()
    assert page.get_by_role("heading", name="状态：已取消").is_visible()
    assert page.get_by_text("已取消导入批次", exact=False).is_visible()
    assert page.get_by_role("button", name="取消导入").count() == 0
    no_sideways_scroll(page)
    shot(page, f"73-admin-import-batch-cancelled-{size}")

    extension.settings = settings  # small again: imported within the start
    upload_history(page, server, path)
    with page.expect_navigation():
        page.get_by_role("button", name="开始导入", exact=False).click()
    assert page.get_by_role("heading", name="状态：已完成").is_visible()
    assert page.locator(".figures div").filter(has_text="已办结/已关闭").locator("strong") \
        .inner_text() == "3"  # fmt: skip
    no_sideways_scroll(page)
    shot(page, f"74-admin-import-batch-history-{size}")

    assert page.goto(f"{server}/console/admin/imports").status == 200
    listed = page.locator("table.cards tbody tr")
    assert listed.count() == 2
    assert listed.nth(1).get_by_text("已取消").is_visible()
    assert listed.nth(0).get_by_text("历史", exact=True).is_visible()
    no_sideways_scroll(page)
    shot(page, f"75-admin-imports-list-{size}")
