"""The import check page for a real 12345 export (prefixed columns, GB18030, 2019 orders) in
a browser at a phone's and a desktop's size: the column mapping is readable and nothing
scrolls sideways."""

from __future__ import annotations

import csv
import io

import pytest

from tests.e2e.conftest import no_sideways_scroll, shot, sign_in
from tests.services.test_import_real_headers import HEADER, ROWS

SIZES = {"phone": (390, 844), "desktop": (1366, 900)}


@pytest.mark.parametrize("size", SIZES)
def test_the_check_page_shows_which_column_went_where(page, server, db, tmp_path, size) -> None:
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    out = io.StringIO()
    csv.writer(out).writerows([HEADER, *ROWS])
    path = tmp_path / "12345导出-2019.csv"
    path.write_bytes(out.getvalue().encode("gb18030"))
    sign_in(page, server, "admin", "demo-admin-1")
    assert page.goto(f"{server}/console/admin/imports").status == 200
    page.get_by_label("导出文件", exact=False).set_input_files(str(path))
    with page.expect_navigation():
        page.get_by_role("button", name="上传并试运行").click()
    assert page.get_by_role("heading", name="列的对应").is_visible()
    assert page.get_by_role("cell", name="12345工单编号").is_visible()
    assert page.get_by_role("cell", name="→ 工单性质").is_visible()
    assert page.get_by_text("诉求类型“占道摆卖”不是已知类别：2 行").is_visible()
    no_sideways_scroll(page)
    shot(page, f"69-admin-import-headers-{size}")
