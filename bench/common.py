"""What the benchmarks share: a throwaway PostgreSQL database on the local server, and open
tickets loaded into it through the import path (routing, dispatch, deadlines, events)."""

from __future__ import annotations

import csv
import os
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_URL = os.environ.get(
    "HOTLINE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def new_database(label: str, admin_url: str = PG_URL) -> tuple[str, str, Callable[[], None]]:
    """An empty database: its URL, its name, and the function that drops it."""
    name = f"hotline_bench_{label}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    return url, name, drop


def import_rows(url: str, header: list[str], rows: Iterable[list[str]]) -> None:
    """Seed the demo city into the database at ``url``, then import ``rows`` as one
    call-centre export, and ANALYZE so the pages are timed on real plans."""
    from hotline.db import Database
    from hotline.importers.batch import (
        Options,
        Runtime,
        claim,
        create_batch,
        run_batch,
        units_of_work,  # fmt: skip
    )
    from hotline.seed import seed_demo
    from hotline.services.actors import Actor
    from hotline.services.calendar import CalendarCache
    from hotline.services.router_cache import RouterCache

    database = Database(url)
    now = datetime.now(UTC)
    with database.transaction() as session:
        seed_demo(session, now=now)
    with TemporaryDirectory() as tmp:
        path = Path(tmp) / "load.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
        runtime = Runtime("WM", "Asia/Shanghai", lambda: datetime.now(UTC), RouterCache(),
                          CalendarCache())  # fmt: skip
        work = units_of_work(database)
        batch = create_batch(work, path, Options(), filename="load.csv",
                             actor=Actor(None, "bench"), now=now)  # fmt: skip
        claim(work, batch, now)
        run_batch(work, batch, runtime, chunk_size=1000)
    with database.transaction() as session:
        session.execute(text("ANALYZE"))
    database.dispose()
