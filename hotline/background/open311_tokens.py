"""Batch Open311 services' tokens made tickets in the background.

The token row is the record; Redis carries only its id. Right after the POST's answer is
sent the token is handed on (an RQ job on the "periodic" queue, or processed in the web
process itself without Redis: it is one ordinary intake); a periodic round processes any
token still waiting a few seconds later, so a lost job or a crashed hand-on loses nothing.
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime

from ..config import Settings
from ..db import Database
from ..domain.clock import utc_now
from ..queues import PERIODIC, hand_on_connection
from ..services.calendar import CalendarCache
from ..services.intake import IntakePolicy
from ..services.open311_intake import Intake, due_tokens, process_token
from ..services.router_cache import RouterCache
from .runtime import runtime

log = logging.getLogger(__name__)
JOB = "hotline.background.open311_tokens.process_open311_token"


def intake_for(settings: Settings) -> Intake:
    """Fresh caches, for a process of its own."""
    return Intake(IntakePolicy(prefix=settings.ticket_prefix, timezone=settings.timezone),
                  RouterCache(), CalendarCache(timezone=settings.timezone))  # fmt: skip


@functools.cache
def worker_intake(settings: Settings) -> Intake:
    """One per worker process (and settings): its caches outlive the jobs."""
    return intake_for(settings)


def process_one(database: Database, row_id: int, *, intake: Intake,
                now: datetime | None = None) -> str:  # fmt: skip
    """Process one token in a transaction of its own: "ticket", "error" or "skipped"."""
    with database.transaction() as session:
        row = process_token(session, row_id, now=now or utc_now(), intake=intake)
        if row is None:
            return "skipped"
        return "error" if row.error else "ticket"


def process_open311_token(token_row_id: int) -> str:
    """The RQ job the POST hands on."""
    settings, database = runtime()
    return process_one(database, token_row_id, intake=worker_intake(settings))


def drain(database: Database, *, intake: Intake, now: datetime | None = None) -> int:
    """Every token still waiting (each in its own transaction: one bad row stops no other)."""
    moment = now or utc_now()
    with database.transaction() as session:
        ids = due_tokens(session, now=moment)
    done = 0
    for row_id in ids:
        try:
            done += process_one(database, row_id, intake=intake, now=moment) != "skipped"
        except Exception:  # the next round tries it again
            log.exception("open311 token %s could not be processed; retried later", row_id)
    return done


def hand_on(settings: Settings, database: Database, row_id: int, *, intake: Intake) -> None:
    """After the answer is sent: enqueue the token's job, or (no Redis) process it here. A
    failure only delays it until the periodic round."""
    try:
        if settings.redis_url:
            from rq import Queue
            from rq.serializers import JSONSerializer

            queue = Queue(PERIODIC, connection=hand_on_connection(settings.redis_url),
                          serializer=JSONSerializer)  # fmt: skip
            queue.enqueue(JOB, row_id, job_timeout=300, result_ttl=3600)
        else:
            process_one(database, row_id, intake=intake)
    except Exception:
        log.warning("open311 token hand-on failed; the periodic round will process it",
                    exc_info=True)  # fmt: skip
