"""The ticket's vocabularies — statuses and their groups, priorities, channels, roles,
satisfaction — with the labels people read. The transition table is ``workflow``."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    REPORTED = "reported"
    DISPATCHED = "dispatched"
    ACCEPTED = "accepted"
    RETURNED = "returned"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"
    REJECTED = "rejected"
    MERGED = "merged"


# What operators and units read.
STATUS_LABELS: dict[Status, str] = {
    Status.REPORTED: "待派单",
    Status.DISPATCHED: "已派单",
    Status.ACCEPTED: "已签收",
    Status.RETURNED: "已退单",
    Status.IN_PROGRESS: "办理中",
    Status.RESOLVED: "已办结待确认",
    Status.CLOSED: "已销号",
    Status.REOPENED: "重办中",
    Status.REJECTED: "不予受理",
    Status.MERGED: "已合并",
}

# What the resident reads on the tracking page: internal back-and-forth is not their concern.
PUBLIC_STATUS_LABELS: dict[Status, str] = {
    Status.REPORTED: "已受理，正在分派",
    Status.DISPATCHED: "已转交承办单位",
    Status.ACCEPTED: "承办单位已签收",
    Status.RETURNED: "正在重新分派",
    Status.IN_PROGRESS: "正在办理",
    Status.RESOLVED: "已办结，请您确认",
    Status.CLOSED: "已办结",
    Status.REOPENED: "重新办理中",
    Status.REJECTED: "不予受理",
    Status.MERGED: "已与相同问题合并办理",
}


S = Status
# Status groups, each named once; queries and the workflow use the one they mean.
FINAL = frozenset({S.CLOSED, S.REJECTED, S.MERGED})  # nothing more happens
NOT_FINAL = frozenset(Status) - FINAL  # anything may still happen (the workflow's "open")
UNASSIGNED = frozenset({S.REPORTED, S.RETURNED})  # no unit has it: the manual-dispatch queue
# A unit has it and its deadlines run: worklists, overdue counts, the SLA sweep. Resolved
# tickets wait for the resident, not the unit, so they are not in it.
WITH_UNIT = frozenset({S.DISPATCHED, S.ACCEPTED, S.IN_PROGRESS, S.REOPENED})
HANDLING = frozenset({S.ACCEPTED, S.IN_PROGRESS, S.REOPENED})  # the lead unit has signed for it


class Priority(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"
    EMERGENCY = "emergency"


class Channel(StrEnum):
    WEB = "web"
    API = "api"
    CALL_CENTRE = "call_centre"
    OPEN311 = "open311"


# How staff name where a ticket came from and how urgent it is (紧急程度 as 12345 exports say).
CHANNEL_LABELS: dict[Channel, str] = {Channel.WEB: "网上", Channel.API: "接口",
                                      Channel.CALL_CENTRE: "12345 热线",
                                      Channel.OPEN311: "Open311"}  # fmt: skip
PRIORITY_LABELS: dict[Priority, str] = {Priority.NORMAL: "一般", Priority.URGENT: "紧急",
                                        Priority.EMERGENCY: "特急"}  # fmt: skip


class Role(StrEnum):
    OPERATOR = "operator"
    UNIT = "unit"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


ROLE_LABELS: dict[Role, str] = {Role.OPERATOR: "话务员", Role.UNIT: "承办单位",
                                Role.SUPERVISOR: "督办", Role.ADMIN: "管理员"}  # fmt: skip
# Who acted, as the resident reads it on the tracking page: the office, never a staff name
# (a unit is named by its own name, the label only when it has none).
PUBLIC_ROLE_LABELS: dict[Role, str] = {
    Role.OPERATOR: "12345 热线", Role.UNIT: "承办单位", Role.SUPERVISOR: "督办部门",
    Role.ADMIN: "工作人员",
}  # fmt: skip


class Satisfaction(StrEnum):
    """The resident's rating when confirming the fix (回访)."""

    SATISFIED = "satisfied"
    BASIC = "basic"
    DISSATISFIED = "dissatisfied"


SATISFACTION_LABELS: dict[Satisfaction, str] = {
    Satisfaction.SATISFIED: "满意", Satisfaction.BASIC: "基本满意",
    Satisfaction.DISSATISFIED: "不满意",
}  # fmt: skip
# The ratings the satisfaction rate (满意率) counts as satisfied.
COUNTS_AS_SATISFIED = frozenset({Satisfaction.SATISFIED, Satisfaction.BASIC})

# Supervision (escalation) levels 1–3 as staff read them; 0 is none.
SUPERVISION_LABELS: dict[int, str] = {1: "催办", 2: "督办", 3: "通报"}


class UnitKind(StrEnum):
    DEPARTMENT = "department"
    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"
    GRID = "grid"


UNIT_KIND_LABELS: dict[UnitKind, str] = {
    UnitKind.DEPARTMENT: "部门", UnitKind.DISTRICT: "区", UnitKind.STREET: "街道",
    UnitKind.COMMUNITY: "社区", UnitKind.GRID: "网格",
}  # fmt: skip
# The territorial tree (块): each kind sits under exactly one kind; departments (条) stand
# alone or under another department (a 大队 under its 局).
PARENT_KIND: dict[UnitKind, UnitKind | None] = {
    UnitKind.DEPARTMENT: UnitKind.DEPARTMENT, UnitKind.DISTRICT: None,
    UnitKind.STREET: UnitKind.DISTRICT, UnitKind.COMMUNITY: UnitKind.STREET,
    UnitKind.GRID: UnitKind.COMMUNITY,
}  # fmt: skip
