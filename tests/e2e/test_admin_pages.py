"""The admin pages in a real browser at a phone's width (390) and a desktop's (1366): none
scrolls sideways, and the working paths (a unit under its parent, an import from its dry
run to its refused rows, a learned draft compared with the active ruleset, a password
reset) are walked with the page's own forms."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

import pytest
from sqlalchemy import delete, select

from hotline.models import RulesetRecord, Unit, User
from tests.e2e.conftest import no_sideways_scroll, shot, sign_in
from tests.helpers import restore_seeded_ruleset

SIZES = {"phone": (390, 844), "desktop": (1366, 900)}


def at(page, size: str) -> None:
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})


def visit(page, url: str, name: str | None = None) -> None:
    assert page.goto(url).status == 200, url
    no_sideways_scroll(page)
    if name:
        shot(page, name)


def fits(page, name: str) -> None:
    no_sideways_scroll(page)
    shot(page, name)


def export(tmp_path) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["工单编号", "诉求内容", "事件发生地", "承办单位", "来电号码", "来电时间"])
    for i in range(1, 201):
        when = "2026-02-30 09:00" if i % 40 == 0 else f"2026-11-{1 + i % 20:02d} 09:{i % 60:02d}"
        writer.writerow([f"GD{i:05d}", f"和平路菜市场门口流动摊贩占道经营（第{i}件）",
                         "和平路", "城管局", f"1380000{i:04d}", when])  # fmt: skip
    path = tmp_path / "12345导出.csv"
    path.write_bytes(out.getvalue().encode("gb18030"))
    return str(path)


def labelled(tmp_path) -> str:
    kinds = {"占道经营": ("流动摊贩占道经营", "小贩在人行道摆摊", "夜市摊点占用道路"),
             "噪音扰民": ("夜里施工噪音扰民", "广场舞音响声音太大", "装修电钻噪音"),
             "dept-jtysj": ("公交车到站不停", "出租车拒载绕路", "网约车乱收费")}  # fmt: skip
    places = ("和平路", "振兴路", "新华里", "滨河公园", "东门菜市场")
    path = tmp_path / "history.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["诉求内容", "类别"])
        for label, texts in kinds.items():
            for i in range(30):
                writer.writerow([f"{places[i % 5]}{texts[i % 3]}，请尽快处理", label])
    return str(path)


@pytest.mark.parametrize("size", SIZES)
def test_units_and_categories(page, server, db, size) -> None:
    at(page, size)
    sign_in(page, server, "admin", "demo-admin-1")
    visit(page, f"{server}/console/admin/units", f"60-admin-units-{size}")
    assert page.get_by_role("link", name="和平新村社区第一网格").is_visible()
    page.get_by_label("查找单位").fill("振兴 第一网格")
    with page.expect_navigation():
        page.get_by_role("button", name="查找").click()
    fits(page, f"61-admin-units-search-{size}")
    assert page.get_by_text("文明区 › 振兴街道 › 振兴路社区 › 振兴路社区第一网格").is_visible()

    visit(page, f"{server}/console/admin/units/new?parent=st-heping")
    page.get_by_label("类型").select_option("grid")  # under a street: refused
    page.get_by_label("名称").fill("和平街道临时网格")
    page.get_by_label("编码（", exact=False).fill(f"grid-e2e-{size}")
    with page.expect_navigation():
        page.get_by_role("button", name="新建单位").click()
    assert page.get_by_text("网格的上级应为社区").is_visible()
    fits(page, f"62-admin-unit-new-refused-{size}")
    page.get_by_label("上级单位", exact=False).select_option("cm-heping-xincun")
    try:
        with page.expect_navigation():
            page.get_by_role("button", name="新建单位").click()
        assert page.get_by_text("已新建单位 和平街道临时网格").is_visible()
        fits(page, f"63-admin-unit-{size}")
    finally:
        with db.transaction() as session:
            session.execute(delete(Unit).where(Unit.code == f"grid-e2e-{size}"))

    visit(page, f"{server}/console/admin/categories", f"64-admin-categories-{size}")
    page.get_by_label("查找类别").fill("噪音")
    with page.expect_navigation():
        page.get_by_role("button", name="查找").click()
    assert page.get_by_role("link", name="噪音扰民").is_visible()
    fits(page, f"65-admin-categories-search-{size}")
    visit(page, f"{server}/console/admin/categories/noise")


@pytest.mark.parametrize("size", SIZES)
def test_an_import_from_the_console(page, server, app, db, settings, tmp_path, size) -> None:
    from hotline.background.imports import flush_imports

    # Larger than the inline size: the batch waits for the background, the page follows it.
    app.extensions["hotline"].settings = replace(settings, import_inline_bytes=4 * 1024)
    at(page, size)
    sign_in(page, server, "admin", "demo-admin-1")
    visit(page, f"{server}/console/admin/imports", f"66-admin-imports-{size}")
    page.get_by_label("导出文件", exact=False).set_input_files(export(tmp_path))
    with page.expect_navigation():
        page.get_by_role("button", name="上传并试运行").click()
    assert page.get_by_role("heading", name="试运行：12345导出.csv").is_visible()
    assert page.get_by_text("第 41 行").is_visible()
    fits(page, f"67-admin-import-check-{size}")
    with page.expect_navigation():
        page.get_by_role("button", name="开始导入 200 行").click()
    assert page.get_by_text("状态：等待开始").is_visible()
    fits(page, f"68-admin-import-progress-{size}")
    flush_imports(replace(settings, redis_url=None), db)
    # admin-import.js polls the progress and reloads the page once the batch is done.
    page.get_by_text("状态：已完成").wait_for(timeout=15_000)
    assert page.get_by_text("共 5 行").is_visible()
    fits(page, f"68-admin-import-batch-{size}")
    with page.expect_download() as download:
        page.get_by_role("link", name="下载全部未导入的行", exact=False).click()
    text = download.value.path().read_bytes().decode("utf-8-sig")
    assert text.count("日期不存在") == 5


@pytest.mark.parametrize("size", SIZES)
def test_learn_compare_and_the_trial(page, server, db, tmp_path, size) -> None:
    at(page, size)
    sign_in(page, server, "admin", "demo-admin-1")
    visit(page, f"{server}/console/admin/routing")
    page.get_by_label("诉求内容（用生效中的规则）").fill("和平路菜市场门口流动摊贩占道经营")
    with page.expect_navigation():
        page.get_by_role("button", name="试分派").click()
    assert page.get_by_text("将自动派给 示范市城市管理局").is_visible()
    fits(page, f"69-admin-routing-trial-{size}")
    page.get_by_label("带标签的样本", exact=False).set_input_files(labelled(tmp_path))
    page.get_by_label("草稿名称").fill(f"浏览器学习 {size}")
    try:
        with page.expect_navigation(timeout=60_000):
            page.get_by_role("button", name="学习并对比").click()
        assert page.get_by_role("heading", name="与生效中的规则对比", exact=True).is_visible()
        assert page.get_by_role("rowheader", name="宏平均 F1").is_visible()
        fits(page, f"70-admin-routing-compare-{size}")
        with page.expect_navigation():
            page.get_by_role("button", name=f"启用 浏览器学习 {size}", exact=False).click()
        assert page.get_by_text("已启用规则集", exact=False).is_visible()
    finally:
        with db.transaction() as session:
            restore_seeded_ruleset(session)
            session.execute(delete(RulesetRecord).where(RulesetRecord.source == "learn"))


@pytest.mark.parametrize("size", SIZES)
def test_account_pages(page, server, db, size) -> None:
    at(page, size)
    sign_in(page, server, "admin", "demo-admin-1")
    visit(page, f"{server}/console/admin/users", f"71-admin-users-{size}")
    with db.transaction() as session:
        operator = session.scalar(select(User.id).where(User.username == "operator"))
    visit(page, f"{server}/console/admin/users/{operator}", f"72-admin-user-{size}")
    with page.expect_navigation():
        page.get_by_role("button", name="停用账号").click()
    assert page.get_by_text("请勾选“确认停用”", exact=False).is_visible()
    fits(page, f"73-admin-user-confirm-{size}")
    with db.transaction() as session:
        assert session.get(User, operator).active
    for path in ("templates", "outbox", "calendar", "privacy"):
        visit(page, f"{server}/console/admin/{path}")
