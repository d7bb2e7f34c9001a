"""Call-centre work orders → tickets, idempotently, keyed by (source, work-order number).

New orders become tickets: dispatched to the 承办单位 the call centre named when that name
resolves to one of our units, otherwise routed like any complaint (and left in the manual
queue when routing is unsure or the named unit is unknown). Orders seen before update only
what is still the call centre's to set, with an event saying what changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..domain.numbering import local_day
from ..domain.sla import Clock
from ..domain.states import Channel, Priority, Status
from ..domain.tracking import new_salt
from ..domain.unit_names import UnitName, UnitNames
from ..domain.workflow import FINAL
from ..importers.records import CallRecord
from ..models import Category, Ticket, TicketEvent, Unit
from .actors import Actor
from .events import new_event
from .lifecycle import start_clock
from .numbering import reserve_numbers
from .outbox import notifications_for
from .routing import Compiled, apply_routing, decision_record, route_ticket

DEFAULT_SOURCE = "12345"
# Still the call centre's to set while the ticket is open (the rest is the workflow's).
OWNED = {"title": "工单标题", "description": "诉求内容", "address": "事件发生地",
         "reporter_name": "求助人员", "reporter_phone": "来电号码", "reported_at": "来电时间",
         "priority": "紧急程度"}  # fmt: skip
_CATEGORY_PATH = re.compile(r"\s*[-/>|—－＞]+\s*")


@dataclass
class ImportContext:
    """What a batch needs of the city, loaded once per chunk's session."""

    source: str
    actor: Actor
    names: UnitNames
    units: dict[str, Unit]
    categories: dict[str, Category]  # by code and by name
    routing: Compiled | None
    clock: Clock
    prefix: str
    timezone: str

    @classmethod
    def load(cls, session: Session, *, source: str, actor: Actor, routing: Compiled | None,
             clock: Clock, prefix: str, timezone: str) -> ImportContext:  # fmt: skip
        units = {u.code: u for u in session.scalars(select(Unit).where(Unit.active))}
        by_id = {u.id: u.code for u in units.values()}
        names = UnitNames(
            UnitName(u.code, u.name, u.kind, by_id.get(u.parent_id), tuple(u.aliases or ()))
            for u in units.values()
        )
        categories: dict[str, Category] = {}
        for category in session.scalars(select(Category).where(Category.active)):
            categories[category.code] = categories[category.name] = category
        return cls(source, actor, names, units, categories, routing, clock, prefix, timezone)

    def category_for(self, text: str | None) -> Category | None:
        """诉求类型 may be a path (城乡建设-市容环境-占道经营): the most specific part we know."""
        if not text:
            return None
        for part in reversed(_CATEGORY_PATH.split(text)):
            if part in self.categories:
                return self.categories[part]
        return None


@dataclass
class ChunkOutcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # (row number, outcome, ticket) for each applied record, in order
    tickets: list[tuple[int, str, Ticket | None]] = field(default_factory=list)


def apply_records(session: Session, items: list[tuple[int, CallRecord]], ctx: ImportContext,
                  *, now: datetime, dry_run: bool = False) -> ChunkOutcome:  # fmt: skip
    """Apply checked records (no duplicates among them) in the caller's transaction."""
    refs = [record.external_ref for _, record in items]
    same = select(Ticket).where(Ticket.external_source == ctx.source,
                                Ticket.external_ref.in_(refs))  # fmt: skip
    existing = {t.external_ref: t for t in session.scalars(same)}
    outcome = ChunkOutcome()
    fresh = [(row, record) for row, record in items if record.external_ref not in existing]
    if fresh and not dry_run:
        numbers = reserve_numbers(session, count=len(fresh), prefix=ctx.prefix,
                                  day=local_day(now, ctx.timezone))  # fmt: skip
    else:
        numbers = [""] * len(fresh)
    created = {}
    for (row, record), number in zip(fresh, numbers, strict=True):
        created[row] = None if dry_run else _create(session, record, number, ctx, now)
    sequences = _last_sequences(session, [t.id for t in existing.values()])
    for row, record in items:
        ticket = existing.get(record.external_ref)
        if ticket is None:
            outcome.created += 1
            outcome.tickets.append((row, "created", created[row]))
            continue
        changed = _update(session, ticket, record, ctx, now, sequences, dry_run=dry_run)
        if changed:
            outcome.updated += 1
        else:
            outcome.unchanged += 1
        outcome.tickets.append((row, "updated" if changed else "unchanged", ticket))
    if not dry_run:
        session.flush()
    return outcome


def _last_sequences(session: Session, ticket_ids: list[int]) -> dict[int, int]:
    if not ticket_ids:
        return {}
    rows = session.execute(
        select(TicketEvent.ticket_id, func.max(TicketEvent.sequence))
        .where(TicketEvent.ticket_id.in_(ticket_ids))
        .group_by(TicketEvent.ticket_id)
    )
    return {ticket_id: last for ticket_id, last in rows}


def _create(session: Session, record: CallRecord, number: str, ctx: ImportContext,
            now: datetime) -> Ticket:  # fmt: skip
    category = ctx.category_for(record.category)
    ticket = Ticket(
        number=number, channel=Channel.CALL_CENTRE.value, external_source=ctx.source,
        external_ref=record.external_ref, title=record.title, description=record.description,
        address=record.address, reporter_name=record.name, reporter_phone=record.phone,
        anonymous=False, consent_contact=False, sms_opt_out=False, category=category,
        status=Status.REPORTED.value,
        priority=record.priority or (category.priority if category else Priority.NORMAL.value),
        supervision_level=0, tracking_salt=new_salt(), created_by_id=ctx.actor.user_id,
        reported_at=record.reported_at, created_at=now, updated_at=now,
        co_units=[], duplicate_of=None,
    )  # fmt: skip
    events = [new_event(
        ticket, 1, "submitted", actor=ctx.actor, now=now, public=True,
        body="您的诉求已受理，我们将尽快转交责任单位办理。",
        data={"channel": Channel.CALL_CENTRE.value, "source": ctx.source,
              "external_ref": record.external_ref, "category_text": record.category},
    )]  # fmt: skip
    territorial = _territorial(record, ctx)
    lead = ctx.names.resolve(record.lead_unit) if record.lead_unit else None
    if lead is not None and lead in ctx.units:
        events += _dispatch_as_named(ticket, record, lead, category, territorial, ctx, now)
    else:
        events += _route(session, ticket, record, category, ctx, now)
        if territorial is not None:
            ticket.territorial_unit = territorial
    if ticket.territorial_unit_id is not None and ticket.territorial_unit is None:
        ticket.territorial_unit = _unit_by_id(ctx, ticket.territorial_unit_id)
    if ticket.status == Status.DISPATCHED.value:
        start_clock(ticket, now, ctx.clock)
        if record.deadline is not None:  # the call centre's own time limit prevails
            ticket.resolve_by = record.deadline
    messages = [m for event in events for m in notifications_for(ticket, event, now)]
    session.add_all([ticket, *events, *messages])
    return ticket


def _territorial(record: CallRecord, ctx: ImportContext) -> Unit | None:
    street = ctx.names.resolve(record.street, kinds=("street",)) if record.street else None
    if record.community:
        community = ctx.names.resolve(record.community, kinds=("community", "grid"),
                                      within=street)  # fmt: skip
        if community:
            return ctx.units[community]
    return ctx.units[street] if street else None


def _unit_by_id(ctx: ImportContext, unit_id: int) -> Unit | None:
    return next((u for u in ctx.units.values() if u.id == unit_id), None)


def _dispatch_as_named(ticket: Ticket, record: CallRecord, lead: str, category: Category | None,
                       territorial: Unit | None, ctx: ImportContext,
                       now: datetime) -> list[TicketEvent]:  # fmt: skip
    co_codes, unknown = [], []
    for name in record.co_units:
        code = ctx.names.resolve(name)
        if code and code != lead and code not in co_codes:
            co_codes.append(code)
        elif not code:
            unknown.append(name)
    if category is None and ctx.routing is not None:
        # The unit is settled; routing still names the category (and so the time limit).
        decision = route_ticket(ctx.routing, ticket)
        ticket.routing = decision_record(ctx.routing, decision)
        ticket.ruleset_id = ctx.routing.record_id
        if decision.category in ctx.categories:
            ticket.category = ctx.categories[decision.category]
        if territorial is None and decision.territorial_unit in ctx.units:
            territorial = ctx.units[decision.territorial_unit]
    ticket.status = Status.DISPATCHED.value
    ticket.lead_unit = ctx.units[lead]
    ticket.co_units = [ctx.units[c] for c in co_codes]
    ticket.territorial_unit = territorial
    helpers = "、".join(ctx.units[c].name for c in co_codes)
    body = f"已转交{ctx.units[lead].name}办理" + (f"，{helpers}协办" if helpers else "") + "。"
    data: dict[str, Any] = {"lead_unit": lead, "co_units": co_codes, "automatic": False,
                            "by": "call_centre"}  # fmt: skip
    if unknown:
        data["unknown_co_units"] = unknown
    return [new_event(ticket, 2, "dispatched", actor=ctx.actor, now=now, public=True,
                      body=body, data=data)]  # fmt: skip


def _route(session: Session, ticket: Ticket, record: CallRecord, category: Category | None,
           ctx: ImportContext, now: datetime) -> list[TicketEvent]:  # fmt: skip
    named = record.lead_unit
    if ctx.routing is None:
        reason = "没有启用的分派规则，请人工派单"
        return [new_event(ticket, 2, "routed", actor=ctx.actor, now=now, public=False,
                          body=reason, data={"dispatched": False})]  # fmt: skip
    result = apply_routing(ticket, ctx.routing, chosen_category=category.code if category else None,
                           now=now, sequence=2)  # fmt: skip
    if named:
        # The call centre named a unit we do not know: a person decides, with routing's hint.
        reason = f"承办单位「{named}」未能对应到系统中的单位，请人工派单"
        ticket.status = Status.REPORTED.value
        ticket.routing = {**(ticket.routing or {}), "reason": reason, "confident": False,
                          "named_unit": named}  # fmt: skip
        routed = result.events[0]
        routed.body, routed.data = reason, {**routed.data, "dispatched": False}
        return [routed]
    if result.lead_unit_id:
        if result.category_id:
            ticket.category = next(c for c in ctx.categories.values() if c.id == result.category_id)
        ticket.lead_unit = _unit_by_id(ctx, result.lead_unit_id)
        ticket.co_units = [u for u in (_unit_by_id(ctx, i) for i in result.co_unit_ids) if u]
    return result.events


def _update(session: Session, ticket: Ticket, record: CallRecord, ctx: ImportContext,
            now: datetime, sequences: dict[int, int], *, dry_run: bool) -> bool:  # fmt: skip
    if Status(ticket.status) in FINAL:
        return False  # closed, rejected or merged: nothing is the call centre's any more
    wanted = {"title": record.title, "description": record.description,
              "address": record.address, "reporter_name": record.name,
              "reporter_phone": record.phone, "reported_at": record.reported_at,
              "priority": record.priority or ticket.priority}  # fmt: skip
    changed = [name for name, value in wanted.items() if getattr(ticket, name) != value]
    if not changed or dry_run:
        return bool(changed)
    for name in changed:
        setattr(ticket, name, wanted[name])
    ticket.updated_at = now
    sequence = sequences.get(ticket.id, 0) + 1
    sequences[ticket.id] = sequence
    session.add(new_event(
        ticket, sequence, "updated", actor=ctx.actor, now=now, public=False,
        body=f"{ctx.source} 更新了工单内容：{'、'.join(OWNED[n] for n in changed)}",
        data={"fields": changed, "source": ctx.source},
    ))  # fmt: skip
    return True
