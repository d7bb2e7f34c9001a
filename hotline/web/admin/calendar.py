"""节假日: local days off and make-up days on top of the national schedule."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from flask import flash, redirect, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...domain.states import Role
from ...errors import HotlineError
from ...extensions import hotline
from ...importers.tables import TableError, read_rows
from ...models import CalendarDay
from ...services.calendar import import_days
from ..staff import staff_only
from . import bp, page


def _calendar_page(session: Session, *, message: str | None = None) -> str:
    days = list(session.scalars(select(CalendarDay).order_by(CalendarDay.day.desc())
                                .limit(200)))  # fmt: skip
    return page("calendar.html", days=days, message=message)


@bp.get("/console/admin/calendar")
@staff_only(Role.ADMIN)
def admin_calendar() -> str:
    with hotline().db.transaction() as session:
        return _calendar_page(session)


@bp.post("/console/admin/calendar")
@staff_only(Role.ADMIN)
def admin_import_calendar() -> Any:
    """A CSV/XLSX of 日期, 是否上班, 说明; all or nothing."""
    app = hotline()
    upload = request.files.get("file")
    with app.db.transaction() as session:
        if upload is None or not upload.filename:
            return _calendar_page(session, message="请选择文件"), 422
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / ("days" + Path(upload.filename).suffix.lower()[:6])
            upload.save(path)
            try:
                rows = read_rows(path)
            except TableError as exc:
                return _calendar_page(session, message=str(exc)), 422
        try:
            with session.begin_nested():
                count = import_days(session, rows)
        except HotlineError as exc:
            return _calendar_page(session, message=exc.detail), exc.status
    app.calendars.forget()
    flash(f"已导入 {count} 天；新的时限按调整后的日历计算", "success")
    return redirect(url_for("admin.admin_calendar"), code=303)
