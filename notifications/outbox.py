"""Handing outbox rows to workers: drain the due ones, enqueue their ids on RQ, or deliver
them in this process when there is no Redis (the embedded default)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from hotline.config import Settings
from hotline.db import Database
from hotline.domain.clock import utc_now
from hotline.models import OutboxMessage
from hotline.queues import NOTIFICATIONS, OUTBOX_EPOCH, Epoch, hand_on_connection

from .jobs import LEASE, deliver

BATCH = 500


def drain(session: Session, *, now: datetime, limit: int = BATCH) -> list[int]:
    """Due rows, marked "queued" with a lease so that no other drain hands them out again.

    Rows abandoned by a dead worker ("sending"/"queued" past their lease) are due again. The
    caller enqueues the ids inside the same transaction: if Redis refuses, nothing changes.
    """
    due = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.next_attempt_at <= now,
            or_(OutboxMessage.status == "pending",
                OutboxMessage.status.in_(["queued", "sending"])),
        )
        .order_by(OutboxMessage.next_attempt_at)
        .limit(limit)
    )  # fmt: skip
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = list(session.scalars(due))
    if ids:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(status="queued", next_attempt_at=now + LEASE)
        )
    return ids


def requeue_lost(session: Session, *, now: datetime) -> int:
    """Make rows handed to a Redis that has lost its data due now, not when their lease ends.

    Only "queued" rows: their jobs were in that Redis. A "sending" row has been claimed by a
    worker, which needs Redis for nothing while it sends, so it is left to finish (and
    comes back after its lease only if that worker died).
    """
    return session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == "queued", OutboxMessage.next_attempt_at > now)
        .values(next_attempt_at=now)
    ).rowcount  # fmt: skip


def flush(settings: Settings, database: Database, *, now: datetime | None = None) -> list[int]:
    """Hand every due row on: enqueue them on Redis when configured, else deliver them here
    (at most one batch: the caller's process does the sending)."""
    moment = now or utc_now()
    if settings.redis_url:
        return _enqueue_due(settings.redis_url, database, moment)
    with database.transaction() as session:
        ids = drain(session, now=moment)
    for outbox_id in ids:
        deliver(outbox_id, now=lambda: moment, context=(settings, database))
    return ids


def _enqueue_due(redis_url: str, database: Database, moment: datetime) -> list[int]:
    """Batch after batch until none is full, so that one drain catches up with a backlog
    (after Redis came back empty, every row that had been handed to it) instead of handing
    on 500 rows per 10-s round.

    A row may get two jobs (two hand-ons found the same Redis empty, or one re-handed rows
    another had just handed on): harmless. ``deliver`` claims the row with a conditional
    UPDATE, so the second job finds it sending or sent and is "skipped"; at worst it claims
    a row waiting for a retry a little early. Either way the key stays the outbox id.
    """
    from rq import Queue
    from rq.serializers import JSONSerializer

    connection = hand_on_connection(redis_url)
    queue = Queue(NOTIFICATIONS, connection=connection, serializer=JSONSerializer)

    def requeue() -> None:
        with database.transaction() as session:
            requeue_lost(session, now=moment)

    epoch = Epoch.open(connection, OUTBOX_EPOCH, requeue)  # before any transaction: fails fast
    handed: list[int] = []
    while True:
        with database.transaction() as session:
            ids = drain(session, now=moment)
            for outbox_id in ids:  # a Redis error rolls the marks back: nothing is lost
                queue.enqueue("notifications.jobs.deliver", outbox_id,
                              job_id=f"outbox-{outbox_id}")  # fmt: skip
            if ids:
                epoch.confirm(connection)
        handed += ids
        if len(ids) < BATCH:
            return handed
