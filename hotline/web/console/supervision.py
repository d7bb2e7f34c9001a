"""督办: returns to rule on, extension requests, overdue tickets, re-checks."""

from __future__ import annotations

from flask import render_template

from ...domain.states import Role
from ...extensions import hotline
from ...services import worklists
from ..staff import staff_only
from . import bp
from .lists import page_number, table_rows


@bp.get("/console/supervision")
@staff_only(Role.SUPERVISOR, Role.ADMIN)
def supervision() -> str:
    app = hotline()
    with app.db.transaction() as session:
        late = worklists.overdue(session, now=app.now(), page=page_number())
        disputes = worklists.returned(session)
        extensions = worklists.extension_requests(session)
        rechecks = worklists.recheck_due(session, now=app.now())
        return render_template("console/supervision.html", late=late, page=late,
                               rows=table_rows(late, app.now(), routing=False),
                               disputes=disputes.tickets, extensions=extensions,
                               rechecks=rechecks)  # fmt: skip
