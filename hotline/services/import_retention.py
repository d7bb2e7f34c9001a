"""Removing the uploads of finished import batches.

An upload is kept while its batch may still run (or resume). A done batch's upload has
served its purpose and goes at once (its runner removes it; this catches one a runner left
behind); a failed or cancelled batch's upload is kept ``import_retention_days`` so an admin
can look into it, then removed. The batch row and its refused rows stay: the refused-rows
CSV is built from them, not from the file.

Only files the system stored itself (directly in ``HOTLINE_IMPORT_DIR``) are removed: a
CLI import's batch points at the operator's own file, which is never touched.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from ..models import ImportBatch

KEPT_A_WHILE = ("failed", "cancelled")
ROUND = 500  # batches per round: a backlog is worked off over a few rounds


def stored_upload(batch: ImportBatch, directory: Path) -> Path | None:
    """The batch's file if it is an upload we keep (in ``directory``), else None."""
    path = Path(batch.stored_path)
    return path if path.parent == Path(directory) else None


def remove_upload(batch: ImportBatch, directory: Path, now: datetime) -> bool:
    """Delete the batch's upload (a missing file is fine) and record when; False when the
    file is not ours to delete or was already recorded as removed."""
    path = stored_upload(batch, directory)
    if path is None or batch.file_removed_at is not None:
        return False
    path.unlink(missing_ok=True)
    batch.file_removed_at = now
    return True


def remove_expired_uploads(session: Session, *, now: datetime, directory: Path,
                           retention_days: int) -> int:  # fmt: skip
    """Remove the uploads of done batches, and of failed or cancelled ones finished more
    than ``retention_days`` ago. Idempotent; returns how many batches it recorded."""
    cutoff = now - timedelta(days=retention_days)
    prefix = str(Path(directory)).rstrip("/") + "/"
    due = session.scalars(
        select(ImportBatch)
        .where(ImportBatch.file_removed_at.is_(None),
               ImportBatch.stored_path.startswith(prefix, autoescape=True),
               or_(ImportBatch.status == "done",
                   and_(ImportBatch.status.in_(KEPT_A_WHILE),
                        ImportBatch.finished_at <= cutoff)))
        .order_by(ImportBatch.id).limit(ROUND)
    )  # fmt: skip
    return sum(remove_upload(batch, directory, now) for batch in list(due))
