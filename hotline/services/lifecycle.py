"""Ticket actions after intake: one function per action, one event per action.

Every action goes through :func:`perform`: the transition table decides whether the actor may
do it now (403 / 409), the handler changes the ticket, one event records it. Callers hold the
ticket row (see dispatch.lock_ticket) and own the transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..domain.sla import MAX_EXTENSION, RETURN_WINDOW, Clock, deadlines, policy_for
from ..domain.states import SATISFACTION_LABELS, Role, Satisfaction, Status
from ..domain.workflow import (
    CALLBACK_OUTCOMES,
    CO,
    EVENT_KIND,
    LEAD,
    Action,
    Party,
    Refused,
    check,
)
from ..errors import Conflict, Forbidden, ValidationFailed
from ..models import Attachment, ExtensionRequest, Ticket, TicketEvent, ticket_co_units
from .actors import Actor
from .events import new_event, next_sequence
from .outbox import notifications_for
from .preconditions import obstacle


@dataclass(frozen=True)
class Who:
    """The actor, how they stand (role or party) and, for unit staff, their unit subtree."""

    actor: Actor
    role: Role | Party
    unit_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Outcome:
    body: str | None
    data: dict[str, Any]
    public: bool | None = None  # None: as the table says
    attachments: tuple[Attachment, ...] = ()  # evidence shown with this event


def relation(ticket: Ticket, who: Who) -> frozenset[str]:
    found = set()
    if ticket.lead_unit_id in who.unit_ids:
        found.add(LEAD)
    if any(u.id in who.unit_ids for u in ticket.co_units):
        found.add(CO)
    return frozenset(found)


def clock_values(time_limit: str | None, priority: str, now: datetime,
                 clock: Clock) -> dict[str, Any]:  # fmt: skip
    """The SLA columns of a ticket a unit gets now: fresh deadlines and return window."""
    due = deadlines(clock, now, policy_for(time_limit, priority))
    return {"dispatched_at": now, "accept_by": due.accept_by, "feedback_by": due.feedback_by,
            "resolve_by": due.resolve_by, "return_by": clock.add(now, RETURN_WINDOW),
            "accepted_at": None, "first_feedback_at": None, "resolved_at": None,
            "extensions_used": 0, "co_units_waived_at": None, "sla": {}}  # fmt: skip


def start_clock(ticket: Ticket, now: datetime, clock: Clock) -> None:
    """A unit has the ticket from now: fresh deadlines and return window."""
    time_limit = ticket.category.time_limit if ticket.category else None
    for name, value in clock_values(time_limit, ticket.priority, now, clock).items():
        setattr(ticket, name, value)


def restart_clock(session: Session, ticket: Ticket, now: datetime, clock: Clock) -> None:
    """The ticket starts over with a unit (re-dispatched, sent back): fresh deadlines, and
    what was said for the last round no longer counts — co-units report again, a waiting
    extension request is withdrawn."""
    start_clock(ticket, now, clock)
    _start_over(session, ticket, now)


def _start_over(session: Session, ticket: Ticket, now: datetime) -> None:
    ticket.co_units_waived_at = None
    session.execute(update(ticket_co_units).where(ticket_co_units.c.ticket_id == ticket.id)
                    .values(reported_at=None))  # fmt: skip
    session.execute(
        update(ExtensionRequest)
        .where(ExtensionRequest.ticket_id == ticket.id, ExtensionRequest.decided_at.is_(None))
        .values(decided_at=now, decision_note="工单已重新派单或重办，申请作废")
    )
    session.expire(ticket, ["pending_extension"])


def perform(
    session: Session,
    ticket: Ticket,
    action: Action,
    payload: dict[str, Any],
    *,
    who: Who,
    now: datetime,
    clock: Clock,
) -> TicketEvent:
    try:
        transition = check(action, Status(ticket.status), who.role, relation(ticket, who))
    except Refused as exc:
        raise (Forbidden if exc.status == 403 else Conflict)(exc.message) from exc
    blocked = obstacle(session, ticket, action, now)  # what the table cannot see
    if blocked:
        raise Conflict(blocked)
    before = ticket.status
    outcome = HANDLERS[action](session, ticket, payload, who, now, clock)
    if transition.target is not None and ticket.status == before:
        ticket.status = transition.target.value
    ticket.updated_at = now
    event = new_event(
        ticket, next_sequence(session, ticket), EVENT_KIND[action], actor=who.actor, now=now,
        public=transition.public if outcome.public is None else outcome.public,
        body=outcome.body, data={"from": before, "to": ticket.status, **outcome.data},
    )  # fmt: skip
    for attachment in outcome.attachments:
        attachment.event = event
    session.add_all([event, *notifications_for(ticket, event, now)])
    session.flush()
    return event


# ---------------------------------------------------------------- handlers

Handler = Callable[[Session, Ticket, dict[str, Any], Who, datetime, Clock], Outcome]


def _required(payload: dict[str, Any], key: str, message: str) -> Any:
    value = payload.get(key)
    if value in (None, ""):
        raise ValidationFailed({key: [message]})
    return value


def _dispatch(session, ticket, payload, who, now, clock) -> Outcome:  # type: ignore[no-untyped-def]
    from .dispatch import assign_units

    body, data = assign_units(
        session, ticket, lead_unit=payload["lead_unit"], co_units=payload.get("co_units") or [],
        category=payload.get("category"), actor=who.actor, now=now,
    )  # fmt: skip
    restart_clock(session, ticket, now, clock)
    return Outcome(body, {**data, "note": payload.get("note")})


def _accept(session, ticket, payload, who, now, clock) -> Outcome:  # type: ignore[no-untyped-def]
    ticket.accepted_at = now
    return Outcome(f"{ticket.lead_unit.name}已签收，正在处理。", {})


def _return(session, ticket, payload, who, now, clock) -> Outcome:  # type: ignore[no-untyped-def]
    reason = _required(payload, "reason", "请说明退单理由")
    unit = ticket.lead_unit
    ticket.lead_unit = None
    ticket.co_units = []
    ticket.accept_by = ticket.feedback_by = ticket.resolve_by = ticket.return_by = None
    return Outcome(reason, {"unit": unit.code if unit else None})


def _arbitrate(session, ticket, payload, who, now, clock) -> Outcome:  # type: ignore[no-untyped-def]
    """A supervisor rules on a disputed return: uphold it, or send it back to that unit."""
    decision = _required(payload, "decision", "请选择裁决结果（uphold 或 overrule）")
    last_return = session.scalar(
        select(TicketEvent)
        .where(
            TicketEvent.ticket_id == ticket.id, TicketEvent.kind == EVENT_KIND[Action.RETURN].value
        )
        .order_by(TicketEvent.sequence.desc())
        .limit(1)
    )
    if decision == "overrule":
        unit = (last_return.data or {}).get("unit") if last_return else None
        if not unit:
            raise Conflict("找不到退单的单位，请直接派单")
        from .dispatch import assign_units

        assign_units(session, ticket, lead_unit=unit, co_units=[], category=None,
                     actor=who.actor, now=now)  # fmt: skip
        ticket.status = Status.DISPATCHED.value
        restart_clock(session, ticket, now, clock)
    return Outcome(payload.get("reason"), {"decision": decision})


def _feedback(session, ticket, payload, who, now, clock) -> Outcome:  # type: ignore[no-untyped-def]
    body = _required(payload, "body", "请填写给市民的反馈")
    ticket.first_feedback_at = ticket.first_feedback_at or now
    return Outcome(body, {})


def _note(session, ticket, payload, who, now, clock) -> Outcome:  # type: ignore[no-untyped-def]
    return Outcome(_required(payload, "body", "请填写备注"), {})


def _request_extension(session, ticket, payload, who, now, clock) -> Outcome:  # type: ignore[no-untyped-def]
    reason = _required(payload, "reason", "请说明延期理由")
    until: datetime = _required(payload, "until", "请填写申请延至的时间")
    latest = clock.add(ticket.resolve_by or now, MAX_EXTENSION)
    if ticket.resolve_by and until <= ticket.resolve_by:
        raise ValidationFailed({"until": ["延期后的时间应晚于当前办结时限"]})
    if until > latest:
        raise ValidationFailed({"until": ["每次延期不超过 3 个工作日"]})
    session.add(ExtensionRequest(ticket_id=ticket.id, unit_id=ticket.lead_unit_id, reason=reason,
                                 until=until, requested_at=now,
                                 requested_by_id=who.actor.user_id))  # fmt: skip
    session.flush()
    session.expire(ticket, ["pending_extension"])
    return Outcome(reason, {"until": until.isoformat()})


def _decide_extension(session, ticket, payload, who, now, clock) -> Outcome:  # type: ignore[no-untyped-def]
    pending = ticket.pending_extension
    if pending is None:  # preconditions.obstacle refused it already; this keeps types honest
        raise Conflict("没有待审批的延期申请")
    approve = bool(payload.get("approve"))
    pending.decided_at, pending.decided_by_id = now, who.actor.user_id
    pending.approved, pending.decision_note = approve, payload.get("reason")
    if approve:
        ticket.resolve_by = pending.until
        ticket.extensions_used += 1
        sla = dict(ticket.sla or {})  # the new deadline gets its own warning and mark
        sla["warned"] = [k for k in sla.get("warned", []) if k != "resolve"]
        sla["overdue"] = [k for k in sla.get("overdue", []) if k != "resolve"]
        ticket.sla = sla
    session.flush()
    session.expire(ticket, ["pending_extension"])
    verdict = "批准" if approve else "不批准"
    data = {"approve": approve, "until": pending.until.isoformat(), "reason": pending.reason}
    # The body says the verdict first: the unit's notice quotes it ("批准延期：请抓紧").
    note = payload.get("reason")
    return Outcome(f"{verdict}延期：{note}" if note else f"{verdict}延期", data)


def _report_part(session, ticket, payload, who, now, clock) -> Outcome:  # type: ignore[no-untyped-def]
    body = _required(payload, "body", "请填写协办情况")
    mine = [u for u in ticket.co_units if u.id in who.unit_ids]
    session.execute(
        update(ticket_co_units)
        .where(ticket_co_units.c.ticket_id == ticket.id,
               ticket_co_units.c.unit_id.in_([u.id for u in mine]),
               ticket_co_units.c.reported_at.is_(None))
        .values(reported_at=now)
    )  # fmt: skip
    return Outcome(body, {"units": [u.code for u in mine]})


def _waive(session, ticket, payload, who, now, clock) -> Outcome:  # type: ignore[no-untyped-def]
    ticket.co_units_waived_at = now
    return Outcome(payload.get("reason") or "免除协办单位报告", {})


def _resolve(session, ticket, payload, who, now, clock) -> Outcome:  # type: ignore[no-untyped-def]
    reply = _required(payload, "reply", "请填写办理结果（将告知市民）")
    evidence = _evidence(ticket, payload.get("evidence") or [])
    ticket.resolved_at = now
    ticket.first_feedback_at = ticket.first_feedback_at or now
    ticket.callback_attempts = 0  # a new fix: the callbacks start over
    return Outcome(reply, {"evidence": [a.id for a in evidence]}, attachments=evidence)


def _evidence(ticket: Ticket, ids: list[int]) -> tuple[Attachment, ...]:
    """Photos uploaded to this ticket and not yet shown: they become public with the fix."""
    available = {a.id: a for a in ticket.attachments if a.event_id is None and not a.public}
    missing = [i for i in ids if i not in available]
    if missing:
        raise ValidationFailed({"evidence": [f"照片 {missing} 不属于本工单或已使用"]})
    for attachment_id in ids:
        available[attachment_id].public = True
    return tuple(available[i] for i in dict.fromkeys(ids))


def _supervise(session, ticket, payload, who, now, clock) -> Outcome:  # type: ignore[no-untyped-def]
    notice = _required(payload, "notice", "请填写督办意见")
    ticket.supervision_level += 1
    new_deadline = payload.get("resolve_by")
    if new_deadline:
        ticket.resolve_by = new_deadline
    data = {"level": ticket.supervision_level,
            "resolve_by": new_deadline.isoformat() if new_deadline else None}  # fmt: skip
    return Outcome(notice, data)


def _recheck(session, ticket, payload, who, now, clock) -> Outcome:  # type: ignore[no-untyped-def]
    result = _required(payload, "result", "请填写回头看结果")
    return Outcome(result, {"held": bool(payload.get("held", True))})


def _confirm(session, ticket, payload, who, now, clock) -> Outcome:  # type: ignore[no-untyped-def]
    resolved = payload.get("resolved")
    satisfaction = payload.get("satisfaction")
    if resolved is None or satisfaction not in SATISFACTION_LABELS:
        raise ValidationFailed({"satisfaction": ["请选择问题是否解决及满意程度"]})
    rating = Satisfaction(satisfaction)
    ticket.resolved_confirmed = bool(resolved)
    ticket.satisfaction = rating.value
    if resolved and rating is not Satisfaction.DISSATISFIED:
        ticket.status = Status.CLOSED.value
        ticket.closed_at = now
        body = f"市民确认已解决，评价：{SATISFACTION_LABELS[rating]}。工单办结。"
    else:
        _restart_for_redo(session, ticket, now, clock)
        body = "市民反映问题未解决或不满意，已退回承办单位重新办理。"
    comment = payload.get("comment")
    data = {"resolved": bool(resolved), "satisfaction": rating.value, "comment": comment,
            "channel": payload.get("channel", "tracking")}  # fmt: skip
    return Outcome(body, data)


def _callback_attempt(session, ticket, payload, who, now, clock) -> Outcome:  # type: ignore[no-untyped-def]
    """A callback that got no answer: counted, and the ticket stays due for another call.
    After the configured number the sweep closes it as unrated (sweep.py)."""
    outcome = _required(payload, "outcome", "请选择回访结果")
    if outcome not in CALLBACK_OUTCOMES:
        raise ValidationFailed({"outcome": ["请选择未接通或拒绝回访"]})
    ticket.callback_attempts = (ticket.callback_attempts or 0) + 1
    body = f"第 {ticket.callback_attempts} 次回访未成功：{CALLBACK_OUTCOMES[outcome]}"
    if payload.get("note"):
        body += f"。{payload['note']}"
    return Outcome(body, {"outcome": outcome, "attempt": ticket.callback_attempts,
                          "note": payload.get("note")})  # fmt: skip


def _restart_for_redo(session: Session, ticket: Ticket, now: datetime, clock: Clock) -> None:
    ticket.status = Status.REOPENED.value
    ticket.supervision_level = min(ticket.supervision_level + 1, 3)
    time_limit = ticket.category.time_limit if ticket.category else None
    ticket.resolve_by = clock.add(now, policy_for(time_limit, ticket.priority).resolve)
    ticket.resolved_at = ticket.closed_at = None
    ticket.sla = {}
    _start_over(session, ticket, now)


def _reopen(session, ticket, payload, who, now, clock) -> Outcome:  # type: ignore[no-untyped-def]
    reason = _required(payload, "reason", "请说明重办理由")
    _restart_for_redo(session, ticket, now, clock)
    ticket.resolved_confirmed = ticket.satisfaction = None
    return Outcome(reason, {"level": ticket.supervision_level})


def _reject(session, ticket, payload, who, now, clock) -> Outcome:  # type: ignore[no-untyped-def]
    reason = _required(payload, "reason", "请说明不予受理的理由")
    ticket.closed_at = now
    return Outcome(reason, {})


def _merge(session, ticket, payload, who, now, clock) -> Outcome:  # type: ignore[no-untyped-def]
    number = _required(payload, "into", "请填写合并到的工单编号")
    target = session.scalar(select(Ticket).where(Ticket.number == number))
    if target is None:
        raise ValidationFailed({"into": [f"未找到工单 {number}"]})
    if target.id == ticket.id or target.status in {Status.MERGED.value, Status.REJECTED.value}:
        raise ValidationFailed({"into": ["不能合并到自身、已合并或不予受理的工单"]})
    ticket.duplicate_of = target
    ticket.closed_at = now
    return Outcome(f"与工单 {target.number} 反映的是同一问题，合并办理。", {"into": target.number})


def _close_unrated(session, ticket, payload, who, now, clock) -> Outcome:  # type: ignore[no-untyped-def]
    ticket.closed_at = now
    attempts = payload.get("callback_attempts")
    if attempts:  # the sweep closes it after that many callbacks reached nobody
        body = f"回访 {attempts} 次均未能联系到市民，工单按未评价办结。"
        return Outcome(body, {"unrated": True, "callback_attempts": attempts})
    return Outcome("市民未在规定时间内评价，工单自动办结。", {"unrated": True})


HANDLERS: dict[Action, Handler] = {
    Action.DISPATCH: _dispatch,
    Action.ACCEPT: _accept,
    Action.RETURN: _return,
    Action.ARBITRATE: _arbitrate,
    Action.FEEDBACK: _feedback,
    Action.NOTE: _note,
    Action.REQUEST_EXTENSION: _request_extension,
    Action.DECIDE_EXTENSION: _decide_extension,
    Action.REPORT_PART: _report_part,
    Action.WAIVE_CO_UNITS: _waive,
    Action.RESOLVE: _resolve,
    Action.SUPERVISE: _supervise,
    Action.RECHECK: _recheck,
    Action.CONFIRM: _confirm,
    Action.CALLBACK_ATTEMPT: _callback_attempt,
    Action.REOPEN: _reopen,
    Action.REJECT: _reject,
    Action.MERGE: _merge,
    Action.CLOSE_UNRATED: _close_unrated,
}
