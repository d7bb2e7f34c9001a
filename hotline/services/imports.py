"""Call-centre work orders → tickets, idempotently, keyed by (source, work-order number).

New orders become tickets: dispatched to the 承办单位 the call centre named when that name
resolves to one of our units, otherwise routed like any complaint (and left in the manual
queue when routing is unsure or the named unit is unknown). Orders seen before update only
what is still the call centre's to set, with an event saying what changed.

A new order that repeats an open ticket (services/duplicates.py: words alike at the same
address, the same place and kind, or from the same caller) is not dispatched again blindly:
it waits in the manual queue with a "routed" event and a reason naming the likely original
(可能重复), or — the same caller saying the same thing, near-certain — it is merged into the
open ticket by the workflow's own merge. One duplicate query per chunk, not per row.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..domain.call_records import CallRecord
from ..domain.numbering import local_day
from ..domain.sla import Clock
from ..domain.states import Channel, Priority, Role, Status
from ..domain.unit_names import UnitName, UnitNames
from ..domain.workflow import FINAL, Action
from ..models import Category, OutboxMessage, Ticket, TicketEvent, Unit, ticket_co_units
from . import duplicates, history
from .actors import Actor
from .events import new_event
from .lifecycle import Who, clock_values, perform
from .new_ticket import Handover, NewTicketPlan, RoutingNote, Submission, UnitRef, plan_new_ticket
from .numbering import reserve_numbers, reserve_numbers_by_day
from .router_cache import Compiled
from .ticket_routing import Routed, route_new_ticket

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
    history: bool = False  # orders as they were handled (services/history.py)
    _deadlines: dict[tuple[Any, ...], dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, *, source: str, actor: Actor, routing: Compiled | None,
             clock: Clock, prefix: str, timezone: str,
             history: bool = False) -> ImportContext:  # fmt: skip
        units = {u.code: u for u in session.scalars(select(Unit).where(Unit.active))}
        by_id = {u.id: u.code for u in units.values()}
        names = UnitNames(
            UnitName(u.code, u.name, u.kind, by_id.get(u.parent_id), tuple(u.aliases or ()))
            for u in units.values()
        )
        categories: dict[str, Category] = {}
        for category in session.scalars(select(Category).where(Category.active)):
            categories[category.code] = categories[category.name] = category
        return cls(source, actor, names, units, categories, routing, clock, prefix, timezone,
                   history)  # fmt: skip

    def deadlines(self, time_limit: str | None, priority: str, now: datetime) -> dict[str, Any]:
        """The SLA columns for tickets dispatched ``now`` (the same for a whole chunk)."""
        key = (time_limit, priority, now)
        if key not in self._deadlines:
            self._deadlines[key] = clock_values(time_limit, priority, now, self.clock)
        return dict(self._deadlines[key])

    def ref(self, code: str) -> UnitRef:
        unit = self.units[code]
        return UnitRef(unit.id, unit.code, unit.name)

    def category_for(self, text: str | None) -> Category | None:
        return _known_category(text, self.categories)


def _known_category(text: str | None, categories: dict[str, Category]) -> Category | None:
    """诉求类型 may be a path (城乡建设-市容环境-占道经营): the most specific part we know."""
    if not text:
        return None
    for part in reversed(_CATEGORY_PATH.split(text)):
        if part in categories:
            return categories[part]
    return None


def unknown_category_notes(session: Session, counts: Counter[str], *, limit: int = 20) -> list[str]:
    """One note per 诉求类型 value that is no known category, most frequent first: those rows
    are categorised from their text, and the summary says so instead of dropping the value."""
    categories: dict[str, Category] = {}
    for category in session.scalars(select(Category).where(Category.active)):
        categories[category.code] = categories[category.name] = category
    unknown = [(value, n) for value, n in counts.most_common()
               if _known_category(value, categories) is None]  # fmt: skip
    notes = [f"诉求类型“{value}”不是已知类别：{n} 行，已按内容自动分类"
             for value, n in unknown[:limit]]  # fmt: skip
    if len(unknown) > limit:
        rest = sum(n for _, n in unknown[limit:])
        notes.append(f"另有 {len(unknown) - limit} 种未知诉求类型：{rest} 行，已按内容自动分类")
    return notes


@dataclass
class ChunkOutcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    closed: int = 0  # of the created: history orders that came in closed or rejected
    # 诉求类型 values that are no known category → rows (see unknown_category_notes)
    unknown_categories: Counter[str] = field(default_factory=Counter)
    # (row number, outcome, ticket id) for each applied record, in order
    tickets: list[tuple[int, str, int | None]] = field(default_factory=list)


def apply_records(session: Session, items: list[tuple[int, CallRecord]], ctx: ImportContext,
                  *, now: datetime, dry_run: bool = False,
                  turn: Callable[[], None] | None = None) -> ChunkOutcome:  # fmt: skip
    """Apply checked records (no duplicates among them) in the caller's transaction.

    New tickets are written with a few multi-row INSERTs per chunk (ids reserved up front)
    instead of one ORM object per row: an import of 100,000 rows spends its time on the
    rows, not on bookkeeping. Known ones go through the ORM, as any change to a ticket.

    Everything that only reads (routing, planning, the duplicate check) comes before
    ``turn``, which is called once right before the first write that takes a lock others
    wait for (the day's number counter): chunks applied side by side in several processes
    wait there for the chunk before theirs, and number in file order.
    """
    refs = [record.external_ref for _, record in items]
    same = select(Ticket).where(Ticket.external_source == ctx.source,
                                Ticket.external_ref.in_(refs))  # fmt: skip
    existing = {t.external_ref: t for t in session.scalars(same)}
    outcome = ChunkOutcome()
    outcome.unknown_categories.update(
        record.category for _, record in items
        if record.category and ctx.category_for(record.category) is None
    )  # fmt: skip
    fresh = [(row, record) for row, record in items if record.external_ref not in existing]
    outcome.closed = sum(1 for _, record in fresh if history.came_in_closed(record))
    created: dict[int, int | None] = {row: None for row, _ in fresh}
    if fresh and not dry_run and ctx.history:
        plans = [_plan_history(record, ctx, now) for _, record in fresh]
        rows = _new_rows(session, plans, now)
        if turn is not None:
            turn()
        ids = _write_new(session, rows, _numbers_by_day(session, plans, ctx))
        created = {row: ticket_id for (row, _), ticket_id in zip(fresh, ids, strict=True)}
    elif fresh and not dry_run:
        plans = [_plan_new(record, ctx, now) for _, record in fresh]
        names = _names(ctx)
        probes = [_probe(plan, record, names, now)
                  for plan, (_, record) in zip(plans, fresh, strict=True)]  # fmt: skip
        # Rows of the chunk are named by their place until numbers are reserved (the turn).
        places = [f"#{position}" for position in range(len(plans))]
        # Only what would be dispatched now is looked up: the manual queue marks the rest.
        found = duplicates.repeats(session, probes, routing=ctx.routing, numbers=places,
                                   checked=[plan.lead is not None for plan in plans])  # fmt: skip
        if turn is not None:
            turn()
        numbers = reserve_numbers(session, count=len(plans), prefix=ctx.prefix,
                                  day=local_day(now, ctx.timezone))  # fmt: skip
        found = [_numbered(repeat, places, numbers) for repeat in found]
        for position, repeat in enumerate(found):
            if repeat is not None:
                plans[position] = _plan_new(fresh[position][1], ctx, now, repeat=repeat)
        ids = _insert_new(session, plans, numbers, now)
        created = {row: ticket_id for (row, _), ticket_id in zip(fresh, ids, strict=True)}
        for ticket_id, repeat in zip(ids, found, strict=True):
            if repeat is not None and repeat.merge:  # the others stay held in the queue
                _merge_into(session, ticket_id, repeat, ctx, now)
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
        outcome.tickets.append((row, "updated" if changed else "unchanged", ticket.id))
    if not dry_run:
        session.flush()
    return outcome


def _numbered(repeat: duplicates.Repeat | None, places: list[str],
              numbers: list[str]) -> duplicates.Repeat | None:  # fmt: skip
    """A repeat of an earlier row of the chunk, naming that row by its number now."""
    if repeat is None or repeat.match.original.id:
        return repeat
    original = replace(repeat.match.original,
                       number=numbers[places.index(repeat.match.original.number)])  # fmt: skip
    return replace(repeat, match=replace(repeat.match, original=original))


def _last_sequences(session: Session, ticket_ids: list[int]) -> dict[int, int]:
    if not ticket_ids:
        return {}
    rows = session.execute(
        select(TicketEvent.ticket_id, func.max(TicketEvent.sequence))
        .where(TicketEvent.ticket_id.in_(ticket_ids))
        .group_by(TicketEvent.ticket_id)
    )
    return {ticket_id: last for ticket_id, last in rows}


# ---------------------------------------------------------------- new tickets, as rows

_TICKET_COLUMNS = tuple(c.key for c in Ticket.__table__.columns)
NO_RULESET = "没有启用的分派规则，请人工派单"


def _names(ctx: ImportContext) -> dict[tuple[str, int], str]:
    found = {("category", c.id): c.name for c in ctx.categories.values()}
    found.update({("unit", u.id): u.name for u in ctx.units.values()})
    return found


def _probe(plan: NewTicketPlan, record: CallRecord, names: dict[tuple[str, int], str],
           now: datetime) -> duplicates.Probe:  # fmt: skip
    """A new work order as the duplicate check compares it: its words, place and kind."""
    category, unit = plan.values["category_id"], plan.values["territorial_unit_id"]
    return duplicates.Probe(
        duplicates.ticket_text(record.title, record.description), now, record.address,
        category, unit, record.phone, category_name=names.get(("category", category or 0)),
        unit_name=names.get(("unit", unit or 0)),
    )  # fmt: skip


def _held(
    note: RoutingNote | None, repeat: duplicates.Repeat, record: CallRecord, ctx: ImportContext
) -> RoutingNote:
    """What routing notes on a work order that repeats an open ticket: not dispatched, and
    why, naming the likely original (the queue shows it as 可能重复)."""
    match = repeat.match
    number = match.original.number
    if repeat.merge:
        reason = (f"与工单 {number} 为同一来电号码反映的同一问题（内容相似 {match.score:.2f}），"
                  "自动合并办理")  # fmt: skip
    else:
        reason = (f"可能重复：与工单 {number} 反映的可能是同一问题（{match.why}），"
                  "未自动派单，请核对后合并或派单")  # fmt: skip
    info = {"number": number, "similarity": match.score, "why": match.why,
            "merged": repeat.merge}  # fmt: skip
    ruleset_id = note.ruleset_id if note else (ctx.routing.record_id if ctx.routing else None)
    stored = {**((note.record if note else None) or {}), "reason": reason, "confident": False,
              "duplicate_of": info}  # fmt: skip
    if record.lead_unit:
        stored["named_unit"] = record.lead_unit
    data = {**(note.data if note else {}), "dispatched": False, "duplicate_of": number,
            "similarity": match.score}  # fmt: skip
    return RoutingNote(ruleset_id, stored if ruleset_id is not None else None, reason, data)


def _merge_into(
    session: Session, ticket_id: int, repeat: duplicates.Repeat, ctx: ImportContext, now: datetime
) -> None:
    """The workflow's own merge, on behalf of the staff member who started the import (only
    staff who may dispatch import work orders)."""
    ticket = session.get(Ticket, ticket_id)
    assert ticket is not None
    perform(session, ticket, Action.MERGE, {"into": repeat.match.original.number},
            who=Who(ctx.actor, Role.OPERATOR), now=now, clock=ctx.clock)  # fmt: skip


def _plan_new(record: CallRecord, ctx: ImportContext, now: datetime, *,
              repeat: duplicates.Repeat | None = None) -> NewTicketPlan:  # fmt: skip
    category = ctx.category_for(record.category)
    said = Submission(
        channel=Channel.CALL_CENTRE.value, description=record.description,
        priority=record.priority or (category.priority if category else Priority.NORMAL.value),
        title=record.title, address=record.address, reporter_name=record.name,
        reporter_phone=record.phone, external_source=ctx.source,
        external_ref=record.external_ref, reported_at=record.reported_at,
        order_kind=record.order_kind,
    )  # fmt: skip
    territorial = _territorial(record, ctx)
    lead = ctx.names.resolve(record.lead_unit) if record.lead_unit else None
    if lead is not None and lead in ctx.units:
        note, handover, category, territorial = _as_named(record, lead, category, territorial,
                                                          ctx)  # fmt: skip
    else:
        note, handover, category, territorial = _as_routed(record, category, territorial, ctx)
    if repeat is not None:  # a person decides (or the workflow merges it): no dispatch
        note, handover = _held(note, repeat, record, ctx), None
    deadlines = None
    if handover is not None:
        deadlines = ctx.deadlines(category.time_limit if category else None, said.priority, now)
        if record.deadline is not None:  # the call centre's own time limit prevails
            deadlines["resolve_by"] = record.deadline
    return plan_new_ticket(
        said, actor=ctx.actor, now=now,
        submitted={"channel": Channel.CALL_CENTRE.value, "source": ctx.source,
                   "external_ref": record.external_ref, "category_text": record.category},
        category_id=category.id if category else None,
        territorial_unit_id=territorial.id if territorial else None,
        routing=note, handover=handover, deadlines=deadlines,
    )  # fmt: skip


def _plan_history(record: CallRecord, ctx: ImportContext, now: datetime) -> NewTicketPlan:
    """A history order: its category (from 诉求类型, else from its text when a ruleset can
    tell), its place, and the units the call centre named — never routed to a unit."""
    category = ctx.category_for(record.category)
    territorial = _territorial(record, ctx)
    if category is None and ctx.routing is not None:
        routed = _route(record, ctx, chosen_category=None)
        category = ctx.categories.get(routed.decision.category or "")
        if territorial is None and routed.territorial:
            territorial = ctx.units.get(routed.territorial.code)
    lead = ctx.names.resolve(record.lead_unit) if record.lead_unit else None
    lead_ref = ctx.ref(lead) if lead is not None and lead in ctx.units else None
    co_units: list[UnitRef] = []
    if lead_ref is not None:
        for name in record.co_units:
            code = ctx.names.resolve(name)
            if code and code != lead and code in ctx.units and code not in co_units:
                co_units.append(ctx.ref(code))
    priority = record.priority or (category.priority if category else Priority.NORMAL.value)
    known = history.Known(
        category.id if category else None, category.time_limit if category else None,
        territorial.id if territorial else None, lead_ref, tuple(dict.fromkeys(co_units)),
        priority,
    )  # fmt: skip
    return history.plan_history(record, known, source=ctx.source, actor=ctx.actor,
                                clock=ctx.clock, now=now)  # fmt: skip


def _numbers_by_day(session: Session, plans: list[NewTicketPlan],
                    ctx: ImportContext) -> list[str]:  # fmt: skip
    """Numbers of the day each ticket came in (history orders span years), in plan order."""
    days = [local_day(plan.values["created_at"], ctx.timezone) for plan in plans]
    reserved = reserve_numbers_by_day(session, Counter(days), prefix=ctx.prefix)
    by_day = {day: numbers[::-1] for day, numbers in reserved.items()}
    return [by_day[day].pop() for day in days]


def _territorial(record: CallRecord, ctx: ImportContext) -> Unit | None:
    street = ctx.names.resolve(record.street, kinds=("street",)) if record.street else None
    if record.community:
        community = ctx.names.resolve(record.community, kinds=("community", "grid"),
                                      within=street)  # fmt: skip
        if community:
            return ctx.units[community]
    return ctx.units[street] if street else None


Planned = tuple[RoutingNote | None, Handover | None, Category | None, Unit | None]


def _as_named(record: CallRecord, lead: str, category: Category | None,
              territorial: Unit | None, ctx: ImportContext) -> Planned:  # fmt: skip
    """To the unit the call centre named; routing, if any, only says the category."""
    co_codes, unknown = [], []
    for name in record.co_units:
        code = ctx.names.resolve(name)
        if code and code != lead and code in ctx.units and code not in co_codes:
            co_codes.append(code)
        elif not code:
            unknown.append(name)
    note = None
    if category is None and ctx.routing is not None:
        # The unit is settled; routing still names the category (and so the time limit).
        routed = _route(record, ctx, chosen_category=None)
        note = RoutingNote(routed.ruleset_id, routed.record)
        category = ctx.categories.get(routed.decision.category or "")
        if territorial is None and routed.territorial:
            territorial = ctx.units.get(routed.territorial.code)
    data: dict[str, Any] = {"automatic": False, "by": "call_centre"}
    if unknown:
        data["unknown_co_units"] = unknown
    handover = Handover(ctx.ref(lead), tuple(ctx.ref(c) for c in co_codes), ctx.actor, data)
    return note, handover, category, territorial


def _as_routed(record: CallRecord, category: Category | None, territorial: Unit | None,
               ctx: ImportContext) -> Planned:  # fmt: skip
    """Routed like any complaint; a named unit we do not know leaves it to a person."""
    if ctx.routing is None:
        note = RoutingNote(None, None, NO_RULESET, {"dispatched": False})
        return note, None, category, territorial
    routed = _route(record, ctx, chosen_category=category.code if category else None)
    if territorial is None and routed.territorial:
        territorial = ctx.units.get(routed.territorial.code)
    if record.lead_unit:
        # The call centre named a unit we do not know: a person decides, with routing's hint.
        reason = f"承办单位「{record.lead_unit}」未能对应到系统中的单位，请人工派单"
        note = RoutingNote(routed.ruleset_id,
                           {**routed.record, "reason": reason, "confident": False,
                            "named_unit": record.lead_unit},
                           reason, {**routed.event_data, "dispatched": False})  # fmt: skip
        return note, None, category, territorial
    handover = routed.handover()
    if handover is not None and routed.category:
        category = ctx.categories.get(routed.category.code, category)
    return routed.note(), handover, category, territorial


def _route(record: CallRecord, ctx: ImportContext, *, chosen_category: str | None) -> Routed:
    assert ctx.routing is not None
    return route_new_ticket(ctx.routing, text=record.description, title=record.title,
                            place=record.address, chosen_category=chosen_category)  # fmt: skip


def _reserve_ids(session: Session, table: Any, count: int) -> list[int]:
    """Primary keys for rows about to be inserted together (no RETURNING round trips)."""
    if count == 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return list(session.scalars(
            text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                 "FROM generate_series(1, :n)"), {"table": table.name, "n": count}
        ))  # fmt: skip
    # SQLite: this transaction holds the database's only write lock (BEGIN IMMEDIATE).
    last = session.scalar(select(func.coalesce(func.max(table.c.id), 0)))
    return list(range(last + 1, last + count + 1))


@dataclass
class _NewRows:
    """New tickets as the rows to insert, keys reserved, numbers still to come."""

    ticket_ids: list[int]
    tickets: list[dict[str, Any]]
    events: list[dict[str, Any]]
    co_units: list[dict[str, Any]]
    messages: list[dict[str, Any]]


def _new_rows(session: Session, plans: list[NewTicketPlan], now: datetime) -> _NewRows:
    """The rows of new tickets; taking ids waits for nobody (sequences), so a pool's chunk
    builds them before its turn and only numbers and writes them in it."""
    ticket_ids = _reserve_ids(session, Ticket.__table__, len(plans))
    event_ids = iter(_reserve_ids(session, TicketEvent.__table__,
                                  sum(len(p.events) for p in plans)))  # fmt: skip
    blank = dict.fromkeys(_TICKET_COLUMNS)  # COPY names every column, the plan only its own
    rows = _NewRows(ticket_ids, [], [], [], [])
    for plan, ticket_id in zip(plans, ticket_ids, strict=True):
        rows.tickets.append({**blank, **plan.values, "id": ticket_id, "number": None})
        rows.co_units += [{"ticket_id": ticket_id, "unit_id": unit} for unit in plan.co_unit_ids]
        ids = []
        for sequence, event in enumerate(plan.events, start=1):
            ids.append(next(event_ids))
            rows.events.append({"id": ids[-1], "ticket_id": ticket_id, "sequence": sequence,
                                "kind": event.kind.value, "actor_id": event.actor.user_id,
                                "actor_label": event.actor.label, "public": event.public,
                                "body": event.body, "data": event.data,
                                "created_at": event.at or now})  # fmt: skip
        rows.messages += [{"ticket_id": ticket_id, "event_id": ids[m.event], **m.values}
                          for m in plan.messages]  # fmt: skip
    return rows


def _write_new(session: Session, rows: _NewRows, numbers: list[str]) -> list[int]:
    for ticket, number in zip(rows.tickets, numbers, strict=True):
        ticket["number"] = number
    for table, items in (
        (Ticket.__table__, rows.tickets),
        (TicketEvent.__table__, rows.events),
        (ticket_co_units, rows.co_units),
        (OutboxMessage.__table__, rows.messages),
    ):
        _insert_rows(session, table, items)
    return rows.ticket_ids


def _insert_new(session: Session, plans: list[NewTicketPlan], numbers: list[str],
                now: datetime) -> list[int]:  # fmt: skip
    return _write_new(session, _new_rows(session, plans, now), numbers)


def _insert_rows(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """Many rows at once: COPY on PostgreSQL (the fastest way in), executemany elsewhere."""
    if not rows:
        return
    dialect = session.get_bind().dialect
    if dialect.name != "postgresql":
        session.execute(insert(table), rows)
        return
    import psycopg
    from psycopg import sql

    columns = list(rows[0])
    # The columns' own conversions (aware UTC → naive, JSON → text), as an INSERT would do.
    convert = [table.c[name].type._cached_bind_processor(dialect) for name in columns]
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    raw = session.connection().connection.driver_connection
    try:
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row([f(row[c]) if f else row[c]
                                for c, f in zip(columns, convert, strict=True)])  # fmt: skip
    except psycopg.errors.IntegrityError as exc:
        # As SQLAlchemy would report it: the callers retry a chunk that lost a race.
        raise IntegrityError(statement.as_string(raw), None, exc) from exc


# ---------------------------------------------------------------- known tickets


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
