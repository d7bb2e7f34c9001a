"""Import batches in the background: the imports queue on the real Redis, and a CLI import
SIGKILLed midway that is re-run without duplicates."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

from redis import Redis
from rq import Queue
from rq.serializers import JSONSerializer
from sqlalchemy import func, select

import hotline.background.imports as imports
import notifications.jobs as jobs
from hotline.models import ImportBatch, Ticket
from tests.helpers import auth
from tests.helpers.rq_workers import BurstWorker

HOTLINE = Path(sys.executable).parent / "hotline"


def export(rows: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["工单编号", "诉求内容", "承办单位"])
    for i in range(rows):
        writer.writerow([f"K{i:05d}", f"第{i}号路灯不亮，晚上很黑", "城管局"])
    return out.getvalue().encode("utf-8")


def test_an_upload_goes_to_the_imports_queue_and_a_worker_runs_it(app, db, settings, redis_url,
                                                                  monkeypatch) -> None:  # fmt: skip
    from hotline.background.imports import install

    up = replace(settings, redis_url=redis_url, import_inline_bytes=10)
    monkeypatch.setattr(jobs, "runtime", lambda: (up, db))
    monkeypatch.setattr(imports, "runtime", lambda: (up, db))
    imports._import_runtime.cache_clear()
    connection = Redis.from_url(redis_url)
    queue = Queue("imports", connection=connection, serializer=JSONSerializer)
    queue.empty()
    app.extensions["hotline"].settings = up
    install(app)
    client = app.test_client()
    response = client.post("/api/v1/imports", headers=auth(),
                           data={"file": (io.BytesIO(export(30)), "k.csv")},
                           content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 202
    response.close()  # as the WSGI server does once the response is sent
    assert len(queue) == 1  # handed on right after the response
    with db.transaction() as session:
        assert session.get(ImportBatch, response.json["id"]).status == "queued"
    try:
        BurstWorker([queue], connection=connection, serializer=JSONSerializer).work(burst=True)
    finally:
        queue.empty()
        imports._import_runtime.cache_clear()
    done = client.get(response.headers["Location"], headers=auth()).json
    assert (done["status"], done["created"]) == ("done", 30)
    # the worker removed the upload and the batch says when (not left to the hourly task)
    assert done["file_removed_at"] is not None
    with db.transaction() as session:
        assert not Path(session.get(ImportBatch, done["id"]).stored_path).exists()


def test_a_killed_cli_import_is_rerun_without_duplicates(db, settings, tmp_path) -> None:
    path = tmp_path / "big.csv"
    path.write_bytes(export(10000))
    env = {**os.environ, "HOTLINE_DATABASE_URL": settings.database_url,
           "HOTLINE_SECRET_KEY": settings.secret_key}  # fmt: skip
    env.pop("HOTLINE_REDIS_URL", None)
    process = subprocess.Popen([str(HOTLINE), "import", str(path), "--chunk-size", "50"],
                               env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 60
    done = 0
    while time.monotonic() < deadline and done < 300:
        time.sleep(0.02)
        with db.transaction() as session:
            done = session.scalar(select(func.max(ImportBatch.rows_done))) or 0
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    with db.transaction() as session:
        first = session.scalar(select(ImportBatch))
        assert first.status == "running" and 300 <= first.rows_done < 10000, first.rows_done
        assert session.scalar(select(func.count()).select_from(Ticket)) == first.rows_done
    rerun = subprocess.run([str(HOTLINE), "import", str(path)], env=env, capture_output=True,
                           text=True, timeout=300)  # fmt: skip
    assert rerun.returncode == 0, rerun.stderr
    assert f"新建 {10000 - first.rows_done}，更新 0，未变 {first.rows_done}" in rerun.stdout
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 10000
        assert session.scalar(select(func.count(func.distinct(Ticket.number)))) == 10000
