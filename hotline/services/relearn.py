"""Learning as an everyday loop: training rows from the city's own tickets, and the state of
the weekly (or requested) learning run, kept in the audit log.

Training rows, newest first where capped:

- the base history: a labelled file, when the caller has one (``history``);
- settled tickets: dispatched, and now held by a unit that accepted them (accepted, in
  progress, resolved, closed or reopened). Their category, or their lead unit when it is not
  the category's own, is the label. A ticket returned before it settled is counted apart
  (``from_returns``): its final unit is what the return and any arbitration led to (a
  re-dispatch, or a return overruled back to the unit), so it names the right unit.
  Tickets of the last ``window_days`` days are left out: the shadow evaluation scores the
  draft on them, and a draft must not be scored on its own training rows;
- operators' corrections (re-dispatches), the latest per ticket, unless the unit it named
  returned the ticket afterwards ("not ours").

A return still waiting for a re-dispatch says only "not this unit": it gives no label, so
it is no training row; it only drops the correction (or keeps out the ticket) naming that
unit.

The run's state: ``routing.learn_requested`` (the console button), ``routing.learn_started``
(a run holds it for ``LEASE``) and ``routing.learn_finished`` (with the draft or the reason
nothing was learned). Claiming is serialised (PostgreSQL: an advisory lock; SQLite: its
write lock), so a double click, two workers or a restarted scheduler start one run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from routing.learn import Target

from ..domain.states import Status
from ..errors import ValidationFailed
from ..models import (
    AuditEvent,
    Category,
    RoutingCorrection,
    RulesetRecord,
    Ticket,
    TicketEvent,
    Unit,
)
from . import audit
from .actors import SYSTEM, Actor
from .router_cache import CityModel
from .training import TrainingSet, resolve_label

TICKET_CAP = 50_000  # settled tickets learned from at most (the newest): a megacity stays bounded
CORRECTION_CAP = 50_000
WINDOW_DAYS = 30  # the shadow evaluation's recent tickets, kept out of training
EVERY = timedelta(days=7)  # the weekly run
LEASE = timedelta(minutes=30)  # a started run that has not finished by then has died
SETTLED = (Status.ACCEPTED, Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED, Status.REOPENED)

REQUESTED = "routing.learn_requested"
STARTED = "routing.learn_started"
FINISHED = "routing.learn_finished"
SUBJECT = "routing:learning"
_LOCK_KEY = 7_345_001  # PostgreSQL advisory lock for claiming a run


# ---------------------------------------------------------------- labels of tickets


def ticket_target(category: str | None, lead_unit: str | None, city: CityModel) -> Target | None:
    """What a ticket's dispatch says is right: its category, with the lead unit only when it
    is not the category's own (a rule for that category then names it)."""
    info = city.categories.get(category or "")
    if info is not None:
        unit = lead_unit if lead_unit and lead_unit != info.default_unit else None
        return Target(info.code, unit, info.territorial)
    if lead_unit in city.units:
        return Target(lead_unit=lead_unit)
    return None


def target_name(target: Target, city: CityModel) -> str:
    """The label a target gets when no file label names it: 占道经营, 示范市公安局, or
    占道经营（示范市公安局交通警察支队） for a category dispatched to another unit."""
    if target.category:
        name = city.categories[target.category].name
        return f"{name}（{city.unit_name(target.lead_unit)}）" if target.lead_unit else name
    return city.unit_name(target.lead_unit) or str(target.lead_unit)


def target_key(target: Target) -> tuple[str | None, str | None]:
    return (target.category, target.lead_unit)


@dataclass(frozen=True)
class LabelledText:
    text: str
    target: Target
    number: str | None = None  # the ticket's, for examples


def ticket_text(title: str | None, description: str | None) -> str:
    return "\n".join(filter(None, (title, description)))


def _returns(session: Session, ticket_ids: Sequence[int]) -> dict[int, list[tuple[datetime, str]]]:
    """(when, unit code) of every return, per ticket."""
    found: dict[int, list[tuple[datetime, str]]] = {}
    for start in range(0, len(ticket_ids), 1000):
        chunk = list(ticket_ids[start : start + 1000])
        rows = session.execute(
            select(TicketEvent.ticket_id, TicketEvent.created_at, TicketEvent.data)
            .where(TicketEvent.kind == Status.RETURNED.value, TicketEvent.ticket_id.in_(chunk))
        )  # fmt: skip
        for ticket_id, at, data in rows:
            found.setdefault(ticket_id, []).append((at, (data or {}).get("unit") or ""))
    return found


def settled_tickets(session: Session, city: CityModel, *, since: datetime | None = None,
                    before: datetime | None = None, limit: int = TICKET_CAP,
                    never_returned: bool = False) -> list[tuple[LabelledText, bool]]:  # fmt: skip
    """Settled tickets, newest first, as (row, was returned before it settled)."""
    unit_code = {uid: code for code, uid in city.unit_ids.items()}
    category_code = select(Category.id, Category.code)
    codes = dict(session.execute(category_code).all())
    stmt = (
        select(Ticket.id, Ticket.number, Ticket.title, Ticket.description, Ticket.category_id,
               Ticket.lead_unit_id)
        .where(Ticket.status.in_([s.value for s in SETTLED]), Ticket.lead_unit_id.is_not(None),
               Ticket.dispatched_at.is_not(None))
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(limit)
    )  # fmt: skip
    if since is not None:
        stmt = stmt.where(Ticket.created_at >= since)
    if before is not None:
        stmt = stmt.where(Ticket.created_at < before)
    rows = list(session.execute(stmt))
    returns = _returns(session, [row.id for row in rows])
    found = []
    for row in rows:
        body = ticket_text(row.title, row.description)
        target = ticket_target(codes.get(row.category_id), unit_code.get(row.lead_unit_id), city)
        returned = row.id in returns
        if not body.strip() or target is None or (never_returned and returned):
            continue
        found.append((LabelledText(body, target, row.number), returned))
    return found


def effective_corrections(
    session: Session, city: CityModel, *, limit: int = CORRECTION_CAP
) -> list[tuple[int, LabelledText]]:
    """(ticket id, row) of the latest correction per ticket, newest first, unless the unit
    it named returned the ticket afterwards."""
    rows = list(session.execute(
        select(RoutingCorrection.ticket_id, RoutingCorrection.text, RoutingCorrection.category,
               RoutingCorrection.lead_unit, RoutingCorrection.created_at, Ticket.number)
        .join(Ticket, Ticket.id == RoutingCorrection.ticket_id)
        .order_by(RoutingCorrection.id.desc())
    ))  # fmt: skip
    latest: dict[int, Any] = {}
    for row in rows:
        latest.setdefault(row.ticket_id, row)
        if len(latest) >= limit:
            break
    returns = _returns(session, list(latest))
    found = []
    for ticket_id, row in latest.items():
        if any(at >= row.created_at and unit == row.lead_unit
               for at, unit in returns.get(ticket_id, ())):  # fmt: skip
            continue  # "not ours": the correction was wrong too
        target = ticket_target(row.category, row.lead_unit, city)
        if target is None or not (row.text or "").strip():
            continue  # the category or unit is gone
        found.append((ticket_id, LabelledText(row.text, target, row.number)))
    return found


# ---------------------------------------------------------------- the training set


@dataclass(frozen=True)
class CityTraining:
    """The rows a weekly draft learns from, and where they came from."""

    training: TrainingSet
    from_history: int
    from_tickets: int
    from_returns: int
    from_corrections: int
    window_start: datetime

    def counts(self) -> dict[str, int]:
        return {"history": self.from_history, "tickets": self.from_tickets,
                "returns": self.from_returns, "corrections": self.from_corrections,
                "total": len(self.training.texts),
                "labels": len(set(self.training.labels))}  # fmt: skip


def city_training(session: Session, *, now: datetime, base: Any,
                  history: tuple[Sequence[str], Sequence[str]] | None = None,
                  ticket_cap: int = TICKET_CAP, window_days: int = WINDOW_DAYS
                  ) -> CityTraining:  # fmt: skip
    """History + settled tickets older than the evaluation window + corrections, with one
    label per target: a file label naming a category or unit is kept (so the draft's labels
    read as the file's), others are named after the category or unit."""
    city = CityModel.load(session)
    window_start = now - timedelta(days=window_days)
    texts: list[str] = []
    labels: list[str] = []
    targets: dict[str, Target] = {}
    label_of: dict[tuple[str | None, str | None], str] = {}
    history_texts, history_labels = history or ((), ())
    for label in sorted(set(history_labels)):
        target = resolve_label(label, city)
        if target is not None:
            targets[label] = target
            # Keyed as a ticket's target is (a category's own unit is not named), so that
            # tickets of "noise" join a file's "noise" or "噪音扰民" rather than split it.
            same = ticket_target(target.category, target.lead_unit, city) or target
            label_of.setdefault(target_key(same), label)
    texts += list(history_texts)
    labels += list(history_labels)

    def add(row: LabelledText) -> None:
        key = target_key(row.target)
        label = label_of.get(key)
        if label is None:
            label = target_name(row.target, city)
            label_of[key] = label
            targets[label] = row.target
        texts.append(row.text)
        labels.append(label)

    corrected = effective_corrections(session, city)
    # A ticket that was corrected and has settled is one row, the correction's.
    corrected_numbers = {row.number for _, row in corrected}
    from_tickets = from_returns = 0
    for row, returned in settled_tickets(session, city, before=window_start, limit=ticket_cap):
        if row.number in corrected_numbers:
            continue
        add(row)
        from_returns += returned
        from_tickets += not returned
    for _, row in reversed(corrected):  # oldest first
        add(row)
    if len(set(labels)) < 2:
        raise ValidationFailed(
            {"labels": ["至少需要两个不同的标签"]},
            detail="可学习的数据不足：至少需要两个不同类别或单位的工单",
        )
    unknown = sorted(set(labels) - set(targets))
    training = TrainingSet(texts, labels, targets, unknown, [], base, len(history_texts),
                           len(corrected))  # fmt: skip
    return CityTraining(training, len(history_texts), from_tickets, from_returns, len(corrected),
                        window_start)  # fmt: skip


# ---------------------------------------------------------------- the run's state


@dataclass(frozen=True)
class LearningState:
    requested: AuditEvent | None
    started: AuditEvent | None
    finished: AuditEvent | None
    now: datetime

    @property
    def running(self) -> bool:
        started = self.started
        if started is None or (self.finished is not None and self.finished.id > started.id):
            return False
        return self.now - started.created_at < LEASE

    @property
    def pending(self) -> bool:
        """A request no run has taken up yet."""
        requested = self.requested
        if requested is None or self.now - requested.created_at >= LEASE:
            return False  # one nobody took up in time (no worker, no scheduler) lapses
        return self.started is None or self.started.id < requested.id

    @property
    def weekly_due(self) -> bool:
        return self.finished is None or self.now - self.finished.created_at >= EVERY

    @property
    def due(self) -> bool:
        return not self.running and (self.pending or self.weekly_due)

    def last_result(self) -> dict[str, Any] | None:
        return (
            dict(self.finished.data or {}, at=self.finished.created_at) if self.finished else None
        )


def _latest(session: Session, action: str) -> AuditEvent | None:
    return session.scalar(select(AuditEvent).where(AuditEvent.action == action)
                          .order_by(AuditEvent.id.desc()).limit(1))  # fmt: skip


def learning_state(session: Session, *, now: datetime) -> LearningState:
    return LearningState(_latest(session, REQUESTED), _latest(session, STARTED),
                         _latest(session, FINISHED), now)  # fmt: skip


def _serialise(session: Session) -> None:
    """Claims one after another: PostgreSQL waits on an advisory lock held until commit;
    SQLite's transactions already begin with the write lock (BEGIN IMMEDIATE)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})


def request_learning(session: Session, *, actor: Actor, now: datetime) -> str:
    """The console button: "queued" (a run will take it up), or "running"/"pending" when a
    run is under way or already asked for (a double click starts nothing more)."""
    _serialise(session)
    state = learning_state(session, now=now)
    if state.running:
        return "running"
    if state.pending:
        return "pending"
    audit.record(session, REQUESTED, SUBJECT, actor, now, {})
    session.flush()
    return "queued"


def claim_learning(session: Session, *, now: datetime) -> int | None:
    """Start a run if one is due (asked for, or a week since the last): the started event's
    id, or None when there is nothing to do."""
    _serialise(session)
    state = learning_state(session, now=now)
    if not state.due:
        return None
    reason = "requested" if state.pending else "weekly"
    event = audit.record(session, STARTED, SUBJECT, SYSTEM, now, {"reason": reason})
    session.flush()
    return event.id


def finish_learning(session: Session, run_id: int, *, now: datetime,
                    outcome: dict[str, Any]) -> None:  # fmt: skip
    audit.record(session, FINISHED, SUBJECT, SYSTEM, now, {"run": run_id, **outcome})
    session.flush()


def learned_drafts(session: Session, *, limit: int = 5) -> list[RulesetRecord]:
    """The newest drafts a run learned (they carry an evaluation)."""
    return list(session.scalars(
        select(RulesetRecord).where(RulesetRecord.source == "learn",
                                    RulesetRecord.evaluation.is_not(None))
        .order_by(RulesetRecord.id.desc()).limit(limit)
    ))  # fmt: skip


def admin_emails(session: Session, supervisor_unit: str | None = None) -> list[str]:
    """Where the e-mail goes: the e-mail addresses of the units active admins belong to,
    else the campaign office's (users have no address of their own)."""
    from ..domain.states import Role
    from ..models import User

    found = list(session.scalars(
        select(Unit.email).join(User, User.unit_id == Unit.id)
        .where(User.role == Role.ADMIN.value, User.active.is_(True), Unit.email.is_not(None))
        .distinct()
    ))  # fmt: skip
    if not found and supervisor_unit:
        office = session.scalar(select(Unit.email).where(Unit.code == supervisor_unit))
        found = [office] if office else []
    return sorted({e.strip() for e in found if e and e.strip()})
