"""The embedded default (SQLite) under gevent workers: a transaction that yields while it holds
the write lock (reading a slow upload, a Redis call) must not freeze the other greenlets of
its process — waiting for the lock sleeps cooperatively instead of blocking inside SQLite."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tests.conftest import TEST_DATABASE

SCRIPT = textwrap.dedent(
    """
    from gevent import monkey

    monkey.patch_all()

    import sys
    import time

    import gevent
    from sqlalchemy import text

    from hotline.db import Database

    db = Database(sys.argv[1])
    with db.transaction() as session:
        session.execute(text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))

    def holder():
        with db.transaction() as session:
            session.execute(text("INSERT INTO t VALUES (1)"))
            gevent.sleep(0.3)  # yields while holding the write lock

    def writer():
        started = time.monotonic()
        with db.transaction() as session:
            session.execute(text("INSERT INTO t VALUES (2)"))
        return time.monotonic() - started

    first = gevent.spawn(holder)
    gevent.sleep(0.05)
    second = gevent.spawn(writer)
    gevent.joinall([first, second], raise_error=True)
    print(f"{second.value:.2f}")
    """
)


@pytest.mark.skipif(TEST_DATABASE != "sqlite", reason="SQLite's write lock")
def test_a_writer_waits_for_the_lock_without_freezing_the_holder(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'gevent.db'}"
    done = subprocess.run([sys.executable, "-c", SCRIPT, url], capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    waited = float(done.stdout.strip())
    assert waited < 2.0, f"the second writer waited {waited:.1f} s: the holder was frozen"
