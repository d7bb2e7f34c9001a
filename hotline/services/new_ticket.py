"""A new ticket, planned once as plain values: its columns, its first events and the outbox
rows they call for.

Intake writes a plan through the ORM (one ticket, answered at once); imports write thousands
of plans per chunk with COPY. Neither builds a new ticket's state, texts or notices itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..domain.events import EventKind
from ..domain.states import Status
from ..domain.tracking import new_salt
from .actors import SYSTEM, Actor
from .events import dispatched_body
from .outbox import message_values, payload_for, recipients

SUBMITTED = "您的诉求已受理，我们将尽快转交责任单位办理。"


@dataclass(frozen=True, slots=True)
class UnitRef:
    """A unit as a plan names it: the id for the columns, code and name for events."""

    id: int
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class Submission:
    """What the resident or the call centre said, checked: the ticket's own columns."""

    channel: str
    description: str
    priority: str
    title: str | None = None
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    reporter_name: str | None = None
    reporter_phone: str | None = None
    anonymous: bool = False
    consent_contact: bool = False
    sms_opt_out: bool = False
    external_source: str | None = None
    external_ref: str | None = None
    reported_at: datetime | None = None
    order_kind: str | None = None  # the call centre's kind of order (投诉举报、求助…)


@dataclass(frozen=True, slots=True)
class RoutingNote:
    """What routing left on the ticket: its decision (when a ruleset decided) and, when
    ``reason`` is set, an internal "routed" event saying so."""

    ruleset_id: int | None
    record: dict[str, Any] | None
    reason: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Handover:
    """A unit gets the ticket at once: who leads, who helps, who decided, and what the
    "dispatched" event's data says besides the units."""

    lead: UnitRef
    co_units: tuple[UnitRef, ...]
    actor: Actor = SYSTEM
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PlannedEvent:
    kind: EventKind
    actor: Actor
    public: bool
    body: str | None
    data: dict[str, Any]
    at: datetime | None = None  # when it happened, if not now (a history import's events)


@dataclass(frozen=True, slots=True)
class PlannedMessage:
    event: int  # position of its event in the plan's events
    values: dict[str, Any]  # the outbox row's columns bar ticket and event


@dataclass(frozen=True, slots=True)
class NewTicketPlan:
    values: dict[str, Any]  # the ticket's columns bar id and number
    events: tuple[PlannedEvent, ...]  # sequence 1, 2, ...
    messages: tuple[PlannedMessage, ...]
    lead: UnitRef | None = None
    co_unit_ids: tuple[int, ...] = ()


def plan_new_ticket(
    said: Submission,
    *,
    actor: Actor,
    now: datetime,
    submitted: dict[str, Any],
    category_id: int | None,
    territorial_unit_id: int | None = None,
    routing: RoutingNote | None = None,
    handover: Handover | None = None,
    deadlines: dict[str, Any] | None = None,
    notify: bool = True,
) -> NewTicketPlan:
    """The ticket ``said`` becomes: "submitted" (with ``submitted`` as its data), then what
    routing noted, then the handover to a unit with its ``deadlines`` (the SLA columns, if a
    clock runs); and, unless ``notify`` is off, the notices those events call for."""
    values: dict[str, Any] = {
        "channel": said.channel, "external_source": said.external_source,
        "external_ref": said.external_ref, "reported_at": said.reported_at,
        "order_kind": said.order_kind, "title": said.title, "description": said.description,
        "address": said.address,
        "latitude": said.latitude, "longitude": said.longitude,
        "reporter_name": said.reporter_name, "reporter_phone": said.reporter_phone,
        "anonymous": said.anonymous, "consent_contact": said.consent_contact,
        "sms_opt_out": said.sms_opt_out, "category_id": category_id,
        "territorial_unit_id": territorial_unit_id, "status": Status.REPORTED.value,
        "priority": said.priority, "extensions_used": 0, "callback_attempts": 0, "sla": {},
        "supervision_level": 0, "follower_count": 0,
        "tracking_salt": new_salt(), "created_by_id": actor.user_id, "version": 1,
        "created_at": now, "updated_at": now,
    }  # fmt: skip
    events = [PlannedEvent(EventKind.SUBMITTED, actor, True, SUBMITTED, submitted)]
    if routing is not None:
        if routing.ruleset_id is not None:
            values["ruleset_id"], values["routing"] = routing.ruleset_id, routing.record
        if routing.reason is not None:
            events.append(PlannedEvent(EventKind.ROUTED, SYSTEM, False, routing.reason,
                                       routing.data))  # fmt: skip
    lead = co_unit_ids = None
    if handover is not None:
        lead, co_units = handover.lead, handover.co_units
        co_unit_ids = tuple(unit.id for unit in co_units)
        values["status"] = Status.DISPATCHED.value
        values["lead_unit_id"] = lead.id
        values.update(deadlines or {})
        body = dispatched_body(lead.name, [unit.name for unit in co_units])
        data = {"lead_unit": lead.code, "co_units": [unit.code for unit in co_units],
                **handover.data}  # fmt: skip
        events.append(PlannedEvent(EventKind.DISPATCHED, handover.actor, True, body, data))
    lead_code = lead.code if lead is not None else None
    messages = tuple(
        PlannedMessage(position, message_values(audience, recipient, event.kind,
                                                payload_for(event.kind, event.body, event.data),
                                                now))
        for position, event in enumerate(events if notify else ())
        for audience, recipient in recipients(event.kind, public=event.public,
                                              reporter_phone=said.reporter_phone,
                                              lead_unit=lead_code)
    )  # fmt: skip
    return NewTicketPlan(values, tuple(events), messages, lead, co_unit_ids or ())
