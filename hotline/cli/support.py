"""What every ``hotline`` command shares: the database opened from the environment, a refusal
reported in Chinese, the clock, and the notification work the entry point hands in."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import click
from sqlalchemy.orm import Session

from routing.rules import RulesetError

from ..config import Settings
from ..db import Database
from ..domain.clock import utc_now
from ..errors import HotlineError
from ..importers.tables import TableError


@contextmanager
def opened() -> Iterator[tuple[Settings, Database]]:
    """Settings from the HOTLINE_* environment and the database, for one command.

    A refusal — a ``HotlineError``, a file or a ruleset that cannot be read — becomes a
    ``ClickException`` with its Chinese reason (exit code 1, no traceback), and the engine
    is disposed however the command ends. For commands with several transactions; the
    others use ``transaction``.
    """
    settings = Settings.from_env()
    database = Database(settings.database_url)
    try:
        yield settings, database
    except HotlineError as exc:
        raise click.ClickException(exc.detail) from exc
    except (TableError, RulesetError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        database.dispose()


@contextmanager
def transaction() -> Iterator[Session]:
    """``opened``, with the command's work in one transaction (rolled back if it raises)."""
    with opened() as (_, database), database.transaction() as session:
        yield session


def now() -> datetime:
    return utc_now()


@dataclass(frozen=True)
class NotificationWork:
    """Notifications' code that two commands call: ``outbox flush`` hands the due rows on,
    ``scheduler`` runs the outbox re-drain (an RQ job by its dotted name, or in its own
    process without Redis). hotline never imports notifications: the console script's entry
    point (``notifications.entry``) builds this and passes it as click's context object."""

    flush: Callable[[Settings, Database], list[int]]  # enqueue the due rows, or deliver them
    drain_outbox: Callable[[], int]  # the scheduler's outbox round


# Raises if the command was not started through the entry point (no NotificationWork).
pass_notification_work = click.make_pass_decorator(NotificationWork)
