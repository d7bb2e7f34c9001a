"""Staff sign-in (Flask-Login sessions) and the landing page behind it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import redirect, render_template, request, url_for
from flask_login import LoginManager, login_user, logout_user
from sqlalchemy import select

from ..domain.states import Role
from ..extensions import hotline
from ..models import User
from ..services.login import LoginRefused, sign_in
from . import bp

ROLE_LABELS = {Role.OPERATOR: "话务员", Role.UNIT: "承办单位", Role.SUPERVISOR: "督办",
               Role.ADMIN: "管理员"}  # fmt: skip


@dataclass(frozen=True)
class StaffUser:
    """What the session knows of a signed-in user (never an ORM object across requests)."""

    id: int
    username: str
    display_name: str
    role: Role
    unit_id: int | None
    unit_name: str | None
    is_active: bool = True
    is_authenticated: bool = True
    is_anonymous: bool = False

    def get_id(self) -> str:
        return str(self.id)

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]


def _staff(user: User) -> StaffUser:
    return StaffUser(user.id, user.username, user.display_name, Role(user.role), user.unit_id,
                     user.unit.name if user.unit else None)  # fmt: skip


def init_login(app: Any) -> None:
    manager = LoginManager(app)
    manager.login_view = "public.login"
    manager.login_message = "请先登录"
    manager.session_protection = "strong"

    @manager.user_loader
    def load(user_id: str) -> StaffUser | None:
        if not user_id.isdigit():
            return None
        with hotline().db.transaction() as session:
            user = session.scalar(select(User).where(User.id == int(user_id), User.active))
            return _staff(user) if user else None


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    message = None
    status = 200
    if request.method == "POST":
        app = hotline()
        # The failure counter must be saved even when sign-in is refused, so the refusal is
        # caught inside the transaction rather than rolling it back.
        with app.db.transaction() as session:
            try:
                user = sign_in(session, request.form.get("username", "").strip(),
                               request.form.get("password", ""), now=app.now())  # fmt: skip
                staff = _staff(user)
            except LoginRefused as exc:
                message, status = str(exc), 401
        if message is None:
            login_user(staff)
            target = request.args.get("next", "")
            # Only local paths: never bounce a fresh session to another site.
            if not target.startswith("/") or target.startswith("//"):
                target = url_for("public.console_home")
            return redirect(target, code=303)
    return render_template("login.html", message=message), status


@bp.post("/logout")
def logout() -> Any:
    logout_user()
    return redirect(url_for("public.login"), code=303)
