"""The admin's working day in the console: the unit tree with search and "new unit",
categories by their Chinese names, a call-centre import from upload to refused rows,
learning and comparing a routing draft, the trial naming its unit, a password reset that
forces a change at the next sign-in, and deactivation only once confirmed."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from html.parser import HTMLParser

from sqlalchemy import delete, func, select, update

from hotline.models import (
    AuditEvent,
    ImportBatch,
    RoutingCorrection,
    RulesetRecord,
    StaffSession,
    Ticket,
    Unit,
    User,
)
from tests.helpers import VALID, auth, form_post, restore_seeded_ruleset, signed_in, token_of

ADMIN = ("admin", "demo-admin-1")


class _Tree(HTMLParser):
    """Each unit of the tree (its link's text) → the names of its ancestors, read from how
    the page's lists nest."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str | None] = []  # one entry per open <li>: its unit, once known
        self.in_link = False
        self.parents: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "li":
            self.stack.append(None)
        elif tag == "a" and self.stack and self.stack[-1] is None:
            self.in_link = "/console/admin/units/" in (dict(attrs).get("href") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "li" and self.stack:
            self.stack.pop()
        elif tag == "a":
            self.in_link = False

    def handle_data(self, data: str) -> None:
        if self.in_link and data.strip():
            self.stack[-1] = data.strip()
            self.parents[data.strip()] = [s for s in self.stack[:-1] if s]
            self.in_link = False


def tree_of(page: str) -> dict[str, list[str]]:
    parser = _Tree()
    parser.feed(page)
    return parser.parents


def test_units_are_a_tree_with_search_and_a_new_unit(app, db) -> None:
    admin = signed_in(app, *ADMIN)
    page = admin.get("/console/admin/units").get_data(as_text=True)
    parents = tree_of(page)
    assert parents["和平新村社区第一网格"] == ["文明区", "和平街道", "和平新村社区"]
    assert parents["振兴路社区"] == ["文明区", "振兴街道"]
    assert parents["示范市城市管理局"] == []  # a department (条) stands alone
    assert "属地（块）" in page and "职能部门（条）" in page

    found = admin.get("/console/admin/units?q=振兴 第一网格").get_data(as_text=True)
    assert "“振兴 第一网格”的查找结果" in found and "2 个" in found
    assert "文明区 › 振兴街道 › 工人新村社区 › 工人新村社区第一网格" in found
    assert "和平新村社区第一网格" not in found
    assert "没有找到" in admin.get("/console/admin/units?q=没有这种单位").get_data(as_text=True)

    # 新建 under a community: the form suggests a grid under it.
    new = admin.get("/console/admin/units/new?parent=cm-heping-xincun").get_data(as_text=True)
    assert '<option value="grid" selected>' in new
    assert re.search(r'<option value="cm-heping-xincun" selected>[^<]*和平新村社区', new)
    form = "/console/admin/units/new"
    wrong = form_post(admin, form, form, kind="grid", parent="st-heping", name="和平第三网格",
                      code="grid-heping-03")  # fmt: skip
    assert wrong.status_code == 422
    assert "网格的上级应为社区" in wrong.get_data(as_text=True)
    assert 'value="和平第三网格"' in wrong.get_data(as_text=True)  # what was typed is kept
    orphan = form_post(admin, form, form, kind="street", parent="", name="无主街道",
                       code="st-nobody")  # fmt: skip
    assert orphan.status_code == 422 and "请选择所属区" in orphan.get_data(as_text=True)
    ghost = form_post(admin, form, form, kind="grid", parent="cm-nowhere", name="幽灵网格",
                      code="grid-ghost")  # fmt: skip
    assert ghost.status_code == 422 and "没有这个上级单位" in ghost.get_data(as_text=True)
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Unit).where(
            Unit.code.in_(["grid-heping-03", "st-nobody", "grid-ghost"]))) == 0  # fmt: skip
    try:
        made = form_post(admin, form, form, kind="grid", parent="cm-heping-xincun",
                         name="和平新村社区第三网格", code="grid-heping-xincun-03",
                         contact_name="钱网格")  # fmt: skip
        assert made.status_code == 303
        assert made.headers["Location"].endswith("/console/admin/units/grid-heping-xincun-03")
        after = tree_of(admin.get("/console/admin/units").get_data(as_text=True))
        assert after["和平新村社区第三网格"] == ["文明区", "和平街道", "和平新村社区"]
        again = form_post(admin, form, form, kind="grid", parent="cm-heping-xincun",
                          name="和平新村社区第三网格", code="grid-heping-xincun-03")  # fmt: skip
        assert again.status_code == 422 and "该编码已被使用" in again.get_data(as_text=True)
    finally:
        with db.transaction() as session:
            session.execute(delete(Unit).where(Unit.code == "grid-heping-xincun-03"))


def test_categories_by_chinese_name_with_search(app) -> None:
    admin = signed_in(app, *ADMIN)
    everything = admin.get("/console/admin/categories").get_data(as_text=True)
    assert "占道经营" in everything and "噪音扰民" in everything
    noise = admin.get("/console/admin/categories?q=噪音").get_data(as_text=True)
    assert "噪音扰民" in noise and "占道经营" not in noise and "1 个" in noise
    by_code = admin.get("/console/admin/categories?q=parking").get_data(as_text=True)
    assert "乱停乱放" in by_code and "噪音扰民" not in by_code
    none = admin.get("/console/admin/categories?q=火星").get_data(as_text=True)
    assert "没有符合“火星”的类别" in none


def export_csv(rows: int, every_bad: int) -> tuple[bytes, set[int]]:
    """A day's call-centre export in GB18030, as 12345 systems save it; every
    ``every_bad``-th row has a date that does not exist. Returns the file and the file
    lines (header = line 1) that must be refused."""
    places = ("和平路菜市场门口", "振兴路小学东侧", "新华里小区北门", "滨河公园入口")
    problems = ("流动摊贩占道经营，影响通行", "夜里工地施工噪音很大", "路边乱停乱放车辆堵路",
                "垃圾堆放多日无人清运")  # fmt: skip
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["工单编号", "诉求内容", "事件发生地", "承办单位", "来电号码", "来电时间"])
    bad: set[int] = set()
    for i in range(1, rows + 1):
        when = f"2026-11-{1 + i % 20:02d} {8 + i % 10:02d}:{i % 60:02d}"
        if i % every_bad == 0:
            when, _ = "2026-02-30 09:00", bad.add(i + 1)
        writer.writerow([f"GD2026{i:06d}", f"{places[i % 4]}{problems[i % 4]}（第{i}件）",
                         places[i % 4], "城管局", f"1380000{i:04d}", when])  # fmt: skip
    return out.getvalue().encode("gb18030"), bad


def test_an_import_from_dry_run_to_refused_rows(app, db, settings) -> None:
    from hotline.background.imports import flush_imports

    content, bad = export_csv(3000, every_bad=50)
    assert len(content) > 300_000
    # Above the inline size, as most real exports are: the batch runs in the background.
    app.extensions["hotline"].settings = replace(settings, import_inline_bytes=100 * 1024)
    admin = signed_in(app, *ADMIN)
    page = "/console/admin/imports"
    token = token_of(admin.get(page).get_data(as_text=True))
    checked = admin.post(page, data={"csrf_token": token, "preset": "auto",
                                     "file": (io.BytesIO(content), "12345导出-11月.csv")},
                         content_type="multipart/form-data")  # fmt: skip
    text = checked.get_data(as_text=True)
    assert checked.status_code == 200, text
    assert "试运行：12345导出-11月.csv" in text and "尚未写入任何数据" in text
    assert re.search(r"<strong>2940</strong><span>新建工单</span>", text)
    assert re.search(r"<strong>60</strong><span>拒绝（不导入）</span>", text)
    assert "第 51 行" in text and "日期不存在" in text  # the first refused rows
    assert "开始导入 3000 行" in text
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 0
        assert session.scalar(select(func.count()).select_from(ImportBatch)) == 0
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', text))
    started = admin.post("/console/admin/imports/start", data=fields)
    assert started.status_code == 303
    batch_page = started.headers["Location"]
    batch_id = int(batch_page.rsplit("/", 1)[1])
    waiting = admin.get(f"{batch_page}/progress").json
    assert (waiting["status"], waiting["total_rows"], waiting["finished"]) == ("pending", 3000,
                                                                              False)  # fmt: skip
    assert "本页每隔几秒自动刷新" in admin.get(batch_page).get_data(as_text=True)
    # A second start of the same upload is refused: it is no longer staged.
    twice = admin.post("/console/admin/imports/start", data=fields)
    assert twice.status_code == 422 and "已过期或已导入" in twice.get_data(as_text=True)

    assert flush_imports(replace(settings, redis_url=None), db) == [batch_id]
    done = admin.get(f"{batch_page}/progress").json
    assert (done["status"], done["rows_done"], done["created"], done["rejected"],
            done["finished"]) == ("done", 3000, 2940, 60, True)  # fmt: skip
    finished = admin.get(batch_page).get_data(as_text=True)
    assert "下载全部未导入的行" in finished and "共 60 行" in finished
    download = admin.get(f"{batch_page}/rejected.csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert "attachment" in download.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(download.get_data().decode("utf-8-sig"))))
    assert rows[0][-2:] == ["原行号", "未导入原因"]
    assert {int(r[-2]) for r in rows[1:]} == bad
    assert all("日期不存在" in r[-1] for r in rows[1:])
    listing = admin.get(page).get_data(as_text=True)
    assert "12345导出-11月.csv" in listing and "已完成" in listing


def test_an_upload_the_importer_cannot_read_keeps_the_form(app) -> None:
    admin = signed_in(app, *ADMIN)
    page = "/console/admin/imports"
    token = token_of(admin.get(page).get_data(as_text=True))
    refused = admin.post(page, data={"csrf_token": token, "preset": "auto", "source": "区热线",
                                     "file": (io.BytesIO("编号,内容\nA,B\n".encode()), "x.csv")},
                         content_type="multipart/form-data")  # fmt: skip
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "无法导入" in text and "缺少必需的列" in text
    assert 'value="区热线"' in text
    none = admin.post(page, data={"csrf_token": token}, content_type="multipart/form-data")
    assert none.status_code == 422 and "请选择要导入的文件" in none.get_data(as_text=True)


def test_the_upload_pages_take_files_larger_than_an_ordinary_form(app, settings) -> None:
    """The import page takes exports up to HOTLINE_IMPORT_MAX_BYTES and the learn page two
    files of 20 MB: a 3 MB file reaches their checks instead of a bare 413."""
    admin = signed_in(app, *ADMIN)
    big = ("编号,内容\n" + "A,占道经营的流动摊贩\n" * 120_000).encode()
    assert len(big) > 3 * 1024 * 1024
    token = token_of(admin.get("/console/admin/imports").get_data(as_text=True))
    imported = admin.post("/console/admin/imports", data={
        "csrf_token": token, "file": (io.BytesIO(big), "big.csv")},
        content_type="multipart/form-data")  # fmt: skip
    assert imported.status_code == 422 and "缺少必需的列" in imported.get_data(as_text=True)
    learned = admin.post("/console/admin/routing/learn", data={
        "csrf_token": token, "label_column": "编号", "text_columns": "内容",
        "file": (io.BytesIO(big), "big.csv"), "evaluation": (io.BytesIO(big), "eval.csv")},
        content_type="multipart/form-data")  # fmt: skip
    assert learned.status_code == 422 and "网页一次最多处理" in learned.get_data(as_text=True)
    app.extensions["hotline"].settings = replace(settings, import_max_bytes=2 * 1024 * 1024)
    over = admin.post("/console/admin/imports", data={
        "csrf_token": token, "file": (io.BytesIO(big[: 2 * 1024 * 1024 + 10]), "big.csv")},
        content_type="multipart/form-data")  # fmt: skip
    assert over.status_code == 422 and "导入文件不能超过 2 MB" in over.get_data(as_text=True)


def labelled_csv() -> bytes:
    """Labelled history: two categories by their Chinese names and a unit by its code."""
    places = ("和平路", "振兴路", "新华里", "滨河公园", "东门菜市场", "工人新村", "书院街",
              "花园小区")  # fmt: skip
    kinds = {
        "占道经营": ("流动摊贩占道经营", "小贩在人行道摆摊", "夜市摊点占用道路", "水果摊占道"),
        "噪音扰民": ("夜里施工噪音扰民", "广场舞音响声音太大", "装修电钻噪音", "酒吧音乐吵闹"),
        "dept-jtysj": ("公交车到站不停", "出租车拒载绕路", "公交线路调整不合理", "网约车乱收费"),
    }
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["工单标题", "诉求内容", "类别"])
    for label, texts in kinds.items():
        for i in range(40):
            writer.writerow(["", f"{places[i % 8]}{texts[i % 4]}，请尽快处理", label])
    return out.getvalue().encode("utf-8")


def test_learn_a_draft_compare_it_and_activate(app, client, db) -> None:
    number = client.post("/api/v1/tickets", json=VALID, headers=auth()).json["number"]
    with db.transaction() as session:
        ticket_id = session.scalar(select(Ticket.id).where(Ticket.number == number))
        session.add(RoutingCorrection(ticket_id=ticket_id, text="地铁站口黑车拉客",
                                      category=None, lead_unit="dept-jtysj",
                                      created_at=app.extensions["hotline"].now()))  # fmt: skip
        seeded = session.scalar(select(RulesetRecord.id).where(RulesetRecord.status == "active"))
    admin = signed_in(app, *ADMIN)
    page = "/console/admin/routing"
    listing = admin.get(page).get_data(as_text=True)
    assert "话务员的改派记录（1 条）" in listing
    token = token_of(listing)
    try:
        learned = admin.post(f"{page}/learn", data={
            "csrf_token": token, "name": "十一月学习", "corrections": "1",
            "file": (io.BytesIO(labelled_csv()), "history.csv"),
        }, content_type="multipart/form-data")  # fmt: skip
        text = learned.get_data(as_text=True)
        assert learned.status_code == 200, text
        assert "已生成草稿" in text and "1 条话务员改派记录" in text and "3 个标签" in text
        assert "与生效中的规则对比" in text and "学习文件中留出的 24 行" in text
        for metric in ("准确率", "宏平均 F1", "自动派单比例", "自动派单中正确"):
            assert metric in text
        # Per-category changes, by the names people use (a unit's code reads as its name).
        assert "各类别的变化" in text and "示范市交通运输局" in text and "噪音扰民" in text
        with db.transaction() as session:
            draft = session.scalar(select(RulesetRecord).where(RulesetRecord.name == "十一月学习"))
            assert draft.status == "draft" and draft.source == "learn"
            assert "1 条话务员改派记录" in draft.notes
            draft_id = draft.id
        # The same comparison on an uploaded evaluation file, from the draft's page.
        token = token_of(admin.get(f"{page}/{draft_id}").get_data(as_text=True))
        compared = admin.post(f"{page}/{draft_id}/evaluate", data={
            "csrf_token": token, "file": (io.BytesIO(labelled_csv()), "eval.csv"),
        }, content_type="multipart/form-data")  # fmt: skip
        text = compared.get_data(as_text=True)
        assert compared.status_code == 200 and "上传的文件 eval.csv（120 行）" in text
        assert text.count('<th scope="col">生效中') >= 2  # both tables show the active one
        activated = form_post(admin, f"{page}/{draft_id}/activate", f"{page}/{draft_id}",
                              back="ruleset")  # fmt: skip
        assert activated.status_code == 303
        assert "已启用规则集 十一月学习" in admin.get(activated.headers["Location"]).get_data(
            as_text=True)  # fmt: skip
        with db.transaction() as session:
            statuses = dict(session.execute(select(RulesetRecord.id, RulesetRecord.status)).all())
        assert statuses[draft_id] == "active" and statuses[seeded] == "archived"
        tried = admin.get(f"{page}?text=滨河公园出租车拒载").get_data(as_text=True)
        assert "十一月学习 v" in tried  # the trial now uses the activated draft
    finally:
        with db.transaction() as session:
            restore_seeded_ruleset(session)
            session.execute(delete(RulesetRecord).where(RulesetRecord.source == "learn"))


def test_learning_refuses_a_file_without_labels_in_chinese(app) -> None:
    admin = signed_in(app, *ADMIN)
    token = token_of(admin.get("/console/admin/routing").get_data(as_text=True))
    refused = admin.post("/console/admin/routing/learn", data={
        "csrf_token": token, "name": "坏文件",
        "file": (io.BytesIO("编号,内容\n1,摊贩\n".encode()), "bad.csv"),
    }, content_type="multipart/form-data")  # fmt: skip
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "没有找到文本列或标签列" in text
    assert 'value="坏文件"' in text  # the form is kept


def test_the_trial_names_the_unit_it_would_dispatch_to(app) -> None:
    admin = signed_in(app, *ADMIN)
    page = admin.get(
        "/console/admin/routing",
        query_string={"text": "和平路菜市场门口流动摊贩占道经营", "place": "和平新村"},
    ).get_data(as_text=True)
    assert "将自动派给 示范市城市管理局" in page
    assert "类别：占道经营" in page
    assert "属地：" in page and "和平街道" in page
    unsure = admin.get("/console/admin/routing", query_string={"text": "你好"})
    assert "将进入人工派单" in unsure.get_data(as_text=True)


def _make_account(app, admin, username: str, role: str = "operator") -> int:
    page = "/console/admin/users"
    made = form_post(admin, page, page, username=username, display_name="王话务", role=role,
                     password="first-password-1")  # fmt: skip
    assert made.status_code == 303
    return int(made.headers["Location"].rsplit("/", 1)[1])


def _remove_account(db, user_id: int) -> None:
    with db.transaction() as session:
        session.execute(update(AuditEvent).where(AuditEvent.actor_id == user_id)
                        .values(actor_id=None))  # fmt: skip
        session.execute(delete(StaffSession).where(StaffSession.user_id == user_id))
        session.execute(delete(User).where(User.id == user_id))


def test_a_reset_password_must_be_changed_at_the_next_sign_in(app, db) -> None:
    admin = signed_in(app, *ADMIN)
    user_id = _make_account(app, admin, "reset-me")
    try:
        with db.transaction() as session:  # as if they had chosen their own already
            session.execute(update(User).where(User.id == user_id)
                            .values(must_change_password=False))  # fmt: skip
        page = f"/console/admin/users/{user_id}"
        generated = form_post(admin, "/console/admin/users/password", page,
                              user_id=str(user_id), new_password="")  # fmt: skip
        text = generated.get_data(as_text=True)
        assert generated.status_code == 200 and generated.headers["Cache-Control"] == "no-store"
        temporary = re.search(r'<p class="secret">([^<]+)</p>', text).group(1)
        assert len(temporary) == 12 and "只显示这一次" in text
        assert "下次登录须修改密码" in admin.get(page).get_data(as_text=True)
        assert temporary not in admin.get(page).get_data(as_text=True)  # shown once only

        user = app.test_client()
        token = token_of(user.get("/login").get_data(as_text=True))
        entered = user.post("/login?next=/console/queue", data={
            "csrf_token": token, "username": "reset-me", "password": temporary})  # fmt: skip
        assert entered.status_code == 303 and entered.headers["Location"] == "/console/password"
        for path in ("/console", "/console/queue", "/console/search", "/console/call",
                     "/console/inbox", "/console/callbacks"):  # fmt: skip
            blocked = user.get(path)
            assert blocked.status_code == 302, path
            assert blocked.headers["Location"] == "/console/password", path
        posted = form_post(user, "/console/call", "/console/password",
                           description="小区门口垃圾堆积", phone="13812341234")  # fmt: skip
        assert posted.headers["Location"] == "/console/password"
        with db.transaction() as session:
            assert session.scalar(select(func.count()).select_from(Ticket)) == 0
        assert "请先设置自己的新密码" in user.get("/console/password").get_data(as_text=True)
        same = form_post(user, "/console/password", "/console/password",
                         current_password=temporary, new_password=temporary,
                         confirm_password=temporary)  # fmt: skip
        assert same.status_code == 422 and "新密码不能与当前密码相同" in same.get_data(as_text=True)
        assert user.get("/console/queue").headers["Location"] == "/console/password"
        changed = form_post(user, "/console/password", "/console/password",
                            current_password=temporary, new_password="my-own-password-2",
                            confirm_password="my-own-password-2")  # fmt: skip
        assert changed.status_code == 303
        assert user.get("/console/queue").status_code == 200
        with db.transaction() as session:
            assert session.get(User, user_id).must_change_password is False
        again = signed_in(app, "reset-me", "my-own-password-2")
        assert again.get("/console/queue").status_code == 200
    finally:
        _remove_account(db, user_id)


def test_a_new_account_chooses_its_own_password_first(app, db) -> None:
    admin = signed_in(app, *ADMIN)
    user_id = _make_account(app, admin, "brand-new")
    try:
        user = app.test_client()
        token = token_of(user.get("/login").get_data(as_text=True))
        entered = user.post("/login", data={"csrf_token": token, "username": "brand-new",
                                            "password": "first-password-1"})  # fmt: skip
        assert entered.headers["Location"] == "/console/password"
        assert "待本人改密" in admin.get("/console/admin/users").get_data(as_text=True)
    finally:
        _remove_account(db, user_id)


def test_deactivation_is_refused_without_the_confirmation(app, db) -> None:
    admin = signed_in(app, *ADMIN)
    user_id = _make_account(app, admin, "keep-me")
    try:
        with db.transaction() as session:
            session.execute(update(User).where(User.id == user_id)
                            .values(must_change_password=False))  # fmt: skip
        user = signed_in(app, "keep-me", "first-password-1")
        page = f"/console/admin/users/{user_id}"
        assert "确认停用 keep-me" in admin.get(page).get_data(as_text=True)
        for odd in ("99999999999", "²", ""):  # not an account: 404, never a 500
            missing = form_post(admin, "/console/admin/users/password", page, user_id=odd)
            assert missing.status_code == 404, odd
        refused = form_post(admin, f"{page}/active", page, active="0")
        text = refused.get_data(as_text=True)
        assert refused.status_code == 422 and "请勾选“确认停用”" in text and "账号未停用" in text
        with db.transaction() as session:
            assert session.get(User, user_id).active is True
        assert user.get("/console/queue").status_code == 200  # still signed in
        confirmed = form_post(admin, f"{page}/active", page, active="0", confirm="1")
        assert confirmed.status_code == 303
        assert user.get("/console/queue").status_code == 302  # signed out at once
        with db.transaction() as session:
            assert session.get(User, user_id).active is False
    finally:
        _remove_account(db, user_id)
