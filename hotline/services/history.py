"""A history import's order → the ticket it was: handled by the unit the call centre named, at
the times the export gives, closed (or still open) as it stood.

Nothing here is live work: no notices, no duplicate check, no clock restarted now. Every
event is dated when it happened and marked ``imported`` in its data; a last "imported" event,
dated now, says who brought the ticket in and what the export called its status. The ticket's
``created_at`` is when the order came in, so metrics count it in its own period.

An order still open keeps its original deadlines; those already passed are marked as
announced (``sla``) and its supervision level is what the sweep would have raised it to, so
the next sweep does not send a flood of overdue notices about years-old deadlines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..domain.call_records import CallRecord, Handling, Standing
from ..domain.events import EventKind
from ..domain.sla import Clock, deadlines, policy_for
from ..domain.states import SATISFACTION_LABELS, Channel, Satisfaction, Status
from .actors import Actor
from .events import dispatched_body
from .new_ticket import NewTicketPlan, PlannedEvent, Submission, UnitRef, plan_new_ticket
from .sweep import ESCALATION, UNRATED_AFTER

IMPORTED = {"imported": True}
STANDING_LABELS = {Standing.OPEN: "办理中", Standing.AWAITING_CALLBACK: "已办结待回访",
                   Standing.CLOSED: "已办结", Standing.REJECTED: "不予受理"}  # fmt: skip
CLOSED = frozenset({Standing.CLOSED, Standing.REJECTED})
NO_REPLY = "（热线记录中没有答复意见）"


@dataclass(frozen=True)
class Known:
    """What the import resolved of an order: its category, place and units (ours or None)."""

    category_id: int | None
    time_limit: str | None
    territorial_unit_id: int | None
    lead: UnitRef | None
    co_units: tuple[UnitRef, ...]
    priority: str


def came_in_closed(record: CallRecord) -> bool:
    """Whether a history order comes in closed (or rejected) rather than open."""
    return record.handling is not None and record.handling.standing in CLOSED


def plan_history(record: CallRecord, known: Known, *, source: str, actor: Actor, clock: Clock,
                 now: datetime) -> NewTicketPlan:  # fmt: skip
    """The ticket a handled order was (``record.handling`` set, ``reported_at`` known);
    ``actor`` is the call centre, on behalf of the staff member who imports."""
    call_centre = actor
    handling = record.handling
    received = record.reported_at
    assert handling is not None and received is not None
    said = Submission(
        channel=Channel.CALL_CENTRE.value, description=record.description,
        priority=known.priority, title=record.title, address=record.address,
        reporter_name=record.name, reporter_phone=record.phone, external_source=source,
        external_ref=record.external_ref, reported_at=received, order_kind=record.order_kind,
    )  # fmt: skip
    base = plan_new_ticket(
        said, actor=call_centre, now=received, notify=False,
        submitted={"channel": Channel.CALL_CENTRE.value, "source": source,
                   "external_ref": record.external_ref, "category_text": record.category,
                   **IMPORTED},
        category_id=known.category_id, territorial_unit_id=known.territorial_unit_id,
    )  # fmt: skip
    values = dict(base.values)
    submitted = base.events[0]
    events = [PlannedEvent(submitted.kind, submitted.actor, submitted.public, submitted.body,
                           submitted.data, at=received)]  # fmt: skip
    lead = known.lead
    standing = handling.standing
    if lead is None and standing in (Standing.OPEN, Standing.AWAITING_CALLBACK):
        standing = Standing.OPEN  # nobody to call back for: a person dispatches it
    elif standing is Standing.AWAITING_CALLBACK and \
            (handling.resolved_at or received) + UNRATED_AFTER < now:  # fmt: skip
        standing = Standing.CLOSED  # as the sweep would have closed it: unrated
    if lead is not None:
        _handed_over(values, events, record, known, handling, call_centre, clock)
    elif standing is Standing.OPEN:
        reason = (f"历史工单：承办单位「{record.lead_unit}」未能对应到系统中的单位，请人工派单"
                  if record.lead_unit else "历史工单未写明承办单位，请人工派单")  # fmt: skip
        events.append(PlannedEvent(EventKind.ROUTED, call_centre, False, reason,
                                   {"dispatched": False, **IMPORTED}, at=received))  # fmt: skip
    if lead is None and record.lead_unit:
        values["routing"] = {"named_unit": record.lead_unit, "reason": "历史工单的承办单位未能对应"}
    if standing in (Standing.CLOSED, Standing.AWAITING_CALLBACK):
        _answered(values, events, handling, lead, call_centre, received)
    if standing is Standing.CLOSED:
        _closed(values, events, handling, call_centre, received)
    elif standing is Standing.REJECTED:
        at = handling.resolved_at or handling.callback_at or received
        values.update(status=Status.REJECTED.value, closed_at=at)
        events.append(PlannedEvent(EventKind.REJECTED, call_centre, True,
                                   handling.resolution or "不予受理",
                                   {"from": Status.REPORTED.value, "to": Status.REJECTED.value,
                                    **IMPORTED}, at=at))  # fmt: skip
    elif standing is Standing.OPEN and lead is not None:
        _still_open(values, clock, now)
    events.sort(key=lambda event: event.at or received)  # stable: same times keep their order
    values["updated_at"] = events[-1].at or received
    said_status = f"（原状态：{handling.status_text}）" if handling.status_text else ""
    body = f"按{source}历史记录导入：{STANDING_LABELS[standing]}{said_status}"
    events.append(PlannedEvent(EventKind.IMPORTED, actor, False, body,
                               {"standing": standing.value, "status_text": handling.status_text,
                                **IMPORTED}))  # fmt: skip
    return NewTicketPlan(values, tuple(events), (), lead, tuple(u.id for u in known.co_units))


def _handed_over(values: dict[str, Any], events: list[PlannedEvent], record: CallRecord,
                 known: Known, handling: Handling, call_centre: Actor,
                 clock: Clock) -> None:  # fmt: skip
    """Dispatched to the named unit when the export says (or when the order came in), with
    the deadlines it had then; accepted when the export says."""
    lead = known.lead
    assert lead is not None and record.reported_at is not None
    dispatched = handling.dispatched_at or record.reported_at
    policy = policy_for(known.time_limit, known.priority)
    values.update(status=Status.DISPATCHED.value, lead_unit_id=lead.id, dispatched_at=dispatched,
                  resolve_by=record.deadline or clock.add(dispatched, policy.resolve))  # fmt: skip
    if handling.standing is Standing.OPEN:
        due = deadlines(clock, dispatched, policy)
        values.update(accept_by=due.accept_by, feedback_by=due.feedback_by)
    body = dispatched_body(lead.name, [unit.name for unit in known.co_units])
    events.append(PlannedEvent(
        EventKind.DISPATCHED, call_centre, True, body,
        {"lead_unit": lead.code, "co_units": [unit.code for unit in known.co_units],
         "automatic": False, "by": "call_centre", **IMPORTED}, at=dispatched,
    ))  # fmt: skip
    if handling.accepted_at is not None:
        values.update(status=Status.ACCEPTED.value, accepted_at=handling.accepted_at)
        if values.get("accept_by") is None:
            values["accept_by"] = clock.add(dispatched, policy.accept)
        events.append(PlannedEvent(
            EventKind.ACCEPTED, Actor(None, lead.name), False, "签收",
            {"from": Status.DISPATCHED.value, "to": Status.ACCEPTED.value, **IMPORTED},
            at=handling.accepted_at,
        ))  # fmt: skip


def _answered(values: dict[str, Any], events: list[PlannedEvent], handling: Handling,
              lead: UnitRef | None, call_centre: Actor, received: datetime) -> None:  # fmt: skip
    """The reply to the resident, as the public "resolved" event (at the handling time; when
    the export has no time, at the best one known, and the ticket's resolved_at stays empty
    so no on-time figure is made up)."""
    if handling.resolved_at is None and not handling.resolution:
        return
    at = handling.resolved_at or handling.callback_at or values.get("dispatched_at") or received
    before = values["status"]
    values.update(status=Status.RESOLVED.value, resolved_at=handling.resolved_at,
                  first_feedback_at=handling.resolved_at)  # fmt: skip
    actor = Actor(None, lead.name) if lead is not None else call_centre
    data = {"from": before, "to": Status.RESOLVED.value, "evidence": [], **IMPORTED}
    if handling.resolved_at is None:
        data["time_unknown"] = True
    events.append(PlannedEvent(EventKind.RESOLVED, actor, True, handling.resolution or NO_REPLY,
                               data, at=at))  # fmt: skip


def _closed(values: dict[str, Any], events: list[PlannedEvent], handling: Handling,
            call_centre: Actor, received: datetime) -> None:
    """Closed as the export says; the callback, when it has one, as the resident's
    confirmation (解决与否, 满意度, 不满原因)."""
    answered_at = handling.resolved_at or values.get("dispatched_at") or received
    at = handling.callback_at or answered_at
    values.update(status=Status.CLOSED.value, closed_at=at,
                  resolved_confirmed=handling.confirmed,
                  satisfaction=handling.satisfaction)  # fmt: skip
    if handling.confirmed is None and handling.satisfaction is None:
        return
    parts = []
    if handling.confirmed is not None:
        parts.append("问题已解决" if handling.confirmed else "问题未解决")
    if handling.satisfaction is not None:
        parts.append(f"评价：{SATISFACTION_LABELS[Satisfaction(handling.satisfaction)]}")
    body = "回访：" + "，".join(parts)
    if handling.complaint:
        body += f"。不满原因：{handling.complaint}"
    data = {"from": Status.RESOLVED.value, "to": Status.CLOSED.value,
            "resolved": handling.confirmed, "satisfaction": handling.satisfaction,
            "comment": handling.complaint, "channel": "callback", **IMPORTED}  # fmt: skip
    events.append(PlannedEvent(EventKind.CONFIRMED, call_centre, False, body, data, at=at))


def _still_open(values: dict[str, Any], clock: Clock, now: datetime) -> None:
    """Deadlines that passed before the import count as announced, and the supervision
    level is what the sweep would have reached by now."""
    kinds = {"accept": values.get("accept_by"), "feedback": values.get("feedback_by"),
             "resolve": values.get("resolve_by")}  # fmt: skip
    passed = sorted(kind for kind, deadline in kinds.items() if deadline and deadline < now)
    if not passed:
        return
    values["sla"] = {"warned": passed, "overdue": passed, **IMPORTED}
    resolve_by = values.get("resolve_by")
    if resolve_by is not None and resolve_by < now:
        late = clock.working_hours_between(resolve_by, now, at_most=ESCALATION[-1][0])
        values["supervision_level"] = max(level for hours, level in ESCALATION if late >= hours)
