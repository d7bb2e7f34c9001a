"""What the manual-dispatch queue needs beyond the list: routing's suggestion for each ticket
(its top two candidates with their scores and keywords, never the unit that just returned
it) and dispatching several tickets in one action — each still its own version-checked
dispatch with its own event, so a stale one is reported while the others go through."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain.events import EventKind
from ..domain.sla import Clock
from ..domain.states import UnitKind
from ..domain.workflow import Action
from ..errors import Conflict, HotlineError, ValidationFailed
from ..models import Category, Ticket, TicketEvent, Unit
from . import duplicates
from .lifecycle import Who, perform
from .queries import lock_ticket
from .router_cache import Compiled

SHOWN_CANDIDATES = 2
SHOWN_TERMS = 6


@dataclass(frozen=True)
class Directory:
    """Names of units and categories, and what the active ruleset's rules add to a choice
    (co-units, territorial co-handling): loaded once per page, not per ticket."""

    units: dict[str, str]  # code → name, active units only
    # code → (name, default unit, whether the place's unit co-handles)
    categories: dict[str, tuple[str, str | None, bool]]
    unit_codes: dict[int, str]  # id → code
    # rule label → (its co-units, whether the place's unit co-handles)
    rules: dict[str, tuple[tuple[str, ...], bool]] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, compiled: Compiled | None) -> Directory:
        rows = session.execute(select(Unit.id, Unit.code, Unit.name, Unit.active)).all()
        codes = {row.id: row.code for row in rows}
        categories = {
            c.code: (c.name, codes.get(c.default_unit_id), c.territorial)
            for c in session.execute(select(Category.code, Category.name,
                                            Category.default_unit_id, Category.territorial))
        }  # fmt: skip
        rules = {}
        if compiled is not None:
            rules = {rule.label: (tuple(rule.co_units), bool(rule.territorial))
                     for rule in compiled.router.rules}  # fmt: skip
        return cls({row.code: row.name for row in rows if row.active}, categories, codes, rules)


@dataclass(frozen=True)
class UnitGroup:
    """One group of the dispatch form's unit list: 条 (the departments) or one district's 块
    (the district, its streets, communities and grids), each unit with its depth in it."""

    label: str
    kind: str  # department, district or other
    entries: tuple[tuple[Unit, int], ...]


def unit_groups(units: Sequence[Unit]) -> list[UnitGroup]:
    """``units`` as the picker shows them: the departments first, then each district with
    its tree, depth first, siblings in the order they were created (as the admin's tree). A
    unit whose parent is not in ``units`` (an inactive street's communities, say) is listed
    under 其他单位 rather than lost."""
    units = sorted(units, key=lambda u: u.id)
    present = {u.id for u in units}
    children: dict[int | None, list[Unit]] = defaultdict(list)
    for unit in units:
        children[unit.parent_id if unit.parent_id in present else None].append(unit)
    seen: set[int] = set()

    def tree(root: Unit, depth: int) -> list[tuple[Unit, int]]:
        if root.id in seen:  # a cycle in the data must not loop forever
            return []
        seen.add(root.id)
        found = [(root, depth)]
        for child in children[root.id]:
            found += tree(child, depth + 1)
        return found

    roots = children[None]
    departments = [e for u in roots if u.kind == UnitKind.DEPARTMENT for e in tree(u, 0)]
    groups = [UnitGroup("条：市级部门", "department", tuple(departments))] if departments else []
    groups += [UnitGroup(f"块：{u.name}", "district", tuple(tree(u, 0)))
               for u in roots if u.kind == UnitKind.DISTRICT]  # fmt: skip
    rest = [e for u in roots if u.id not in seen for e in tree(u, 0)]
    rest += [e for u in units if u.id not in seen for e in tree(u, 0)]  # only a cycle is left
    if rest:
        groups.append(UnitGroup("其他单位", "other", tuple(rest)))
    return groups


@dataclass(frozen=True)
class Candidate:
    """One of routing's candidates as the operator reads it."""

    label: str
    unit: str | None
    unit_name: str | None
    category: str | None
    score: float
    terms: tuple[tuple[str, float], ...]  # matched keywords and their weights, strongest first


@dataclass(frozen=True)
class Suggestion:
    candidates: tuple[Candidate, ...] = ()
    lead_unit: str | None = None  # what "按建议派单" sends (None: nothing to suggest)
    co_units: tuple[str, ...] = ()
    category: str | None = None  # the category to set with it (None: leave it)
    category_name: str | None = None
    basis: str = ""  # routing, candidate or category: what the suggestion rests on
    excluded: str | None = None  # the name of the unit left out because it returned it
    names: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def lead_unit_name(self) -> str | None:
        return self.names.get(self.lead_unit or "")

    @property
    def co_unit_names(self) -> list[str]:
        return [self.names[c] for c in self.co_units if c in self.names]


def suggest(ticket: Ticket, directory: Directory, *, returned_by: str | None) -> Suggestion:
    """Routing's suggestion for ``ticket``; ``returned_by`` (the unit that just returned it)
    is never suggested, as lead or co-unit, nor (for 改派) the unit that has it now. It rests
    on routing's own decision if it had one, else on its best candidate with a unit, else on
    the category's default unit."""
    routing = ticket.routing or {}
    names = directory.units
    current = directory.unit_codes.get(ticket.lead_unit_id or 0)
    excluded = names.get(returned_by) if returned_by else None
    place = directory.unit_codes.get(ticket.territorial_unit_id or 0)
    candidates = _candidates(routing, names, returned_by)

    def usable(code: str | None, *, helping: bool = False) -> bool:
        return (bool(code) and code in names and code != returned_by
                and (helping or code != current))  # fmt: skip

    def made(lead: str, co: Iterable[str | None], category: str | None, basis: str) -> Suggestion:
        helpers = tuple(dict.fromkeys(c for c in co
                                      if c and usable(c, helping=True) and c != lead))  # fmt: skip
        label = directory.categories[category][0] if category in directory.categories else None
        return Suggestion(candidates, lead, helpers, category, label, basis, excluded, names)

    if usable(routing.get("lead_unit")):
        return made(routing["lead_unit"], routing.get("co_units") or [], routing.get("category"),
                    "routing")  # fmt: skip
    for candidate in candidates:
        if candidate.unit and usable(candidate.unit):
            co_units, with_place = directory.rules.get(candidate.label, ((), False))
            return made(candidate.unit, [*co_units, place if with_place else None],
                        candidate.category, "candidate")  # fmt: skip
    if ticket.category is not None and ticket.category.code in directory.categories:
        _, default, with_place = directory.categories[ticket.category.code]
        if default and usable(default):
            return made(default, [place if with_place else None], None, "category")
    return Suggestion(candidates, excluded=excluded, names=names)


def _candidates(routing: dict[str, Any], names: dict[str, str],
                returned_by: str | None) -> tuple[Candidate, ...]:  # fmt: skip
    """Routing's best candidates that score above zero, bar the unit that returned it."""
    found = []
    for item in routing.get("candidates") or []:
        unit = item.get("lead_unit")
        if (item.get("score") or 0) <= 0 or (unit and unit == returned_by):
            continue
        terms = tuple((m["term"], m["weight"]) for m in item.get("matches") or []
                      if m.get("weight", 0) > 0)[:SHOWN_TERMS]  # fmt: skip
        found.append(
            Candidate(
                item.get("label") or "",
                unit,
                names.get(unit or ""),
                item.get("category"),
                item.get("score") or 0,
                terms,
            )
        )
        if len(found) == SHOWN_CANDIDATES:
            break
    return tuple(found)


def likely_originals(session: Session, tickets: Sequence[Ticket],
                     routing: Compiled | None) -> dict[int, duplicates.Match]:  # fmt: skip
    """For each queued ticket that may repeat an older open one (可能重复), the likeliest:
    one query and one comparison for the whole page."""
    probes = [
        duplicates.Probe(duplicates.ticket_text(t.title, t.description), t.created_at,
                         t.address, t.category_id, t.territorial_unit_id, ticket_id=t.id)
        for t in tickets
    ]  # fmt: skip
    found = duplicates.find(session, probes, routing=routing, limit=1)
    return {t.id: matches[0] for t, matches in zip(tickets, found, strict=True)
            if matches and matches[0].likely}  # fmt: skip


def returned_by(session: Session, tickets: Sequence[Ticket]) -> dict[int, str]:
    """The unit (code) that last returned each of these tickets, if any."""
    ids = [t.id for t in tickets]
    if not ids:
        return {}
    rows = session.execute(
        select(TicketEvent.ticket_id, TicketEvent.data)
        .where(TicketEvent.ticket_id.in_(ids), TicketEvent.kind == EventKind.RETURNED.value)
        .order_by(TicketEvent.sequence)
    )
    found = {ticket_id: (data or {}).get("unit") for ticket_id, data in rows}
    return {ticket_id: code for ticket_id, code in found.items() if code}


@dataclass
class Dispatched:
    """What a dispatch of several tickets did: each done, or refused with why."""

    done: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)


def reason_of(exc: HotlineError) -> str:
    """Why a ticket was refused, in one line."""
    if exc.errors:
        return "；".join(m for messages in exc.errors.values() for m in messages)
    return exc.detail


def dispatch_many(session: Session, tickets: Sequence[tuple[str, int]], *, lead_unit: str,
                  who: Who, now: datetime, clock: Clock) -> Dispatched:  # fmt: skip
    """Dispatch each (number, version the operator saw) to ``lead_unit``: one dispatch and
    one event per ticket, each in its own savepoint, so a ticket someone changed meanwhile
    is refused and reported while the others go through. Co-units and categories differ
    from ticket to ticket: those are set one ticket at a time."""
    unit = session.scalar(select(Unit).where(Unit.code == lead_unit))
    if unit is None or not unit.active:
        raise ValidationFailed({"lead_unit": [f"未知或已停用的单位：{lead_unit}"]})
    outcome = Dispatched()
    payload: dict[str, Any] = {"lead_unit": lead_unit, "co_units": [], "category": None,
                               "note": "批量派单"}  # fmt: skip
    for number, version in dict.fromkeys(tickets):
        try:
            with session.begin_nested():
                ticket = lock_ticket(session, number, version)
                perform(session, ticket, Action.DISPATCH, dict(payload), who=who, now=now,
                        clock=clock)  # fmt: skip
        except HotlineError as exc:
            outcome.refused.append((number, reason_of(exc)))
        else:
            outcome.done.append(number)
    return outcome


def dispatch_suggested(session: Session, number: str, version: int, *, expected: str,
                       directory: Directory, who: Who, now: datetime,
                       clock: Clock) -> Suggestion:  # fmt: skip
    """Accept routing's suggestion for one ticket in one click. ``expected`` is the lead
    unit the operator saw on the button: if the suggestion changed since, nothing happens."""
    ticket = lock_ticket(session, number, version)
    by = returned_by(session, [ticket]).get(ticket.id)
    suggestion = suggest(ticket, directory, returned_by=by)
    if suggestion.lead_unit is None or suggestion.lead_unit != expected:
        raise Conflict("建议已变化，请查看工单后再派单")
    perform(session, ticket, Action.DISPATCH,
            {"lead_unit": suggestion.lead_unit, "co_units": list(suggestion.co_units),
             "category": suggestion.category, "note": "按系统建议派单"},
            who=who, now=now, clock=clock)  # fmt: skip
    return suggestion
