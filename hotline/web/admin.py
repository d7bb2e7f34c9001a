"""Admin pages: accounts (and their passwords), units' contacts, notification templates,
failed deliveries, the routing ruleset in use (test a text, activate a draft), the
working-day calendar and erasing a resident's personal data on request."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from routing.rules import RulesetError

from ..domain.states import ROLE_LABELS, Role
from ..errors import HotlineError
from ..extensions import hotline
from ..models import CalendarDay, Category, RulesetRecord, Unit, User
from ..services import admin as service
from ..services import privacy
from ..services import templates as template_service
from ..services.evaluation import evaluate_ruleset
from ..services.outbox import retry_failed, summary
from ..services.rulesets import (
    activate,
    copy_as_draft,
    get_ruleset,
    parse_ruleset_text,
    ruleset_problem,
    update_draft,
)
from .staff import current_actor, staff_only

bp = Blueprint("admin", __name__)


def _page(template: str, **context: Any) -> str:
    return render_template(f"console/admin/{template}", role_names=ROLE_LABELS, **context)


# ---------------------------------------------------------------- accounts


def _users_page(session: Session, *, errors: dict[str, Any] | None = None,
                message: str | None = None) -> str:  # fmt: skip
    users = list(session.scalars(select(User).order_by(User.role, User.username)))
    units = list(session.scalars(select(Unit).where(Unit.active).order_by(Unit.kind, Unit.code)))
    return _page("users.html", users=users, units=units, errors=errors or {},
                 message=message, form=request.form if errors else {})  # fmt: skip


@bp.get("/console/admin/users")
@staff_only(Role.ADMIN)
def admin_users() -> str:
    with hotline().db.transaction() as session:
        return _users_page(session)


@bp.post("/console/admin/users")
@staff_only(Role.ADMIN)
def admin_create_user() -> Any:
    app = hotline()
    form = request.form
    with app.db.transaction() as session:
        try:
            with session.begin_nested():
                user = service.create_user(
                    session, username=form.get("username", "").strip(),
                    display_name=form.get("display_name", ""), role=form.get("role", ""),
                    unit_code=form.get("unit") or None, password=form.get("password", ""),
                    actor=current_actor(), now=app.now(),
                )  # fmt: skip
                name = user.username
        except HotlineError as exc:
            return _users_page(session, errors=exc.errors, message=exc.detail), exc.status
    flash(f"已创建账号 {name}", "success")
    return redirect(url_for("admin.admin_users"), code=303)


@bp.post("/console/admin/users/<int:user_id>/active")
@staff_only(Role.ADMIN)
def admin_user_active(user_id: int) -> Any:
    app = hotline()
    active = request.form.get("active") == "1"
    with app.db.transaction() as session:
        try:
            with session.begin_nested():
                user = service.set_user_active(session, user_id, active, actor=current_actor(),
                                               now=app.now())  # fmt: skip
                name = user.username
        except HotlineError as exc:
            return _users_page(session, message=exc.detail), exc.status
    flash(f"已{'启用' if active else '停用'}账号 {name}", "success")
    return redirect(url_for("admin.admin_users"), code=303)


@bp.post("/console/admin/users/password")
@staff_only(Role.ADMIN)
def admin_reset_password() -> Any:
    app = hotline()
    form = request.form
    user_id = int(form["user_id"]) if form.get("user_id", "").isdigit() else 0
    with app.db.transaction() as session:
        try:
            with session.begin_nested():
                user = service.reset_password(session, user_id, form.get("new_password", ""),
                                              actor=current_actor(), now=app.now())  # fmt: skip
                name = user.username
        except HotlineError as exc:
            return _users_page(session, errors=exc.errors, message=exc.detail), exc.status
    flash(f"已重置 {name} 的密码，其所有登录已退出", "success")
    return redirect(url_for("admin.admin_users"), code=303)


# ---------------------------------------------------------------- residents' personal data


def _privacy_page(*, phone: str = "", found: Any = None, errors: dict[str, Any] | None = None,
                  message: str | None = None) -> str:  # fmt: skip
    return _page("privacy.html", phone=phone, found=found, errors=errors or {}, message=message,
                 retention_days=hotline().settings.personal_data_days)  # fmt: skip


@bp.get("/console/admin/privacy")
@staff_only(Role.ADMIN)
def admin_privacy() -> str:
    return _privacy_page()


@bp.post("/console/admin/privacy")
@staff_only(Role.ADMIN)
def admin_erase_resident() -> Any:
    """Erase one resident's data on request: first the count to confirm, then the erasure.
    Only counts are shown: admins may not find a resident's tickets by phone."""
    app = hotline()
    raw = request.form.get("phone", "").strip()
    try:
        phone = privacy.resident_phone(raw)
    except HotlineError as exc:
        return _privacy_page(phone=raw, errors=exc.errors, message=exc.detail), exc.status
    with app.db.transaction() as session:
        if request.form.get("step") != "erase":
            found = privacy.check_resident(session, phone, actor=current_actor(), now=app.now())
            return _privacy_page(phone=phone, found=found)
        numbers = privacy.erase_resident(session, phone, actor=current_actor(), now=app.now(),
                                         photos=app.photos)  # fmt: skip
    flash(f"已删除 {len(numbers)} 件工单中该市民的姓名、电话和照片（已记入审计日志）", "success")
    return redirect(url_for("admin.admin_privacy"), code=303)


# ---------------------------------------------------------------- units


@bp.get("/console/admin/units")
@staff_only(Role.ADMIN)
def admin_units() -> str:
    with hotline().db.transaction() as session:
        units = list(session.scalars(select(Unit).order_by(Unit.kind, Unit.code)))
        return _page("units.html", units=units, errors={}, failed=None)


@bp.post("/console/admin/units/<code>")
@staff_only(Role.ADMIN)
def admin_update_unit(code: str) -> Any:
    app = hotline()
    with app.db.transaction() as session:
        try:
            with session.begin_nested():
                service.update_unit(session, code, dict(request.form), actor=current_actor(),
                                    now=app.now())  # fmt: skip
        except HotlineError as exc:
            units = list(session.scalars(select(Unit).order_by(Unit.kind, Unit.code)))
            return _page("units.html", units=units, errors=exc.errors or {},
                         failed=code, message=exc.detail), exc.status  # fmt: skip
    flash("单位信息已保存", "success")
    return redirect(url_for("admin.admin_units") + f"#unit-{code}", code=303)


# ---------------------------------------------------------------- categories


TIME_LIMITS = {"emergency": "紧急（0.5 小时签收，24 小时办结，自然时）",
               "outage": "停水停电停气（1 小时签收，24 小时办结）",
               "consultation": "咨询（4 工作小时签收，3 个工作日办结）",
               "ordinary": "一般（4 工作小时签收，5 个工作日办结）",
               "complex": "疑难（4 工作小时签收，15 个工作日办结）"}  # fmt: skip
PRIORITIES = {"normal": "一般", "urgent": "紧急", "emergency": "特急"}


def _categories_page(session: Session, *, errors: dict[str, Any] | None = None,
                     failed: str | None = None, message: str | None = None) -> str:  # fmt: skip
    categories = list(session.scalars(select(Category)
                                      .order_by(Category.group_name, Category.code)))  # fmt: skip
    units = list(session.scalars(select(Unit).where(Unit.kind == "department")
                                 .order_by(Unit.code)))  # fmt: skip
    return _page("categories.html", categories=categories, units=units, errors=errors or {},
                 failed=failed, message=message, time_limits=TIME_LIMITS,
                 priorities=PRIORITIES)  # fmt: skip


@bp.get("/console/admin/categories")
@staff_only(Role.ADMIN)
def admin_categories() -> str:
    with hotline().db.transaction() as session:
        return _categories_page(session)


@bp.post("/console/admin/categories/<code>")
@staff_only(Role.ADMIN)
def admin_update_category(code: str) -> Any:
    app = hotline()
    with app.db.transaction() as session:
        try:
            with session.begin_nested():
                service.update_category(session, code, dict(request.form), actor=current_actor(),
                                        now=app.now())  # fmt: skip
        except HotlineError as exc:
            return _categories_page(session, errors=exc.errors, failed=code,
                                    message=exc.detail), exc.status  # fmt: skip
    flash("类别已保存（新派单起按新的时限计算）", "success")
    return redirect(url_for("admin.admin_categories") + f"#c-{code}", code=303)


# ---------------------------------------------------------------- notification templates


@bp.get("/console/admin/templates")
@staff_only(Role.ADMIN)
def admin_templates() -> str:
    with hotline().db.transaction() as session:
        items = [t.as_dict() for t in template_service.list_templates(session)]
        return _page("templates.html", items=items, errors={}, failed=None)


@bp.post("/console/admin/templates/<key>")
@staff_only(Role.ADMIN)
def admin_save_template(key: str) -> Any:
    app = hotline()
    form = request.form
    with app.db.transaction() as session:
        try:
            with session.begin_nested():
                if form.get("reset") == "1":
                    template_service.reset_template(session, key, actor=current_actor(),
                                                    now=app.now())  # fmt: skip
                else:
                    template_service.save_template(
                        session, key, body=form.get("body", ""),
                        subject=form.get("subject") or None,
                        sms_template_id=form.get("sms_template_id") or None,
                        actor=current_actor(), now=app.now(),
                    )  # fmt: skip
        except HotlineError as exc:
            items = [t.as_dict() for t in template_service.list_templates(session)]
            return _page("templates.html", items=items, errors=exc.errors or {},
                         failed=key, message=exc.detail, form=form), exc.status  # fmt: skip
    flash("模板已恢复为默认文本" if form.get("reset") == "1" else "模板已保存", "success")
    return redirect(url_for("admin.admin_templates") + f"#t-{key}", code=303)


# ---------------------------------------------------------------- failed deliveries


@bp.get("/console/admin/outbox")
@staff_only(Role.ADMIN)
def admin_outbox() -> str:
    with hotline().db.transaction() as session:
        return _page("outbox.html", report=summary(session, failures=100))


@bp.post("/console/admin/outbox/retry")
@staff_only(Role.ADMIN)
def admin_outbox_retry() -> Any:
    app = hotline()
    ids = [int(i) for i in request.form.getlist("id") if i.isdigit()]
    with app.db.transaction() as session:
        count = retry_failed(session, now=app.now(), ids=ids or None)
    flash(f"{count} 条通知将重新发送", "success")
    return redirect(url_for("admin.admin_outbox"), code=303)


# ---------------------------------------------------------------- routing and calendar


@bp.get("/console/admin/routing")
@staff_only(Role.ADMIN)
def admin_routing() -> str:
    app = hotline()
    text = request.args.get("text", "")[:2000]
    with app.db.transaction() as session:
        rulesets = list(session.scalars(select(RulesetRecord).order_by(RulesetRecord.id.desc())
                                        .limit(30)))  # fmt: skip
        decision = None
        if text.strip():
            compiled = app.routers.active(session)
            decision = compiled.router.route(text).to_dict() if compiled else None
        return _page("routing.html", rulesets=rulesets, text=text, decision=decision)


@bp.post("/console/admin/routing/<int:ruleset_id>/activate")
@staff_only(Role.ADMIN)
def admin_activate_ruleset(ruleset_id: int) -> Any:
    app = hotline()
    with app.db.transaction() as session:
        try:
            with session.begin_nested():
                record = get_ruleset(session, ruleset_id)
                activate(session, record, now=app.now(), actor=current_actor())
                label = f"{record.name} v{record.version}"
        except HotlineError as exc:
            flash(f"未启用：{exc.detail}", "error")
            return redirect(url_for("admin.admin_routing"), code=303)
    app.routers.forget_active()
    flash(f"已启用规则集 {label}", "success")
    return redirect(url_for("admin.admin_routing"), code=303)


def _calendar_page(session: Session, *, message: str | None = None) -> str:
    days = list(session.scalars(select(CalendarDay).order_by(CalendarDay.day.desc())
                                .limit(200)))  # fmt: skip
    return _page("calendar.html", days=days, message=message)


@bp.get("/console/admin/calendar")
@staff_only(Role.ADMIN)
def admin_calendar() -> str:
    with hotline().db.transaction() as session:
        return _calendar_page(session)


@bp.post("/console/admin/calendar")
@staff_only(Role.ADMIN)
def admin_import_calendar() -> Any:
    """Local days off and make-up days from a CSV/XLSX (日期, 是否上班, 说明); all or nothing."""
    import tempfile
    from pathlib import Path

    from ..importers.tables import TableError, read_rows
    from ..services.calendar import import_days

    app = hotline()
    upload = request.files.get("file")
    with app.db.transaction() as session:
        if upload is None or not upload.filename:
            return _calendar_page(session, message="请选择文件"), 422
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / ("days" + Path(upload.filename).suffix.lower()[:6])
            upload.save(path)
            try:
                rows = read_rows(path)
            except TableError as exc:
                return _calendar_page(session, message=str(exc)), 422
        try:
            with session.begin_nested():
                count = import_days(session, rows)
        except HotlineError as exc:
            return _calendar_page(session, message=exc.detail), exc.status
    app.calendars.forget()
    flash(f"已导入 {count} 天；新的时限按调整后的日历计算", "success")
    return redirect(url_for("admin.admin_calendar"), code=303)


def _ruleset_page(session: Session, ruleset_id: int, *, text: str | None = None,
                  errors: list[str] | None = None, message: str | None = None,
                  report: dict[str, Any] | None = None) -> str:  # fmt: skip
    from routing.rules import dump_yaml, from_dict

    app = hotline()
    record = get_ruleset(session, ruleset_id)
    trial = request.args.get("text", "")[:2000]
    decision = None
    if trial.strip():
        compiled = app.routers.compiled(session, record)
        decision = compiled.router.route(trial).to_dict()
    return _page("ruleset.html", record=record,
                 text=text if text is not None else dump_yaml(from_dict(record.data)),
                 errors=errors or [], message=message, trial=trial, decision=decision,
                 report=report)  # fmt: skip


@bp.get("/console/admin/routing/<int:ruleset_id>")
@staff_only(Role.ADMIN)
def admin_ruleset(ruleset_id: int) -> str:
    with hotline().db.transaction() as session:
        return _ruleset_page(session, ruleset_id)


@bp.post("/console/admin/routing/<int:ruleset_id>")
@staff_only(Role.ADMIN)
def admin_edit_ruleset(ruleset_id: int) -> Any:
    """Save a draft's YAML, or copy a version into a new draft."""
    app = hotline()
    with app.db.transaction() as session:
        record = get_ruleset(session, ruleset_id)
        if request.form.get("copy") == "1":
            draft = copy_as_draft(session, record, now=app.now(), actor=current_actor())
            target = draft.id
        else:
            text = request.form.get("yaml", "")
            try:
                with session.begin_nested():
                    try:
                        data = parse_ruleset_text(text, "yaml")
                    except RulesetError as exc:
                        raise ruleset_problem(exc) from exc
                    update_draft(session, record, data, now=app.now())
            except HotlineError as exc:
                problems = [m for ms in (exc.errors or {}).values() for m in ms] or [exc.detail]
                return _ruleset_page(session, ruleset_id, text=text, errors=problems,
                                     message=exc.detail), exc.status  # fmt: skip
            target = ruleset_id
    flash("已复制为新草稿" if request.form.get("copy") == "1" else "草稿已保存", "success")
    return redirect(url_for("admin.admin_ruleset", ruleset_id=target), code=303)


@bp.post("/console/admin/routing/<int:ruleset_id>/evaluate")
@staff_only(Role.ADMIN)
def admin_evaluate_ruleset(ruleset_id: int) -> Any:
    """Accuracy and macro-F1 on an uploaded labelled file (text + label columns)."""
    import tempfile
    from pathlib import Path

    from ..importers.tables import TableError, read_rows

    app = hotline()
    upload = request.files.get("file")
    with app.db.transaction() as session:
        if upload is None or not upload.filename:
            return _ruleset_page(session, ruleset_id, message="请选择带标签的样本文件"), 422
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / ("sample" + Path(upload.filename).suffix.lower()[:6])
            upload.save(path)
            try:
                rows = read_rows(path)
            except TableError as exc:
                return _ruleset_page(session, ruleset_id, message=str(exc)), 422
        text_keys, label_keys = ("text", "诉求内容", "内容", "content"), ("label", "标签", "类别")
        pairs = [(next((r[k] for k in text_keys if r.get(k)), ""),
                  next((r[k] for k in label_keys if r.get(k)), "")) for r in rows]  # fmt: skip
        pairs = [(t, label) for t, label in pairs if t and label][:20_000]
        if not pairs:
            missing = "文件中没有找到 text/诉求内容 与 label/标签 两列"
            return _ruleset_page(session, ruleset_id, message=missing), 422
        compiled = app.routers.compiled(session, get_ruleset(session, ruleset_id))
        report = evaluate_ruleset(compiled, pairs)
        return _ruleset_page(session, ruleset_id, report=report.to_dict())
