"""Server-rendered pages (Simplified Chinese, usable on a phone and without JavaScript)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

bp = Blueprint("public", __name__)


def render_error_page(status: int, title: str, detail: str) -> Any:
    return render_template("error.html", status=status, title=title, detail=detail), status


from . import admin, calls, console, public, staff  # noqa: E402,F401  (registers the routes on bp)
