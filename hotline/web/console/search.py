"""查询: tickets by number, phone, words, unit, category, street, status, deadline, channel
and date received; the results exported as XLSX or CSV.

The query string's names are agreed with the dashboard, which links its figures here:
``q``, ``unit``, ``category``, ``street`` (codes), ``status`` (repeatable), ``overdue=1``,
``channel``, ``from``, ``to`` (local days). A unit user still sees only its own tickets."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from flask import flash, redirect, render_template, request, send_file, stream_with_context, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from ...domain.states import (
    CHANNEL_LABELS,
    STATUS_LABELS,
    UNIT_KIND_LABELS,
    Channel,
    Status,
)
from ...exports import csv_chunks, write_xlsx
from ...extensions import hotline
from ...services import audit, exports, worklists
from ...services.search_choices import SearchChoices, search_choices
from ..staff import current_actor, current_scope, staff_only
from . import bp
from .lists import day_arg, local, page_number, table_rows

FILTER_NAMES = ("q", "unit", "category", "street", "status", "overdue", "channel", "from", "to")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def read_filters(args: MultiDict[str, str], choices: SearchChoices
                 ) -> tuple[worklists.SearchFilters, dict[str, str]]:  # fmt: skip
    """The filters in the query string. A date that makes no sense is named and ignored; a
    code the viewer cannot choose (another unit's, a mistyped one) is named and kept, so it
    finds nothing rather than silently widening the search to everything."""
    errors: dict[str, str] = {}
    day_from, day_to = day_arg("from", None, errors), day_arg("to", None, errors)
    if day_from and day_to and day_from > day_to:
        errors["to"] = "结束日期不能早于开始日期"
        day_to = None

    def code(name: str, known: set[str], message: str) -> str | None:
        value = args.get(name, "").strip()
        if value and value not in known:
            errors[name] = message
        return value or None

    filters = worklists.SearchFilters(
        text=args.get("q", "")[:100],
        unit=code("unit", choices.unit_codes(), "没有这个承办单位"),
        category=code("category", {c.code for c in choices.categories}, "没有这个类别"),
        street=code("street", {s.code for s in choices.streets}, "没有这个街道"),
        statuses=tuple(s for s in args.getlist("status") if s in {x.value for x in Status}),
        overdue=args.get("overdue") == "1",
        channel=code("channel", {c.value for c in Channel}, "没有这个来源"),
        day_from=day_from, day_to=day_to,
    )  # fmt: skip
    return filters, errors


def filter_query(args: MultiDict[str, str]) -> str:
    """The query string of the filters alone (no page), for the export links."""
    return urlencode([(k, v) for k, v in args.items(multi=True) if k in FILTER_NAMES and v])


@bp.get("/console/search")
@staff_only()
def search() -> str:
    app = hotline()
    now = app.now()
    with app.db.transaction() as session:
        scope = current_scope(session)
        choices = search_choices(session, scope)
        filters, errors = read_filters(request.args, choices)
        page = worklists.search(session, filters, unit_ids=scope, viewer_role=current_user.role,
                                timezone=app.settings.timezone, now=now,
                                page=page_number())  # fmt: skip
        rows = table_rows(page, now, routing=False)
        for row in rows:  # a dispatched ticket's first deadline is to sign for it
            ticket = row["ticket"]
            row["accept_by"] = (local(ticket.accept_by)
                                if ticket.status == Status.DISPATCHED and ticket.accept_by
                                else None)  # fmt: skip
        return render_template(
            "console/search.html", page=page, rows=rows, errors=errors, filters=filters,
            choices=choices, labels=STATUS_LABELS, channels=CHANNEL_LABELS,
            unit_kinds=UNIT_KIND_LABELS, query=filter_query(request.args),
            export_max=exports.EXPORT_MAX,
        )  # fmt: skip


@bp.get("/console/search.<any(csv, xlsx):fmt>")
@staff_only()
def search_export(fmt: str) -> Response:
    """The search's results as a file: CSV streamed as it is read, XLSX written to a
    temporary file chunk by chunk and streamed from there (a zip is complete only at its
    end). Memory stays flat either way."""
    app = hotline()
    now = app.now()
    with app.db.transaction() as session:
        scope = current_scope(session)
        filters, errors = read_filters(request.args, search_choices(session, scope))
        plan = exports.plan_export(session, filters, unit_ids=scope,
                                   viewer_role=current_user.role,
                                   timezone=app.settings.timezone, now=now)  # fmt: skip
        if errors or plan.total > exports.EXPORT_MAX:
            if not errors:
                flash(f"共 {plan.total} 件，超过一次导出的上限 {exports.EXPORT_MAX} 件，"
                      "请缩小日期或其他条件后再导出")  # fmt: skip
            return redirect(url_for("console.search") + "?" + filter_query(request.args))
        # Residents' names and phones leave the system in bulk: say who took which.
        audit.record(session, "search.exported", f"search:{fmt}", current_actor(), now,
                     {"query": filter_query(request.args), "rows": plan.total})  # fmt: skip
    name = f"工单查询-{local(now).strftime('%Y%m%d-%H%M')}.{fmt}"
    if fmt == "csv":
        body = stream_with_context(csv_chunks(_rows(plan)))
        return Response(body, mimetype="text/csv", headers={
            "Content-Disposition": f"attachment; filename=\"search.csv\"; "
                                   f"filename*=UTF-8''{quote(name)}"})  # fmt: skip
    # Nameless, so gone once closed: send_file closes it with the response.
    out = tempfile.TemporaryFile()  # noqa: SIM115
    try:
        write_xlsx(out, _rows(plan), sheet="工单", widths=exports.WIDTHS)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return send_file(out, mimetype=XLSX, as_attachment=True, download_name=name)


def _rows(plan: exports.ExportPlan) -> Iterator[Sequence[Any]]:
    """The header, then every row, one short transaction per chunk."""
    app = hotline()
    yield exports.COLUMNS
    after: tuple[datetime, int] | None = None
    while True:
        with app.db.transaction() as session:
            rows, after = exports.export_rows(session, plan, after=after)
        yield from rows
        if after is None:
            return
        time.sleep(0)  # under gevent: let this worker's other requests run between chunks
