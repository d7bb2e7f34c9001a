"""Running call-centre import batches in the background: the ``imports`` RQ queue, or the
scheduler's own process without Redis. The batch row is the record; Redis carries only ids.
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import Settings
from ..db import Database
from ..domain.clock import utc_now
from ..importers.batch import (
    Runtime,
    claim,
    due_batches,
    hand_out,
    requeue_lost,
    run_batch,
    units_of_work,
)
from ..models import ImportBatch
from ..queues import IMPORTS, IMPORTS_EPOCH, Epoch, hand_on_connection
from ..services.import_retention import remove_upload
from .runtime import runtime

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger(__name__)


@functools.cache
def _import_runtime() -> Runtime:
    settings, _ = runtime()
    return Runtime.for_process(settings, utc_now)


def run_import(batch_id: int) -> str:
    """The job: claim the batch (skip it if another runner has it) and apply it."""
    settings, database = runtime()
    return _run(settings, database, batch_id)


def _run(settings: Settings, database: Database, batch_id: int) -> str:
    work = units_of_work(database)
    if not claim(work, batch_id, utc_now()):
        return "skipped"
    status = run_batch(work, batch_id, _import_runtime())
    if status == "done":  # an upload we keep goes at once (a user's own file stays)
        with database.transaction() as session:
            remove_upload(session.get(ImportBatch, batch_id), Path(settings.import_dir),
                          utc_now())  # fmt: skip
    return status


def flush_imports(
    settings: Settings, database: Database, *, now: datetime | None = None
) -> list[int]:
    """Hand waiting batches on: enqueue them, or (no Redis) run them here, one after another."""
    work = units_of_work(database)
    moment = now or utc_now()
    if settings.redis_url:
        from rq import Queue
        from rq.serializers import JSONSerializer

        connection = hand_on_connection(settings.redis_url)
        queue = Queue(IMPORTS, connection=connection, serializer=JSONSerializer)
        # A Redis that lost its data lost the jobs of "queued" batches: due again at once.
        # A batch enqueued twice is harmless: ``claim`` lets one runner have it.
        epoch = Epoch.open(connection, IMPORTS_EPOCH, lambda: requeue_lost(work, moment))

        def send(ids: list[int]) -> None:
            for batch_id in ids:
                # A large file takes a while: one hour before RQ gives up on the job (the
                # lease still lets another runner resume it if this one dies).
                queue.enqueue("hotline.background.imports.run_import", batch_id,
                              job_timeout=3600, result_ttl=3600)  # fmt: skip
            epoch.confirm(connection)

        return hand_out(work, moment, send)
    ids = due_batches(work, moment)
    for batch_id in ids:
        _run(settings, database, batch_id)
    return ids


def install(app: Flask) -> None:
    """Hand a large upload's batch on once its 202 is sent: with Redis it goes to the
    "imports" queue at once; without Redis the scheduler runs it (a web worker must not)."""
    from flask import request

    extension = app.extensions["hotline"]

    @app.after_request
    def _start_imports(response: Any) -> Any:
        if (request.path == "/api/v1/imports" and response.status_code == 202
                and extension.settings.redis_url):  # fmt: skip
            response.call_on_close(_start_imports_quietly)
        return response

    def _start_imports_quietly() -> None:
        try:
            flush_imports(extension.settings, extension.db)
        except Exception:
            log.warning("import hand-on failed; the scheduler will retry", exc_info=True)
