"""Fixtures the service tests share."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hotline.db import Database
from hotline.importers.batch import Runtime
from hotline.migrate import upgrade
from hotline.seed import seed_demo
from hotline.services.calendar import CalendarCache
from hotline.services.router_cache import RouterCache
from tests.conftest import TEST_DATABASE, emptied, new_database_url


@pytest.fixture
def runtime(clock) -> Runtime:
    """What an import batch runs with: the test clock, fresh caches, one process."""
    return Runtime(prefix="WM", timezone="Asia/Shanghai", now=lambda: clock.now,
                   routers=RouterCache(), calendars=CalendarCache())  # fmt: skip


@contextmanager
def empty_instance(tmp_dir: Path) -> Iterator[tuple[str, Database]]:
    """A second instance: its own database, migrated and seeded with the same demo data."""
    url, drop = new_database_url(tmp_dir, TEST_DATABASE)
    upgrade(url)
    database = Database(url)
    with database.transaction() as session:
        seed_demo(session, now=datetime.now(UTC))
    try:
        yield url, database
    finally:
        database.dispose()
        drop()


@pytest.fixture(scope="module")
def instance_b(tmp_path_factory) -> Iterator[tuple[str, Database]]:
    with empty_instance(tmp_path_factory.mktemp("instance-b")) as found:
        yield found


@pytest.fixture
def second(instance_b) -> Iterator[tuple[str, Database]]:
    yield instance_b
    emptied(instance_b[1])
