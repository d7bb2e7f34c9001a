"""The ``hotline`` command with the processes that deliver: ``worker``, ``scheduler``,
and ``outbox`` maintenance. (The hotline package itself never imports notifications.)"""

from __future__ import annotations

import time

import click

from hotline.cli import main


@main.group()
def outbox() -> None:
    """Notifications waiting to be delivered."""


@outbox.command("flush")
def outbox_flush() -> None:
    """Hand due messages on now (to Redis, or deliver here without it)."""
    from .jobs import runtime
    from .outbox import flush

    settings, database = runtime()
    click.echo(f"handed on {len(flush(settings, database))} messages")


@outbox.command("status")
def outbox_status() -> None:
    """How many messages are in each state, with the latest failures."""
    from hotline.services.outbox import summary

    from .jobs import runtime

    _, database = runtime()
    with database.transaction() as session:
        report = summary(session, failures=10)
    for status, count in report["counts"].items():
        click.echo(f"{status:<8} {count}")
    for row in report["failures"]:
        click.echo(f"  #{row['id']} {row['template']} → {row['recipient']}: {row['error']}")


@outbox.command("retry")
@click.option("--id", "ids", type=int, multiple=True, help="Only these (default: all failed).")
def outbox_retry(ids: tuple[int, ...]) -> None:
    """Send failed or dead messages again."""
    from hotline.services.outbox import retry_failed

    from .jobs import runtime, utc_now

    _, database = runtime()
    with database.transaction() as session:
        count = retry_failed(session, now=utc_now(), ids=list(ids) or None)
    click.echo(f"{count} messages will be sent again")


@main.command()
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

    from hotline.queues import ALL

    from .jobs import runtime
    from .periodic import (
        RedisOutage,
        SupervisedSimpleWorker,
        SupervisedWorker,
        run_worker,
        waiting_connection,
    )

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


@main.command()
@click.option("--drain-every", default=10, show_default=True, help="Seconds.")
@click.option("--sweep-every", default=60, show_default=True, help="Seconds.")
def scheduler(drain_every: int, sweep_every: int) -> None:
    """Periodic work: the SLA sweep and the outbox re-drain. One is enough; two are harmless.

    With Redis it is RQ's cron scheduler, enqueueing the tasks for the workers (queue
    "periodic"), which waits out a Redis outage; without Redis it runs them itself.
    """
    from .jobs import runtime
    from .periodic import (
        JsonCronScheduler,
        RedisOutage,
        run_without_redis,
        tasks,
        waiting_connection,
    )

    settings, _ = runtime()
    task_list = tasks(drain_every, sweep_every)
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
