"""The weekly routing draft on RQ with a real Redis: the scheduler ticks it, a worker learns
once, a restarted scheduler's tick (RQ runs an interval job at once) learns nothing more
within the week, and the console's request goes through Redis too."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from redis import Redis
from rq import Queue
from rq.serializers import JSONSerializer
from sqlalchemy import func, select

import hotline.background.learning as learning
import hotline.background.periodic as periodic
from hotline.models import AuditEvent, RulesetRecord
from hotline.services import relearn
from hotline.services.actors import Actor
from tests.helpers.learning_city import NOW, corrections, history
from tests.helpers.rq_workers import BurstWorker


@pytest.fixture
def redis_context(db, settings, redis_url, monkeypatch):
    up = replace(settings, redis_url=redis_url)
    moment = {"now": NOW}
    monkeypatch.setattr(periodic, "runtime", lambda: (up, db))
    monkeypatch.setattr(learning, "utc_now", lambda: moment["now"])
    connection = Redis.from_url(redis_url)
    queues = [Queue(name, connection=connection, serializer=JSONSerializer)
              for name in ("periodic", "imports")]  # fmt: skip
    for queue in queues:
        queue.empty()
    yield up, connection, queues, moment
    for queue in queues:
        queue.empty()


def _work(connection, queues) -> None:
    BurstWorker(queues, connection=connection, serializer=JSONSerializer).work(burst=True)


def _runs(db) -> tuple[int, int]:
    """(runs finished, drafts learned by them)."""
    with db.transaction() as session:
        finished = session.scalar(select(func.count()).select_from(AuditEvent)
                                  .where(AuditEvent.action == relearn.FINISHED))  # fmt: skip
        drafts = [e.data.get("ruleset_id") for e in session.scalars(
            select(AuditEvent).where(AuditEvent.action == relearn.FINISHED))]  # fmt: skip
        learned = session.scalar(
            select(func.count())
            .select_from(RulesetRecord)
            .where(RulesetRecord.id.in_([d for d in drafts if d]), RulesetRecord.status == "draft")
        )
    return finished or 0, learned or 0


def _scheduler(connection):
    cron = periodic.JsonCronScheduler(connection)
    tick = [t for t in periodic.tasks() if t.func is periodic.learn_routing_draft]
    assert [t.every for t in tick] == [3600]  # ticked hourly; the job knows if it is due
    for task in tick:
        cron.register_task(task)
    return cron


def test_the_weekly_draft_runs_once_a_week_whatever_the_scheduler_does(db, redis_context):
    _, connection, queues, moment = redis_context
    with db.transaction() as session:
        history(session)
        corrections(session)
    cron = _scheduler(connection)
    assert len(cron.enqueue_jobs()) == 1
    assert [job.func_name for job in queues[0].get_jobs()] == [
        "hotline.background.periodic.learn_routing_draft"]  # fmt: skip
    _work(connection, queues)
    assert _runs(db) == (1, 1)

    # The scheduler restarts (RQ enqueues an interval job at once), a second scheduler runs
    # beside it, six days pass: nothing more is learned.
    for later in (timedelta(minutes=5), timedelta(days=6)):
        moment["now"] = NOW + later
        _scheduler(connection).enqueue_jobs()
        for job in cron.get_jobs():
            job.enqueue(connection)
        _work(connection, queues)
        assert _runs(db) == (1, 1)

    moment["now"] = NOW + timedelta(days=7, minutes=1)
    _scheduler(connection).enqueue_jobs()
    _work(connection, queues)
    assert _runs(db) == (2, 2)
    with db.transaction() as session:  # nothing activated itself
        assert session.scalar(select(RulesetRecord.source)
                              .where(RulesetRecord.status == "active")) == "seed"  # fmt: skip


def test_the_console_request_goes_through_redis_once(db, redis_context):
    settings, connection, queues, _ = redis_context
    with db.transaction() as session:
        history(session)
        corrections(session, 3)
    found, outcome = learning.request_and_start(settings, db, actor=Actor(None, "t"), now=NOW)
    assert (found, outcome) == ("queued", None)
    again = learning.request_and_start(settings, db, actor=Actor(None, "t"), now=NOW)
    assert again == ("pending", None)  # a double click: no second job
    assert len(queues[1]) == 1
    _work(connection, queues)
    assert _runs(db) == (1, 1)
    # A tick later in the week finds the request served.
    _scheduler(connection).enqueue_jobs()
    _work(connection, queues)
    assert _runs(db) == (1, 1)
