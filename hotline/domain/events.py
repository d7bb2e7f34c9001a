"""Event kinds: what can happen to a ticket, as stored in ``ticket_events.kind``, with the
labels staff read on the timeline and the template pages."""

from __future__ import annotations

from enum import StrEnum


class EventKind(StrEnum):
    SUBMITTED = "submitted"
    ROUTED = "routed"
    DISPATCHED = "dispatched"
    ACCEPTED = "accepted"
    RETURNED = "returned"
    ARBITRATED = "arbitrated"
    FEEDBACK = "feedback"
    NOTE = "note"
    EXTENSION_REQUESTED = "extension_requested"
    EXTENSION_DECIDED = "extension_decided"
    PART_REPORTED = "part_reported"
    CO_UNITS_WAIVED = "co_units_waived"
    RESOLVED = "resolved"
    SUPERVISED = "supervised"
    RECHECKED = "rechecked"
    CONFIRMED = "confirmed"
    REOPENED = "reopened"
    REJECTED = "rejected"
    MERGED = "merged"
    CLOSED_UNRATED = "closed_unrated"
    SLA_WARNING = "sla_warning"
    OVERDUE = "overdue"
    ESCALATED = "escalated"
    UPDATED = "updated"  # a call-centre import changed the ticket
    PERSONAL_DATA_ERASED = "personal_data_erased"
    CALLBACK_ATTEMPTED = "callback_attempted"  # a callback that reached nobody (未接通, 拒绝)
    IMPORTED = "imported"  # a history import brought the ticket in as it was handled


E = EventKind
EVENT_LABELS: dict[EventKind, str] = {
    E.SUBMITTED: "受理", E.ROUTED: "自动分派", E.DISPATCHED: "派单", E.ACCEPTED: "签收",
    E.RETURNED: "退单", E.ARBITRATED: "退单裁决", E.FEEDBACK: "反馈进展", E.NOTE: "备注",
    E.EXTENSION_REQUESTED: "申请延期", E.EXTENSION_DECIDED: "延期审批",
    E.PART_REPORTED: "协办报告", E.CO_UNITS_WAIVED: "免除协办报告", E.RESOLVED: "办结",
    E.SUPERVISED: "督办", E.RECHECKED: "回头看", E.CONFIRMED: "回访", E.REOPENED: "重办",
    E.REJECTED: "不予受理", E.MERGED: "合并", E.CLOSED_UNRATED: "超时未评价办结",
    E.SLA_WARNING: "时限预警", E.OVERDUE: "超期", E.ESCALATED: "升级督办", E.UPDATED: "热线更新",
    E.PERSONAL_DATA_ERASED: "删除个人信息", E.CALLBACK_ATTEMPTED: "回访未成功",
    E.IMPORTED: "历史导入",
}  # fmt: skip

# Not a stored kind: the notification templates' bucket for events without a text of their own.
OTHER = "other"
OTHER_LABEL = "其他事件"


def event_label(kind: str) -> str:
    """The label of a stored kind (or of the templates' ``other``); an unknown one as it is."""
    if kind == OTHER:
        return OTHER_LABEL
    try:
        return EVENT_LABELS[EventKind(kind)]
    except ValueError:
        return kind
