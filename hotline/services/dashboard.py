"""The supervisor's dashboard: 三率 ranking of units (红黑榜), weekly volume per category, the
on-time trend and the hotspot list — for a period, optionally one district."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from ..domain.clock import local_day_bounds, local_period
from ..models import Category, Ticket, Unit
from .metrics import compute, street_of
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


@dataclass(frozen=True)
class Week:
    """A calendar week (Monday to Sunday) cut to the period: the days its figures cover."""

    start: date
    end: date

    @property
    def label(self) -> str:
        """11月23日–29日, 11月30日–12月6日, or 12月1日 for a one-day cut."""
        first = f"{self.start.month}月{self.start.day}日"
        if self.end == self.start:
            return first
        last = (
            f"{self.end.day}日"
            if self.end.month == self.start.month
            else f"{self.end.month}月{self.end.day}日"
        )
        return f"{first}–{last}"

    @property
    def short(self) -> str:
        """For an axis: 11/23."""
        return f"{self.start.month}/{self.start.day}"


def weeks_of(day_from: date, day_to: date) -> list[Week]:
    """The period's weeks, Monday first, the first and last cut to the period."""
    found = []
    start = day_from
    while start <= day_to:
        end = min(start + timedelta(days=6 - start.weekday()), day_to)
        found.append(Week(start, end))
        start = end + timedelta(days=1)
    return found


def weekly(session: Session, filters: Filters, *, timezone: str) -> dict[str, Any]:
    """Tickets per category per week, and per week the share resolved on time. Weeks are
    local (a ticket at 07:00 on a Monday in Beijing belongs to that Monday's week), so each
    figure is exactly the tickets a search of the same days finds."""
    weeks = weeks_of(filters.day_from, filters.day_to)
    start, end = local_period(filters.day_from, filters.day_to, timezone)
    where = and_(Ticket.created_at >= start, Ticket.created_at < end)
    if filters.territory is not None:
        where = and_(where, Ticket.territorial_unit_id.in_(filters.territory))
    # The week's index from the UTC instants that end each local week (exact whatever the
    # time zone's offset does; at most 53 branches for the longest period, a year).
    ends = [local_day_bounds(w.end, timezone)[1] for w in weeks]
    index = case(*[(Ticket.created_at < e, i) for i, e in enumerate(ends)],
                 else_=len(ends) - 1).label("week")  # fmt: skip
    categories = {row.id: row for row in session.execute(
        select(Category.id, Category.code, Category.name, Category.sort_order))}  # fmt: skip
    volume: dict[int | None, list[int]] = {}
    for week, category_id, count in session.execute(
        select(index, Ticket.category_id, func.count()).where(where)
        .group_by(index, Ticket.category_id)
    ):  # fmt: skip
        volume.setdefault(category_id, [0] * len(weeks))[int(week)] = count
    one = 1
    trend = [{"week": w, "resolved": 0, "on_time": 0, "rate": None} for w in weeks]
    for week, resolved, on_time in session.execute(
        select(index, func.sum(case((Ticket.resolved_at.is_not(None), one), else_=0)),
               func.sum(case((Ticket.resolved_at <= Ticket.resolve_by, one), else_=0)))
        .where(where).group_by(index)
    ):  # fmt: skip
        resolved, on_time = int(resolved or 0), int(on_time or 0)
        rate = round(on_time / resolved, 4) if resolved else None
        trend[int(week)].update(resolved=resolved, on_time=on_time, rate=rate)

    def order(category_id: int | None) -> tuple[int, int]:
        row = categories.get(category_id)  # the uncategorised last
        return (1, 0) if row is None else (0, row.sort_order)

    rows = [{"code": categories[c].code if c in categories else None,
             "name": categories[c].name if c in categories else "未分类",
             "counts": counts, "total": sum(counts)}
            for c, counts in sorted(volume.items(), key=lambda item: order(item[0]))]  # fmt: skip
    return {"weeks": weeks, "categories": rows, "trend": trend}


def hotspot_days(filters: Filters) -> tuple[date, date]:
    """The local days the hotspots look at: the 30 days that end with the period."""
    return filters.day_to - timedelta(days=HOTSPOT_DAYS - 1), filters.day_to


def hotspots(session: Session, filters: Filters, *, timezone: str) -> list[dict[str, Any]]:
    """Streets with repeated complaints of one category in the 30 days to ``day_to``
    (:func:`hotspot_days`): the places to act on before residents call again. A community's
    or grid cell's tickets count for its street, so that each figure is exactly what a search
    of that street, category and days finds (a place above any street counts for itself)."""
    start, end = local_period(*hotspot_days(filters), timezone)
    where = and_(Ticket.created_at >= start, Ticket.created_at < end,
                 Ticket.territorial_unit_id.is_not(None),
                 Ticket.category_id.is_not(None))  # fmt: skip
    if filters.territory is not None:
        where = and_(where, Ticket.territorial_unit_id.in_(filters.territory))
    streets = street_of(session)
    place = (case(streets, value=Ticket.territorial_unit_id, else_=Ticket.territorial_unit_id)
             if streets else Ticket.territorial_unit_id).label("place")  # fmt: skip
    count = func.count().label("count")
    residents = func.sum(1 + func.coalesce(Ticket.follower_count, 0)).label("residents")
    rows = session.execute(
        select(place, Ticket.category_id, count, func.max(Ticket.created_at),
               func.max(Ticket.address), residents)
        .where(where).group_by(place, Ticket.category_id)
        .having(or_(func.count() >= HOTSPOT_MIN,
                    func.sum(1 + func.coalesce(Ticket.follower_count, 0)) >= HOTSPOT_MIN))
        .order_by(residents.desc(), count.desc(), place).limit(30)
    ).all()  # fmt: skip
    units = {u.id: u for u in session.execute(select(Unit.id, Unit.code, Unit.name))}
    categories = {c.id: c for c in session.execute(select(Category.id, Category.code,
                                                          Category.name))}  # fmt: skip
    return [{"place": units[area].name, "place_code": units[area].code,
             "category": categories[category].name, "category_code": categories[category].code,
             "count": n, "last_at": last, "address": address or "", "residents": int(people)}
            for area, category, n, last, address, people in rows]  # fmt: skip
