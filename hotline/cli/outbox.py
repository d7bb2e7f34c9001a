"""``hotline outbox …``: notifications waiting to be delivered."""

from __future__ import annotations

import click

from .support import NotificationWork, now, opened, pass_notification_work, transaction


@click.group()
def outbox() -> None:
    """Notifications waiting to be delivered."""


@outbox.command("flush")
@pass_notification_work
def outbox_flush(work: NotificationWork) -> None:
    """Hand due messages on now (to Redis, or deliver here without it)."""
    with opened() as (settings, database):
        handed = work.flush(settings, database)
    click.echo(f"handed on {len(handed)} messages")


@outbox.command("status")
def outbox_status() -> None:
    """How many messages are in each state, with the latest failures."""
    from ..services.outbox import summary

    with transaction() as session:
        report = summary(session, failures=10)
    for status, count in report["counts"].items():
        click.echo(f"{status:<8} {count}")
    for row in report["failures"]:
        click.echo(f"  #{row['id']} {row['template']} → {row['recipient']}: {row['error']}")


@outbox.command("retry")
@click.option("--id", "ids", type=int, multiple=True, help="Only these (default: all failed).")
def outbox_retry(ids: tuple[int, ...]) -> None:
    """Send failed or dead messages again."""
    from ..services.outbox import retry_failed

    with transaction() as session:
        count = retry_failed(session, now=now(), ids=list(ids) or None)
    click.echo(f"{count} messages will be sent again")
