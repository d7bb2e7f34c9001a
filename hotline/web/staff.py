"""Staff sign-in (Flask-Login over server-side sessions), sign-out and the password page."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import LoginManager, current_user, login_user, logout_user
from werkzeug.urls import iri_to_uri

from ..domain.states import Role
from ..errors import HotlineError
from ..extensions import hotline
from ..models import User
from ..services.auth import open_session, revoke_session, session_user
from ..services.login import LoginRefused, change_password, sign_in
from . import bp
from .console import staff_only

ROLE_LABELS = {Role.OPERATOR: "话务员", Role.UNIT: "承办单位", Role.SUPERVISOR: "督办",
               Role.ADMIN: "管理员"}  # fmt: skip


@dataclass(frozen=True)
class StaffUser:
    """What a request knows of its signed-in user (never an ORM object across requests).

    ``session_token`` is what Flask-Login keeps in the cookie: it names a row of
    ``staff_sessions``, so the server can end the session whatever the browser keeps.
    """

    id: int
    username: str
    display_name: str
    role: Role
    unit_id: int | None
    unit_name: str | None
    session_token: str
    is_active: bool = True
    is_authenticated: bool = True
    is_anonymous: bool = False

    def get_id(self) -> str:
        return self.session_token

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]


def _staff(user: User, token: str) -> StaffUser:
    return StaffUser(user.id, user.username, user.display_name, Role(user.role), user.unit_id,
                     user.unit.name if user.unit else None, token)  # fmt: skip


def init_login(app: Any) -> None:
    manager = LoginManager(app)
    manager.login_view = "public.login"
    manager.login_message = "请先登录"
    manager.session_protection = "strong"

    @manager.user_loader
    def load(token: str) -> StaffUser | None:
        extension = hotline()
        idle = timedelta(hours=extension.settings.session_idle_hours)
        with extension.db.transaction() as session:
            user = session_user(session, token, now=extension.now(), idle=idle)
            return _staff(user, token) if user else None


def local_target(raw: str | None) -> str | None:
    """``raw`` as a Location on this site, or None when it is not plainly a local path.

    Browsers drop tabs and newlines inside URLs, skip leading control characters and read a
    backslash as a slash, and a proxy or a second decoding turns %2F or %5C into slashes: so
    ``/%09/evil.example`` or ``/%5Cevil.example`` would leave the site. The value is judged
    in its most decoded form, and anything a browser would rewrite is refused, not repaired.
    """
    if not raw or len(raw) > 2000:
        return None
    decoded = raw
    for _ in range(4):  # %252F → %2F → /
        once = unquote(decoded)
        if once == decoded:
            break
        decoded = once
    else:
        return None  # still more to decode: nobody writes that honestly
    odd = any(ch == "\\" or (ch != " " and unicodedata.category(ch)[0] in "CZ") for ch in decoded)
    if odd or not decoded.startswith("/") or decoded.startswith("//"):
        return None
    parts = urlsplit(decoded)
    if parts.scheme or parts.netloc:
        return None
    return iri_to_uri(raw)  # ASCII for the header (a path may hold Chinese)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    message = None
    status = 200
    if request.method == "POST":
        app = hotline()
        # Failures must be saved even when sign-in is refused, so the refusal is caught
        # inside the transaction rather than rolling it back.
        with app.db.transaction() as session:
            try:
                user = sign_in(session, request.form.get("username", "").strip(),
                               request.form.get("password", ""), address=request.remote_addr,
                               now=app.now())  # fmt: skip
                staff = _staff(user, open_session(session, user, now=app.now()))
            except LoginRefused as exc:
                message, status = str(exc), 429 if exc.throttled else 401
        if message is None:
            login_user(staff)
            target = local_target(request.args.get("next"))
            return redirect(target or url_for("public.console_home"), code=303)
    return render_template("login.html", message=message), status


@bp.post("/logout")
def logout() -> Any:
    if current_user.is_authenticated:
        app = hotline()
        with app.db.transaction() as session:
            revoke_session(session, current_user.session_token, now=app.now())
    logout_user()
    return redirect(url_for("public.login"), code=303)


@bp.route("/console/password", methods=["GET", "POST"])
@staff_only()
def password() -> Any:
    """修改密码: the current password, then the new one twice. Other sessions end."""
    if request.method == "GET":
        return render_template("console/password.html", errors={}, message=None)
    app = hotline()
    form = request.form
    with app.db.transaction() as session:
        try:
            user = change_password(
                session, current_user.id, current=form.get("current_password", ""),
                new=form.get("new_password", ""), confirm=form.get("confirm_password", ""),
                address=request.remote_addr, now=app.now(),
            )  # fmt: skip
        except HotlineError as exc:
            # Returned, not raised: like sign-in, a wrong current password stays counted.
            return render_template("console/password.html", errors=exc.errors or {},
                                   message=exc.detail), exc.status  # fmt: skip
        staff = _staff(user, open_session(session, user, now=app.now()))
    login_user(staff)  # this browser stays signed in, on a fresh session
    flash("密码已修改，其他设备上的登录已全部退出", "success")
    return redirect(url_for("public.console_home"), code=303)
