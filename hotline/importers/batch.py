"""Import batches: a file, checked up front, then applied in chunks that each commit.

This is the one place an import's transactions are opened (the CLI, the API for small files
and the ``imports`` job all come here): every chunk of rows commits together with its
rejections and the batch's counters, so a killed import resumes after its last chunk and a
re-run of the same file creates nothing twice.
"""

from __future__ import annotations

import time
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
    # Chunks side by side in this many processes (PostgreSQL, large files; see _apply_pooled)
    workers: int = 1
    database_url: str | None = None

    @classmethod
    def for_process(cls, settings: Settings, now: Callable[[], datetime]) -> Runtime:
        """Fresh caches, for a process of its own (the CLI, a worker)."""
        return cls(settings.ticket_prefix, settings.timezone, now, RouterCache(),
                   CalendarCache(timezone=settings.timezone), settings.import_workers,
                   settings.database_url)  # fmt: skip


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
            if _pooled(runtime, work, done, total, chunk_size):
                finished = _apply_pooled(run, table, binding, done, total, progress, chunk_size)
            else:
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
            seen.setdefault(_ref(cells, ref_at), number)
            continue
        chunk.append((number, cells))
        if len(chunk) >= chunk_size:
            _commit_chunk(run, chunk, lambda n, c: read_row(reader, c, n, seen))
            chunk = []
            chunks += 1
            if chunks & (chunks - 1) == 0:  # after chunks 1, 2, 4, 8...
                _refresh_statistics(run.work)
            if progress:
                progress(position, total, run.rejected)
            if run.cancelled():
                return False
    if chunk:
        _commit_chunk(run, chunk, lambda n, c: read_row(reader, c, n, seen))
    if progress:
        progress(position, total, run.rejected)
    return True


def _ref(cells: list[str], at: int) -> str:
    return cells[at].strip() if at < len(cells) else ""


# ---------------------------------------------------------------- chunks side by side

POOL_FROM = 4  # chunks: a smaller file is applied in this process (starting a pool costs)
TURN_WAIT = 300.0  # seconds a chunk waits for the one before it before it gives up


def _pooled(runtime: Runtime, work: Work, done: int, total: int | None, chunk_size: int) -> bool:
    """Whether to apply in a pool: several workers, a PostgreSQL database (SQLite has one
    writer, so nothing to overlap), and enough rows left."""
    if runtime.workers < 2 or not runtime.database_url or total is None:
        return False
    if not runtime.database_url.startswith("postgresql"):
        return False
    return total - done >= POOL_FROM * chunk_size


def _apply_pooled(run: _Run, table: Table, binding: Binding, done: int, total: int | None,
                  progress: Progress | None, chunk_size: int) -> bool:  # fmt: skip
    """Apply the rows after ``done`` in a pool of processes, a chunk each.

    A worker checks its rows, routes them and looks for duplicates while the chunk before
    it writes; then it waits for that chunk's commit (its turn: the batch's ``rows_done``
    reaches where its chunk starts) before it takes numbers and writes. So chunks still
    commit in file order, ``rows_done`` stays a prefix (a killed import resumes after it),
    and numbers follow the file. A repeat of a ticket that the chunk just before wrote is
    not seen (that chunk has not committed yet); the push API's race is retried as ever.

    This process only reads the file and finds work-order numbers that come twice in it
    (by the number as written, stripped).
    """
    import multiprocessing
    from collections import deque

    runtime = run.runtime
    workers = runtime.workers
    batch = (runtime.database_url, run.batch_id, runtime.prefix, runtime.timezone, run.source,
             run.actor.user_id, run.history, binding.mapping.to_dict(), list(binding.header))
    ref_at = binding.positions["external_ref"][0]
    seen: dict[str, int] = {}
    pending: deque[tuple[int, Any]] = deque()  # (rows through this chunk, its async result)
    chunk: list[tuple[int, list[str]]] = []
    repeated: dict[int, int] = {}
    position = chunks = 0
    stopped = False

    def collect() -> None:
        nonlocal chunks, stopped
        through, result = pending.popleft()
        rejected, unknown = result.get()
        run.rejected += rejected
        run.unknown += unknown
        chunks += 1
        if chunks & (chunks - 1) == 0:
            _refresh_statistics(run.work)
        if progress:
            progress(through, total, run.rejected)
        stopped = stopped or run.cancelled()

    # fork: the workers start with this process's modules (jieba's dictionary...) loaded
    context = multiprocessing.get_context("fork")
    with context.Pool(workers, initializer=_pool_start, initargs=batch) as pool:
        for number, cells in table.rows:
            position += 1
            ref = _ref(cells, ref_at)
            first = seen.setdefault(ref, number)
            if position <= done:
                continue
            if first != number:
                repeated[number] = first
            chunk.append((number, cells))
            if len(chunk) >= chunk_size:
                start = position - len(chunk)
                pending.append((position, pool.apply_async(_pool_chunk,
                                                           (start, chunk, repeated))))  # fmt: skip
                chunk, repeated = [], {}
                while len(pending) > workers:
                    collect()
                if stopped:
                    break
        if chunk and not stopped:
            pending.append((position, pool.apply_async(_pool_chunk,
                                                       (position - len(chunk), chunk, repeated))))
        while pending:
            collect()
    return not stopped


_worker: tuple[_Run, RowReader] | None = None  # a pool process's own runner and reader


def _pool_start(url: str, batch_id: int, prefix: str, timezone: str, source: str,
                actor_id: int | None, history: bool, mapping: dict[str, Any],
                header: list[str]) -> None:  # fmt: skip
    """A pool process: its own database engine, caches and clock (the real one)."""
    global _worker
    from datetime import UTC

    database = Database(url)
    runtime = Runtime(prefix, timezone, lambda: datetime.now(UTC), RouterCache(),
                      CalendarCache(timezone=timezone))  # fmt: skip
    run = _Run(units_of_work(database), batch_id, runtime, source,
               Actor(actor_id, CALL_CENTRE), history)  # fmt: skip
    binding = bind(Mapping.from_dict(mapping), header, history=history)
    _worker = (run, RowReader(binding, timezone, history=history))


def _pool_chunk(start: int, rows: list[tuple[int, list[str]]],
                repeated: dict[int, int]) -> tuple[int, Counter[str]]:  # fmt: skip
    """One chunk in a pool process: (rows refused, unknown 诉求类型 counts)."""
    assert _worker is not None
    run, reader = _worker
    run.rejected, run.unknown = 0, Counter()

    def check(number: int, cells: list[str]) -> CallRecord | list[Problem]:
        parsed = reader.read(cells)
        if isinstance(parsed, CallRecord) and number in repeated:
            reason = f"工单编号 {parsed.external_ref} 在文件中重复（第 {repeated[number]} 行已有）"
            return [Problem(reader.column_of("external_ref"), reason)]
        return parsed

    _commit_chunk(run, rows, check, start=start)
    return run.rejected, run.unknown


class _Turn:
    """Waits, once, until the chunks before this one have committed (see _apply_pooled)."""

    def __init__(self, session: Session, batch_id: int, start: int) -> None:
        self.session, self.batch_id, self.start = session, batch_id, start
        self.taken = False

    def __call__(self) -> None:
        if self.taken:
            return
        given_up = time.monotonic() + TURN_WAIT
        while True:
            done = self.session.scalar(select(ImportBatch.rows_done)
                                       .where(ImportBatch.id == self.batch_id))  # fmt: skip
            if done == self.start:
                break
            if done is None or done > self.start or time.monotonic() > given_up:
                raise RuntimeError(f"导入批次 {self.batch_id} 的前一段未能按序提交")
            time.sleep(0.002)
        self.taken = True


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


def _commit_chunk(run: _Run, rows: list[tuple[int, list[str]]],
                  check: Callable[[int, list[str]], CallRecord | list[Problem]], *,
                  start: int | None = None) -> None:  # fmt: skip
    """Check and apply one chunk in one transaction; ``start`` (the rows before it) makes
    it wait for its turn (a pool's chunks commit in file order)."""
    work, batch_id, runtime = run.work, run.batch_id, run.runtime
    records: list[tuple[int, CallRecord]] = []
    rejections: list[ImportRejection] = []
    for number, cells in rows:
        parsed = check(number, cells)
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
                turn = _Turn(session, batch_id, start) if start is not None else None
                outcome = apply_records(session, records, context, now=now, turn=turn)
                if turn is not None:
                    turn()
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
            timezone=runtime.timezone, history=options.history,
        )  # fmt: skip
        outcome = apply_records(session, batch, context, now=runtime.now(), dry_run=True)
    for key in ("created", "updated", "unchanged", "closed"):
        summary[key] += getattr(outcome, key)
    return outcome.unknown_categories
