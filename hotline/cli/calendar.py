"""``hotline calendar import``: local working-day overrides."""

from __future__ import annotations

from pathlib import Path

import click

from .support import transaction


@click.group()
def calendar() -> None:
    """Local working-day overrides (days off, make-up days) on top of the national schedule."""


@calendar.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def calendar_import(file: Path) -> None:
    """CSV/XLSX/JSONL with columns date (or 日期), working (是否上班: 1/0), note (说明)."""
    from ..importers.tables import read_rows
    from ..services.calendar import import_days

    with transaction() as session:  # the file is read before the first statement
        count = import_days(session, read_rows(file))
    click.echo(f"已导入 {count} 天")
