"""Evidence photos sent with a resolution (办结) from the console: stored before the resolution
is tried, so that a refusal (a co-unit still to report, a stale page, a missing reply) never
loses what was uploaded from the street. Kept photos stay unpublished evidence of the ticket
(hidden from the resident) until a resolution names them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ..config import Settings
from ..domain.states import Status
from ..domain.workflow import Action, Refused, check
from ..errors import Conflict, Forbidden
from ..models import Attachment, Ticket
from ..photos import PhotoStore
from .attachments import add_photos
from .lifecycle import Who, relation


def keep_evidence(
    session: Session, ticket: Ticket, files: Sequence[Any], *, who: Who, settings: Settings,
    photos: PhotoStore, now: datetime, stored: list[str],
) -> list[Attachment]:  # fmt: skip
    """``files`` stored as unpublished evidence of ``ticket``, if ``who`` may resolve it in its
    status (whatever else still holds the resolution back). A photo refused by its checks
    (size, type) refuses them all and stores nothing; ``stored`` names the files written."""
    try:
        check(Action.RESOLVE, Status(ticket.status), who.role, relation(ticket, who))
    except Refused as exc:
        raise (Forbidden if exc.status == 403 else Conflict)(exc.message) from exc
    with session.begin_nested():  # its own savepoint: the resolution's failure keeps it
        return add_photos(session, ticket, files, settings=settings, photos=photos, now=now,
                          stored=stored)  # fmt: skip
