"""The supervisor's dashboard: 三率 ranking of units (红黑榜), weekly volume per category, the
on-time trend and the hotspot list — for a period, optionally one district."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, and_, case, cast, func, select
from sqlalchemy.orm import Session

from ..domain.clock import local_day_bounds, local_period
from ..models import Category, Ticket, Unit
from .metrics import compute
from .queries import unit_subtree

RATES = ("response_rate", "resolution_rate", "satisfaction_rate")
HOTSPOT_DAYS = 30
HOTSPOT_MIN = 3


@dataclass(frozen=True)
class Filters:
    day_from: date
    day_to: date
    district: str | None = None
    # The district's units (its subtree), set by resolve(); None means the whole city.
    territory: frozenset[int] | set[int] | None = None


def districts(session: Session) -> list[Unit]:
    return list(session.scalars(select(Unit).where(Unit.kind == "district", Unit.active)
                                .order_by(Unit.code)))  # fmt: skip


def resolve(session: Session, filters: Filters) -> Filters:
    """The filters with the district's units looked up once, for all the figures."""
    if not filters.district:
        return filters
    unit_id = session.scalar(select(Unit.id).where(Unit.code == filters.district))
    return replace(filters, territory=unit_subtree(session, unit_id) if unit_id else set())


def ranking(session: Session, filters: Filters, *, now: datetime, timezone: str) -> list[dict]:
    """Units by the mean of their three rates (those with figures), best first."""
    start, end = local_period(filters.day_from, filters.day_to, timezone)
    groups = compute(session, group_by="unit", start=start, end=end, now=now,
                     territory=filters.territory)["groups"]  # fmt: skip
    rows = []
    for group in groups:
        if group["key"] is None:
            continue  # not dispatched yet: no unit to rank
        rates = [group[r] for r in RATES if group[r] is not None]
        rows.append({**group, "score": round(sum(rates) / len(rates), 4) if rates else None})
    rows.sort(key=lambda g: (g["score"] is None, -(g["score"] or 0), -g["tickets"]))
    for position, row in enumerate(rows, start=1):
        row["rank"] = position
    return rows


def _week(session: Session):  # type: ignore[no-untyped-def]
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.date_trunc("week", Ticket.created_at), Date)
    return func.date(Ticket.created_at, "-6 days", "weekday 1")  # the Monday of its week


def weekly(session: Session, filters: Filters, *, timezone: str) -> dict[str, Any]:
    """Tickets per category per week, and per week the share resolved on time."""
    start, end = local_period(filters.day_from, filters.day_to, timezone)
    where = and_(Ticket.created_at >= start, Ticket.created_at < end)
    if filters.territory is not None:
        where = and_(where, Ticket.territorial_unit_id.in_(filters.territory))
    week = _week(session).label("week")
    names = dict(session.execute(select(Category.id, Category.name)).all())
    volume: dict[str, dict[str, int]] = {}
    for when, category_id, count in session.execute(
        select(week, Ticket.category_id, func.count())
        .where(where)
        .group_by(week, Ticket.category_id)
    ):
        volume.setdefault(names.get(category_id, "未分类"), {})[str(when)] = count
    trend = []
    one = 1
    for when, resolved, on_time in session.execute(
        select(week, func.sum(case((Ticket.resolved_at.is_not(None), one), else_=0)),
               func.sum(case((Ticket.resolved_at <= Ticket.resolve_by, one), else_=0)))
        .where(where).group_by(week).order_by(week)
    ):  # fmt: skip
        trend.append({"week": str(when), "resolved": int(resolved or 0),
                      "on_time": int(on_time or 0),
                      "rate": round(on_time / resolved, 4) if resolved else None})  # fmt: skip
    weeks = sorted({w for per in volume.values() for w in per} | {t["week"] for t in trend})
    return {"weeks": weeks, "volume": volume, "trend": trend}


def hotspots(session: Session, filters: Filters, *, timezone: str) -> list[dict[str, Any]]:
    """Places with repeated complaints of one category in the last 30 days to ``day_to``:
    the places to act on before residents call again."""
    _, end = local_day_bounds(filters.day_to, timezone)
    start = end - timedelta(days=HOTSPOT_DAYS)
    where = and_(Ticket.created_at >= start, Ticket.created_at < end,
                 Ticket.territorial_unit_id.is_not(None),
                 Ticket.category_id.is_not(None))  # fmt: skip
    if filters.territory is not None:
        where = and_(where, Ticket.territorial_unit_id.in_(filters.territory))
    count = func.count().label("count")
    rows = session.execute(
        select(Ticket.territorial_unit_id, Ticket.category_id, count,
               func.max(Ticket.created_at), func.max(Ticket.address))
        .where(where).group_by(Ticket.territorial_unit_id, Ticket.category_id)
        .having(func.count() >= HOTSPOT_MIN).order_by(count.desc()).limit(30)
    ).all()  # fmt: skip
    units = dict(session.execute(select(Unit.id, Unit.name)).all())
    categories = dict(session.execute(select(Category.id, Category.name)).all())
    return [{"place": units.get(place, ""), "category": categories.get(category, ""),
             "count": n, "last_at": last, "address": address or ""}
            for place, category, n, last, address in rows]  # fmt: skip
