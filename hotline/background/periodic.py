"""Periodic work — the SLA sweep (which also closes unrated tickets), the import batches'
hand-on, notifications' outbox re-drain (handed in, see ``tasks``) and the weekly routing
draft (ticked hourly; it runs only when due, see ``background.learning``), the removal of
finished imports' uploads (hourly, ``services.import_retention``) — scheduled by RQ's
cron scheduler, or run in a plain loop without Redis; and what keeps the two Redis processes
(``hotline worker``, ``hotline scheduler``) alive through a Redis outage of any length.

The tasks are safe to run twice or at once: the drains claim rows with a lease, the sweep
remembers what it did on each ticket and skips rows another sweep holds (PostgreSQL).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from redis import Redis
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry
from rq import Queue, SimpleWorker, Worker
from rq.cron import CronJob, CronScheduler
from rq.exceptions import StopRequested
from rq.serializers import JSONSerializer

from ..domain.clock import utc_now
from ..queues import PERIODIC, RedisReplaced
from .runtime import runtime

MAX_WAIT = 5.0  # seconds between attempts to reach Redis, at most: how late we notice it is back
ERROR_PAUSE = 5.0  # seconds before the scheduler tries a round again that Redis refused


# Redis went away (or restarted) under a drain: the rows stay due, the next round hands them
# on. Not a failure worth a traceback and an entry in RQ's failed jobs for every outage: the
# worker that runs the drain reports the outage itself, once.
REDIS_AWAY = (RedisConnectionError, RedisTimeoutError, RedisReplaced)


def drain_imports() -> int:
    """Start import batches that wait (or resume ones whose runner died)."""
    from .imports import flush_imports

    settings, database = runtime()
    try:
        return len(flush_imports(settings, database))
    except REDIS_AWAY:
        return 0


def drain_open311_tokens() -> int:
    """Batch Open311 services' tokens whose hand-on was lost: made tickets now."""
    from .open311_tokens import drain, worker_intake

    settings, database = runtime()
    return drain(database, intake=worker_intake(settings))


def sweep_deadlines() -> dict[str, int]:
    """Warnings, overdue marks, escalation, unrated closing and personal-data erasure past
    its retention period, as of now."""
    from ..services.sweep import sweep_now

    settings, database = runtime()
    with database.transaction() as session:
        report = sweep_now(session, now=utc_now(), settings=settings)
    return {"warned": report.warned, "overdue": report.overdue,
            "escalated": report.escalated, "closed_unrated": report.closed_unrated,
            "personal_data_erased": report.personal_data_erased}  # fmt: skip


def learn_routing_draft() -> dict[str, Any]:
    """The routing draft of the week, if due (a week since the last run, or an admin asked):
    learned, shadow-evaluated, saved as a draft and announced; never activated."""
    from .learning import run_learning

    settings, database = runtime()
    return run_learning(settings, database)


def remove_import_uploads() -> int:
    """Uploads of finished import batches: done ones at once, failed or cancelled ones once
    their retention period is over (``HOTLINE_IMPORT_RETENTION_DAYS``)."""
    from ..services.import_retention import remove_expired_uploads

    settings, database = runtime()
    with database.transaction() as session:
        return remove_expired_uploads(session, now=utc_now(), directory=settings.import_dir,
                                      retention_days=settings.import_retention_days)  # fmt: skip


RETENTION_TICK = 3600  # seconds; a file kept an hour past its period does no harm


def poll_open311_peers() -> dict[str, Any]:
    """Units' own Open311 systems: what they did on our tickets becomes the units' steps
    (accept, feedback, resolve). A remote that is down is logged and asked again next time."""
    from .open311_peers import poll_peers

    settings, database = runtime()
    return poll_peers(settings, database).as_dict()


OPEN311_TICK = 120  # seconds; a unit's progress shows on our timeline within minutes


# The learning job is ticked this often and checks in the database whether it is due: a
# cron expression would skip a week whenever the scheduler was down at that minute, and a
# 7-day interval would run at every scheduler start (RQ runs an interval job at once).
LEARN_TICK = 3600


@dataclass(frozen=True)
class Task:
    func: Callable[[], Any]
    every: int  # seconds


def tasks(drain_every: int = 10, sweep_every: int = 60,
          drains: Sequence[Callable[[], Any]] = ()) -> list[Task]:  # fmt: skip
    """The sweep, the drains and the routing draft's hourly tick. ``drains`` are other rounds
    run as often as the import batches' hand-on: notifications' outbox re-drain, which the
    entry point hands in."""
    return [Task(sweep_deadlines, sweep_every), *(Task(drain, drain_every) for drain in drains),
            Task(drain_imports, drain_every), Task(drain_open311_tokens, drain_every),
            Task(learn_routing_draft, LEARN_TICK),
            Task(remove_import_uploads, RETENTION_TICK),
            Task(poll_open311_peers, OPEN311_TICK)]  # fmt: skip


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

    def start(self) -> None:
        """RQ's rounds (enqueue what is due, save, heartbeat, sleep until the next is due),
        made to survive errors: RQ 2.12's ``start`` ends on the first Redis error, and its
        ``finally`` raises again while Redis is away.

        With ``waiting_connection`` a lost connection just waits inside the round. Anything
        else Redis answers with (out of memory, a read-only replica) is logged and the round
        tried again after a pause: a due job that failed to enqueue is enqueued then.
        """
        signal.signal(signal.SIGINT, self._stop)
        signal.signal(signal.SIGTERM, self._stop)
        self.log.info("CronScheduler %s: starting", self.name)
        born = False
        try:
            while True:
                try:
                    if not born:
                        self.register_birth()
                        born = True
                    if self.enqueue_jobs():
                        self.save()
                    self.heartbeat()  # registers this scheduler again if Redis lost it
                    pause = self.calculate_sleep_interval()
                except RedisError:
                    self.log.error("CronScheduler %s: Redis refused a round; again in %s s",
                                   self.name, ERROR_PAUSE, exc_info=True)  # fmt: skip
                    pause = ERROR_PAUSE
                time.sleep(pause)
        except StopRequested:
            self.log.info("CronScheduler %s: stop requested", self.name)
        finally:
            with suppress(RedisError):  # best effort: its registration expires anyway
                self.register_death()

    def _stop(self, signum: int, frame: object) -> None:
        stop_waiting(self.connection)
        raise StopRequested()


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


class RedisOutage:
    """What a process says when Redis goes away: one warning once it has been unreachable
    for a second, one line when it answers again, with how long it was away; nothing per
    retry, and nothing for a blip (a dropped connection that the next attempt re-opens, or
    a server answering once more while it shuts down).

    One per process, shared by all its connections (RQ's worker has a second one, in a
    thread, for its commands channel).
    """

    QUIET = 1.0  # seconds of failing before it is worth a warning

    def __init__(self, log: Callable[[str], None],
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.log, self.clock = log, clock
        self.down_since: float | None = None
        self.reported = False
        self._lock = threading.Lock()

    def failed(self, error: BaseException) -> None:
        with self._lock:
            now = self.clock()
            if self.down_since is None:
                self.down_since = now
            if self.reported or now - self.down_since < self.QUIET:
                return
            self.reported = True
        self.log(f"Redis is unreachable ({type(error).__name__}: {error}); waiting for it, "
                 f"trying again every {MAX_WAIT:.0f} s at most")  # fmt: skip

    def answered(self) -> None:
        if self.down_since is None:  # the usual case, on every command: no lock
            return
        with self._lock:
            if self.down_since is None:
                return
            away, reported = self.clock() - self.down_since, self.reported
            self.down_since, self.reported = None, False
        if reported:
            self.log(f"Redis is back after {away:.1f} s")


class WaitingRetry(Retry):
    """redis-py's retry policy, made to wait out an outage of any length.

    For the worker's and the scheduler's own connection. Every command (and reconnect)
    retries until Redis answers, with capped exponential backoff, so RQ never sees the
    error: the process waits inside whatever RQ was doing and carries on from there. RQ's
    own handling is worse: its worker retries a lost connection only while waiting for a
    job (logging every attempt, and sleeping up to a minute between them) and quits on one
    anywhere else; its cron scheduler quits on the first.
    """

    def __init__(self, outage: RedisOutage, max_wait: float = MAX_WAIT) -> None:
        super().__init__(ExponentialBackoff(cap=max_wait, base=0.25), retries=-1)
        self.outage = outage

    def __deepcopy__(self, memo: dict[int, Any]) -> WaitingRetry:
        return self  # redis-py copies the policy into each connection; they share one outage

    def call_with_retry(self, do, fail, is_retryable=None,  # type: ignore[no-untyped-def]
                        with_failure_count=False):  # fmt: skip
        def failing(error: Exception, *count: int) -> Any:
            self.outage.failed(error)
            return fail(error, *count)

        result = super().call_with_retry(do, failing, is_retryable, with_failure_count)
        self.outage.answered()
        return result

    def stop_waiting(self) -> None:
        """Fail at once from now on: a process asked to stop must not wait for Redis."""
        self.update_retries(0)


def waiting_connection(redis_url: str, outage: RedisOutage) -> Redis:
    """A connection whose commands wait for Redis to come back (see ``WaitingRetry``)."""
    # A server that vanished without closing its sockets is noticed within these timeouts
    # (RQ's worker raises the second above its blocking wait for jobs).
    return Redis.from_url(redis_url, retry=WaitingRetry(outage), socket_connect_timeout=5,
                          socket_timeout=30)  # fmt: skip


def stop_waiting(connection: Redis) -> None:
    retry = connection.get_retry()
    if isinstance(retry, WaitingRetry):
        retry.stop_waiting()


class _Supervised:
    """RQ's worker, telling ``run_worker`` whether it was asked to stop.

    Without RQ's commands channel: our workers are stopped by signals and sent no commands,
    and that channel's thread (redis-py's pubsub poll, 60 s) could hold a stop after a Redis
    restart past any supervisor's patience (tests/jobs/test_redis_restart.py saw SIGKILL).
    """

    stopping = False

    def subscribe(self) -> None:
        pass

    def handle_warm_shutdown_request(self) -> None:  # RQ calls it on SIGINT/SIGTERM
        self.stopping = True
        stop_waiting(self.connection)  # type: ignore[attr-defined]
        super().handle_warm_shutdown_request()  # type: ignore[misc]

    def set_shutdown_requested_date(self) -> None:
        # Only for monitoring; during an outage it must not fail the job being finished.
        with suppress(RedisError):
            super().set_shutdown_requested_date()  # type: ignore[misc]


class SupervisedWorker(_Supervised, Worker):
    """Forks a work horse per job (``--fork``)."""


class SupervisedSimpleWorker(_Supervised, SimpleWorker):
    """Runs jobs in its own process, keeping its database pool and mappers."""


def run_worker(worker_class: type[SupervisedWorker | SupervisedSimpleWorker],
               connection: Redis, queues: Sequence[Queue], *,
               log: Callable[[str], None]) -> None:  # fmt: skip
    """RQ's work loop, started afresh whenever it ends without having been asked to stop.

    With ``waiting_connection`` a lost connection never ends it; an error Redis answers
    with still does (RQ then logs "found an unhandled exception, quitting"), and that would
    end the process: instead a fresh worker starts after a pause that grows while it lasts.
    """
    try:
        _work_until_stopped(worker_class, connection, queues, log=log)
    except StopRequested:  # the stop signal came between RQ's own checks: a clean stop too
        log("worker stopped")


def _work_until_stopped(worker_class: type[SupervisedWorker | SupervisedSimpleWorker],
                        connection: Redis, queues: Sequence[Queue], *,
                        log: Callable[[str], None]) -> None:  # fmt: skip
    pause = 1.0
    while True:
        worker = worker_class(list(queues), connection=connection, serializer=JSONSerializer)
        started = time.monotonic()
        try:
            worker.work()
            reason = "RQ's work loop ended"
        except RedisError as exc:
            reason = f"{type(exc).__name__}: {exc}"
            with suppress(RedisError):  # its commands thread, which teardown did not reach
                worker.unsubscribe()
        if worker.stopping:
            return
        if time.monotonic() - started > 60:
            pause = 1.0
        log(f"worker stopped unexpectedly ({reason}); a fresh one in {pause:.0f} s")
        time.sleep(pause)
        pause = min(pause * 2, 30.0)
