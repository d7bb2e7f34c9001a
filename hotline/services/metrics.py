"""三率 and friends per unit, category or street, for tickets received in a period.

The figures come from the event log through the ticket's milestones, which every action
updates in the same transaction as its event (accepted_at, first_feedback_at, resolved_at,
satisfaction, ...); returns and reopens are counted from the events themselves.
Formulas (version 2, shown in the README and returned with every answer):

- response rate 响应率 = tickets accepted by their accept-by AND first answered (feedback or
  resolution) by their feedback-by / tickets due a response. A dispatched ticket is *due a
  response* once its outcome is known: it has been accepted and answered (in time or late),
  or a limit has passed unmet (accept-by passed without acceptance by then, or feedback-by
  without an answer by then). A ticket whose limits are still running and unmet, or that was
  merged into another one, is not counted yet. (Version 1 divided by every dispatched ticket,
  so tickets not yet due counted as not responded.)
- resolution rate 解决率 = confirmations saying "resolved" / confirmations answered
- satisfaction rate 满意率 = (satisfied + basically satisfied) / ratings answered
- on-time completion 按时办结率 = resolved by resolve-by / resolved
- return rate 退单率 = tickets returned at least once / tickets dispatched
- reopen rate 重办率 = tickets reopened at least once (by an operator or by the resident's
  answer) / tickets resolved at least once
- overdue 超期 = open tickets past resolve-by now
- median handling time 办理时长中位数 = resolved_at − dispatched_at, hours
"""

from __future__ import annotations

import statistics
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from ..domain.states import COUNTS_AS_SATISFIED, WITH_UNIT, Satisfaction, Status
from ..models import Category, Ticket, TicketEvent, Unit

FORMULA_VERSION = 2
# The statuses events led to that are counted per ticket: returns, reopens, resolutions.
COUNTED = (Status.RETURNED, Status.REOPENED, Status.RESOLVED)


def responded() -> ColumnElement[bool]:
    """Accepted by accept-by and first answered (feedback, or the resolution) by feedback-by."""
    return and_(Ticket.accepted_at <= Ticket.accept_by,
                Ticket.first_feedback_at <= Ticket.feedback_by)  # fmt: skip


def due_response(now: datetime) -> ColumnElement[bool]:
    """Dispatched tickets whose response is decided at ``now`` (the 响应率's denominator):
    answered, in time or not, or past a limit that was not met. Running limits do not count
    against the unit yet, nor do duplicates merged into another ticket."""
    accepted = and_(Ticket.accepted_at.is_not(None), Ticket.first_feedback_at.is_not(None))
    missed_accept = and_(Ticket.accept_by < now,
                         or_(Ticket.accepted_at.is_(None),
                             Ticket.accepted_at > Ticket.accept_by))  # fmt: skip
    missed_feedback = and_(Ticket.feedback_by < now,
                           or_(Ticket.first_feedback_at.is_(None),
                               Ticket.first_feedback_at > Ticket.feedback_by))  # fmt: skip
    return and_(Ticket.dispatched_at.is_not(None), Ticket.status != Status.MERGED.value,
                or_(accepted, missed_accept, missed_feedback))  # fmt: skip


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def compute(
    session: Session,
    *,
    group_by: str,
    start: datetime,
    end: datetime,
    now: datetime,
    territory: set[int] | None = None,
) -> dict[str, Any]:
    """``territory`` keeps tickets that happened in these units (a district's subtree)."""
    if group_by == "category":
        key = Ticket.category_id
    elif group_by == "street":
        # Communities and grid cells count for their street: map them in the query itself
        # (a CASE needs at least one branch).
        key = case(street_of(session) or {-1: -1}, value=Ticket.territorial_unit_id,
                   else_=None)  # fmt: skip
    else:
        key = Ticket.lead_unit_id
    in_period = and_(Ticket.created_at >= start, Ticket.created_at < end)
    if territory is not None:
        in_period = and_(in_period, Ticket.territorial_unit_id.in_(territory))
    one = 1
    satisfied = [s.value for s in Satisfaction if s in COUNTS_AS_SATISFIED]
    with_unit = [s.value for s in Status if s in WITH_UNIT]
    totals = (
        select(
            key.label("key"),
            func.count().label("tickets"),
            func.sum(case((Ticket.dispatched_at.is_not(None), one), else_=0)).label("dispatched"),
            func.sum(case((due_response(now), one), else_=0)).label("due_response"),
            func.sum(case((responded(), one), else_=0)).label("responded"),
            func.sum(case((Ticket.resolved_confirmed.is_not(None), one), else_=0)).label(
                "answered"
            ),
            func.sum(case((Ticket.resolved_confirmed.is_(True), one), else_=0)).label("confirmed"),
            func.sum(case((Ticket.satisfaction.is_not(None), one), else_=0)).label("rated"),
            func.sum(case((Ticket.satisfaction.in_(satisfied), one), else_=0)).label("satisfied"),
            func.sum(case((Ticket.resolved_at.is_not(None), one), else_=0)).label("resolved"),
            func.sum(case((Ticket.resolved_at <= Ticket.resolve_by, one), else_=0)).label(
                "on_time"
            ),
            func.sum(
                case((and_(Ticket.status.in_(with_unit), Ticket.resolve_by < now), one), else_=0)
            ).label("overdue"),
        )
        .where(in_period)
        .group_by(key)
    )
    rows = {row.key: row._asdict() for row in session.execute(totals)}

    # Every lifecycle event records the status it led to; count tickets by what happened.
    target = TicketEvent.data["to"].as_string()
    event_counts = (
        select(key.label("key"), target, func.count(func.distinct(TicketEvent.ticket_id)))
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(in_period, target.in_([s.value for s in COUNTED]))
        .group_by(key, target)
    )
    counted: dict[Any, dict[str, int]] = {}
    for group, kind, count in session.execute(event_counts):
        counted.setdefault(group, {})[kind] = count

    durations = _durations(session, key, in_period)
    names = _names(session, group_by)
    groups = []
    for group, row in sorted(rows.items(), key=lambda item: str(names.get(item[0], ""))):
        events = counted.get(group, {})
        spent = durations.get(group)
        groups.append({
            "key": names.get(group, {}).get("code") if group is not None else None,
            "name": names.get(group, {}).get("name") if group is not None else "（未分派）",
            "tickets": row["tickets"],
            "response_rate": _ratio(row["responded"], row["due_response"]),
            "resolution_rate": _ratio(row["confirmed"], row["answered"]),
            "satisfaction_rate": _ratio(row["satisfied"], row["rated"]),
            "on_time_rate": _ratio(row["on_time"], row["resolved"]),
            "return_rate": _ratio(events.get(Status.RETURNED, 0), row["dispatched"]),
            "reopen_rate": _ratio(events.get(Status.REOPENED, 0),
                                  events.get(Status.RESOLVED, 0)),
            "overdue": row["overdue"],
            "median_handling_hours": _median(spent),
            "counts": {k: row[k] for k in ("dispatched", "due_response", "responded", "answered",
                                           "confirmed", "rated", "satisfied", "resolved",
                                           "on_time")},
        })  # fmt: skip
    return {"formula_version": FORMULA_VERSION, "group_by": group_by, "groups": groups}


def _durations(session: Session, key: Any, in_period: Any) -> dict[Any, Any]:
    """Handling hours per group: the median itself on PostgreSQL (percentile_cont, no rows
    leave the database), else every duration (SQLite has no percentile function)."""
    done = and_(in_period, Ticket.resolved_at.is_not(None), Ticket.dispatched_at.is_not(None))
    if session.get_bind().dialect.name == "postgresql":
        hours = func.extract("epoch", Ticket.resolved_at - Ticket.dispatched_at) / 3600
        median = func.percentile_cont(0.5).within_group(hours)
        return {group: float(value) for group, value in
                session.execute(select(key, median).where(done).group_by(key))}  # fmt: skip
    found: dict[Any, list[float]] = {}
    for group, dispatched_at, resolved_at in session.execute(
        select(key, Ticket.dispatched_at, Ticket.resolved_at).where(done)
    ):
        found.setdefault(group, []).append((resolved_at - dispatched_at).total_seconds() / 3600)
    return found


def _median(value: Any) -> float | None:
    if value is None or value == []:
        return None
    return round(statistics.median(value) if isinstance(value, list) else value, 2)


def _names(session: Session, group_by: str) -> dict[Any, dict[str, str]]:
    model = Category if group_by == "category" else Unit
    return {row.id: {"code": row.code, "name": row.name}
            for row in session.execute(select(model.id, model.code, model.name))}  # fmt: skip


def street_of(session: Session) -> dict[int, int]:
    """Every territorial unit → the street it lies in (streets map to themselves; a district
    lies in none)."""
    parents = dict(session.execute(select(Unit.id, Unit.parent_id)).all())
    kinds = dict(session.execute(select(Unit.id, Unit.kind)).all())
    mapping = {}
    for unit_id in parents:
        current, seen = unit_id, set()
        while current is not None and current not in seen and kinds.get(current) != "street":
            seen.add(current)
            current = parents.get(current)
        if current is not None:
            mapping[unit_id] = current
    return mapping


RECORD_DAYS = 90


@dataclass(frozen=True)
class UnitRecord:
    """A lead unit's recent record, shown beside a supervisor's decision about it."""

    resolved: int  # tickets it resolved in the last RECORD_DAYS days
    on_time: int  # of which by their resolve-by
    overdue: int  # its open tickets past resolve-by now

    @property
    def on_time_rate(self) -> float | None:
        return _ratio(self.on_time, self.resolved)


def unit_records(session: Session, unit_ids: Collection[int], *, now: datetime,
                 days: int = RECORD_DAYS) -> dict[int, UnitRecord]:  # fmt: skip
    """On-time record of each of these lead units: one grouped query for all of them."""
    if not unit_ids:
        return {}
    since = now - timedelta(days=days)
    one = 1
    with_unit = [s.value for s in WITH_UNIT]
    recent = and_(Ticket.resolved_at >= since, Ticket.resolved_at <= now)
    rows = session.execute(
        select(Ticket.lead_unit_id,
               func.sum(case((recent, one), else_=0)),
               func.sum(case((and_(recent, Ticket.resolved_at <= Ticket.resolve_by), one),
                             else_=0)),
               func.sum(case((and_(Ticket.status.in_(with_unit), Ticket.resolve_by < now), one),
                             else_=0)))
        .where(Ticket.lead_unit_id.in_(list(unit_ids)),
               or_(recent, Ticket.status.in_(with_unit)))
        .group_by(Ticket.lead_unit_id)
    )  # fmt: skip
    found = {unit: UnitRecord(int(resolved or 0), int(on_time or 0), int(overdue or 0))
             for unit, resolved, on_time, overdue in rows}  # fmt: skip
    return {unit: found.get(unit, UnitRecord(0, 0, 0)) for unit in unit_ids}
