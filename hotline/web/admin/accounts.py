"""账号与角色: the accounts list (search, role filter), creating one, and each account's page
with a password reset (the user must change it at the next sign-in) and deactivation that
the admin confirms with a checkbox the server requires."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import abort, flash, make_response, redirect, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...domain.states import Role
from ...errors import HotlineError
from ...extensions import hotline
from ...models import StaffSession, Unit, User
from ...request import MAX_ID
from ...services import admin as service
from ..staff import current_actor, staff_only
from . import bp, page


def _users_page(session: Session, *, errors: dict[str, Any] | None = None,
                message: str | None = None) -> str:  # fmt: skip
    q, role = request.args.get("q", "")[:100], request.args.get("role", "")
    users = service.find_users(session, q=q, role=role)
    units = list(session.scalars(select(Unit).where(Unit.active).order_by(Unit.kind, Unit.id)))
    total = session.scalar(select(func.count()).select_from(User))
    return page("users.html", users=users, units=units, errors=errors or {}, message=message,
                form=request.form if errors else {}, q=q, role=role, total=total)  # fmt: skip


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
                name, user_id = user.username, user.id
        except HotlineError as exc:
            return _users_page(session, errors=exc.errors or {}, message=exc.detail), exc.status
    flash(f"已创建账号 {name}；对方首次登录时须修改初始密码", "success")
    return redirect(url_for("admin.admin_user", user_id=user_id), code=303)


def _user_page(session: Session, user_id: int, *, errors: dict[str, Any] | None = None,
               message: str | None = None, generated: str | None = None) -> str:  # fmt: skip
    user = session.get(User, user_id)
    if user is None:
        abort(404)
    now = hotline().now()
    idle = hotline().settings.session_idle_hours
    signed_in = session.scalar(
        select(func.count()).select_from(StaffSession)
        .where(StaffSession.user_id == user.id, StaffSession.revoked_at.is_(None),
               StaffSession.last_seen_at > now - timedelta(hours=idle))
    )  # fmt: skip
    return page("user.html", user=user, errors=errors or {}, message=message,
                generated=generated, signed_in=signed_in)  # fmt: skip


@bp.get("/console/admin/users/<int:user_id>")
@staff_only(Role.ADMIN)
def admin_user(user_id: int) -> str:
    with hotline().db.transaction() as session:
        return _user_page(session, user_id)


@bp.post("/console/admin/users/<int:user_id>/active")
@staff_only(Role.ADMIN)
def admin_user_active(user_id: int) -> Any:
    """Deactivate (only with 确认停用 ticked: its sessions end at once) or reactivate."""
    app = hotline()
    active = request.form.get("active") == "1"
    with app.db.transaction() as session:
        if not active and request.form.get("confirm") != "1":
            errors = {"confirm": ["请勾选“确认停用”：停用后该账号立即退出所有登录，且不能再登录"]}
            return _user_page(session, user_id, errors=errors, message="账号未停用"), 422
        try:
            with session.begin_nested():
                user = service.set_user_active(session, user_id, active, actor=current_actor(),
                                               now=app.now())  # fmt: skip
                name = user.username
        except HotlineError as exc:
            if session.get(User, user_id) is None:
                abort(404)
            return _user_page(session, user_id, errors=exc.errors or {},
                              message=exc.detail), exc.status  # fmt: skip
    flash(f"已{'启用' if active else '停用'}账号 {name}", "success")
    return redirect(url_for("admin.admin_user", user_id=user_id), code=303)


@bp.post("/console/admin/users/password")
@staff_only(Role.ADMIN)
def admin_reset_password() -> Any:
    """A new password for someone else: typed by the admin, or (left empty) generated and
    shown once on this answer only — never in a flash message, which lives in the cookie."""
    app = hotline()
    form = request.form
    raw = form.get("user_id", "")
    user_id = int(raw) if raw.isascii() and raw.isdigit() and int(raw) <= MAX_ID else 0
    typed = form.get("new_password", "")
    password = typed or service.temporary_password()
    with app.db.transaction() as session:
        if session.get(User, user_id) is None:
            abort(404)
        try:
            with session.begin_nested():
                user = service.reset_password(session, user_id, password,
                                              actor=current_actor(), now=app.now())  # fmt: skip
                name = user.username
        except HotlineError as exc:
            return _user_page(session, user_id, errors=exc.errors or {},
                              message=exc.detail), exc.status  # fmt: skip
        if not typed:
            response = make_response(_user_page(session, user_id, generated=password))
            response.headers["Cache-Control"] = "no-store"
            return response
    flash(f"已重置 {name} 的密码，其所有登录已退出；对方下次登录时须修改密码", "success")
    return redirect(url_for("admin.admin_user", user_id=user_id), code=303)
