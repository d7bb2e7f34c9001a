"""Who performs a step."""

from __future__ import annotations

from dataclasses import dataclass

RESIDENT_LABEL = "市民"
SYSTEM_LABEL = "系统"


@dataclass(frozen=True)
class Actor:
    """A staff user, the resident, or the system itself (no user id)."""

    user_id: int | None
    label: str


RESIDENT = Actor(None, RESIDENT_LABEL)
SYSTEM = Actor(None, SYSTEM_LABEL)
