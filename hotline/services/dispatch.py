"""Dispatch by an operator (派单 / 改派), recorded as a correction when routing said otherwise."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import ValidationFailed
from ..models import Category, RoutingCorrection, Ticket, Unit
from .actors import Actor
from .events import dispatched_body


def assign_units(
    session: Session,
    ticket: Ticket,
    *,
    lead_unit: str,
    co_units: list[str],
    category: str | None,
    actor: Actor,
    now: datetime,
) -> tuple[str, dict[str, Any]]:
    """Set the lead and co-units (and optionally the category). Returns the public event text
    and its data; the caller records the event and restarts the clock."""
    codes = [lead_unit, *co_units]
    units = {u.code: u for u in session.scalars(select(Unit).where(Unit.code.in_(codes)))}
    errors: dict[str, list[str]] = {}
    if lead_unit not in units:
        errors["lead_unit"] = [f"未知的单位：{lead_unit}"]
    unknown = [c for c in co_units if c not in units]
    if unknown:
        errors["co_units"] = [f"未知的单位：{'、'.join(unknown)}"]
    chosen = None
    if category:
        chosen = session.scalar(select(Category).where(Category.code == category))
        if chosen is None:
            errors["category"] = [f"未知的类别：{category}"]
    if errors:
        raise ValidationFailed(errors)
    previous_lead = ticket.lead_unit.code if ticket.lead_unit else None
    if chosen is not None:
        ticket.category = chosen
    ticket.lead_unit = units[lead_unit]
    ticket.co_units = [units[c] for c in dict.fromkeys(co_units) if c != lead_unit]
    body = dispatched_body(units[lead_unit].name, [u.name for u in ticket.co_units],
                           again=bool(previous_lead))  # fmt: skip
    _record_correction(session, ticket, actor=actor, now=now)
    data = {"lead_unit": lead_unit, "co_units": [u.code for u in ticket.co_units],
            "previous_lead_unit": previous_lead, "automatic": False}  # fmt: skip
    return body, data


def _record_correction(session: Session, ticket: Ticket, *, actor: Actor, now: datetime) -> None:
    """Keep a training row when a person's choice differs from what routing decided."""
    decided = ticket.routing or {}
    predicted_category = decided.get("category") if decided.get("confident") else None
    predicted_unit = decided.get("lead_unit") if decided.get("confident") else None
    category = ticket.category.code if ticket.category else None
    if (predicted_category, predicted_unit) == (category, ticket.lead_unit.code):
        return
    candidates = decided.get("candidates") or []
    session.add(
        RoutingCorrection(
            ticket_id=ticket.id,
            ruleset_id=ticket.ruleset_id,
            text="\n".join(filter(None, (ticket.title, ticket.description))),
            predicted_label=candidates[0]["label"] if candidates else None,
            predicted_category=predicted_category,
            predicted_unit=predicted_unit,
            category=category,
            lead_unit=ticket.lead_unit.code,
            actor_id=actor.user_id,
            created_at=now,
        )
    )
