"""Admin pages: accounts, units, templates, failed deliveries, routing, calendar."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from hotline.models import OutboxMessage, Unit, User
from tests.helpers import VALID, auth, form_post, signed_in, token_of


def test_only_admins_get_in(app) -> None:
    for path in (
        "/console/admin/users",
        "/console/admin/units",
        "/console/admin/templates",
        "/console/admin/outbox",
        "/console/admin/routing",
        "/console/admin/calendar",
    ):
        assert signed_in(app, "admin", "demo-admin-1").get(path).status_code == 200, path
        assert signed_in(app, "supervisor", "demo-supervisor-1").get(path).status_code == 403


def test_create_and_deactivate_an_account(app, db) -> None:
    admin = signed_in(app, "admin", "demo-admin-1")
    page = "/console/admin/users"
    bad = form_post(admin, page, page, username="x", display_name="", role="unit",
                    password="short")  # fmt: skip
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422
    for field in ("username", "display_name", "unit", "password"):
        assert f'id="{field}-error"' in text
    made = form_post(admin, page, page, username="zjj1", display_name="住建局办件员",
                     role="unit", unit="dept-zjj", password="a-long-password")  # fmt: skip
    assert made.status_code == 303
    try:
        assert signed_in(app, "zjj1", "a-long-password").get("/console").status_code == 302
        with db.transaction() as session:
            user_id = session.scalar(select(User.id).where(User.username == "zjj1"))
        off = form_post(admin, f"/console/admin/users/{user_id}/active", page, active="0",
                        confirm="1")  # fmt: skip
        assert off.status_code == 303
        with db.transaction() as session:
            assert session.get(User, user_id).active is False
    finally:
        with db.transaction() as session:
            session.execute(delete(User).where(User.username == "zjj1"))


def test_the_role_list_reads_the_domain_labels(app) -> None:
    admin = signed_in(app, "admin", "demo-admin-1")
    page = "/console/admin/users"
    text = form_post(admin, page, page, username="x", role="supervisor").get_data(as_text=True)
    assert ('<option value="operator" >话务员</option><option value="unit" >承办单位</option>'
            '<option value="supervisor" selected>督办</option>'
            '<option value="admin" >管理员</option>') in text  # fmt: skip
    assert '<td data-label="角色">管理员</td>' in text  # the demo admin's row


def test_unit_contacts_and_aliases(app, db) -> None:
    admin = signed_in(app, "admin", "demo-admin-1")
    page = "/console/admin/units"
    bad = form_post(admin, "/console/admin/units/dept-jyj", page, email="not-an-email",
                    webhook_url="ftp://x")  # fmt: skip
    assert bad.status_code == 422 and "邮箱格式不正确" in bad.get_data(as_text=True)
    good = form_post(admin, "/console/admin/units/dept-jyj", page, contact_name="钱老师",
                     email="jy@shifan.example", aliases="教体局、市教育局")  # fmt: skip
    assert good.status_code == 303
    try:
        with db.transaction() as session:
            unit = session.scalar(select(Unit).where(Unit.code == "dept-jyj"))
            assert unit.aliases == ["教体局", "市教育局"] and unit.contact_name == "钱老师"
    finally:
        with db.transaction() as session:
            session.execute(update(Unit).where(Unit.code == "dept-jyj")
                            .values(aliases=["教育局", "市教育局"]))  # fmt: skip


def test_templates_are_checked_and_saved(app) -> None:
    admin = signed_in(app, "admin", "demo-admin-1")
    page = "/console/admin/templates"
    bad = form_post(admin, "/console/admin/templates/resident.accepted", page,
                    body="工单{{ number }}：{{ body }}")  # fmt: skip
    assert bad.status_code == 422 and "不能使用" in bad.get_data(as_text=True)
    good = form_post(admin, "/console/admin/templates/resident.accepted", page,
                     body="工单{{ number }}已签收：{{ link }}")  # fmt: skip
    assert good.status_code == 303
    assert "已修改" in admin.get(page).get_data(as_text=True)


def test_failed_deliveries_are_listed_and_retried(app, client, db) -> None:
    client.post("/api/v1/tickets", json=VALID, headers=auth())
    with db.transaction() as session:
        session.execute(update(OutboxMessage).values(status="failed", last_error="HTTP 400: bad"))
    admin = signed_in(app, "admin", "demo-admin-1")
    page = admin.get("/console/admin/outbox").get_data(as_text=True)
    assert "HTTP 400: bad" in page
    retried = form_post(admin, "/console/admin/outbox/retry", "/console/admin/outbox")
    assert retried.status_code == 303
    with db.transaction() as session:
        statuses = set(session.scalars(select(OutboxMessage.status)))
    assert "failed" not in statuses


def test_routing_page_tries_a_text(app) -> None:
    admin = signed_in(app, "admin", "demo-admin-1")
    page = admin.get("/console/admin/routing?text=和平路菜市场门口流动摊贩占道经营")
    assert "占道经营" in page.get_data(as_text=True) and "置信度" in page.get_data(as_text=True)


def test_category_time_limits(app, db) -> None:
    from hotline.models import Category

    admin = signed_in(app, "admin", "demo-admin-1")
    page = "/console/admin/categories"
    assert "占道经营" in admin.get(page).get_data(as_text=True)
    bad = form_post(admin, "/console/admin/categories/street-vending", page, time_limit="x",
                    priority="normal")  # fmt: skip
    assert bad.status_code == 422 and "请选择办理时限类别" in bad.get_data(as_text=True)
    with db.transaction() as session:
        before = session.scalar(select(Category).where(Category.code == "street-vending"))
        original = (before.time_limit, before.priority)
    try:
        good = form_post(admin, "/console/admin/categories/street-vending", page,
                         time_limit="complex", priority="urgent", default_unit="dept-cgj",
                         active="1")  # fmt: skip
        assert good.status_code == 303
        with db.transaction() as session:
            after = session.scalar(select(Category).where(Category.code == "street-vending"))
            assert (after.time_limit, after.priority) == ("complex", "urgent")
    finally:
        with db.transaction() as session:
            session.execute(update(Category).where(Category.code == "street-vending")
                            .values(time_limit=original[0], priority=original[1]))  # fmt: skip


def test_a_new_time_limit_applies_to_the_next_dispatch(app, client, db) -> None:
    from hotline.models import Category, Ticket

    first = client.post("/api/v1/tickets", json=VALID, headers=auth()).json  # compiles routing
    admin = signed_in(app, "admin", "demo-admin-1")
    with db.transaction() as session:
        original = session.scalar(select(Category.time_limit)
                                  .where(Category.code == "street-vending"))  # fmt: skip
    try:
        form_post(
            admin,
            "/console/admin/categories/street-vending",
            "/console/admin/categories",
            time_limit="complex",
            priority="normal",
            default_unit="dept-cgj",
            active="1",
        )
        second = client.post("/api/v1/tickets", json=VALID, headers=auth()).json
        with db.transaction() as session:
            by = dict(session.execute(select(Ticket.number, Ticket.resolve_by)).all())
        assert by[second["number"]] > by[first["number"]]  # 15 working days, not 5
    finally:
        with db.transaction() as session:
            session.execute(update(Category).where(Category.code == "street-vending")
                            .values(time_limit=original))  # fmt: skip


def test_a_new_time_limit_reaches_tickets_whose_category_routing_chose(app, client, db) -> None:
    """Routing keeps compiled copies of the categories: an edit must reach them too, or a
    ticket that names no category is dispatched on the old time limit."""
    from hotline.domain.sla import POLICIES
    from hotline.models import Category, Ticket

    unsure = {**VALID, "category": None}  # routing reads the text and picks 占道经营
    first = client.post("/api/v1/tickets", json=unsure, headers=auth()).json
    assert first["category"]["code"] == "street-vending" and first["status"] == "dispatched"
    admin = signed_in(app, "admin", "demo-admin-1")
    with db.transaction() as session:
        original = session.scalar(select(Category.time_limit)
                                  .where(Category.code == "street-vending"))  # fmt: skip
    assert original == "ordinary"
    try:
        saved = form_post(admin, "/console/admin/categories/street-vending",
                          "/console/admin/categories", time_limit="complex", priority="normal",
                          default_unit="dept-cgj", active="1")  # fmt: skip
        assert saved.status_code == 303
        second = client.post("/api/v1/tickets", json=unsure, headers=auth()).json
        assert second["category"]["code"] == "street-vending"
        with db.transaction() as session:
            by = dict(session.execute(select(Ticket.number, Ticket.resolve_by)).all())
            clock = app.extensions["hotline"].calendars.clock(session)
        dispatched = app.extensions["hotline"].now()
        assert by[second["number"]] == clock.add(dispatched, POLICIES["complex"].resolve)
    finally:
        with db.transaction() as session:
            session.execute(update(Category).where(Category.code == "street-vending")
                            .values(time_limit=original))  # fmt: skip


def test_ruleset_draft_edit_try_and_evaluate(app, db) -> None:
    import io

    from hotline.models import RulesetRecord
    from tests.helpers import restore_seeded_ruleset

    admin = signed_in(app, "admin", "demo-admin-1")
    with db.transaction() as session:
        active = session.scalar(select(RulesetRecord.id).where(RulesetRecord.status == "active"))
    page = admin.get(f"/console/admin/routing/{active}").get_data(as_text=True)
    assert "只有草稿可以修改" in page and "rules:" in page
    copied = form_post(admin, f"/console/admin/routing/{active}",
                       f"/console/admin/routing/{active}", copy="1")  # fmt: skip
    assert copied.status_code == 303
    draft = int(copied.headers["Location"].rsplit("/", 1)[1])
    try:
        bad = form_post(admin, f"/console/admin/routing/{draft}",
                        f"/console/admin/routing/{draft}", yaml="rules: [oops")  # fmt: skip
        assert bad.status_code == 422 and "规则有误" in bad.get_data(as_text=True)
        tried = admin.get(f"/console/admin/routing/{draft}?text=小区门口流动摊贩占道经营")
        assert "占道经营" in tried.get_data(as_text=True)
        token = token_of(admin.get(f"/console/admin/routing/{draft}").get_data(as_text=True))
        sample = (
            "text,label\n和平路菜市场门口流动摊贩占道经营,占道经营\n夜里工地施工噪音很大,噪音扰民\n"
        )
        report = admin.post(f"/console/admin/routing/{draft}/evaluate",
                            data={"csrf_token": token,
                                  "file": (io.BytesIO(sample.encode()), "s.csv")},
                            content_type="multipart/form-data")  # fmt: skip
        assert report.status_code == 200 and "宏平均 F1" in report.get_data(as_text=True)
    finally:
        with db.transaction() as session:
            restore_seeded_ruleset(session)
            session.execute(delete(RulesetRecord).where(RulesetRecord.id == draft))


def test_calendar_import_all_or_nothing(app, db) -> None:
    import io

    from hotline.models import CalendarDay

    admin = signed_in(app, "admin", "demo-admin-1")
    page = "/console/admin/calendar"

    def upload(content: str):
        token = token_of(admin.get(page).get_data(as_text=True))
        return admin.post(page, data={"csrf_token": token,
                                      "file": (io.BytesIO(content.encode()), "days.csv")},
                          content_type="multipart/form-data")  # fmt: skip

    bad = upload("日期,是否上班,说明\n2026-12-24,是,补班\n2026-13-01,否,错\n")
    assert bad.status_code == 422
    good = upload("日期,是否上班,说明\n2026-12-24,否,全市停课一天\n")
    assert good.status_code == 303
    try:
        assert "全市停课一天" in admin.get(page).get_data(as_text=True)
    finally:
        with db.transaction() as session:
            session.execute(delete(CalendarDay))
