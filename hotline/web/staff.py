"""Who is signed in, for every staff page: the session user (Flask-Login over server-side
sessions), the one decorator that lets staff in, and that user as the workflow sees them."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Flask, abort, redirect, request, url_for
from flask_login import LoginManager, current_user
from sqlalchemy.orm import Session

from ..domain.states import ROLE_LABELS, Role
from ..extensions import hotline
from ..models import User
from ..services.actors import Actor
from ..services.auth import session_user
from ..services.lifecycle import Who
from ..services.queries import visible_unit_ids

STAFF = (Role.OPERATOR, Role.UNIT, Role.SUPERVISOR, Role.ADMIN)
CITY_WIDE = (Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN)
# The one page open to a user who must change their password (an endpoint, not a secret).
PASSWORD_PAGE = "console.password"  # noqa: S105


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
    must_change_password: bool = False  # an admin set the password: choose one first
    is_active: bool = True
    is_authenticated: bool = True
    is_anonymous: bool = False

    def get_id(self) -> str:
        return self.session_token

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]


def staff_user(user: User, token: str) -> StaffUser:
    return StaffUser(user.id, user.username, user.display_name, Role(user.role), user.unit_id,
                     user.unit.name if user.unit else None, token,
                     must_change_password=bool(user.must_change_password))  # fmt: skip


def init_login(app: Flask) -> None:
    manager = LoginManager(app)
    manager.login_view = "auth.login"
    manager.login_message = "请先登录"
    manager.session_protection = "strong"

    @manager.user_loader
    def load(token: str) -> StaffUser | None:
        extension = hotline()
        idle = timedelta(hours=extension.settings.session_idle_hours)
        with extension.db.transaction() as session:
            user = session_user(session, token, now=extension.now(), idle=idle)
            return staff_user(user, token) if user else None


def staff_only(*roles: Role) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Signed-in staff of these roles (all staff when none given); others get 403. Someone
    whose password an admin set is sent to 修改密码 until they have chosen their own."""
    allowed = roles or STAFF

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if current_user.must_change_password and request.endpoint != PASSWORD_PAGE:
                return redirect(url_for(PASSWORD_PAGE))
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def current_scope(session: Session) -> set[int] | None:
    """The units whose tickets the signed-in user may see (None: all of them)."""
    return visible_unit_ids(session, current_user.role, current_user.unit_id)


def current_actor() -> Actor:
    """The signed-in user as events and audit rows name them."""
    return Actor(current_user.id, current_user.display_name)


def current_who(scope: set[int] | None) -> Who:
    """The signed-in user as the workflow sees them; ``scope`` is what :func:`current_scope`
    gave."""
    unit_ids = frozenset(scope or ()) if current_user.role is Role.UNIT else frozenset()
    return Who(current_actor(), current_user.role, unit_ids)
