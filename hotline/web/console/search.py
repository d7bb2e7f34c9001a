"""查询: tickets by number, phone, words, status and dates."""

from __future__ import annotations

from flask import render_template, request
from flask_login import current_user

from ...domain.states import STATUS_LABELS, Status
from ...extensions import hotline
from ...services import worklists
from ..staff import current_scope, staff_only
from . import bp
from .lists import day_arg, page_number, table_rows


@bp.get("/console/search")
@staff_only()
def search() -> str:
    app = hotline()
    args = request.args
    statuses = [s for s in args.getlist("status") if s in {x.value for x in Status}]
    errors: dict[str, str] = {}
    days = {name: day_arg(name, None, errors) for name in ("from", "to")}
    with app.db.transaction() as session:
        page = worklists.search(
            session, unit_ids=current_scope(session), viewer_role=current_user.role,
            timezone=app.settings.timezone,
            text=args.get("q", "")[:100], statuses=statuses, day_from=days["from"],
            day_to=days["to"], page=page_number(),
        )  # fmt: skip
        rows = table_rows(page, app.now(), routing=False)
        return render_template("console/search.html", page=page, rows=rows, errors=errors,
                               statuses=statuses, labels=STATUS_LABELS, args=args)  # fmt: skip
