"""A background process's settings and database, shared by every job it runs (notifications'
jobs take them from here too)."""

from __future__ import annotations

import functools

from ..config import Settings
from ..db import Database


@functools.cache
def runtime() -> tuple[Settings, Database]:
    """The worker process's settings and database (built on first use, never at import)."""
    settings = Settings.from_env()
    return settings, Database(settings.database_url)
