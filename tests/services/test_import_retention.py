"""Finished imports' uploads: done ones removed at once, failed and cancelled ones after the
retention period; the batch row and its refused rows stay; a CLI user's file is never
touched; running it again changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from hotline.config import Settings
from hotline.models import ImportBatch, ImportRejection
from hotline.services.import_retention import remove_expired_uploads

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def batch(session, path: Path, status: str, finished: datetime | None) -> ImportBatch:
    path.write_text("工单编号,诉求内容\nA,B\n", encoding="utf-8")
    row = ImportBatch(source="12345", filename=path.name, stored_path=str(path),
                      size_bytes=1, file_format="csv", mapping={}, status=status,
                      created_at=NOW - timedelta(days=30), finished_at=finished,
                      notes=[])  # fmt: skip
    session.add(row)
    session.flush()
    return row


def test_uploads_go_after_their_period_and_the_rows_stay(db, tmp_path) -> None:
    folder, elsewhere = tmp_path / "imports", tmp_path / "home"
    folder.mkdir()
    elsewhere.mkdir()
    old, recent = NOW - timedelta(days=8), NOW - timedelta(days=6)
    with db.transaction() as session:
        ids = {name: batch(session, folder / f"{name}.csv", status, finished).id
               for name, status, finished in [
                   ("done", "done", NOW), ("old-failed", "failed", old),
                   ("old-cancelled", "cancelled", old), ("new-failed", "failed", recent),
                   ("running", "running", None), ("gone", "cancelled", old)]}  # fmt: skip
        mine = batch(session, elsewhere / "cli.csv", "done", old).id  # a CLI import's own file
        session.add(ImportRejection(batch_id=ids["old-failed"], row_number=2, reason="x",
                                    cells=["A", ""]))  # fmt: skip
    (folder / "gone.csv").unlink()  # a missing file is fine
    with db.transaction() as session:
        assert remove_expired_uploads(session, now=NOW, directory=folder,
                                      retention_days=7) == 4  # fmt: skip
    assert sorted(p.name for p in folder.iterdir()) == ["new-failed.csv", "running.csv"]
    assert (elsewhere / "cli.csv").exists()
    with db.transaction() as session:
        removed = {name: session.get(ImportBatch, i).file_removed_at for name, i in ids.items()}
        assert session.get(ImportBatch, mine).file_removed_at is None
        assert session.query(ImportRejection).filter_by(batch_id=ids["old-failed"]).count() == 1
    assert {n for n, at in removed.items() if at is not None} == {
        "done", "old-failed", "old-cancelled", "gone"}  # fmt: skip
    assert removed["done"] == NOW
    with db.transaction() as session:  # idempotent
        assert remove_expired_uploads(session, now=NOW + timedelta(hours=1), directory=folder,
                                      retention_days=7) == 0  # fmt: skip
        assert session.get(ImportBatch, ids["done"]).file_removed_at == NOW
    with db.transaction() as session:  # a day later the 6-day-old failure is due
        assert remove_expired_uploads(session, now=NOW + timedelta(days=2), directory=folder,
                                      retention_days=7) == 1  # fmt: skip
    assert [p.name for p in folder.iterdir()] == ["running.csv"]


def test_the_period_is_a_setting() -> None:
    base = {"HOTLINE_DATABASE_URL": "sqlite://", "HOTLINE_SECRET_KEY": "x"}
    assert Settings.from_env(base).import_retention_days == 7
    env = {**base, "HOTLINE_IMPORT_RETENTION_DAYS": "30"}
    assert Settings.from_env(env).import_retention_days == 30


def test_the_scheduler_runs_it(db, settings, monkeypatch) -> None:
    import hotline.background.periodic as periodic

    assert any(t.func is periodic.remove_import_uploads for t in periodic.tasks())
    settings.import_dir.mkdir(parents=True, exist_ok=True)
    with db.transaction() as session:
        done = batch(session, settings.import_dir / "d.csv", "done", NOW).id
    monkeypatch.setattr(periodic, "runtime", lambda: (settings, db))
    assert periodic.remove_import_uploads() == 1
    assert not (settings.import_dir / "d.csv").exists()
    with db.transaction() as session:
        assert session.get(ImportBatch, done).file_removed_at is not None
