"""``hotline sla sweep``: the deadline sweep, once, now."""

from __future__ import annotations

import click

from .support import now, opened


@click.group()
def sla() -> None:
    """Deadlines: the periodic sweep."""


@sla.command("sweep")
def sla_sweep() -> None:
    """Warn at 75% of the time, mark overdue, escalate, close unrated, erase expired personal
    data. Safe to run again."""
    from ..services.sweep import sweep_now

    with opened() as (settings, database), database.transaction() as session:
        report = sweep_now(session, now=now(), settings=settings)
    click.echo(
        f"warned {report.warned}, overdue {report.overdue}, escalated {report.escalated}, "
        f"closed unrated {report.closed_unrated}, "
        f"personal data erased {report.personal_data_erased}"
    )
