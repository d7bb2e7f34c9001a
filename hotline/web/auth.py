"""Staff sign-in and sign-out: the door to the consoles, open to anyone without a session."""

from __future__ import annotations

import unicodedata
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.urls import iri_to_uri

from ..extensions import hotline
from ..services.auth import open_session, revoke_session
from ..services.login import LoginRefused, sign_in
from .staff import staff_user

bp = Blueprint("auth", __name__)


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
                staff = staff_user(user, open_session(session, user, now=app.now()))
            except LoginRefused as exc:
                message, status = str(exc), 429 if exc.throttled else 401
        if message is None:
            login_user(staff)
            if staff.must_change_password:  # an admin set it: the user chooses their own first
                return redirect(url_for("console.password"), code=303)
            target = local_target(request.args.get("next"))
            return redirect(target or url_for("console.console_home"), code=303)
    return render_template("auth/login.html", message=message), status


@bp.post("/logout")
def logout() -> Any:
    if current_user.is_authenticated:
        app = hotline()
        with app.db.transaction() as session:
            revoke_session(session, current_user.session_token, now=app.now())
    logout_user()
    return redirect(url_for("auth.login"), code=303)
