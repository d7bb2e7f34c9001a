"""Small helpers shared by the ``hotline`` sub-command modules."""

from __future__ import annotations

from datetime import datetime
from typing import NoReturn

import click

from .config import Settings
from .db import Database


def database() -> Database:
    return Database(Settings.from_env().database_url)


def now() -> datetime:
    from .extensions import utc_now

    return utc_now()


def fail(exc: Exception) -> NoReturn:
    raise click.ClickException(getattr(exc, "detail", None) or str(exc))
