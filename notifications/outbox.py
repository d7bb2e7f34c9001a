"""Handing outbox rows to workers: drain the due ones, enqueue their ids on RQ, or deliver
them in this process when there is no Redis (the embedded default)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from hotline.config import Settings
from hotline.db import Database
from hotline.models import OutboxMessage
from hotline.queues import NOTIFICATIONS

from .jobs import LEASE, deliver, utc_now

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


def flush(settings: Settings, database: Database, *, now: datetime | None = None) -> list[int]:
    """Drain due rows; enqueue them on Redis when configured, else deliver them here."""
    moment = now or utc_now()
    if settings.redis_url:
        from redis import Redis
        from rq import Queue
        from rq.serializers import JSONSerializer

        queue = Queue(NOTIFICATIONS, connection=Redis.from_url(settings.redis_url),
                      serializer=JSONSerializer)  # fmt: skip
        with database.transaction() as session:
            ids = drain(session, now=moment)
            for outbox_id in ids:  # a Redis error rolls the marks back: nothing is lost
                queue.enqueue("notifications.jobs.deliver", outbox_id,
                              job_id=f"outbox-{outbox_id}")  # fmt: skip
        return ids
    with database.transaction() as session:
        ids = drain(session, now=moment)
    for outbox_id in ids:
        deliver(outbox_id, now=lambda: moment, context=(settings, database))
    return ids
