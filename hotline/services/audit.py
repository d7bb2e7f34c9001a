"""The audit log: who changed what in the administration, written with the change itself."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ..models import AuditEvent
from .actors import Actor


def record(session: Session, action: str, subject: str, actor: Actor, now: datetime,
           data: dict[str, Any]) -> AuditEvent:  # fmt: skip
    """Add one audit row (``action`` like ``user.created``, ``subject`` like ``user:7``) to
    the caller's transaction."""
    event = AuditEvent(action=action, subject=subject, actor_id=actor.user_id,
                       actor_label=actor.label, data=data, created_at=now)  # fmt: skip
    session.add(event)
    return event
