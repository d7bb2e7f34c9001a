"""The staff consoles: one module per page (or family of pages), all on one blueprint.

Worklists, the manual-dispatch queue, callbacks, supervision, search, the ticket page with its
actions, the dashboard, the call intake and the password page — over the same services and
checks as the API."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("console", __name__)

from . import (  # noqa: E402,F401 - each registers its routes on bp
    callbacks,
    calls,
    dashboard,
    home,
    inbox,
    password,
    queue,
    search,
    supervision,
    ticket,
    worklist,
)
