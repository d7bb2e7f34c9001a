"""Periodic work — the outbox re-drain and the SLA sweep (which also closes unrated
tickets) — scheduled by RQ's cron scheduler, or run in a plain loop without Redis.

Both tasks are safe to run twice or at once: the drain claims rows with a lease, the sweep
remembers what it did on each ticket and skips rows another sweep holds (PostgreSQL).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from redis import Redis
from rq import Queue
from rq.cron import CronJob, CronScheduler
from rq.serializers import JSONSerializer

from hotline.queues import PERIODIC

from .jobs import runtime, utc_now
from .outbox import flush


def drain_outbox() -> int:
    """Hand due outbox rows on (retries whose backoff ended, leases that ran out)."""
    settings, database = runtime()
    return len(flush(settings, database))


def drain_imports() -> int:
    """Start import batches that wait (or resume ones whose runner died)."""
    from .imports import flush_imports

    settings, database = runtime()
    return len(flush_imports(settings, database))


def sweep_deadlines() -> dict[str, int]:
    """Warnings, overdue marks, escalation and unrated closing, as of now."""
    from hotline.services.sweep import sweep_now

    settings, database = runtime()
    with database.transaction() as session:
        report = sweep_now(session, now=utc_now(), timezone=settings.timezone,
                           unrated_days=settings.unrated_close_days)  # fmt: skip
    return {"warned": report.warned, "overdue": report.overdue,
            "escalated": report.escalated, "closed_unrated": report.closed_unrated}  # fmt: skip


@dataclass(frozen=True)
class Task:
    func: Callable[[], Any]
    every: int  # seconds


def tasks(drain_every: int = 10, sweep_every: int = 60) -> list[Task]:
    return [Task(sweep_deadlines, sweep_every), Task(drain_outbox, drain_every),
            Task(drain_imports, drain_every)]  # fmt: skip


class JsonCronJob(CronJob):
    """RQ's cron job, enqueued with the JSON serializer our workers use.

    RQ 2.12's ``CronJob.enqueue`` always uses the default (pickle) serializer, which a JSON
    worker cannot read; this is the one part we change.
    """

    def enqueue(self, connection: Redis):  # type: ignore[no-untyped-def]
        queue = Queue(self.queue_name, connection=connection, serializer=JSONSerializer)
        return queue.enqueue(self.func_name, *self.args, **self.kwargs, **self.job_options)


class JsonCronScheduler(CronScheduler):
    def register_task(self, task: Task) -> CronJob:
        job = JsonCronJob(queue_name=PERIODIC, func=task.func, interval=task.every,
                          job_timeout=max(task.every * 5, 300), result_ttl=task.every * 6,
                          ttl=task.every * 3)  # fmt: skip
        self._cron_jobs.append(job)  # what CronScheduler.register does with its own jobs
        return job


def run_without_redis(task_list: list[Task], *, log: Callable[[str], None],
                      cycles: int | None = None) -> None:  # fmt: skip
    """The embedded default: run each task in this process when it is due."""
    last = {task.func: float("-inf") for task in task_list}
    rounds = 0
    while cycles is None or rounds < cycles:
        for task in task_list:
            if time.monotonic() - last[task.func] >= task.every:
                try:
                    task.func()
                except Exception as exc:  # the next round tries again; nothing is lost
                    log(f"{task.func.__name__}: {type(exc).__name__}: {exc}")
                last[task.func] = time.monotonic()
        rounds += 1
        if cycles is None or rounds < cycles:
            time.sleep(min(task.every for task in task_list))
