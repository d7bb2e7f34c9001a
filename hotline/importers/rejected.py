"""The rows an import refused, as a CSV to fix and import again: the original columns plus
the row number and the reason."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import ImportBatch, ImportRejection

REASON = "未导入原因"
ROW = "原行号"


def _safe(cell: str) -> str:
    # A cell starting with "=" or "@" is a formula to Excel; keep it text when opened there.
    return "'" + cell if cell[:1] in ("=", "@") else cell


def rejected_rows(session: Session, batch: ImportBatch) -> Iterator[list[str]]:
    header = list(batch.mapping.get("header") or [])
    yield [*header, ROW, REASON]
    rows = session.scalars(
        select(ImportRejection)
        .where(ImportRejection.batch_id == batch.id)
        .order_by(ImportRejection.row_number)
        .execution_options(yield_per=1000)
    )
    for rejection in rows:
        cells = [_safe(c) for c in rejection.cells]
        cells += [""] * (len(header) - len(cells))
        yield [*cells, str(rejection.row_number), rejection.reason]


def write_rejected(session: Session, batch: ImportBatch, out: TextIO) -> int:
    """Write the CSV (the caller opens ``out`` as UTF-8 with BOM); returns the row count."""
    writer = csv.writer(out)
    count = -1
    for count, row in enumerate(rejected_rows(session, batch)):  # noqa: B007
        writer.writerow(row)
    return max(count, 0)
