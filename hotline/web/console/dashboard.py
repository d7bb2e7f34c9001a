"""The supervisors' dashboard and its CSV."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import Response, render_template, request, url_for

from ...domain.states import Role, Status
from ...exports import csv_text
from ...extensions import hotline
from ...services import dashboard
from ...services.metrics import FORMULA_VERSION
from ..staff import staff_only
from . import bp
from .lists import day_arg, local


def _dashboard_filters() -> tuple[dashboard.Filters, dict[str, str]]:
    app = hotline()
    today = app.now().astimezone(ZoneInfo(app.settings.timezone)).date()
    errors: dict[str, str] = {}
    days = {"from": day_arg("from", today - timedelta(days=29), errors),
            "to": day_arg("to", today, errors)}  # fmt: skip
    if days["from"] > days["to"]:
        errors["to"] = "结束日期不能早于开始日期"
        days["from"], days["to"] = days["to"], days["from"]
    if (days["to"] - days["from"]).days > 366:
        errors["from"] = "一次最多查看一年"
        days["from"] = days["to"] - timedelta(days=366)
    district = request.args.get("district") or None
    return dashboard.Filters(days["from"], days["to"], district), errors


class Drill:
    """Links from a figure to the tickets behind it: /console/search with the filters that
    reproduce it (the same days received, the district as ``street``, and the figure's unit,
    category, week, statuses or ``overdue=1``)."""

    def __init__(self, filters: dashboard.Filters) -> None:
        self.filters = filters

    def __call__(self, *, day_from: date | None = None, day_to: date | None = None,
                 **params: Any) -> str:  # fmt: skip
        query: dict[str, Any] = {"from": (day_from or self.filters.day_from).isoformat(),
                                 "to": (day_to or self.filters.day_to).isoformat()}  # fmt: skip
        if self.filters.district:
            query["street"] = self.filters.district
        query.update({k: v for k, v in params.items() if v not in (None, "", [])})
        return url_for("console.search", **query)

    def unit(self, code: str, **params: Any) -> str:
        return self(unit=code, **params)

    def resolved(self, **params: Any) -> str:
        """The resolved tickets (the on-time rate's denominator): resolved or closed since."""
        return self(status=RESOLVED_STATUSES, **params)


# A ticket has a resolution time exactly while it is resolved (waiting for the resident) or
# closed after it; reopening or re-dispatching clears it.
RESOLVED_STATUSES = [Status.RESOLVED.value, Status.CLOSED.value]


def _chart_data(ranking: list[dict[str, Any]], weekly: dict[str, Any], drill: Drill) -> dict:
    """What dashboard.js draws, each bar and point with the link to its tickets."""
    top = ranking[:15]
    return {
        "ranking": {"names": [r["name"] for r in top],
                    "urls": [drill.unit(r["key"]) for r in top],
                    "response": [r["response_rate"] for r in top],
                    "resolution": [r["resolution_rate"] for r in top],
                    "satisfaction": [r["satisfaction_rate"] for r in top]},
        "weeks": [{"short": w.short, "label": w.label} for w in weekly["weeks"]],
        "volume": [{"name": c["name"], "counts": c["counts"],
                    "urls": [drill(category=c["code"], day_from=w.start, day_to=w.end)
                             if c["code"] else None for w in weekly["weeks"]]}
                   for c in weekly["categories"]],
        "trend": {"rates": [t["rate"] for t in weekly["trend"]],
                  "urls": [drill.resolved(day_from=t["week"].start, day_to=t["week"].end)
                           for t in weekly["trend"]]},
    }  # fmt: skip


@bp.get("/console/dashboard")
@staff_only(Role.SUPERVISOR, Role.ADMIN)
def dashboard_page() -> str:
    app = hotline()
    filters, errors = _dashboard_filters()
    tz = app.settings.timezone
    with app.db.transaction() as session:
        filters = dashboard.resolve(session, filters)
        ranking = dashboard.ranking(session, filters, now=app.now(), timezone=tz)
        weekly = dashboard.weekly(session, filters, timezone=tz)
        hotspots = dashboard.hotspots(session, filters, timezone=tz)
        districts = [(d.code, d.name) for d in dashboard.districts(session)]
    drill = Drill(filters)
    hot_from, hot_to = dashboard.hotspot_days(filters)
    return render_template(
        "console/dashboard.html", filters=filters, errors=errors, ranking=ranking,
        weekly=weekly, hotspots=[{**h, "last_at": local(h["last_at"])} for h in hotspots],
        hot_from=hot_from, hot_to=hot_to, districts=districts, drill=drill,
        chart_data=_chart_data(ranking, weekly, drill), args=request.args,
        formula_version=FORMULA_VERSION,
    )  # fmt: skip


@bp.get("/console/dashboard.csv")
@staff_only(Role.SUPERVISOR, Role.ADMIN)
def dashboard_csv() -> Any:
    app = hotline()
    filters, _ = _dashboard_filters()
    with app.db.transaction() as session:
        filters = dashboard.resolve(session, filters)
        ranking = dashboard.ranking(session, filters, now=app.now(),
                                    timezone=app.settings.timezone)  # fmt: skip

    def pct(value: float | None) -> str:
        return "" if value is None else f"{value * 100:.1f}%"

    header = ["排名", "单位", "工单数", "响应率", "解决率", "满意率", "综合", "按时办结率",
              "退单率", "重办率", "超期"]  # fmt: skip
    lines = ([r["rank"], r["name"], r["tickets"], pct(r["response_rate"]),
              pct(r["resolution_rate"]), pct(r["satisfaction_rate"]), pct(r["score"]),
              pct(r["on_time_rate"]), pct(r["return_rate"]), pct(r["reopen_rate"]), r["overdue"]]
             for r in ranking)  # fmt: skip
    body = csv_text([header, *lines])
    name = f"三率排名-{filters.day_from}-{filters.day_to}.csv"
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})  # fmt: skip
