"""The supervisors' dashboard and its CSV."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, render_template, request

from ...domain.states import Role
from ...exports import csv_text
from ...extensions import hotline
from ...services import dashboard
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
    chart_data = {
        "ranking": [{"name": r["name"], "response": r["response_rate"],
                     "resolution": r["resolution_rate"], "satisfaction": r["satisfaction_rate"]}
                    for r in ranking[:15]],
        "weeks": weekly["weeks"], "volume": weekly["volume"], "trend": weekly["trend"],
    }  # fmt: skip
    return render_template(
        "console/dashboard.html", filters=filters, errors=errors, ranking=ranking,
        weekly=weekly, hotspots=[{**h, "last_at": local(h["last_at"])} for h in hotspots],
        districts=districts, chart_data=chart_data, args=request.args,
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
    from urllib.parse import quote

    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})  # fmt: skip
