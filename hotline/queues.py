"""The RQ queues, named once, and what they hold (for /readyz and admins); the connection the
hand-on uses, and the marker that tells it whether Redis lost what was handed to it.

Workers listen in this order, so periodic work never waits behind a burst of messages.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from redis import Redis

PERIODIC = "periodic"
NOTIFICATIONS = "notifications"
IMPORTS = "imports"  # call-centre files: long jobs, after everything quick
ALL = (PERIODIC, NOTIFICATIONS, IMPORTS)

# One marker per table handed on, so that each hand-on notices a Redis that lost its data.
OUTBOX_EPOCH = "hotline:outbox:epoch"
IMPORTS_EPOCH = "hotline:imports:epoch"


def queue_stats(redis_url: str) -> dict[str, Any]:
    """Jobs waiting and jobs RQ recorded as failed, per queue; raises if Redis is down."""
    from redis import Redis
    from rq import Queue
    from rq.registry import FailedJobRegistry

    connection = Redis.from_url(redis_url, socket_connect_timeout=1, socket_timeout=1)
    stats = {}
    for name in ALL:
        queue = Queue(name, connection=connection)
        stats[name] = {"waiting": queue.count,
                       "failed_jobs": FailedJobRegistry(queue=queue).count}  # fmt: skip
    return stats


def hand_on_connection(redis_url: str) -> Redis:
    """A connection for handing rows on, which gives up quickly when Redis is away.

    The rows wait in their table and the scheduler's next drain hands them on, so there is
    nothing to gain by waiting; redis-py's default (ten retries) would hold a web worker,
    and the hand-on's transaction, for seconds after every request during an outage.
    """
    from redis import Redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=10,
                          retry=Retry(NoBackoff(), 1))  # fmt: skip


class RedisReplaced(RuntimeError):
    """Redis restarted (or was emptied) while rows were being handed to it."""


@dataclass(frozen=True)
class Epoch:
    """The marker a hand-on keeps in Redis: present means "this Redis holds our jobs".

    Redis keeps work, not records: one that restarted empty (or was flushed, or is new)
    has lost the jobs of rows already marked "queued", which would otherwise wait out
    their lease. Its missing marker tells the next hand-on to make those rows due again.
    """

    key: str
    token: str
    fresh: bool  # the marker was missing: this Redis holds none of our jobs

    @classmethod
    def open(cls, connection: Redis, key: str, requeue: Callable[[], object]) -> Epoch:
        """Read the marker, creating it if missing; if it was missing, run ``requeue`` (make
        the lost hand-outs due) before anything is enqueued. Should that fail, the marker is
        removed again so that the next hand-on retries."""
        with connection.pipeline() as pipeline:  # MULTI: set-if-missing and read, at once
            pipeline.set(key, uuid.uuid4().hex, nx=True)
            pipeline.get(key)
            created, token = pipeline.execute()
        epoch = cls(key, token.decode(), bool(created))
        if epoch.fresh:
            try:
                requeue()
            except BaseException:
                epoch.forget(connection)
                raise
        return epoch

    def confirm(self, connection: Redis) -> None:
        """Raise unless the marker is still ours: call it after enqueueing, before the rows'
        marks commit. A Redis that restarted meanwhile (redis-py reconnects by itself) has
        lost some of the jobs, and another hand-on may already have found it empty without
        seeing our uncommitted rows; rolling back leaves them due for the next hand-on."""
        current = connection.get(self.key)
        if current is None or current.decode() != self.token:
            raise RedisReplaced(f"{self.key} changed while handing on; the rows stay due")

    def forget(self, connection: Redis) -> None:
        """Remove the marker if it is still ours (best effort: a Redis that is down has lost
        it anyway)."""
        from redis.exceptions import RedisError

        try:
            current = connection.get(self.key)
            if current is not None and current.decode() == self.token:
                connection.delete(self.key)
        except RedisError:
            pass
