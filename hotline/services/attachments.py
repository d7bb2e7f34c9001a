"""Photos staff add to a ticket (evidence of the fix): checked, re-encoded, stored, recorded.

Hidden from the resident until an action (办结) makes them public."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ..config import Settings
from ..models import Attachment, Ticket
from ..photos import PhotoStore, prepare_uploads


def add_photos(
    session: Session, ticket: Ticket, files: Sequence[Any], *, settings: Settings,
    photos: PhotoStore, now: datetime, stored: list[str],
) -> list[Attachment]:  # fmt: skip
    """Uploaded ``files`` (werkzeug FileStorage) as attachments of ``ticket``.

    ``stored`` collects the names of the files written, so that the caller can remove them
    if its transaction fails: nothing is half-saved.
    """
    prepared = prepare_uploads(files, max_bytes=settings.max_photo_bytes,
                               max_count=settings.max_photos)  # fmt: skip
    for photo in prepared:
        stored.append(photos.save(photo))
    rows = [Attachment(ticket=ticket, stored_name=name, original_name=photo.original_name,
                       content_type=photo.content_type, size=len(photo.content),
                       width=photo.width, height=photo.height, sha256=photo.sha256,
                       public=False, created_at=now)
            for photo, name in zip(prepared, stored, strict=True)]  # fmt: skip
    session.add_all(rows)
    session.flush()
    return rows
