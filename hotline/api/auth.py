"""Bearer-token authentication for the staff API."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import g, request

from ..domain.states import Role
from ..errors import Forbidden, Unauthorized
from ..extensions import hotline
from ..services.auth import authenticate_token


@dataclass(frozen=True)
class Principal:
    """The authenticated caller, detached from any session."""

    user_id: int
    role: Role
    unit_id: int | None
    display_name: str


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def require_auth(*roles: Role) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Authenticate before the body is validated, so a stranger learns nothing from 422s."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            token = _bearer_token()
            if token is None:
                raise Unauthorized("请在 Authorization 头中提供 Bearer 访问令牌")
            app = hotline()
            with app.db.transaction() as session:
                user = authenticate_token(session, token, now=app.now())
                if user is None:
                    raise Unauthorized("访问令牌无效、已过期或已被吊销")
                g.principal = Principal(user.id, Role(user.role), user.unit_id, user.display_name)
            if roles and g.principal.role not in roles:
                raise Forbidden("您的角色无权执行此操作")
            return view(*args, **kwargs)

        return wrapper

    return decorate


def principal() -> Principal:
    return g.principal
