"""The ticket state machine: which action may happen in which status, by whom.

One table, read by the services (to refuse what is not allowed) and by the tests (to check
every allowed and refused combination). Pure: no database, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .events import EventKind
from .states import FINAL, HANDLING, NOT_FINAL, Role, Status

S = Status


class Action(StrEnum):
    DISPATCH = "dispatch"  # 派单 / 改派
    ACCEPT = "accept"  # 签收
    RETURN = "return"  # 退单
    ARBITRATE = "arbitrate"  # 退单争议裁决
    FEEDBACK = "feedback"  # 反馈（公开）
    NOTE = "note"  # 内部备注
    REQUEST_EXTENSION = "request_extension"  # 申请延期
    DECIDE_EXTENSION = "decide_extension"  # 批准 / 不批准延期
    REPORT_PART = "report_part"  # 协办单位报告
    WAIVE_CO_UNITS = "waive_co_units"  # 免除协办报告
    RESOLVE = "resolve"  # 办结（整改完成）
    SUPERVISE = "supervise"  # 督办
    RECHECK = "recheck"  # 回头看
    CONFIRM = "confirm"  # 市民确认 / 回访
    CALLBACK_ATTEMPT = "callback_attempt"  # 回访未成功（未接通、拒绝回访）
    REOPEN = "reopen"  # 重办
    REJECT = "reject"  # 不予受理
    MERGE = "merge"  # 合并重复件
    CLOSE_UNRATED = "close_unrated"  # 逾期未评价自动办结


class Party(StrEnum):
    """Who acts, beyond staff roles."""

    RESIDENT = "resident"
    SYSTEM = "system"


# How a unit user stands to the ticket; other roles act city-wide.
LEAD, CO = "lead", "co"

OPERATORS = frozenset({Role.OPERATOR, Role.SUPERVISOR})

# Why a callback (回访) reached nobody: each is one attempt, the ticket stays due for another.
CALLBACK_OUTCOMES: dict[str, str] = {"no_answer": "未接通", "refused": "拒绝回访"}


@dataclass(frozen=True)
class Transition:
    sources: frozenset[Status]
    target: Status | None  # None: the status stays
    actors: frozenset[Role | Party]
    unit_relation: frozenset[str] = frozenset()  # for Role.UNIT: lead and/or co
    public: bool = False  # whether the resident sees the event


TABLE: dict[Action, Transition] = {
    Action.DISPATCH: Transition(
        frozenset({S.REPORTED, S.RETURNED, S.DISPATCHED}), S.DISPATCHED, OPERATORS, public=True
    ),
    Action.ACCEPT: Transition(frozenset({S.DISPATCHED}), S.ACCEPTED, frozenset({Role.UNIT}),
                              frozenset({LEAD}), public=True),
    Action.RETURN: Transition(frozenset({S.DISPATCHED}), S.RETURNED, frozenset({Role.UNIT}),
                              frozenset({LEAD})),
    Action.ARBITRATE: Transition(frozenset({S.RETURNED}), None, frozenset({Role.SUPERVISOR})),
    Action.FEEDBACK: Transition(HANDLING, S.IN_PROGRESS, frozenset({Role.UNIT}),
                                frozenset({LEAD}), public=True),
    Action.NOTE: Transition(NOT_FINAL, None, frozenset({*OPERATORS, Role.UNIT, Role.ADMIN}),
                            frozenset({LEAD, CO})),
    Action.REQUEST_EXTENSION: Transition(HANDLING, None, frozenset({Role.UNIT}),
                                         frozenset({LEAD})),
    Action.DECIDE_EXTENSION: Transition(HANDLING, None, frozenset({Role.SUPERVISOR})),
    Action.REPORT_PART: Transition(HANDLING, None, frozenset({Role.UNIT}), frozenset({CO})),
    Action.WAIVE_CO_UNITS: Transition(HANDLING, None, frozenset({Role.SUPERVISOR})),
    Action.RESOLVE: Transition(HANDLING, S.RESOLVED, frozenset({Role.UNIT}), frozenset({LEAD}),
                               public=True),
    Action.SUPERVISE: Transition(NOT_FINAL - {S.RESOLVED}, None, frozenset({Role.SUPERVISOR}),
                                 public=True),
    Action.RECHECK: Transition(frozenset({S.RESOLVED, S.CLOSED}), None,
                               frozenset({Role.SUPERVISOR})),
    Action.CONFIRM: Transition(frozenset({S.RESOLVED}), None,  # → closed or reopened
                               frozenset({Party.RESIDENT, Role.OPERATOR}), public=True),
    # A callback that got no answer: counted, the ticket stays due (internal, the status stays).
    Action.CALLBACK_ATTEMPT: Transition(frozenset({S.RESOLVED}), None, frozenset({Role.OPERATOR})),
    Action.REOPEN: Transition(frozenset({S.RESOLVED, S.CLOSED}), S.REOPENED, OPERATORS,
                              public=True),
    Action.REJECT: Transition(frozenset({S.REPORTED, S.RETURNED}), S.REJECTED, OPERATORS,
                              public=True),
    Action.MERGE: Transition(frozenset({S.REPORTED, S.RETURNED, S.DISPATCHED}), S.MERGED,
                             OPERATORS, public=True),
    Action.CLOSE_UNRATED: Transition(frozenset({S.RESOLVED}), S.CLOSED,
                                     frozenset({Party.SYSTEM}), public=True),
}  # fmt: skip

# What each action is called once it happened: the kind of its event.
E = EventKind
EVENT_KIND: dict[Action, EventKind] = {
    Action.DISPATCH: E.DISPATCHED, Action.ACCEPT: E.ACCEPTED, Action.RETURN: E.RETURNED,
    Action.ARBITRATE: E.ARBITRATED, Action.FEEDBACK: E.FEEDBACK, Action.NOTE: E.NOTE,
    Action.REQUEST_EXTENSION: E.EXTENSION_REQUESTED,
    Action.DECIDE_EXTENSION: E.EXTENSION_DECIDED, Action.REPORT_PART: E.PART_REPORTED,
    Action.WAIVE_CO_UNITS: E.CO_UNITS_WAIVED, Action.RESOLVE: E.RESOLVED,
    Action.SUPERVISE: E.SUPERVISED, Action.RECHECK: E.RECHECKED, Action.CONFIRM: E.CONFIRMED,
    Action.CALLBACK_ATTEMPT: E.CALLBACK_ATTEMPTED,
    Action.REOPEN: E.REOPENED, Action.REJECT: E.REJECTED, Action.MERGE: E.MERGED,
    Action.CLOSE_UNRATED: E.CLOSED_UNRATED,
}  # fmt: skip


class Refused(Exception):
    """The action is not allowed; ``status`` 403 (who) or 409 (when), message in Chinese."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def check(
    action: Action, status: Status, actor: Role | Party, relation: frozenset[str] = frozenset()
) -> Transition:
    """The transition if ``actor`` may do ``action`` now; else :class:`Refused`.

    ``relation`` says how a unit user's unit stands to the ticket (lead, co, or neither).
    """
    transition = TABLE[action]
    # Closed tickets are read-only, except for supervisors' notes.
    note_on_final = action is Action.NOTE and status in FINAL and actor is Role.SUPERVISOR
    if actor not in transition.actors:
        raise Refused(403, "您的角色不能执行此操作")
    if actor is Role.UNIT and not (transition.unit_relation & relation):
        raise Refused(403, "只有承办本工单的单位可以执行此操作")
    if status not in transition.sources and not note_on_final:
        if status in FINAL:
            raise Refused(409, "工单已结束，不能再操作")
        raise Refused(409, "工单当前状态不能执行此操作")
    return transition
