"""The ticket page's use case: what the person working a ticket must know before acting, and
what they can do now.

- **Facts** read from the timeline and the workflow tables: why it came back (the resident's
  rating and words, or the reopen reason, with the unit's last reply), the supervisor's
  notices, the co-units' reports, the extension request, an overruled return, the photos
  before and after the fix (and evidence uploaded but not yet used).
- **Offers**: the actions the transition table allows this user in this status and no fact
  rules out (``preconditions.obstacle``, the same check that refuses them), the ones a fact
  holds back with its reason, and the one next step the workflow expects.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain.events import EventKind
from ..domain.states import (
    SATISFACTION_LABELS,
    SUPERVISION_LABELS,
    UNASSIGNED,
    Satisfaction,
    Status,
)
from ..domain.workflow import Action, Refused, check
from ..models import Attachment, ExtensionRequest, Ticket, TicketEvent, ticket_co_units
from .lifecycle import Who, relation
from .preconditions import obstacle

E = EventKind


@dataclass(frozen=True)
class CameBack:
    """Why the ticket is back with the unit (重办)."""

    at: datetime
    by: str  # who sent it back: 市民, or the operator / supervisor
    reason: str | None  # the resident's comment or the reopen reason
    resolved: bool | None  # the resident's answer: solved? (None: reopened by staff)
    satisfaction: str | None  # 满意 / 基本满意 / 不满意
    last_reply: str | None  # what the unit answered the last time it resolved it


@dataclass(frozen=True)
class Notice:
    """A supervisor's notice (督办) or the sweep's escalation, with the level it set."""

    at: datetime
    by: str
    level: str  # 催办 / 督办 / 通报
    body: str | None
    resolve_by: datetime | None  # a new deadline the notice set


@dataclass(frozen=True)
class CoReport:
    unit: str
    reported_at: datetime | None  # None: still to report in this round
    body: str | None


@dataclass(frozen=True)
class Extension:
    reason: str
    until: datetime
    pending: bool
    approved: bool | None
    note: str | None


@dataclass(frozen=True)
class Facts:
    came_back: CameBack | None = None
    notices: list[Notice] = field(default_factory=list)
    co_reports: list[CoReport] = field(default_factory=list)
    co_waived_at: datetime | None = None
    extension: Extension | None = None
    overruled: TicketEvent | None = None  # a return the supervisor did not accept
    returned: TicketEvent | None = None  # the return waiting for dispatch or a ruling
    before: list[Attachment] = field(default_factory=list)  # the resident's photos
    after: list[Attachment] = field(default_factory=list)  # evidence of the fix (public)
    unused: list[Attachment] = field(default_factory=list)  # uploaded, not yet in a fix

    @property
    def any(self) -> bool:
        """Whether the top of the page has something to say."""
        return bool(self.came_back or self.notices or self.co_reports or self.extension
                    or self.overruled or self.returned)  # fmt: skip


@dataclass(frozen=True)
class Offers:
    allowed: list[Action]  # what this user can do now
    waiting: dict[Action, str]  # allowed in this status, held back by a fact (the reason)
    next_step: Action | None  # the one the workflow expects now (in allowed or waiting)

    @property
    def others(self) -> list[Action]:
        return [a for a in self.allowed if a is not self.next_step]


def events_of(session: Session, ticket: Ticket) -> list[TicketEvent]:
    return list(session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                                .order_by(TicketEvent.sequence)))  # fmt: skip


def facts(session: Session, ticket: Ticket, events: Sequence[TicketEvent]) -> Facts:
    """What the page shows at the top; ``events`` is the ticket's timeline, in order."""
    start = _round_start(events)
    in_round = [e for e in events if e.sequence >= start]
    last_return = _last(events, E.RETURNED)
    return Facts(
        came_back=_came_back(events),
        notices=_notices(in_round),
        co_reports=_co_reports(session, ticket, in_round),
        co_waived_at=ticket.co_units_waived_at,
        extension=_extension(session, ticket, in_round[0].created_at if in_round else None),
        overruled=next((e for e in in_round[:1] if e.kind == E.ARBITRATED.value), None),
        returned=last_return if ticket.status in {s.value for s in UNASSIGNED} else None,
        **_photos(ticket, events),
    )  # fmt: skip


def offers(session: Session, ticket: Ticket, who: Who, now: datetime,
           actions: Iterable[Action]) -> Offers:  # fmt: skip
    """What ``who`` may do on ``ticket`` now among ``actions`` (those the caller has forms
    for), what waits and why, and the next step."""
    status, mine = Status(ticket.status), relation(ticket, who)
    allowed: list[Action] = []
    waiting: dict[Action, str] = {}
    for action in actions:
        try:
            check(action, status, who.role, mine)
        except Refused:
            continue
        reason = obstacle(session, ticket, action, now)
        if reason:
            waiting[action] = reason
        else:
            allowed.append(action)
    return Offers(allowed, waiting, _next_step(session, ticket, who, allowed, waiting))


def _next_step(session: Session, ticket: Ticket, who: Who, allowed: list[Action],
               waiting: dict[Action, str]) -> Action | None:  # fmt: skip
    """The step the workflow expects: 签收, then the first feedback, then 办结 (even while
    it waits for co-units: the page says what it waits for); a co-unit's report; a ruling,
    an extension decision, a callback, a dispatch."""
    candidates = [Action.ACCEPT]
    if ticket.first_feedback_at is None:
        candidates.append(Action.FEEDBACK)
    candidates.append(Action.RESOLVE)
    if Action.REPORT_PART in allowed and _my_report_missing(session, ticket, who):
        candidates.append(Action.REPORT_PART)
    candidates += [Action.ARBITRATE, Action.DECIDE_EXTENSION, Action.CONFIRM]
    if ticket.status in {s.value for s in UNASSIGNED}:
        candidates.append(Action.DISPATCH)
    for action in candidates:
        if action in allowed or (action is Action.RESOLVE and action in waiting):
            return action
    return None


def _my_report_missing(session: Session, ticket: Ticket, who: Who) -> bool:
    return session.scalar(
        select(ticket_co_units.c.unit_id)
        .where(ticket_co_units.c.ticket_id == ticket.id,
               ticket_co_units.c.unit_id.in_(who.unit_ids),
               ticket_co_units.c.reported_at.is_(None)).limit(1)
    ) is not None  # fmt: skip


# ---------------------------------------------------------------- facts, one by one


def _last(events: Sequence[TicketEvent], kind: EventKind) -> TicketEvent | None:
    return next((e for e in reversed(events) if e.kind == kind.value), None)


def _round_start(events: Sequence[TicketEvent]) -> int:
    """The sequence where the current unit's round began: its dispatch, or the ruling that
    sent a return back to it. Notices, reports and requests before it were for another round."""
    for event in reversed(events):
        if event.kind == E.DISPATCHED.value or (
            event.kind == E.ARBITRATED.value and (event.data or {}).get("decision") == "overrule"
        ):
            return event.sequence
    return 0


def _sends_back(event: TicketEvent) -> bool:
    if event.kind == E.REOPENED.value:
        return True
    data = event.data or {}
    return event.kind == E.CONFIRMED.value and (
        data.get("resolved") is False or data.get("satisfaction") == Satisfaction.DISSATISFIED
    )


def _came_back(events: Sequence[TicketEvent]) -> CameBack | None:
    """The latest reopen (by the resident's answer or by staff), unless resolved since."""
    back = next((e for e in reversed(events) if _sends_back(e)), None)
    if back is None:
        return None
    resolved_before = [e for e in events if e.kind == E.RESOLVED.value]
    if resolved_before and resolved_before[-1].sequence > back.sequence:
        return None  # resolved again since: history, not news
    last_reply = next((e.body for e in reversed(resolved_before)
                       if e.sequence < back.sequence), None)  # fmt: skip
    data = back.data or {}
    if back.kind == E.CONFIRMED.value:
        rating = data.get("satisfaction")
        label = SATISFACTION_LABELS.get(Satisfaction(rating)) if rating in (
            s.value for s in Satisfaction) else None  # fmt: skip
        return CameBack(back.created_at, back.actor_label, data.get("comment"),
                        bool(data.get("resolved")), label, last_reply)  # fmt: skip
    return CameBack(back.created_at, back.actor_label, back.body, None, None, last_reply)


def _notices(events: Sequence[TicketEvent]) -> list[Notice]:
    """Supervisors' notices and escalations of this round, the latest first (three at most)."""
    found = []
    for event in reversed(events):
        if event.kind not in (E.SUPERVISED.value, E.ESCALATED.value):
            continue
        data = event.data or {}
        until = data.get("resolve_by")
        found.append(Notice(event.created_at, event.actor_label,
                            SUPERVISION_LABELS.get(int(data.get("level") or 0), ""), event.body,
                            datetime.fromisoformat(until) if until else None))  # fmt: skip
        if len(found) == 3:
            break
    return found


def _co_reports(session: Session, ticket: Ticket,
                events: Sequence[TicketEvent]) -> list[CoReport]:  # fmt: skip
    """Each co-unit with its report of this round (or none yet)."""
    if not ticket.co_units:
        return []
    reported = dict(session.execute(
        select(ticket_co_units.c.unit_id, ticket_co_units.c.reported_at)
        .where(ticket_co_units.c.ticket_id == ticket.id)
    ).all())  # fmt: skip
    bodies: dict[str, str | None] = {}
    for event in events:
        if event.kind == E.PART_REPORTED.value:
            for code in (event.data or {}).get("units", []):
                bodies[code] = event.body  # the latest wins
    return [CoReport(u.name, reported.get(u.id), bodies.get(u.code) if reported.get(u.id)
                     else None) for u in ticket.co_units]  # fmt: skip


def _extension(session: Session, ticket: Ticket, since: datetime | None) -> Extension | None:
    """The request waiting for a decision, else the last one decided in this round."""
    stmt = select(ExtensionRequest).where(ExtensionRequest.ticket_id == ticket.id)
    if since is not None:
        stmt = stmt.where(ExtensionRequest.requested_at >= since)
    latest = session.scalar(stmt.order_by(ExtensionRequest.requested_at.desc()).limit(1))
    if latest is None or (latest.decided_at is not None and latest.approved is None):
        return None  # none, or withdrawn when the clock restarted
    return Extension(latest.reason, latest.until, latest.decided_at is None, latest.approved,
                     latest.decision_note)  # fmt: skip


def _photos(ticket: Ticket, events: Sequence[TicketEvent]) -> dict[str, list[Attachment]]:
    """The resident's photos (before), the fix's evidence (after) and evidence uploaded but
    not used yet (kept when a resolution was refused, to use without uploading again)."""
    kinds = {e.id: e.kind for e in events}
    groups: dict[str, list[Attachment]] = {"before": [], "after": [], "unused": []}
    for photo in ticket.attachments:
        if photo.event_id is None:
            groups["before" if photo.public else "unused"].append(photo)
        elif kinds.get(photo.event_id) == E.RESOLVED.value:
            groups["after"].append(photo)
        else:
            groups["before"].append(photo)
    return groups
