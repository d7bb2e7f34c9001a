"""The resident's pages: the complaint form (form.py) and the private tracking page with its
photos and rating (tracking.py); the error page every visitor may see."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

bp = Blueprint("public", __name__)


def render_error_page(status: int, title: str, detail: str) -> Any:
    """The friendly error page, for any page of the site (the app's error handlers use it)."""
    return render_template("public/error.html", status=status, title=title, detail=detail), status


from . import form, lookup, tracking  # noqa: E402,F401  (register the routes on bp)
