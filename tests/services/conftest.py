"""Fixtures the service tests share."""

from __future__ import annotations

import pytest

from hotline.importers.batch import Runtime
from hotline.services.calendar import CalendarCache
from hotline.services.router_cache import RouterCache


@pytest.fixture
def runtime(clock) -> Runtime:
    """What an import batch runs with: the test clock, fresh caches, one process."""
    return Runtime(prefix="WM", timezone="Asia/Shanghai", now=lambda: clock.now,
                   routers=RouterCache(), calendars=CalendarCache())  # fmt: skip
