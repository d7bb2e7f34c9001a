"""A Redis that lost its data (restarted empty, flushed, new): the hand-on finds its marker
missing and hands the "queued" rows on again at once, never the ones being sent; and the
pieces that keep the worker and the scheduler alive meanwhile."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from redis import Redis
from redis.exceptions import ConnectionError, ResponseError
from rq import Queue, cron_scheduler_registry
from rq.exceptions import StopRequested
from rq.serializers import JSONSerializer
from sqlalchemy import select

import hotline.background.imports as imports
import hotline.background.periodic as periodic
from hotline.models import ImportBatch, OutboxMessage
from hotline.queues import IMPORTS_EPOCH, OUTBOX_EPOCH, Epoch, RedisReplaced
from notifications.jobs import LEASE, drain_outbox
from notifications.outbox import flush
from tests.helpers import VALID, auth

NOW = datetime(2026, 11, 21, 2, 30, tzinfo=UTC)


@pytest.fixture
def redis(redis_url):
    connection = Redis.from_url(redis_url)
    connection.flushdb()  # the tests' own Redis database
    yield connection
    connection.flushdb()


def outbox_rows(client, db, statuses: list[str]) -> list[int]:
    """One unit notice per status, as a hand-on or a worker would have left it."""
    ids = []
    for status in statuses:
        client.post("/api/v1/tickets", json=VALID, headers=auth())
        with db.transaction() as session:
            row = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
            row.status = status
            # pending: due now; queued and sending: their lease still runs
            row.next_attempt_at = NOW if status == "pending" else NOW + LEASE
            ids.append(row.id)
    return ids


def state(db, outbox_id: int) -> tuple[str, datetime]:
    with db.transaction() as session:
        row = session.get(OutboxMessage, outbox_id)
        return row.status, row.next_attempt_at


def job_ids(redis: Redis, name: str) -> set[str]:
    return set(Queue(name, connection=redis, serializer=JSONSerializer).job_ids)


def test_queued_rows_are_handed_on_again_to_an_empty_redis_but_not_sending_ones(
    client, db, settings, redis, redis_url
) -> None:
    up = replace(settings, redis_url=redis_url)
    pending, queued, sending, sent = outbox_rows(client, db, ["pending", "queued", "sending",
                                                              "sent"])  # fmt: skip

    # No marker: this Redis never got our jobs, so the queued row's job is not in it.
    assert sorted(flush(up, db, now=NOW)) == [pending, queued]
    assert job_ids(redis, "notifications") == {f"outbox-{pending}", f"outbox-{queued}"}
    assert state(db, sending) == ("sending", NOW + LEASE)  # a live worker has it
    assert state(db, sent)[0] == "sent"
    assert redis.get(OUTBOX_EPOCH)

    # The same Redis: the rows are queued on it, nothing is handed out twice.
    assert flush(up, db, now=NOW + timedelta(seconds=10)) == []

    redis.flushdb()  # restarted empty
    later = NOW + timedelta(seconds=20)
    assert sorted(flush(up, db, now=later)) == [pending, queued]
    assert state(db, queued) == ("queued", later + LEASE)
    assert state(db, sending) == ("sending", NOW + LEASE)


def test_a_restart_during_the_hand_on_leaves_the_rows_due(
    client, db, settings, redis, redis_url, monkeypatch
) -> None:
    up = replace(settings, redis_url=redis_url)
    ids = outbox_rows(client, db, ["pending", "pending"])
    flush(up, db, now=NOW - timedelta(seconds=1))  # nothing due yet; the marker is set
    original = Queue.enqueue

    def enqueue_then_restart(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        job = original(self, *args, **kwargs)
        redis.flushdb()  # Redis restarted right after this job: it is gone, and the marker
        return job

    monkeypatch.setattr(Queue, "enqueue", enqueue_then_restart)
    with pytest.raises(RedisReplaced):
        flush(up, db, now=NOW)
    assert {state(db, i)[0] for i in ids} == {"pending"}  # rolled back: still due
    monkeypatch.setattr(Queue, "enqueue", original)
    assert sorted(flush(up, db, now=NOW)) == ids


def test_a_marker_whose_requeue_failed_is_removed(redis) -> None:
    def broken() -> None:
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        Epoch.open(redis, OUTBOX_EPOCH, broken)
    assert redis.get(OUTBOX_EPOCH) is None  # the next hand-on requeues again
    calls: list[str] = []
    first = Epoch.open(redis, OUTBOX_EPOCH, lambda: calls.append("requeued"))
    second = Epoch.open(redis, OUTBOX_EPOCH, lambda: calls.append("again"))
    assert (first.fresh, second.fresh, calls) == (True, False, ["requeued"])
    assert first.token == second.token
    first.confirm(redis)
    redis.set(OUTBOX_EPOCH, "another redis's marker")
    with pytest.raises(RedisReplaced):
        first.confirm(redis)


def batch(db, status: str, lease_until: datetime | None) -> int:
    with db.transaction() as session:
        row = ImportBatch(source="12345热线", filename="k.csv", stored_path="/nonexistent/k.csv",
                          size_bytes=1, file_format="csv", mapping={}, status=status,
                          lease_until=lease_until, created_at=NOW)  # fmt: skip
        session.add(row)
        session.flush()
        return row.id


def test_queued_import_batches_are_handed_on_again_but_not_running_ones(
    db, settings, redis, redis_url
) -> None:
    up = replace(settings, redis_url=redis_url)
    queued = batch(db, "queued", NOW + timedelta(minutes=3))
    running = batch(db, "running", NOW + timedelta(minutes=3))
    assert imports.flush_imports(up, db, now=NOW) == [queued]
    assert redis.get(IMPORTS_EPOCH)
    assert len(Queue("imports", connection=redis)) == 1
    assert imports.flush_imports(up, db, now=NOW) == []  # the same Redis: not twice
    with db.transaction() as session:
        assert session.get(ImportBatch, running).status == "running"
        assert session.get(ImportBatch, running).lease_until == NOW + timedelta(minutes=3)


def test_an_outage_is_reported_once_and_its_end_with_its_length() -> None:
    lines: list[str] = []
    clock = iter([0.0, 0.4, 1.2, 3.0, 20.5]).__next__
    outage = periodic.RedisOutage(lines.append, clock=clock)
    retry = periodic.WaitingRetry(outage, max_wait=0)
    failures = iter(range(5))

    def do() -> str:
        if next(failures) < 4:
            raise ConnectionError("Connection refused")
        return "PONG"

    assert retry.call_with_retry(do, lambda error: None) == "PONG"
    assert lines == [
        "Redis is unreachable (ConnectionError: Connection refused); waiting for it, trying "
        "again every 5 s at most",
        "Redis is back after 20.5 s",
    ]
    assert copy.deepcopy(retry) is retry  # every connection of the process shares it


def test_a_blip_is_not_reported_and_a_stop_ends_the_waiting() -> None:
    lines: list[str] = []
    outage = periodic.RedisOutage(lines.append, clock=iter([0.0, 0.3, 5.0]).__next__)
    retry = periodic.WaitingRetry(outage, max_wait=0)
    answers = iter([ConnectionError("reset"), "PONG"])

    def do() -> str:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert retry.call_with_retry(do, lambda error: None) == "PONG"
    assert lines == []  # retried at once: not worth a line

    def down() -> None:
        retry.stop_waiting()  # what SIGTERM does while the process waits
        raise ConnectionError("Connection refused")

    with pytest.raises(ConnectionError):
        retry.call_with_retry(down, lambda error: None)


def test_the_scheduler_goes_on_after_an_error_and_stops_cleanly(redis, monkeypatch) -> None:
    cron = periodic.JsonCronScheduler(redis)
    for task in periodic.tasks(drains=[drain_outbox]):
        cron.register_task(task)
    original = cron.enqueue_jobs
    answers = iter([ResponseError("OOM command not allowed when used memory > 'maxmemory'")])

    def enqueue_jobs():  # type: ignore[no-untyped-def]
        for error in answers:
            raise error
        return original()

    pauses: list[float] = []

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 2:
            raise StopRequested()  # as SIGTERM does

    monkeypatch.setattr(cron, "enqueue_jobs", enqueue_jobs)
    monkeypatch.setattr(periodic.time, "sleep", sleep)
    monkeypatch.setattr(periodic.signal, "signal", lambda *args: None)  # keep pytest's
    cron.start()
    assert pauses[0] == periodic.ERROR_PAUSE
    assert len(Queue("periodic", connection=redis)) == 7  # the round after the error
    registry = cron_scheduler_registry.get_registry_key()
    assert redis.zscore(registry, cron.name) is None  # unregistered on the way out


def test_a_worker_that_ends_unexpectedly_is_started_again(monkeypatch) -> None:
    runs: list[str] = []

    class Worker:
        def __init__(self, queues, connection, serializer) -> None:  # type: ignore[no-untyped-def]
            self.stopping = False

        def work(self) -> None:
            runs.append("work")
            if len(runs) == 1:
                raise ResponseError("READONLY You can't write against a read only replica.")
            self.stopping = True  # the second one is stopped by SIGTERM

        def unsubscribe(self) -> None:
            runs.append("unsubscribe")

    lines: list[str] = []
    monkeypatch.setattr(periodic.time, "sleep", lambda seconds: runs.append(f"sleep {seconds}"))
    periodic.run_worker(Worker, None, [], log=lines.append)  # type: ignore[arg-type]
    assert runs == ["work", "unsubscribe", "sleep 1.0", "work"]
    assert "READONLY" in lines[0] and len(lines) == 1
