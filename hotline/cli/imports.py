"""``hotline import FILE``: call-centre work orders from CSV/XLSX exports."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..db import Database
from .support import now as _now
from .support import opened


def _show_presets() -> None:
    from ..importers.mapping import FIELDS, PRESET_NOTES, PRESETS, REQUIRED

    for name, mapping in PRESETS.items():
        click.echo(f"{name}: {PRESET_NOTES[name]}")
        for field, columns in mapping.columns.items():
            need = "（必需）" if field in REQUIRED else ""
            click.echo(f"    {field:<13} {FIELDS[field][0]}{need} ← {' / '.join(columns)}")


# Without a terminal (a log, a pipe) the progress is one line this often, and the last.
PLAIN_EVERY = 5.0  # seconds
_clock: Callable[[], float] = time.monotonic  # a test's to replace


def progress_text(done: int, total: int | None, refused: int, rate: float | None) -> str:
    """"1,000 / 10,000 行 · 1,234 行/秒 · 已拒绝 2"."""
    rows = f"{done:,} / {total:,} 行" if total else f"{done:,} 行"
    speed = f"{rate:,.0f} 行/秒" if rate is not None else "— 行/秒"
    return f"{rows} · {speed} · 已拒绝 {refused:,}"


class ProgressReport:
    """The batch's progress as it runs: a bar on a terminal, plain lines otherwise (one
    every ``PLAIN_EVERY`` seconds, and the last)."""

    def __init__(self, batch_id: int, start_done: int, *, tty: bool) -> None:
        self.label, self.tty = f"导入批次 {batch_id}", tty
        # The rate counts this run's rows only (a resumed batch did the others earlier).
        self.started, self.start_done = _clock(), start_done
        self.last_line = float("-inf")
        self.shown: tuple[int, int | None, int] | None = None  # what the last line said
        self.latest: tuple[int, int | None, int] | None = None
        self.bar: Any = None

    def __enter__(self) -> ProgressReport:
        if self.tty:
            self.bar = click.progressbar(length=1, label=self.label, show_pos=False,
                                         item_show_func=lambda text: text).__enter__()  # fmt: skip
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)
        elif self.latest is not None and self.latest != self.shown:
            self._line(_clock(), *self.latest)

    def _text(self, now: float, done: int, total: int | None, refused: int) -> str:
        seconds = now - self.started
        rate = (done - self.start_done) / seconds if seconds > 0 else None
        return progress_text(done, total, refused, rate)

    def _line(self, now: float, done: int, total: int | None, refused: int) -> None:
        self.last_line, self.shown = now, (done, total, refused)
        click.echo(f"{self.label}：{self._text(now, done, total, refused)}")

    def __call__(self, done: int, total: int | None, refused: int) -> None:
        if (done, total, refused) == self.latest:  # the end of a file that fills its chunks
            return
        now, self.latest = _clock(), (done, total, refused)
        if self.bar is not None:
            self.bar.length = max(total or done, done, 1)
            self.bar.update(done - self.bar.pos, self._text(now, done, total, refused))
        elif now - self.last_line >= PLAIN_EVERY:
            self._line(now, done, total, refused)


@click.command("import")
@click.argument("file", required=False)
@click.option("--preset", help="Column layout (see `hotline import presets`); default: auto.")
@click.option("--mapping", "mapping_file", type=click.Path(exists=True, dir_okay=False,
              path_type=Path), help="A YAML mapping file for any other layout.")  # fmt: skip
@click.option("--source", default="12345", show_default=True,
              help="Which call centre: work orders are unique per source and number.")  # fmt: skip
@click.option("--encoding", help="Force the CSV encoding (utf-8, gb18030, gbk, utf-16).")
@click.option("--sheet", help="XLSX sheet name or number (default: the first).")
@click.option("--history", is_flag=True,
              help="Orders as they were handled (closed, answered, open with their original "
                   "deadlines): no notices, nothing restarted now.")  # fmt: skip
@click.option("--dry-run", is_flag=True, help="Check and count, write nothing.")
@click.option("--resume", "resume_id", type=int, help="Finish an interrupted import batch.")
@click.option("--cancel", "cancel_id", type=int,
              help="Ask a batch to stop: a waiting one at once, a running one after its "
                   "current chunk (rows already imported stay).")  # fmt: skip
@click.option("--chunk-size", default=500, show_default=True,
              help="Rows per transaction; a killed import resumes after the last.")  # fmt: skip
@click.option("--rejected-out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the refused rows, with the reason, to this CSV.")  # fmt: skip
def import_command(file: str | None, preset: str | None, mapping_file: Path | None,
                   source: str, encoding: str | None, sheet: str | None, history: bool,
                   dry_run: bool,
                   resume_id: int | None, cancel_id: int | None, chunk_size: int,
                   rejected_out: Path | None) -> None:  # fmt: skip
    """Import FILE (CSV or XLSX); `hotline import presets` lists the column layouts.

    Importing the same file again creates nothing new; changed rows update what is still
    the call centre's to set. Rows with a problem are reported and skipped.
    """
    import yaml

    from ..importers.batch import (
        ImportRefused,
        Options,
        Runtime,
        claim,
        create_batch,
        run_batch,
        units_of_work,
    )
    from ..importers.batch import dry_run as check
    from ..importers.mapping import MappingError, mapping_from_file_data
    from ..services.actors import Actor

    if file == "presets" and not Path(file).exists():
        _show_presets()
        return
    if cancel_id is not None:
        if file is not None or resume_id is not None:
            raise click.UsageError("--cancel takes no FILE and no --resume")
        _cancel(cancel_id)
        return
    if (file is None) == (resume_id is None):
        raise click.UsageError("give FILE to import, or --resume BATCH_ID")
    if preset and mapping_file:
        raise click.UsageError("--preset and --mapping exclude each other")
    with opened() as (settings, database):
        runtime = Runtime.for_process(settings, _now)
        work = units_of_work(database)
        mapping = None
        if mapping_file:
            try:
                mapping = mapping_from_file_data(yaml.safe_load(mapping_file.read_text("utf-8")))
            except (MappingError, yaml.YAMLError, UnicodeDecodeError) as exc:
                raise click.ClickException(f"映射文件有误：{exc}") from exc
        options = Options(source=source, preset=preset, mapping=mapping, encoding=encoding,
                          sheet=sheet, history=history)  # fmt: skip
        try:
            if dry_run:
                summary = check(work, Path(file), options, runtime)
                for note in summary["notes"]:
                    click.echo(f"注意：{note}")
                for item in summary["rejections"]:
                    click.echo(f"  第 {item['row']} 行：{item['reason']}")
                click.echo("试运行（未写入）：将新建 {created}，更新 {updated}，未变 {unchanged}，"
                           "拒绝 {rejected}".format(**summary))  # fmt: skip
                if history:
                    still_open = summary["created"] - summary["closed"]
                    click.echo(f"历史导入：新建的工单中 {summary['closed']} 件已办结，"
                               f"{still_open} 件仍在办理")  # fmt: skip
                return
            if resume_id is None:
                path = Path(file).resolve()
                batch_id = create_batch(work, path, options, filename=path.name,
                                        actor=Actor(None, "命令行"), now=_now())  # fmt: skip
            else:
                batch_id = resume_id
        except ImportRefused as exc:
            raise click.ClickException(str(exc)) from exc
        if not claim(work, batch_id, _now()):
            raise click.ClickException(f"导入批次 {batch_id} 不存在、已完成或正由其他进程处理")
        tty = sys.stdout.isatty()
        with ProgressReport(batch_id, _rows_done(database, batch_id), tty=tty) as progress:
            status = run_batch(work, batch_id, runtime, progress=progress,
                               chunk_size=max(chunk_size, 1))  # fmt: skip
        _report(database, batch_id, status, rejected_out)


def _rows_done(database: Database, batch_id: int) -> int:
    from ..models import ImportBatch

    with database.transaction() as session:
        return session.get(ImportBatch, batch_id).rows_done


FINISHED = {"done": "已完成", "failed": "已失败", "cancelled": "已取消"}


def _cancel(batch_id: int) -> None:
    from ..importers.batch import cancel, units_of_work
    from ..models import ImportBatch

    with opened() as (_, database):
        with database.transaction() as session:
            batch = session.get(ImportBatch, batch_id)
            if batch is None:
                raise click.ClickException(f"没有导入批次 {batch_id}")
            if batch.status in FINISHED:
                raise click.ClickException(
                    f"导入批次 {batch_id} 已结束（{FINISHED[batch.status]}），无法取消")
        status = cancel(units_of_work(database), batch_id, _now())
        with database.transaction() as session:
            batch = session.get(ImportBatch, batch_id)
            done, total = batch.rows_done, batch.total_rows
        of = f" / {total}" if total else ""
        if status == "cancelled":
            click.echo(f"导入批次 {batch_id} 已取消：已处理 {done}{of} 行，之后的行不会导入")
        elif status == "running":
            click.echo(f"已请求取消导入批次 {batch_id}：正在导入（已处理 {done}{of} 行），"
                       "处理完当前这一批行后停止")  # fmt: skip
        else:  # it finished between the two looks
            raise click.ClickException(
                f"导入批次 {batch_id} 已结束（{FINISHED.get(status or '', status)}），无法取消")


def _report(database: Database, batch_id: int, status: str, rejected_out: Path | None) -> None:
    from sqlalchemy import select

    from ..importers.rejected import write_rejected
    from ..models import ImportBatch, ImportRejection

    with database.transaction() as session:
        batch = session.get(ImportBatch, batch_id)
        for note in batch.notes:
            click.echo(f"注意：{note}")
        if batch.error and status != "cancelled":
            click.echo(f"导入中止：{batch.error}", err=True)
        shown = session.scalars(select(ImportRejection).where(ImportRejection.batch_id == batch_id)
                                .order_by(ImportRejection.row_number).limit(20))  # fmt: skip
        for rejection in shown:
            click.echo(f"  第 {rejection.row_number} 行：{rejection.reason}")
        if batch.rejected > 20:
            click.echo(f"  ……共 {batch.rejected} 行未导入")
        if rejected_out and batch.rejected:
            with rejected_out.open("w", encoding="utf-8", newline="") as out:
                write_rejected(session, batch, out)
            click.echo(f"未导入的行已写入 {rejected_out}（修改后可重新导入）")
        click.echo(
            f"批次 {batch_id}：新建 {batch.created}，更新 {batch.updated}，"
            f"未变 {batch.unchanged}，拒绝 {batch.rejected}（共 {batch.rows_done} 行）"
        )
        if batch.mode == "history":
            click.echo(f"历史导入：新建的工单中 {batch.closed} 件已办结，"
                       f"{batch.created - batch.closed} 件仍在办理")  # fmt: skip
        if status == "cancelled":
            of = f"（共 {batch.total_rows} 行）" if batch.total_rows else ""
            click.echo(f"已取消：处理到第 {batch.rows_done} 行为止{of}，之后的行未导入；"
                       "重新导入同一文件时已导入的工单不会重复建单", err=True)  # fmt: skip
    if status != "done":
        raise SystemExit(1)
