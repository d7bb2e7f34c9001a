"""``hotline import``: the progress without a terminal, the history summary, cancelling a
batch and the exit status of a cancelled one."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

import hotline.cli.imports as cli
from hotline.cli import main
from hotline.importers.batch import Options, cancel, create_batch, units_of_work
from hotline.models import ImportBatch
from hotline.services.actors import Actor

ROWS = ("工单编号,诉求内容,承办单位\n"
        + "".join(f"P{i},第{i}号路灯不亮,城管局\n" for i in range(11))
        + "P99,,城管局\n")  # fmt: skip
HISTORY = ("工单编号,诉求内容,承办单位,来电时间,办结时间,答复意见\n"
           "H1,路灯不亮,城管局,2026-10-01 09:00,2026-10-03 10:00,已修复\n"
           "H2,垃圾没人清,城管局,2026-10-02 09:00,,\n")  # fmt: skip


@pytest.fixture
def run(settings, db, monkeypatch):
    monkeypatch.setenv("HOTLINE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("HOTLINE_SECRET_KEY", "x")
    monkeypatch.delenv("HOTLINE_REDIS_URL", raising=False)
    return lambda *args: CliRunner().invoke(main, ["import", *map(str, args)])


def csv_file(tmp_path: Path, text: str, name: str = "export.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_without_a_terminal_progress_is_plain_lines_with_rate_and_refused(
    run, tmp_path, monkeypatch
) -> None:
    ticks = itertools.count(0, 2)  # 2 s between looks at the clock
    monkeypatch.setattr(cli, "_clock", lambda: float(next(ticks)))
    result = run(csv_file(tmp_path, ROWS), "--chunk-size", "4")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("导入批次")]
    # chunks end at rows 4 (2 s), 8 (4 s), 12 (6 s): the first, then only the last (8 s)
    assert len(lines) == 2, result.output
    assert lines[-1].endswith("12 / 12 行 · 2 行/秒 · 已拒绝 1"), lines
    assert "拒绝 1（共 12 行）" in result.output


def test_progress_text() -> None:
    assert cli.progress_text(1000, 10000, 2, 1234.4) == "1,000 / 10,000 行 · 1,234 行/秒 · 已拒绝 2"
    assert cli.progress_text(5, None, 0, None) == "5 行 · — 行/秒 · 已拒绝 0"


def test_a_history_import_says_how_many_came_in_closed(run, tmp_path) -> None:
    result = run(csv_file(tmp_path, HISTORY), "--history")
    assert result.exit_code == 0, result.output
    assert "历史导入：新建的工单中 1 件已办结，1 件仍在办理" in result.output


def test_cancel_a_waiting_batch_then_again(run, db, tmp_path) -> None:
    path = csv_file(tmp_path, ROWS)
    batch_id = create_batch(units_of_work(db), path, Options(), filename="export.csv",
                            actor=Actor(None, "测试"), now=datetime.now(UTC))  # fmt: skip
    first = run("--cancel", batch_id)
    assert first.exit_code == 0, first.output
    assert f"导入批次 {batch_id} 已取消：已处理 0 / 12 行，之后的行不会导入" in first.output
    again = run("--cancel", batch_id)
    assert again.exit_code == 1 and "已结束（已取消），无法取消" in again.output
    assert "没有导入批次 999999" in run("--cancel", 999999).output
    assert run(path, "--cancel", batch_id).exit_code == 2


def test_a_batch_cancelled_while_it_runs_exits_non_zero_and_says_where(
    run, db, tmp_path, monkeypatch
) -> None:
    class CancelAfterFirstChunk(cli.ProgressReport):
        def __call__(self, done: int, total: int | None, refused: int) -> None:
            super().__call__(done, total, refused)
            with db.transaction() as session:
                batch_id = session.query(ImportBatch.id).order_by(ImportBatch.id.desc()).first()[0]
            assert cancel(units_of_work(db), batch_id, datetime.now(UTC)) == "running"

    monkeypatch.setattr(cli, "ProgressReport", CancelAfterFirstChunk)
    result = run(csv_file(tmp_path, ROWS), "--chunk-size", "4")
    assert result.exit_code == 1, result.output
    assert "已取消：处理到第 4 行为止（共 12 行），之后的行未导入" in result.output
    assert "新建 4" in result.output and "导入中止" not in result.output
