"""The RQ queues, named once, and what they hold (for /readyz and admins).

Workers listen in this order, so periodic work never waits behind a burst of messages.
"""

from __future__ import annotations

from typing import Any

PERIODIC = "periodic"
NOTIFICATIONS = "notifications"
IMPORTS = "imports"  # call-centre files: long jobs, after everything quick
ALL = (PERIODIC, NOTIFICATIONS, IMPORTS)


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
