"""Server-rendered pages (Simplified Chinese, usable on a phone and without JavaScript).

Four blueprints, no URL prefixes (each route spells its whole path):

- ``public`` (public/): the resident's form, tracking page and its photos; the error page.
- ``auth`` (auth.py): staff sign-in and sign-out, reachable without a session.
- ``console`` (console/, one module per page): operator, unit and supervisor pages.
- ``admin`` (admin.py): the admin pages under /console/admin.

Page modules share staff.py (the signed-in user, ``staff_only``), filters.py and files.py,
never one another's helpers.
"""

from __future__ import annotations

from flask import Flask

from . import admin, auth, console, public
from .filters import init_filters
from .staff import init_login


def init_web(app: Flask) -> None:
    """Register the template filters, the page blueprints and the staff sign-in on ``app``."""
    init_filters(app)
    for blueprint in (public.bp, auth.bp, console.bp, admin.bp):
        app.register_blueprint(blueprint)
    init_login(app)
