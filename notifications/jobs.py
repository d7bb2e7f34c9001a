"""The notification jobs workers run: delivering outbox rows — ids in, idempotent, never two
sends of a completed message — and the scheduler's outbox round (``drain_outbox``).

A delivery claims its row with a conditional UPDATE (pending → sending), sends outside any
transaction, then records the outcome. A worker killed mid-send leaves the row "sending"
with a lease; after the lease the drain hands it out again and it is re-sent with the same
idempotency key (the outbox id), which providers and receivers use to drop the duplicate.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from hotline.background.runtime import runtime
from hotline.config import Settings
from hotline.db import Database
from hotline.domain.clock import utc_now
from hotline.models import OutboxMessage

from .channels import PermanentError, Suppressed, TransientError
from .compose import compose

BACKOFF = (10, 60, 300, 1800, 7200)  # seconds before attempts 2, 3, …; then it is dead
LEASE = timedelta(minutes=5)


def deliver(outbox_id: int, *, now: Callable[[], datetime] = utc_now,
            context: tuple[Settings, Database] | None = None) -> str:  # fmt: skip
    """Deliver one outbox row; returns what happened (for logs and tests)."""
    settings, database = context or runtime()
    moment = now()
    with database.transaction() as session:
        claimed = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == outbox_id,
                   OutboxMessage.status.in_(["pending", "queued"]))
            .values(status="sending", attempts=OutboxMessage.attempts + 1,
                    next_attempt_at=moment + LEASE)
        ).rowcount  # fmt: skip
        if not claimed:
            return "skipped"  # sent, failed, or another worker has it
        row = session.get(OutboxMessage, outbox_id)
        try:
            channel, message = compose(session, row, settings)
        except PermanentError as exc:
            _finish(session, row, "failed", str(exc), moment)
            return "failed"
        except Suppressed as exc:
            _finish(session, row, "skipped", str(exc), moment)
            return "skipped"
        wake = quiet_until(moment, settings) if channel.name == "sms" else None
        if wake is not None and not message.data.get("urgent"):
            # Night: the SMS waits for the morning; waiting is not an attempt.
            row.status, row.next_attempt_at, row.attempts = "pending", wake, row.attempts - 1
            return "deferred"
        attempts = row.attempts
    try:
        channel.send(message)
    except TransientError as exc:
        with database.transaction() as session:
            row = session.get(OutboxMessage, outbox_id)
            if attempts > len(BACKOFF):
                _finish(session, row, "dead", str(exc), now())
                return "dead"
            row.status, row.last_error = "pending", str(exc)[:1000]
            row.next_attempt_at = now() + timedelta(seconds=BACKOFF[attempts - 1])
        return "retry"
    except PermanentError as exc:
        with database.transaction() as session:
            _finish(session, session.get(OutboxMessage, outbox_id), "failed", str(exc), now())
        return "failed"
    with database.transaction() as session:
        row = session.get(OutboxMessage, outbox_id)
        if channel.name == "console":
            # Nobody received it: the text is kept so that admins can read what was "sent"
            # (services/outbox.console_messages). Erasure scrubs it with the payload.
            row.payload = {**(row.payload or {}), "console_text": message.text}
        record = getattr(channel, "record", None)  # what the answer said (Open311's id)
        if record is not None:
            record(session, row, now())
        _finish(session, row, "sent", None, now())
    return "sent"


def drain_outbox() -> int:
    """The scheduler's outbox round (an RQ job on "periodic"): hand due rows on — retries
    whose backoff ended, leases that ran out."""
    from hotline.background.periodic import REDIS_AWAY

    from .outbox import flush  # imports this module: hence here, not at the top

    settings, database = runtime()
    try:
        return len(flush(settings, database))
    except REDIS_AWAY:
        return 0


def quiet_until(moment: datetime, settings: Settings) -> datetime | None:
    """The end of the quiet hours if ``moment`` falls inside them, else None."""
    from zoneinfo import ZoneInfo

    local = moment.astimezone(ZoneInfo(settings.timezone))
    start, end = settings.sms_quiet_start, settings.sms_quiet_end
    inside = (local.hour >= start or local.hour < end) if start > end else start <= local.hour < end
    if not inside:
        return None
    wake = local.replace(hour=end, minute=0, second=0, microsecond=0)
    if wake <= local:
        wake += timedelta(days=1)
    return wake.astimezone(UTC)


def _finish(session: Session, row: OutboxMessage, status: str, error: str | None,
            moment: datetime) -> None:  # fmt: skip
    row.status = status
    row.last_error = error[:1000] if error else None
    if status == "sent":
        row.sent_at = moment
