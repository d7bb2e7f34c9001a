"""Open311 GeoReport v2 at ``/open311/v2/``: a server any Open311 client can use.

``formats`` renders documents and errors (XML and JSON); ``views`` answers discovery,
services, service definitions, requests (GET and POST) and tokens. Callers authenticate
with ``api_key`` (one of our API tokens); errors are Open311's own format, never
problem+json or an HTML page.
"""

from __future__ import annotations

from flask import Blueprint, Flask

PREFIX = "/open311/v2"
bp = Blueprint("open311", __name__, url_prefix=PREFIX)


def init_open311(app: Flask) -> None:
    """Register the Open311 routes (form posts with an api_key, never cookies: no CSRF)."""
    from . import submit, views  # noqa: F401 - they attach their routes to ``bp``

    app.register_blueprint(bp)
    app.extensions["csrf"].exempt(bp)


def wants_open311(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")
