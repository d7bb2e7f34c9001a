"""What the metrics are grouped by: the unit that handled a ticket, its category, or the
street where it happened."""

from __future__ import annotations

GROUPS = ("unit", "category", "street")
