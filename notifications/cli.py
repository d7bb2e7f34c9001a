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
    from sqlalchemy import func, select

    from hotline.models import OutboxMessage

    from .jobs import runtime

    _, database = runtime()
    with database.transaction() as session:
        for status, count in session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ):
            click.echo(f"{status:<8} {count}")
        for row in session.scalars(
            select(OutboxMessage).where(OutboxMessage.status.in_(["failed", "dead"]))
            .order_by(OutboxMessage.id.desc()).limit(10)
        ):  # fmt: skip
            click.echo(f"  #{row.id} {row.template} → {row.recipient}: {row.last_error}")


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
    """An RQ worker on the notifications queue (needs HOTLINE_REDIS_URL).

    By default jobs run in the worker process itself, which keeps its database pool and
    loaded mappers across jobs (a fork per job reconnects every time); a crashed worker
    loses nothing, as its claimed rows come back after their lease.
    """
    from redis import Redis
    from rq import Queue, SimpleWorker, Worker
    from rq.serializers import JSONSerializer
    from sqlalchemy.orm import configure_mappers

    from .jobs import runtime
    from .outbox import QUEUE

    settings, _ = runtime()  # settings and engine built before any job (or fork)
    configure_mappers()
    if not settings.redis_url:
        raise click.ClickException("HOTLINE_REDIS_URL is not set; without Redis, delivery runs "
                                   "inside the web process")  # fmt: skip
    connection = Redis.from_url(settings.redis_url)
    queue = Queue(QUEUE, connection=connection, serializer=JSONSerializer)
    worker_class = Worker if fork else SimpleWorker
    worker_class([queue], connection=connection, serializer=JSONSerializer).work()


@main.command()
@click.option("--drain-every", default=10.0, show_default=True, help="Seconds.")
@click.option("--sweep-every", default=60.0, show_default=True, help="Seconds.")
def scheduler(drain_every: float, sweep_every: float) -> None:
    """Periodic work: re-drain the outbox and run the SLA sweep. Run exactly one."""
    from hotline.services.calendar import CalendarCache
    from hotline.services.sweep import sweep

    from .jobs import runtime, utc_now
    from .outbox import flush

    settings, database = runtime()
    calendars = CalendarCache(timezone=settings.timezone)
    last_sweep = 0.0
    while True:
        try:
            flush(settings, database)
            if time.monotonic() - last_sweep >= sweep_every:
                with database.transaction() as session:
                    sweep(session, now=utc_now(), clock=calendars.clock(session))
                last_sweep = time.monotonic()
        except Exception as exc:
            click.echo(f"scheduler: {type(exc).__name__}: {exc}", err=True)
        time.sleep(drain_every)
