"""Periodic work on RQ's cron scheduler: enqueued as JSON jobs our workers run, safe twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue
from rq.serializers import JSONSerializer
from sqlalchemy import func, select, update

import hotline.background.periodic as periodic
import notifications.jobs as jobs
from hotline.models import OutboxMessage, Ticket, TicketEvent
from tests.helpers import VALID, auth
from tests.helpers.rq_workers import BurstWorker

HOTLINE = Path(sys.executable).parent / "hotline"


@pytest.fixture
def late_ticket(client, db) -> str:
    """A dispatched ticket whose deadlines all passed days ago (by the real clock)."""
    number = client.post("/api/v1/tickets", json=VALID, headers=auth()).json["number"]
    past = datetime.now(UTC) - timedelta(days=10)
    with db.transaction() as session:
        session.execute(update(Ticket).where(Ticket.number == number).values(
            accept_by=past, feedback_by=past, resolve_by=past,
            dispatched_at=past - timedelta(days=1),
        ))  # fmt: skip
    return number


def kinds(db, number: str) -> list[str]:
    with db.transaction() as session:
        return list(session.scalars(
            select(TicketEvent.kind).join(Ticket).where(Ticket.number == number)
        ))  # fmt: skip


@pytest.fixture
def worker_context(db, settings, redis_url, monkeypatch):
    up = replace(settings, redis_url=redis_url)
    monkeypatch.setattr(jobs, "runtime", lambda: (up, db))
    monkeypatch.setattr(periodic, "runtime", lambda: (up, db))
    connection = Redis.from_url(redis_url)
    queues = [Queue(name, connection=connection, serializer=JSONSerializer)
              for name in ("periodic", "notifications")]  # fmt: skip
    for queue in queues:
        queue.empty()
    yield connection, queues
    for queue in queues:
        queue.empty()


def test_cron_enqueues_json_jobs_that_workers_run_and_twice_is_harmless(
    db, late_ticket, worker_context
) -> None:
    connection, queues = worker_context
    cron = periodic.JsonCronScheduler(connection)
    for task in periodic.tasks(drains=[jobs.drain_outbox]):
        cron.register_task(task)
    # The sweep, the two drains, the routing draft's hourly tick, the uploads' retention,
    # Open311 batch tokens and the units' Open311 systems.
    assert len(cron.enqueue_jobs()) == 7
    assert cron.enqueue_jobs() == []  # not due again before its interval
    for job in cron.get_jobs():  # a second scheduler, or a late duplicate
        job.enqueue(connection)
    assert len(queues[0]) == 14 and len(queues[1]) == 0

    BurstWorker(queues, connection=connection, serializer=JSONSerializer).work(burst=True)

    events = kinds(db, late_ticket)
    # One overdue mark per running deadline (accept, feedback, resolve), one escalation:
    # four sweeps did the work of one.
    assert events.count("overdue") == 3 and events.count("escalated") == 1
    with db.transaction() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == late_ticket))
        assert ticket.supervision_level >= 1
        # The drain ran too: nothing due is left waiting in the outbox.
        assert not session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
        )  # fmt: skip


def test_without_redis_the_scheduler_runs_the_tasks_itself(db, settings, late_ticket,
                                                           monkeypatch) -> None:  # fmt: skip
    monkeypatch.setattr(jobs, "runtime", lambda: (settings, db))
    monkeypatch.setattr(periodic, "runtime", lambda: (settings, db))
    ran: list[str] = []
    failing = periodic.Task(lambda: 1 / 0, 1)
    task_list = [*periodic.tasks(drains=[jobs.drain_outbox]), failing]
    periodic.run_without_redis(task_list, log=ran.append, cycles=1)
    assert "overdue" in kinds(db, late_ticket)
    assert ran and "ZeroDivisionError" in ran[0]  # reported; the others still ran


def test_scheduler_process_enqueues_on_redis(settings, redis_url, worker_context) -> None:
    _, queues = worker_context
    env = {**os.environ, "HOTLINE_DATABASE_URL": settings.database_url,
           "HOTLINE_REDIS_URL": redis_url, "HOTLINE_SECRET_KEY": settings.secret_key}  # fmt: skip
    process = subprocess.Popen([str(HOTLINE), "scheduler"], env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while len(queues[0]) < 7 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        _, errors = process.communicate(timeout=10)
    names = sorted(job.func_name for job in queues[0].get_jobs())
    assert names == ["hotline.background.periodic.drain_imports",
                     "hotline.background.periodic.drain_open311_tokens",
                     "hotline.background.periodic.learn_routing_draft",
                     "hotline.background.periodic.poll_open311_peers",
                     "hotline.background.periodic.remove_import_uploads",
                     "hotline.background.periodic.sweep_deadlines",
                     "notifications.jobs.drain_outbox"], errors  # fmt: skip
    assert process.returncode == 0, errors  # a clean stop on SIGTERM
