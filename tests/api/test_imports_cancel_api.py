"""History uploads, cancelling a batch and what the batch reports, over the API."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from hotline.importers.batch import Runtime, claim, run_batch, units_of_work
from hotline.models import ImportBatch
from tests.helpers import auth
from tests.helpers import upload_export as upload

HISTORY = ("工单编号,诉求内容,承办单位,来电时间,办结时间,答复意见\n"
           "H1,路灯不亮,城管局,2026-10-01 09:00,2026-10-03 10:00,已修复\n"
           "H2,垃圾没人清,城管局,2026-10-02 09:00,,\n").encode()  # fmt: skip
LIVE = ("工单编号,诉求内容,承办单位\n"
        + "".join(f"C{i},第{i}号路灯不亮,城管局\n" for i in range(12))).encode()  # fmt: skip


def background(app, settings) -> None:
    app.extensions["hotline"].settings = replace(settings, import_inline_bytes=10)


def test_a_history_upload_says_its_mode_and_how_many_came_in_closed(client, settings) -> None:
    response = upload(client, HISTORY, history="true")
    body = response.json
    assert response.status_code == 201, body
    assert (body["mode"], body["status"], body["created"], body["closed"]) == (
        "history", "done", 2, 1)  # fmt: skip
    assert body["file_removed_at"] is not None and body["cancel_requested_at"] is None
    assert not list(settings.import_dir.iterdir())  # a done upload goes at once
    live = upload(client, LIVE).json
    assert (live["mode"], live["closed"]) == ("live", 0)


def test_a_waiting_batch_is_cancelled_at_once(app, db, settings) -> None:
    background(app, settings)
    client = app.test_client()
    batch = upload(client, LIVE).json
    assert batch["status"] == "pending"
    unit = client.post(f"/api/v1/imports/{batch['id']}/cancel", headers=auth("hl_demo_unit"))
    assert unit.status_code == 403
    response = client.post(f"/api/v1/imports/{batch['id']}/cancel", headers=auth())
    assert response.status_code == 200, response.json
    body = response.json
    assert body["status"] == "cancelled" and body["cancel_requested_at"] is not None
    assert "已取消：处理了 0 行" in body["error"]
    again = client.post(f"/api/v1/imports/{batch['id']}/cancel", headers=auth("hl_demo_admin"))
    assert again.status_code == 409 and again.mimetype == "application/problem+json"
    assert "已结束（已取消），无法取消" in again.json["detail"]
    with db.transaction() as session:  # a cancelled upload is kept for its retention period
        assert (settings.import_dir / session.get(ImportBatch, batch["id"]).stored_path
                .rsplit("/", 1)[-1]).exists()  # fmt: skip


def test_a_running_batch_stops_after_its_chunk(app, db, settings) -> None:
    background(app, settings)
    client = app.test_client()
    batch_id = upload(client, LIVE).json["id"]
    work = units_of_work(db)
    assert claim(work, batch_id, datetime.now(UTC))
    response = client.post(f"/api/v1/imports/{batch_id}/cancel", headers=auth())
    assert response.status_code == 202, response.json
    assert response.json["status"] == "running" and response.json["cancel_requested_at"]
    runtime = Runtime.for_process(settings, lambda: datetime.now(UTC))
    assert run_batch(work, batch_id, runtime, chunk_size=5) == "cancelled"
    done = client.get(f"/api/v1/imports/{batch_id}", headers=auth()).json
    assert (done["status"], done["rows_done"], done["created"]) == ("cancelled", 5, 5)
    late = client.post(f"/api/v1/imports/{batch_id}/cancel", headers=auth())
    assert late.status_code == 409


def test_cancelling_an_unknown_or_finished_batch(client) -> None:
    missing = client.post("/api/v1/imports/999999/cancel", headers=auth())
    assert missing.status_code == 404 and missing.json["detail"] == "没有这个导入批次"
    done = upload(client, LIVE).json
    finished = client.post(f"/api/v1/imports/{done['id']}/cancel", headers=auth())
    assert finished.status_code == 409 and "已完成" in finished.json["detail"]
