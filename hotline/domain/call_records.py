"""A call-centre work order as a plain, checked value: the importers produce it (from a file
row or a pushed call), the services turn it into a ticket or an update."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Standing(StrEnum):
    """Where an order stood when the call centre exported it (a history import)."""

    OPEN = "open"  # still with a unit (or waiting for one)
    AWAITING_CALLBACK = "awaiting_callback"  # answered, the resident not yet called back
    CLOSED = "closed"
    REJECTED = "rejected"  # 不予受理, 作废


@dataclass(frozen=True)
class Handling:
    """How an order was handled, as a history export tells it: every time is the original
    one, in UTC; what the export does not say is None."""

    standing: Standing
    status_text: str | None = None  # the export's own word (已办结, 办理中…)
    dispatched_at: datetime | None = None
    accepted_at: datetime | None = None
    resolved_at: datetime | None = None
    resolution: str | None = None  # the reply to the resident (答复意见)
    callback_at: datetime | None = None
    confirmed: bool | None = None  # 诉求是否解决
    satisfaction: str | None = None  # a Satisfaction value
    complaint: str | None = None  # 不满原因


@dataclass(frozen=True)
class CallRecord:
    external_ref: str
    description: str
    title: str | None = None
    category: str | None = None
    reported_at: datetime | None = None
    phone: str | None = None
    name: str | None = None
    address: str | None = None
    street: str | None = None
    community: str | None = None
    lead_unit: str | None = None
    co_units: tuple[str, ...] = ()
    priority: str | None = None
    deadline: datetime | None = None
    order_kind: str | None = None  # 投诉举报、求助、咨询… (real exports: 工单类型), not the subject
    handling: Handling | None = None  # read by history imports only
