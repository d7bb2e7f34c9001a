"""The rows an import refused, as a CSV to fix and import again: the original columns plus
the row number and the reason."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..exports import write_csv
from ..models import ImportBatch, ImportRejection

REASON = "未导入原因"
ROW = "原行号"


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
        cells = list(rejection.cells)
        cells += [""] * (len(header) - len(cells))
        yield [*cells, str(rejection.row_number), rejection.reason]


def write_rejected(session: Session, batch: ImportBatch, out: TextIO) -> int:
    """Write the CSV (for Excel: BOM, formulas defused); returns the row count."""
    return write_csv(out, rejected_rows(session, batch))
