"""Ticket statuses and priorities with the labels people read.

The transition table arrives with the lifecycle work; intake only creates ``reported`` tickets.
"""

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


class Priority(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"
    EMERGENCY = "emergency"


class Channel(StrEnum):
    WEB = "web"
    API = "api"
    CALL_CENTRE = "call_centre"
    OPEN311 = "open311"


class Role(StrEnum):
    OPERATOR = "operator"
    UNIT = "unit"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class UnitKind(StrEnum):
    DEPARTMENT = "department"
    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"
    GRID = "grid"
