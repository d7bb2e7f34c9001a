"""A worker SIGKILLed in the middle of a webhook delivery loses nothing and the receiver
accepts exactly one delivery per outbox id."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from redis import Redis
from rq import Queue
from rq.serializers import JSONSerializer
from sqlalchemy import update

import notifications.jobs as jobs
from hotline.models import OutboxMessage, Unit
from notifications.outbox import flush
from tests.helpers import VALID, auth
from tests.helpers.rq_workers import BurstWorker

HOTLINE = Path(sys.executable).parent / "hotline"


def test_sigkill_mid_delivery(client, db, settings, redis_url, receiver) -> None:
    up = replace(settings, redis_url=redis_url)
    with db.transaction() as session:
        session.execute(update(Unit).where(Unit.code == "dept-cgj")
                        .values(webhook_url=receiver.url, webhook_secret="k"))  # fmt: skip
    connection = Redis.from_url(redis_url)
    queue = Queue("notifications", connection=connection, serializer=JSONSerializer)
    queue.empty()
    worker = None
    try:
        client.post("/api/v1/tickets", json=VALID, headers=auth())  # → unit.dispatched
        (outbox_id,) = flush(up, db)
        receiver.delays = [30.0]  # the unit's system takes its time with the first one
        env = {
            **os.environ, "HOTLINE_DATABASE_URL": settings.database_url,
            "HOTLINE_REDIS_URL": redis_url, "HOTLINE_SECRET_KEY": settings.secret_key,
        }  # fmt: skip
        worker = subprocess.Popen([str(HOTLINE), "worker"], env=env, start_new_session=True,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        deadline = time.monotonic() + 30
        while not receiver.requests and time.monotonic() < deadline:
            time.sleep(0.1)
        assert receiver.requests, "the worker never called the webhook"
        os.killpg(worker.pid, signal.SIGKILL)  # the worker and its work horse, mid-request
        worker.wait(timeout=10)
        with db.transaction() as session:
            assert session.get(OutboxMessage, outbox_id).status == "sending"

        # After the lease the scheduler hands it out again; a fresh worker sends it again.
        later = jobs.utc_now() + jobs.LEASE + timedelta(seconds=1)
        assert flush(up, db, now=later) == [outbox_id]
        original = jobs.runtime
        jobs.runtime = lambda: (up, db)
        try:
            BurstWorker([queue], connection=connection,
                         serializer=JSONSerializer).work(burst=True)  # fmt: skip
        finally:
            jobs.runtime = original
        with db.transaction() as session:
            row = session.get(OutboxMessage, outbox_id)
            assert row.status == "sent" and row.attempts == 2
        keys = [r["key"] for r in receiver.requests]
        assert keys == [str(outbox_id), str(outbox_id)]  # sent twice, same key…
        assert receiver.accepted_keys == {str(outbox_id)}  # …accepted once
        assert jobs.deliver(outbox_id, context=(up, db)) == "skipped"  # never a third time
        assert len(receiver.requests) == 2
    finally:
        if worker is not None and worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
        with db.transaction() as session:
            session.execute(update(Unit).values(webhook_url=None, webhook_secret=None))
