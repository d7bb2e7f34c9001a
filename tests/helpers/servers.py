"""The app served as in production: gunicorn with the repository's gunicorn.conf.py (read
from the working directory), on a free local port, for tests that need real sockets."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

# The repository root: gunicorn reads gunicorn.conf.py from its working directory.
ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(database_url: str, folder: Path, *, workers: int = 2,
             env: dict[str, str] | None = None) -> Iterator[str]:  # fmt: skip
    """Serve ``wsgi:app`` on ``database_url``; yields the base URL. Logs go to ``folder``."""
    assert (ROOT / "gunicorn.conf.py").exists(), "gunicorn would run without our serving setup"
    port = free_port()
    environment = {
        **os.environ,
        "HOTLINE_DATABASE_URL": database_url,
        "HOTLINE_SECRET_KEY": "test-secret",
        "HOTLINE_UPLOAD_DIR": str(folder / "uploads"),
        "HOTLINE_IMPORT_DIR": str(folder / "imports"),
        "HOTLINE_ACCESS_LOG": str(folder / "access.log"),
        **(env or {}),
    }
    log_path = folder / "gunicorn.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(GUNICORN), "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "wsgi:app"],
            cwd=ROOT, env=environment, stdout=log, stderr=log,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if requests.get(url + "/healthz", timeout=1).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start:\n" + log_path.read_text())
                time.sleep(0.2)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=30)
