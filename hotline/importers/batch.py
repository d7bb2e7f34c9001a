"""Import batches: a file, checked up front, then applied in chunks that each commit.

This is the one place an import's transactions are opened (the CLI, the API for small files
and the ``imports`` job all come here): every chunk of rows commits together with its
rejections and the batch's counters, so a killed import resumes after its last chunk and a
re-run of the same file creates nothing twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..config import Settings
from ..db import Database
from ..domain.call_records import CallRecord
from ..models import ImportBatch, ImportRejection
from ..services.actors import Actor
from ..services.calendar import CalendarCache
from ..services.imports import (
    DEFAULT_SOURCE,
    ImportContext,
    apply_records,
    unknown_category_notes,
)
from ..services.router_cache import RouterCache
from .mapping import PRESETS, Binding, Mapping, MappingError, bind
from .reader import Table, TableError, open_table
from .records import Problem, RowReader

CHUNK = 500
# (rows done, total rows if known, rows refused so far)
Progress = Callable[[int, int | None, int], None]
Work = Callable[[], AbstractContextManager[Session]]


def units_of_work(database: Database, session: Session | None = None) -> Work:
    """Each step's transaction: its own, or a savepoint in a request's (small uploads are
    imported inside the request that brought them)."""

    @contextmanager
    def work() -> Iterator[Session]:
        if session is None:
            with database.transaction() as own:
                yield own
        else:
            with session.begin_nested():
                yield session

    return work


LEASE = timedelta(minutes=5)
CALL_CENTRE = "12345热线"


class ImportRefused(ValueError):
    """The file cannot be imported at all (nothing was written); message in Chinese."""


@dataclass(frozen=True)
class Options:
    source: str = DEFAULT_SOURCE
    preset: str | None = None
    mapping: Mapping | None = None
    encoding: str | None = None
    sheet: str | None = None
    history: bool = False  # orders as they were handled, not live work (services/history.py)

    @property
    def mode(self) -> str:
        return "history" if self.history else "live"

    def resolved_mapping(self) -> Mapping:
        if self.mapping is not None:
            return self.mapping
        name = self.preset or "auto"
        if name not in PRESETS:
            raise ImportRefused(f"没有名为 {name} 的预设（有：{'、'.join(PRESETS)}）")
        return PRESETS[name]


@dataclass(frozen=True)
class Runtime:
    """What running a batch needs besides the database (one per process)."""

    prefix: str
    timezone: str
    now: Callable[[], datetime]
    routers: RouterCache
    calendars: CalendarCache

    @classmethod
    def for_process(cls, settings: Settings, now: Callable[[], datetime]) -> Runtime:
        """Fresh caches, for a process of its own (the CLI, a worker)."""
        return cls(settings.ticket_prefix, settings.timezone, now, RouterCache(),
                   CalendarCache(timezone=settings.timezone))  # fmt: skip


@dataclass(frozen=True)
class Checked:
    """What opening a file told: how its header binds, notes, and what the batch records."""

    binding: Binding
    notes: list[str]
    total_rows: int | None
    file_format: str
    encoding: str | None


def check_file(path: Path, options: Options, *, count: bool = False) -> Checked:
    """Open the file (once) and bind its header: every fatal problem is found here, before
    any batch exists. ``count`` also counts the rows (a quick pass over a CSV; a workbook's
    own figure)."""
    mapping = options.resolved_mapping()
    try:
        with open_table(path, encoding=options.encoding, sheet=options.sheet,
                        count=count) as table:  # fmt: skip
            binding = bind(mapping, table.header, history=options.history)
            notes = table.notes + binding.notes(history=options.history)
            if next(table.rows, None) is None:
                raise TableError("文件只有表头，没有工单数据")
            return Checked(binding, notes, table.total_rows, table.file_format, table.encoding)
    except (TableError, MappingError) as exc:
        raise ImportRefused(str(exc)) from exc


def create_batch(work: Work, path: Path, options: Options, *, filename: str,
                 actor: Actor, now: datetime) -> int:  # fmt: skip
    """Check the file and record a pending batch; returns its id."""
    checked = check_file(path, options, count=True)
    binding, notes = checked.binding, checked.notes
    total, file_format, encoding = checked.total_rows, checked.file_format, checked.encoding
    with work() as session:
        batch = ImportBatch(
            source=options.source, filename=filename[:255], stored_path=str(path),
            size_bytes=path.stat().st_size, file_format=file_format, encoding=encoding,
            sheet=options.sheet, preset=options.preset if options.mapping is None else None,
            mode=options.mode,
            mapping={**binding.mapping.to_dict(), "header": list(binding.header)},
            status="pending", total_rows=total,
            rows_done=0, created=0, updated=0, unchanged=0, rejected=0, notes=notes,
            created_by_id=actor.user_id, created_at=now,
        )  # fmt: skip
        session.add(batch)
        session.flush()
        return batch.id


def claim(work: Work, batch_id: int, now: datetime) -> bool:
    """Take a waiting batch, or one whose runner died (lease over); False if someone has it."""
    with work() as session:
        return bool(session.execute(
            update(ImportBatch)
            .where(ImportBatch.id == batch_id, ImportBatch.cancel_requested_at.is_(None),
                   or_(ImportBatch.status.in_(["pending", "queued"]),
                       (ImportBatch.status == "running") & (ImportBatch.lease_until <= now)))
            .values(status="running", lease_until=now + LEASE, error=None)
        ).rowcount)  # fmt: skip


def _due(now: datetime):  # type: ignore[no-untyped-def]
    return ImportBatch.cancel_requested_at.is_(None) & or_(
        ImportBatch.status == "pending",
        ImportBatch.status.in_(["queued", "running"]) & (ImportBatch.lease_until <= now),
    )


def cancel(work: Work, batch_id: int, now: datetime) -> str | None:
    """Stop a batch: one that waits (or whose runner died) stops at once; a running one
    after the chunk it is on. Chunks already committed stay. Returns the batch's status
    after the request, or None when there is no such batch."""
    with work() as session:
        batch = session.get(ImportBatch, batch_id)
        if batch is None:
            return None
        if batch.status not in ("pending", "queued", "running"):
            return batch.status
        batch.cancel_requested_at = batch.cancel_requested_at or now
        idle = batch.status != "running" or (batch.lease_until and batch.lease_until <= now)
        if idle:
            _stopped(batch, now)
        return batch.status


def _stopped(batch: ImportBatch, now: datetime) -> None:
    batch.status, batch.finished_at, batch.lease_until = "cancelled", now, None
    batch.error = f"已取消：处理了 {batch.rows_done} 行，之后的行未导入"


def due_batches(work: Work, now: datetime) -> list[int]:
    """Batches waiting for a runner, or abandoned by one (its lease ran out)."""
    with work() as session:
        return list(session.scalars(select(ImportBatch.id).where(_due(now))
                                    .order_by(ImportBatch.id)))  # fmt: skip


def hand_out(work: Work, now: datetime,
             send: Callable[[list[int]], None] | None = None) -> list[int]:  # fmt: skip
    """Due batches, marked "queued" with a lease so the next drain does not enqueue them
    again while they wait for a worker.

    ``send`` (enqueue them) runs inside the same transaction: if it fails, the marks roll
    back and the batches are due at once for the next hand-on, not after their lease.
    """
    with work() as session:
        ids = list(session.scalars(select(ImportBatch.id).where(_due(now))
                                   .order_by(ImportBatch.id)))  # fmt: skip
        if ids:
            session.execute(update(ImportBatch).where(ImportBatch.id.in_(ids))
                            .values(status="queued", lease_until=now + LEASE))  # fmt: skip
            if send is not None:
                send(ids)
        return ids


def requeue_lost(work: Work, now: datetime) -> int:
    """Make batches handed to a Redis that has lost its data due now, not when their lease
    ends. Only "queued" ones: a "running" batch has a live runner, which needs no Redis."""
    with work() as session:
        return session.execute(
            update(ImportBatch)
            .where(ImportBatch.status == "queued", ImportBatch.lease_until > now)
            .values(lease_until=now)
        ).rowcount  # fmt: skip


def run_batch(work: Work, batch_id: int, runtime: Runtime, *,
              progress: Progress | None = None,
              chunk_size: int = CHUNK) -> str:  # fmt: skip
    """Apply a claimed batch from where it stopped. Returns the final status."""
    with work() as session:
        batch = session.get(ImportBatch, batch_id)
        mapping = Mapping.from_dict(batch.mapping)
        path, done, total = Path(batch.stored_path), batch.rows_done, batch.total_rows
        encoding, sheet, source = batch.encoding, batch.sheet, batch.source
        history = batch.mode == "history"
        actor = Actor(batch.created_by_id, CALL_CENTRE)
        if batch.started_at is None:
            batch.started_at = runtime.now()
    try:
        with open_table(path, encoding=encoding, sheet=sheet) as table:
            binding = bind(mapping, table.header, history=history)
            run = _Run(work, batch_id, runtime, source, actor, history)
            finished = _apply(run, table, binding, done, total, progress, chunk_size)
            if run.unknown:
                with work() as session:
                    batch = session.get(ImportBatch, batch_id)
                    batch.notes = [*batch.notes, *unknown_category_notes(session, run.unknown)]
    except (TableError, MappingError, OSError) as exc:
        reason = str(exc) if not isinstance(exc, OSError) else f"无法读取文件：{exc.strerror}"
        with work() as session:
            session.execute(
                update(ImportBatch)
                .where(ImportBatch.id == batch_id)
                .values(status="failed", error=reason, finished_at=runtime.now(), lease_until=None)
            )
        return "failed"
    with work() as session:
        batch = session.get(ImportBatch, batch_id)
        if not finished:
            _stopped(batch, runtime.now())
        else:
            batch.status, batch.finished_at, batch.lease_until = "done", runtime.now(), None
        return batch.status


@dataclass
class _Run:
    """One runner's view of a batch while it applies it."""

    work: Work
    batch_id: int
    runtime: Runtime
    source: str
    actor: Actor
    history: bool
    rejected: int = 0  # rows refused by this run
    unknown: Counter[str] = field(default_factory=Counter)  # 诉求类型 values we do not know

    def cancelled(self) -> bool:
        with self.work() as session:
            return session.scalar(select(ImportBatch.cancel_requested_at)
                                  .where(ImportBatch.id == self.batch_id)) is not None  # fmt: skip


def _apply(run: _Run, table: Table, binding: Binding, done: int, total: int | None,
           progress: Progress | None, chunk_size: int) -> bool:
    """Apply the rows after ``done``; False when a cancel request stopped it."""
    reader = RowReader(binding, run.runtime.timezone, history=run.history)
    ref_at = binding.positions["external_ref"][0]
    seen: dict[str, int] = {}  # work-order number → first row with it in this file
    chunk: list[tuple[int, list[str]]] = []
    position = chunks = 0
    for number, cells in table.rows:
        position += 1
        if position <= done:  # applied by an earlier run: only remember its numbers
            ref = cells[ref_at].strip() if ref_at < len(cells) else ""
            seen.setdefault(ref, number)
            continue
        chunk.append((number, cells))
        if len(chunk) >= chunk_size:
            _commit_chunk(run, chunk, reader, seen)
            chunk = []
            chunks += 1
            if chunks & (chunks - 1) == 0:  # after chunks 1, 2, 4, 8...
                _refresh_statistics(run.work)
            if progress:
                progress(position, total, run.rejected)
            if run.cancelled():
                return False
    if chunk:
        _commit_chunk(run, chunk, reader, seen)
    if progress:
        progress(position, total, run.rejected)
    return True


GROWING = ("tickets", "ticket_events", "ticket_co_units", "outbox_messages")


def _refresh_statistics(work: Work) -> None:
    """ANALYZE the tables an import fills, each time they have doubled.

    PostgreSQL plans lookups (and the foreign-key checks of every inserted row) from table
    statistics; on tables that were nearly empty when the import began it would go on
    scanning them whole, and an import would slow down with every chunk. Autovacuum catches
    up too late for a bulk load.
    """
    with work() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("ANALYZE " + ", ".join(GROWING)))


def _commit_chunk(run: _Run, rows: list[tuple[int, list[str]]], reader: RowReader,
                  seen: dict[str, int]) -> None:  # fmt: skip
    work, batch_id, runtime = run.work, run.batch_id, run.runtime
    records: list[tuple[int, CallRecord]] = []
    rejections: list[ImportRejection] = []
    for number, cells in rows:
        parsed = read_row(reader, cells, number, seen)
        if isinstance(parsed, CallRecord):
            records.append((number, parsed))
        else:
            rejections.append(ImportRejection(
                batch_id=batch_id, row_number=number, column_name=parsed[0].column,
                reason=explain(parsed), cells=cells,
            ))  # fmt: skip
    for attempt in (1, 2):
        try:
            with work() as session:
                now = runtime.now()
                context = ImportContext.load(
                    session, source=run.source, actor=run.actor,
                    routing=runtime.routers.active(session),
                    clock=runtime.calendars.clock(session),
                    prefix=runtime.prefix, timezone=runtime.timezone, history=run.history,
                )  # fmt: skip
                outcome = apply_records(session, records, context, now=now)
                session.add_all(rejections)
                session.execute(update(ImportBatch).where(ImportBatch.id == batch_id).values(
                    rows_done=ImportBatch.rows_done + len(rows),
                    created=ImportBatch.created + outcome.created,
                    updated=ImportBatch.updated + outcome.updated,
                    unchanged=ImportBatch.unchanged + outcome.unchanged,
                    rejected=ImportBatch.rejected + len(rejections),
                    closed=ImportBatch.closed + outcome.closed,
                    lease_until=now + LEASE,
                ))  # fmt: skip
            run.rejected += len(rejections)
            run.unknown += outcome.unknown_categories
            return
        except IntegrityError:
            # The same work order arrived by the push API meanwhile: apply again, as updates.
            if attempt == 2:
                raise
            rejections = [ImportRejection(batch_id=r.batch_id, row_number=r.row_number,
                                          column_name=r.column_name, reason=r.reason,
                                          cells=r.cells) for r in rejections]  # fmt: skip


def read_row(reader: RowReader, cells: list[str], number: int,
             seen: dict[str, int]) -> CallRecord | list[Problem]:  # fmt: skip
    """One row checked, including against the numbers seen earlier in the same file."""
    parsed = reader.read(cells)
    if isinstance(parsed, CallRecord):
        first = seen.get(parsed.external_ref)
        if first is not None:
            reason = f"工单编号 {parsed.external_ref} 在文件中重复（第 {first} 行已有）"
            return [Problem(reader.column_of("external_ref"), reason)]
        seen[parsed.external_ref] = number
    return parsed


def explain(problems: list[Problem]) -> str:
    """One line for a refused row: each problem with the column it is in."""
    return "；".join(f"［{p.column}］{p.reason}" if p.column else p.reason for p in problems)


def dry_run(work: Work, path: Path, options: Options, runtime: Runtime) -> dict[str, Any]:
    """What importing would do, writing nothing."""
    checked = check_file(path, options)
    binding, notes = checked.binding, checked.notes
    reader = RowReader(binding, runtime.timezone, history=options.history)
    summary: dict[str, Any] = {"created": 0, "updated": 0, "unchanged": 0, "rejected": 0,
                               "closed": 0, "rejections": [], "notes": notes,
                               "mode": options.mode}  # fmt: skip
    seen: dict[str, int] = {}
    unknown: Counter[str] = Counter()  # 诉求类型 values no category answers → rows
    with open_table(path, encoding=options.encoding, sheet=options.sheet) as table:
        batch: list[tuple[int, CallRecord]] = []
        for number, cells in table.rows:
            parsed = read_row(reader, cells, number, seen)
            if isinstance(parsed, CallRecord):
                batch.append((number, parsed))
            else:
                summary["rejected"] += 1
                if len(summary["rejections"]) < 100:
                    summary["rejections"].append(
                        {"row": number, "column": parsed[0].column, "reason": explain(parsed)}
                    )
            if len(batch) >= CHUNK:
                unknown += _dry_chunk(work, batch, options, runtime, summary)
                batch = []
        if batch:
            unknown += _dry_chunk(work, batch, options, runtime, summary)
    if unknown:
        with work() as session:
            summary["notes"] = [*notes, *unknown_category_notes(session, unknown)]
    return summary


def _dry_chunk(work: Work, batch: list[tuple[int, CallRecord]], options: Options,
               runtime: Runtime, summary: dict[str, Any]) -> Counter[str]:  # fmt: skip
    with work() as session:
        context = ImportContext.load(
            session, source=options.source, actor=Actor(None, CALL_CENTRE), routing=None,
            clock=runtime.calendars.clock(session), prefix=runtime.prefix,
            timezone=runtime.timezone,
        )  # fmt: skip
        outcome = apply_records(session, batch, context, now=runtime.now(), dry_run=True)
    for key in ("created", "updated", "unchanged", "closed"):
        summary[key] += getattr(outcome, key)
    return outcome.unknown_categories
