"""Tickets as plain dicts for a given viewer: personal data masked by role, times localised."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ..domain.privacy import mask_name, mask_phone, may_see_phone
from ..domain.states import STATUS_LABELS, Role, Status
from ..models import Ticket, Unit


def _unit(unit: Unit | None) -> dict[str, str] | None:
    return None if unit is None else {"code": unit.code, "name": unit.name}


def _local(value: datetime | None, tz: ZoneInfo) -> datetime | None:
    return None if value is None else value.astimezone(tz)


def ticket_for_staff(
    ticket: Ticket, *, role: Role, timezone: str, tracking_url: str | None = None
) -> dict[str, Any]:
    tz = ZoneInfo(timezone)
    full = may_see_phone(role, ticket.consent_contact)
    result: dict[str, Any] = {
        "number": ticket.number,
        "status": ticket.status,
        "status_label": STATUS_LABELS[Status(ticket.status)],
        "channel": ticket.channel,
        "external_ref": ticket.external_ref,
        "title": ticket.title,
        "description": ticket.description,
        "address": ticket.address,
        "latitude": ticket.latitude,
        "longitude": ticket.longitude,
        "category": (
            None
            if ticket.category is None
            else {"code": ticket.category.code, "name": ticket.category.name}
        ),
        "priority": ticket.priority,
        "lead_unit": _unit(ticket.lead_unit),
        "territorial_unit": _unit(ticket.territorial_unit),
        "co_units": [_unit(u) for u in ticket.co_units],
        "reporter": {
            "name": ticket.reporter_name if full else mask_name(ticket.reporter_name),
            "phone": ticket.reporter_phone if full else mask_phone(ticket.reporter_phone),
            "anonymous": ticket.anonymous,
            "consent_contact": ticket.consent_contact,
        },
        "supervision_level": ticket.supervision_level,
        "reported_at": _local(ticket.reported_at, tz),
        "callback_attempts": ticket.callback_attempts or 0,
        "accept_by": _local(ticket.accept_by, tz),
        "feedback_by": _local(ticket.feedback_by, tz),
        "resolve_by": _local(ticket.resolve_by, tz),
        "duplicate_of": ticket.duplicate_of.number if ticket.duplicate_of else None,
        "attachments": [
            {
                "id": a.id,
                "content_type": a.content_type,
                "size": a.size,
                "width": a.width,
                "height": a.height,
            }
            for a in ticket.attachments
        ],
        "routing": ticket.routing,
        "version": ticket.version,
        "created_at": _local(ticket.created_at, tz),
        "updated_at": _local(ticket.updated_at, tz),
    }
    if tracking_url:
        result["tracking_url"] = tracking_url
    return result
