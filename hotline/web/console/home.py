"""Each role's home page."""

from __future__ import annotations

from typing import Any

from flask import redirect, url_for
from flask_login import current_user

from ...domain.states import Role
from ..staff import staff_only
from . import bp


@bp.get("/console")
@staff_only()
def console_home() -> Any:
    home = {Role.OPERATOR: "console.queue", Role.UNIT: "console.worklist",
            Role.SUPERVISOR: "console.supervision",
            Role.ADMIN: "console.dashboard_page"}  # fmt: skip
    return redirect(url_for(home[current_user.role]))
