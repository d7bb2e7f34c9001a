"""收件箱: messages addressed to the user's unit or role, and the unread count in the header
of every console page."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ...extensions import hotline
from ...services import inbox
from ..staff import current_scope, staff_only
from . import bp
from .lists import local, page_number

# Pages with the console's header; their requests read the unread count first.
HEADER_BLUEPRINTS = frozenset({"console", "admin"})
# Requests of those blueprints that answer with something else than a page.
NO_HEADER = frozenset({"console.staff_photo", "console.search_export"})


def reader() -> inbox.Reader:
    return inbox.Reader(current_user.id, current_user.role, current_user.unit_id)


@bp.before_app_request
def count_unread() -> None:
    """Read the header's unread count before the view opens its own transaction. Read while
    the page renders, inside the view's transaction, it would need a second connection at
    once (on SQLite: a second writer waiting for the first, which waits for the page)."""
    if request.blueprint not in HEADER_BLUEPRINTS or request.endpoint in NO_HEADER:
        return
    if not current_user.is_authenticated:
        return
    app = hotline()
    with app.db.transaction() as session:
        g.inbox_unread = inbox.unread_count(session, reader(), now=app.now())


@bp.app_context_processor
def inbox_context() -> dict[str, Any]:
    """``inbox_unread`` for the header: a number, or None where it was not read."""
    return {"inbox_unread": g.get("inbox_unread"), "inbox_cap": inbox.UNREAD_CAP}


def _unread_only() -> bool:
    return request.values.get("unread") == "1"


def _back() -> Response:
    """To the inbox page the form was on (its filter and page travel in the form)."""
    query = {"unread": "1"} if _unread_only() else {}
    page = request.form.get("page", "")
    if page.isdigit() and 1 < int(page) < 100_000:
        query["page"] = page
    return redirect(url_for("console.inbox_page", **query), code=303)


@bp.get("/console/inbox")
@staff_only()
def inbox_page() -> str:
    app = hotline()
    with app.db.transaction() as session:
        found = inbox.inbox_page(session, reader(), now=app.now(), scope=current_scope(session),
                                 unread_only=_unread_only(), page=page_number())  # fmt: skip
    return render_template("console/inbox.html", found=found, unread_only=_unread_only(),
                           days=inbox.INBOX_DAYS, local=local)  # fmt: skip


@bp.post("/console/inbox/<int:message_id>/open")
@staff_only()
def inbox_open(message_id: int) -> Response:
    """Mark it read and open its ticket: one click, as with a letter."""
    app = hotline()
    with app.db.transaction() as session:
        number = inbox.mark_read(session, reader(), message_id, now=app.now())
    if number is None:
        return _back()
    return redirect(url_for("console.ticket_page", number=number), code=303)


@bp.post("/console/inbox/<int:message_id>/read")
@staff_only()
def inbox_read(message_id: int) -> Response:
    app = hotline()
    with app.db.transaction() as session:
        inbox.mark_read(session, reader(), message_id, now=app.now())
    return _back()


@bp.post("/console/inbox/read-all")
@staff_only()
def inbox_read_all() -> Response:
    app = hotline()
    with app.db.transaction() as session:
        count = inbox.mark_all_read(session, reader(), now=app.now())
    flash(f"已将 {count} 条消息标为已读" if count else "没有未读消息", "success")
    return _back()
