"""发送失败的通知: counts per status, the latest failures with their reasons, retry; and the
latest messages of the demo channel as they were rendered (what residents would receive)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import flash, redirect, request, url_for

from ...domain.states import Role
from ...domain.templates import AUDIENCES
from ...extensions import hotline
from ...services.outbox import console_messages, retry_failed, summary
from ..staff import staff_only
from . import bp, page


@bp.get("/console/admin/outbox")
@staff_only(Role.ADMIN)
def admin_outbox() -> str:
    app = hotline()
    tz = ZoneInfo(app.settings.timezone)
    with app.db.transaction() as session:
        demo = [m | {"sent_at": m["sent_at"].astimezone(tz)} for m in console_messages(session)]
        return page("outbox.html", report=summary(session, failures=100), demo=demo,
                    audiences=AUDIENCES)  # fmt: skip


@bp.post("/console/admin/outbox/retry")
@staff_only(Role.ADMIN)
def admin_outbox_retry() -> Any:
    app = hotline()
    ids = [int(i) for i in request.form.getlist("id") if i.isdigit()]
    with app.db.transaction() as session:
        count = retry_failed(session, now=app.now(), ids=ids or None)
    flash(f"{count} 条通知将重新发送", "success")
    return redirect(url_for("admin.admin_outbox"), code=303)
