"""A call-centre work order as a plain, checked value: the importers produce it (from a file
row or a pushed call), the services turn it into a ticket or an update."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


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
