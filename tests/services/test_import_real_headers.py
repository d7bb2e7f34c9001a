"""A call-centre export as a real 12345 platform writes it: 12345-prefixed column names,
full-width brackets, GB18030, orders from 2019, 工单类型 as the kind of order and 诉求类型
values the city has no category for."""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from hotline.importers.batch import (
    Options,
    claim,
    create_batch,
    dry_run,
    run_batch,
    units_of_work,
)
from hotline.models import Ticket
from hotline.services.actors import Actor
from hotline.services.imports import unknown_category_notes

HEADER = ["12345工单编号", "12345受理时间", "【工单类型】", "诉求类型", "12345内容描述",
          "事件发生地址", "答复意见", "回访满意度"]  # fmt: skip
ROWS = [
    ["SZ20190312000101", "2019-03-12 08:41:07", "投诉举报", "占道摆卖",
     "市民来电反映：和平路菜市场门口每天早上有流动摊贩占道摆卖，影响通行，要求处理。",
     "和平路菜市场", "已转城管中队处理", "满意"],
    ["SZ20190312000102", "2019-03-12 09:05:44", "求助", "占道摆卖",
     "来电人称振兴路人行道被水果摊占用，老人推车无法通过，请求帮助。", "振兴路", "", ""],
    ["SZ20190313000203", "2019-03-13 21:17:30", "咨询", "城乡建设-市容环境-占道经营",
     "来电咨询：夜市摊点占道经营是否有规定的时间段。", "新华里夜市", "已答复", "基本满意"],
]  # fmt: skip


def export(path: Path) -> Path:
    out = io.StringIO()
    csv.writer(out).writerows([HEADER, *ROWS])
    path.write_bytes(out.getvalue().encode("gb18030"))
    return path


def test_the_real_layout_imports_with_its_order_kind(db, runtime, tmp_path) -> None:
    path = export(tmp_path / "12345导出-2019.csv")
    work = units_of_work(db)
    summary = dry_run(work, path, Options(), runtime)
    assert (summary["created"], summary["rejected"]) == (3, 0)
    assert any("12345工单编号 → 工单编号" in n and "【工单类型】 → 工单性质" in n
               for n in summary["notes"])  # fmt: skip
    assert "办理结果列（仅历史导入读取，本次未导入）：答复意见、回访满意度" in summary["notes"]
    assert not any(n.startswith("未识别的列") for n in summary["notes"])
    batch_id = create_batch(work, path, Options(), filename=path.name, actor=Actor(None, "测试"),
                            now=runtime.now())  # fmt: skip
    assert claim(work, batch_id, runtime.now())
    assert run_batch(work, batch_id, runtime) == "done"
    with db.transaction() as session:
        found = {t.external_ref: t for t in session.scalars(select(Ticket))}
        assert {ref: t.order_kind for ref, t in found.items()} == {
            "SZ20190312000101": "投诉举报", "SZ20190312000102": "求助",
            "SZ20190313000203": "咨询",
        }  # fmt: skip
        ticket = found["SZ20190312000101"]
        assert ticket.reported_at.year == 2019 and "流动摊贩" in ticket.description
        # 诉求类型 stays the subject: the path's known part is the category.
        assert found["SZ20190313000203"].category.code == "street-vending"


def test_unknown_subject_values_are_counted_in_the_summary(db, runtime, tmp_path) -> None:
    path = export(tmp_path / "12345导出-2019.csv")
    summary = dry_run(units_of_work(db), path, Options(), runtime)
    # Counted as the rows are checked (no second reading of the file); the path whose last
    # part is a known category (城乡建设-市容环境-占道经营) is no unknown value.
    unknown = [n for n in summary["notes"] if n.startswith("诉求类型")]
    assert unknown == ["诉求类型“占道摆卖”不是已知类别：2 行，已按内容自动分类"]
    many = Counter({f"类别{i}": 1 for i in range(25)})
    with db.transaction() as session:
        notes = unknown_category_notes(session, many)
    assert len(notes) == 21 and notes[-1] == "另有 5 种未知诉求类型：5 行，已按内容自动分类"


def test_the_cli_dry_run_prints_the_mapping_and_the_unknown_subjects(
    settings, monkeypatch, db, tmp_path
) -> None:
    from click.testing import CliRunner

    from hotline.cli import main

    monkeypatch.setenv("HOTLINE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("HOTLINE_SECRET_KEY", "x")
    path = export(tmp_path / "12345导出-2019.csv")
    result = CliRunner().invoke(main, ["import", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "12345工单编号 → 工单编号" in result.output
    assert "注意：诉求类型“占道摆卖”不是已知类别：2 行，已按内容自动分类" in result.output
    assert "将新建 3" in result.output
