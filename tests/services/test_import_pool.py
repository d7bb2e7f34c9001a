"""A large import on PostgreSQL runs its chunks side by side in a pool of processes: every
row lands once, chunks commit in file order (numbers follow the file, rows_done stays a
prefix), a number written twice in the file is refused as in a one-process import."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import select

from hotline.importers import batch as batches
from hotline.importers.batch import Options, Runtime, claim, create_batch, run_batch, units_of_work
from hotline.models import ImportBatch, ImportRejection, Ticket
from hotline.services.actors import Actor
from hotline.services.calendar import CalendarCache
from hotline.services.router_cache import RouterCache

ROWS = 60


def test_chunks_in_a_pool_commit_in_file_order(db, clock, tmp_path: Path, monkeypatch) -> None:
    if not db.url.startswith("postgresql"):
        pytest.skip("the pool runs on PostgreSQL only (SQLite has one writer)")
    pooled = []
    real = batches._apply_pooled
    monkeypatch.setattr(batches, "_apply_pooled", lambda *a: pooled.append(1) or real(*a))
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["工单编号", "诉求内容", "承办单位"])
        for i in range(ROWS):
            writer.writerow([f"P{i:03d}", f"第{i}号路灯不亮，晚上出行不安全。", "市城管局"])
        writer.writerow(["P007", "同一工单又出现一次", "市城管局"])
    runtime = Runtime("WM", "Asia/Shanghai", lambda: clock.now, RouterCache(), CalendarCache(),
                      workers=2, database_url=db.url)  # fmt: skip
    work = units_of_work(db)
    batch_id = create_batch(work, path, Options(), filename="big.csv", actor=Actor(None, "测试"),
                            now=clock.now)  # fmt: skip
    assert claim(work, batch_id, clock.now)
    assert run_batch(work, batch_id, runtime, chunk_size=7) == "done"
    assert pooled == [1]
    with db.transaction() as session:
        batch = session.get(ImportBatch, batch_id)
        assert (batch.rows_done, batch.created, batch.rejected) == (ROWS + 1, ROWS, 1)
        (refused,) = session.scalars(select(ImportRejection.reason))
        assert refused == "［工单编号］工单编号 P007 在文件中重复（第 9 行已有）"
        tickets = session.scalars(select(Ticket).order_by(Ticket.number)).all()
        assert [t.external_ref for t in tickets] == [f"P{i:03d}" for i in range(ROWS)]
        assert all(t.status == "dispatched" for t in tickets)
