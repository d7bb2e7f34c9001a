"""What the web layer needs per process, kept on ``app.extensions["hotline"]``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app

from .config import Settings
from .db import Database
from .domain.clock import utc_now
from .photos import PhotoStore
from .services.calendar import CalendarCache
from .services.intake import IntakePolicy
from .services.router_cache import RouterCache


@dataclass
class Hotline:
    settings: Settings
    db: Database
    photos: PhotoStore
    clock: Callable[[], datetime] = utc_now  # tests replace it to move time
    routers: RouterCache = field(default_factory=RouterCache)
    calendars: CalendarCache = field(default_factory=CalendarCache)

    @property
    def intake_policy(self) -> IntakePolicy:
        return IntakePolicy(prefix=self.settings.ticket_prefix, timezone=self.settings.timezone)

    def now(self) -> datetime:
        return self.clock()


def hotline() -> Hotline:
    return current_app.extensions["hotline"]
