"""``hotline worker`` and ``hotline scheduler``: the processes that run background work.

The worker runs whatever the queues hold, notifications' jobs included: RQ imports each by
its dotted name. The scheduler enqueues its rounds by name too; only without Redis does it
run them itself, notifications' outbox round being the one handed in by the entry point.
"""

from __future__ import annotations

import time

import click

from .support import NotificationWork, pass_notification_work


@click.command()
@click.option("--fork", is_flag=True, help="Run each job in a forked child (RQ's default).")
def worker(fork: bool) -> None:
    """An RQ worker on the periodic and notifications queues (needs HOTLINE_REDIS_URL).

    By default jobs run in the worker process itself, which keeps its database pool and
    loaded mappers across jobs (a fork per job reconnects every time); a crashed worker
    loses nothing, as its claimed rows come back after their lease. When Redis goes away
    it says so once, waits, and carries on when Redis is back.
    """
    from rq import Queue
    from rq.serializers import JSONSerializer
    from sqlalchemy.orm import configure_mappers

    from .. import models  # noqa: F401 - every mapper, configured before the first job
    from ..background.periodic import (
        RedisOutage,
        SupervisedSimpleWorker,
        SupervisedWorker,
        run_worker,
        waiting_connection,
    )
    from ..background.runtime import runtime
    from ..queues import ALL

    settings, _ = runtime()  # settings and engine built before any job (or fork)
    configure_mappers()
    if not settings.redis_url:
        raise click.ClickException("HOTLINE_REDIS_URL is not set; without Redis, delivery runs "
                                   "inside the web process")  # fmt: skip
    connection = waiting_connection(settings.redis_url, RedisOutage(_log))
    queues = [
        Queue(name, connection=connection, serializer=JSONSerializer) for name in ALL
    ]  # periodic first: a burst never delays the sweep
    run_worker(SupervisedWorker if fork else SupervisedSimpleWorker, connection, queues,
               log=_log)  # fmt: skip


@click.command()
@click.option("--drain-every", default=10, show_default=True, help="Seconds.")
@click.option("--sweep-every", default=60, show_default=True, help="Seconds.")
@pass_notification_work
def scheduler(work: NotificationWork, drain_every: int, sweep_every: int) -> None:
    """Periodic work: the SLA sweep and the outbox re-drain. One is enough; two are harmless.

    With Redis it is RQ's cron scheduler, enqueueing the tasks for the workers (queue
    "periodic"), which waits out a Redis outage; without Redis it runs them itself.
    """
    from ..background.periodic import (
        JsonCronScheduler,
        RedisOutage,
        run_without_redis,
        tasks,
        waiting_connection,
    )
    from ..background.runtime import runtime

    settings, _ = runtime()
    task_list = tasks(drain_every, sweep_every, drains=[work.drain_outbox])
    if not settings.redis_url:
        click.echo("no HOTLINE_REDIS_URL: running periodic tasks in this process")
        run_without_redis(task_list, log=lambda line: click.echo(line, err=True))
        return
    cron = JsonCronScheduler(waiting_connection(settings.redis_url, RedisOutage(_log)))
    for task in task_list:
        cron.register_task(task)
    cron.start()


def _log(line: str) -> None:
    """A line for the operator on stderr, stamped like RQ's own."""
    click.echo(f"{time.strftime('%H:%M:%S')} {line}", err=True)
