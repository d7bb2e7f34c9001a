"""``hotline export``: tickets found as the search page finds them, to an XLSX or CSV file in
the 12345 layout our importer reads (``hotline import FILE --history`` brings them back).

Run by the machine's administrator, who can read the database anyway: names and phones go
out in full unless ``--masked``. Every export is audited, as the web's are.

Unlike the web (``EXPORT_MAX``), the command line streams every row: it holds no request
worker, writes a local file in flat memory, and a backup or a move to another instance must
be complete. Only XLSX has a hard limit of its own (1,048,576 rows a sheet); more goes to CSV.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from ..domain.calendar import DAY_RANGE_MESSAGE, EARLIEST_DAY, LATEST_DAY
from ..domain.states import Channel, Role, Status
from .support import now as _now
from .support import opened

XLSX_MAX = 1_048_575  # data rows a sheet holds (Excel's limit less the header)
PLAIN_EVERY = 10_000  # rows between two progress lines when the output is no terminal
FORMATS = (".xlsx", ".csv")


def _day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise click.ClickException(f"{name} 日期格式应为 2026-11-21：{value[:30]}") from None
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise click.ClickException(f"{name}：{DAY_RANGE_MESSAGE}")
    return day


def _interactive() -> bool:
    """A bar for a person at a terminal; plain lines for a log or a pipe."""
    return sys.stdout.isatty()


@click.command("export")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The file to write: .xlsx or .csv (UTF-8 with BOM, for Excel).")  # fmt: skip
@click.option("--q", "text", default="", help="Our number, the 12345 number, a phone, words.")
@click.option("--unit", help="Lead unit (主办) code.")
@click.option("--category", help="Category code.")
@click.option("--street", help="District or street code: where it happened.")
@click.option("--status", "statuses", multiple=True, help="Status (repeatable): "
              + ", ".join(s.value for s in Status) + ".")  # fmt: skip
@click.option("--overdue", is_flag=True, help="Only those with a unit and past resolve-by.")
@click.option("--channel", help="Channel: " + ", ".join(c.value for c in Channel) + ".")
@click.option("--from", "day_from", help="Received on or after this local day (2026-11-01).")
@click.option("--to", "day_to", help="Received on or before this local day (2026-11-30).")
@click.option("--masked", is_flag=True,
              help="Mask residents' names and phones (张*, 138****1234) as the web does for "
                   "those who may not see them (a masked phone does not import back).")  # fmt: skip
def export_command(out: Path, text: str, unit: str | None, category: str | None,
                   street: str | None, statuses: Sequence[str], overdue: bool,
                   channel: str | None, day_from: str | None, day_to: str | None,
                   masked: bool) -> None:  # fmt: skip
    """Export tickets, filtered as on the search page, in the 12345 layout.

    UNMASKED: residents' full names and phones are written (this command is for the
    machine's administrator); give --masked for a file to hand on. Streams every row, in
    chunks, in flat memory. `hotline import FILE --history` reads the file back.
    """
    from ..services import audit, exports
    from ..services.actors import Actor
    from ..services.search_choices import search_choices
    from ..services.worklists import SearchFilters

    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise click.ClickException(f"只能导出为 .xlsx 或 .csv 文件：{out.name}")
    if not out.parent.is_dir():
        raise click.ClickException(f"目录不存在：{out.parent}")
    wrong = [s for s in statuses if s not in {x.value for x in Status}]
    if wrong:
        raise click.ClickException(f"没有这个状态：{'、'.join(wrong)}"
                                   f"（可用：{'、'.join(s.value for s in Status)}）")  # fmt: skip
    if channel and channel not in {c.value for c in Channel}:
        raise click.ClickException(f"没有这个来源：{channel}"
                                   f"（可用：{'、'.join(c.value for c in Channel)}）")  # fmt: skip
    first, last = _day(day_from, "--from"), _day(day_to, "--to")
    if first and last and first > last:
        raise click.ClickException("结束日期不能早于开始日期")
    now = _now()
    with opened() as (settings, database):
        with database.transaction() as session:
            choices = search_choices(session, None)
            for name, value, known, message in (
                ("--unit", unit, choices.unit_codes(), "没有这个承办单位"),
                ("--category", category, {c.code for c in choices.categories}, "没有这个类别"),
                ("--street", street, {s.code for s in choices.streets}, "没有这个街道"),
            ):  # fmt: skip
                if value and value not in known:
                    raise click.ClickException(f"{message}：{value}（{name}）")
            filters = SearchFilters(text=text[:100], unit=unit or None, category=category or None,
                                    street=street or None, statuses=tuple(statuses),
                                    overdue=overdue, channel=channel or None, day_from=first,
                                    day_to=last)  # fmt: skip
            # A supervisor's reach: every ticket, found by phone too; who sees the people is
            # this command's own choice (full, or masked for everyone).
            plan = exports.plan_export(
                session, filters, unit_ids=None, viewer_role=Role.SUPERVISOR,
                timezone=settings.timezone, now=now,
                people=exports.PEOPLE_MASKED if masked else exports.PEOPLE_FULL,
            )  # fmt: skip
            if suffix == ".xlsx" and plan.total > XLSX_MAX:
                raise click.ClickException(f"共 {plan.total} 件，超过 XLSX 一个工作表的上限 "
                                           f"{XLSX_MAX} 行，请导出为 .csv 或缩小条件")  # fmt: skip
            audit.record(session, "search.exported", f"cli:{suffix[1:]}", Actor(None, "命令行"),
                         now, {"filters": _described(filters), "rows": plan.total,
                               "masked": masked, "file": out.name})  # fmt: skip

        def chunks() -> Iterator[list[list[str]]]:
            after: tuple[datetime, int] | None = None
            while True:
                with database.transaction() as session:
                    rows, after = exports.export_rows(session, plan, after=after)
                yield rows
                if after is None:
                    return

        written = _write(out, suffix, exports.COLUMNS, exports.WIDTHS, chunks(), plan.total)
    people = "已遮挡姓名和电话" if masked else "含完整姓名和电话，请妥善保管"
    click.echo(f"已导出 {written} 件工单到 {out}（{people}）")


def _described(filters: Any) -> dict[str, Any]:
    """The filters as the audit row keeps them (dates as text)."""
    return {k: (v.isoformat() if isinstance(v, date) else list(v) if isinstance(v, tuple) else v)
            for k, v in vars(filters).items() if v not in (None, "", (), False)}  # fmt: skip


def _write(out: Path, suffix: str, header: Sequence[str], widths: Sequence[int],
           chunks: Iterator[list[list[str]]], total: int) -> int:  # fmt: skip
    """Write the header and every chunk to a file beside ``out``, renamed to ``out`` only
    when complete (an interrupted export leaves no half file under the name asked for)."""
    from ..exports import write_csv, write_xlsx

    partial = out.with_name(f".{out.name}.partial")
    try:
        with _progress(total) as advance:

            def rows() -> Iterator[Sequence[object]]:
                yield header
                for chunk in chunks:
                    yield from chunk
                    advance(len(chunk))

            if suffix == ".xlsx":
                with partial.open("wb") as binary:
                    written = write_xlsx(binary, rows(), sheet="工单", widths=widths)
            else:
                with partial.open("w", encoding="utf-8", newline="") as text:
                    written = write_csv(text, rows())
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return written


class _progress:
    """``advance(n)`` after each chunk: a click bar on a terminal, otherwise a line every
    ``PLAIN_EVERY`` rows (and none for the last, which the final line reports)."""

    def __init__(self, total: int) -> None:
        self.total, self.done, self.bar = total, 0, None

    def __enter__(self) -> Callable[[int], None]:
        if _interactive():
            self.bar = click.progressbar(length=max(self.total, 1), label="导出工单")
            self.bar.__enter__()
        return self.advance

    def advance(self, count: int) -> None:
        before, self.done = self.done, self.done + count
        if self.bar is not None:
            self.bar.length = max(self.bar.length or 0, self.done)  # tickets added meanwhile
            self.bar.update(count)
        elif self.done // PLAIN_EVERY > before // PLAIN_EVERY and self.done < self.total:
            click.echo(f"已导出 {self.done} / {self.total} 件")

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)
