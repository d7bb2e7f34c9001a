"""Importing call-centre exports: idempotent, no good row lost, no bad row half-saved,
dispatch to the named unit, routing otherwise, resumable."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from hotline.importers.batch import (
    LEASE,
    Options,
    Runtime,
    claim,
    create_batch,
    dry_run,
    run_batch,
    units_of_work,
)
from hotline.importers.rejected import rejected_rows
from hotline.models import ImportBatch, Ticket, TicketEvent
from hotline.services.actors import Actor

HEADER = ["工单编号", "工单标题", "诉求内容", "诉求类型", "来电时间", "来电号码", "求助人员",
          "事件发生地", "街道", "社区", "承办单位", "协办单位", "紧急程度", "办理时限",
          "工单状态"]  # fmt: skip
GOOD = [
    ["GD001", "占道经营", "和平路菜市场门口流动摊贩占道经营", "城乡建设-市容环境-占道经营",
     "2026-11-20 09:30", "138 1234 1234", "张三", "和平路菜市场", "和平街道", "和平新村社区",
     "市城管局", "市场监管局、不存在的办", "一般", "2026-11-27 17:00", "办理中"],
    ["GD002", "", "夜里工地施工噪音很大，影响休息", "", "2026/11/20 23:10", "+86-139-0000-1111",
     "", "振兴路工地", "振兴街道", "", "", "", "紧急", "", ""],
    ["GD003", "", "小区路灯坏了很久", "", "20261120", "", "", "", "", "", "不存在的局", "", "",
     "", ""],
]  # fmt: skip
BAD = [
    ["GD004", "", "", "", "2026-02-30", "12", "", "", "", "", "", "", "火速", "", ""],
    ["GD001", "重复", "同一工单又出现一次", "", "", "", "", "", "", "", "", "", "", "", ""],
]  # fmt: skip


def write(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, *rows])
    return path


def run(db, runtime: Runtime, path: Path, chunk_size: int = 2, **options) -> ImportBatch:
    work = units_of_work(db)
    batch_id = create_batch(work, path, Options(**options), filename=path.name,
                            actor=Actor(None, "测试"), now=runtime.now())  # fmt: skip
    assert claim(work, batch_id, runtime.now())
    run_batch(work, batch_id, runtime, chunk_size=chunk_size)
    with db.transaction() as session:
        batch = session.get(ImportBatch, batch_id)
        session.expunge(batch)
        return batch


def tickets(db) -> dict[str, Ticket]:
    with db.transaction() as session:
        found = {t.external_ref: t for t in session.scalars(select(Ticket))}
        for ticket in found.values():
            _ = (ticket.lead_unit, ticket.co_units, ticket.territorial_unit, ticket.category)
            session.expunge(ticket)
        return found


def kinds(db, ref: str) -> list[str]:
    with db.transaction() as session:
        return list(session.scalars(
            select(TicketEvent.kind).join(Ticket).where(Ticket.external_ref == ref)
            .order_by(TicketEvent.sequence)
        ))  # fmt: skip


def test_import_dispatches_routes_queues_and_rejects(db, runtime, tmp_path) -> None:
    batch = run(db, runtime, write(tmp_path / "a.csv", GOOD + BAD))
    assert (batch.status, batch.created, batch.updated, batch.unchanged, batch.rejected) == (
        "done",
        3,
        0,
        0,
        2,
    )
    assert batch.rows_done == batch.total_rows == 5
    assert any("工单状态" in note for note in batch.notes)  # ours, reported as not imported
    found = tickets(db)
    named = found["GD001"]
    assert named.status == "dispatched" and named.lead_unit.code == "dept-cgj"
    assert [u.code for u in named.co_units] == ["dept-scjgj"]
    assert named.territorial_unit.code == "cm-heping-xincun"
    assert named.category.code == "street-vending"  # from the 诉求类型 path
    assert named.reporter_phone == "13812341234" and named.channel == "call_centre"
    assert named.resolve_by.isoformat() == "2026-11-27T09:00:00+00:00"  # the call centre's
    assert named.external_source == "12345" and named.number.startswith("WM")
    assert kinds(db, "GD001") == ["submitted", "dispatched"]
    routed = found["GD002"]
    assert routed.status == "dispatched" and routed.priority == "urgent"
    assert kinds(db, "GD002") == ["submitted", "routed", "dispatched"]
    unknown = found["GD003"]
    assert unknown.status == "reported" and unknown.lead_unit is None  # the manual queue
    assert "不存在的局" in unknown.routing["reason"]
    assert "GD004" not in found  # nothing half-saved

    with db.transaction() as session:
        header, *rows = rejected_rows(session, session.get(ImportBatch, batch.id))
    assert header[-2:] == ["原行号", "未导入原因"]
    assert [r[-2] for r in rows] == ["5", "6"]
    assert "［诉求内容］诉求内容为空" in rows[0][-1] and "［来电时间］日期不存在" in rows[0][-1]
    assert "在文件中重复（第 2 行已有）" in rows[1][-1]


def test_the_same_file_twice_creates_nothing_and_changes_update(db, runtime, tmp_path) -> None:
    path = write(tmp_path / "a.csv", GOOD)
    run(db, runtime, path)
    before = tickets(db)
    again = run(db, runtime, path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    changed = [list(r) for r in GOOD]
    changed[1][2] = "夜里工地施工噪音很大，已持续一周"  # the call centre corrected the text
    changed[1][11] = "市城管局"  # an assignment is no longer theirs to change: ignored
    changed[0][10] = "交警支队"
    third = run(db, runtime, write(tmp_path / "b.csv", changed))
    assert (third.created, third.updated, third.unchanged) == (0, 1, 2)
    after = tickets(db)
    assert after["GD002"].description.endswith("已持续一周")
    assert after["GD002"].version == before["GD002"].version + 1
    assert after["GD001"].lead_unit.code == "dept-cgj"
    assert kinds(db, "GD002")[-1] == "updated"
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 3


def test_fixed_rejected_rows_import_cleanly(db, runtime, tmp_path) -> None:
    batch = run(db, runtime, write(tmp_path / "a.csv", GOOD + BAD))
    with db.transaction() as session:
        header, *rows = rejected_rows(session, session.get(ImportBatch, batch.id))
    fixed = [r for r in rows if r[0] == "GD004"]
    fixed[0][2], fixed[0][4], fixed[0][5], fixed[0][12] = "井盖缺失", "2026-02-28", "", "特急"
    out = tmp_path / "fixed.csv"
    with out.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows([header, *fixed])
    again = run(db, runtime, out)
    assert (again.created, again.rejected) == (1, 0)
    assert any("原行号" in note for note in again.notes)  # extra columns: noted, not fatal
    assert tickets(db)["GD004"].priority == "emergency"


def test_an_interrupted_import_resumes_without_duplicates(db, runtime, clock, tmp_path) -> None:
    rows = [[f"R{i:03d}", "", f"第{i}号路灯不亮", "", "", "", "", "", "", "", "市城管局", "", "",
             "", ""] for i in range(9)]  # fmt: skip
    path = write(tmp_path / "big.csv", rows)
    work = units_of_work(db)
    batch_id = create_batch(work, path, Options(), filename="big.csv", actor=Actor(None, "测试"),
                            now=clock.now)  # fmt: skip
    assert claim(work, batch_id, clock.now)

    def die(done: int, total: int | None, refused: int) -> None:
        if done >= 4:
            raise KeyboardInterrupt  # the process is killed after two chunks committed

    with pytest.raises(KeyboardInterrupt):
        run_batch(work, batch_id, runtime, progress=die, chunk_size=2)
    with db.transaction() as session:
        batch = session.get(ImportBatch, batch_id)
        assert (batch.status, batch.rows_done, batch.created) == ("running", 4, 4)
    assert not claim(work, batch_id, clock.now)  # its lease still holds
    later = clock.now + LEASE
    assert claim(work, batch_id, later)
    assert run_batch(work, batch_id, runtime, chunk_size=2) == "done"
    with db.transaction() as session:
        batch = session.get(ImportBatch, batch_id)
        assert (batch.rows_done, batch.created, batch.rejected) == (9, 9, 0)
        assert session.scalar(select(func.count()).select_from(Ticket)) == 9
        numbers = list(session.scalars(select(Ticket.number).order_by(Ticket.number)))
    assert [int(n[-4:]) for n in numbers] == list(range(1, 10))  # gapless

    # Re-running the whole file instead of resuming is just as safe.
    again = run(db, runtime, path)
    assert (again.created, again.unchanged) == (0, 9)


def test_dry_run_writes_nothing(db, runtime, tmp_path) -> None:
    summary = dry_run(units_of_work(db), write(tmp_path / "a.csv", GOOD + BAD), Options(),
                      runtime)  # fmt: skip
    assert (summary["created"], summary["rejected"]) == (3, 2)
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 0
        assert session.scalar(select(func.count()).select_from(ImportBatch)) == 0


def test_other_layouts_by_preset_and_mapping(db, runtime, tmp_path) -> None:
    from hotline.importers.mapping import mapping_from_file_data

    v2 = ["工单编号", "工单类型", "问题描述", "受理时间", "求助号码", "发生地址", "街道",
          "居村委名", "主办单位", "办结期限"]  # fmt: skip
    path = write(tmp_path / "v2.csv",
                 [["V1", "占道经营", "流动摊贩占道", "2026-11-20 08:00", "", "", "和平街道",
                   "东门社区", "城管局", ""]], header=v2)  # fmt: skip
    assert run(db, runtime, path, preset="12345-v2").created == 1
    assert tickets(db)["V1"].territorial_unit.code == "cm-heping-dongmen"
    mapping = mapping_from_file_data({
        "columns": {"external_ref": "单号", "description": "内容"},
        "fixed": {"lead_unit": "住建局", "street": "新华街道"},
    })  # fmt: skip
    other = write(tmp_path / "m.csv", [["M1", "楼道墙皮脱落"]], header=["单号", "内容"])
    assert run(db, runtime, other, mapping=mapping, source="区热线").created == 1
    made = tickets(db)["M1"]
    assert made.lead_unit.code == "dept-zjj" and made.external_source == "区热线"
    assert made.territorial_unit.code == "st-xinhua"


def test_files_that_cannot_be_imported_create_no_batch(db, runtime, tmp_path) -> None:
    from hotline.importers.batch import ImportRefused

    cases = {
        "empty.csv": (b"", "文件为空"),
        "header.csv": ("工单编号,诉求内容\n".encode(), "只有表头"),
        "columns.csv": ("编号,内容\nA,B\n".encode(), "缺少必需的列"),
    }
    for name, (content, message) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(ImportRefused, match=message):
            create_batch(units_of_work(db), path, Options(), filename=name,
                         actor=Actor(None, "测试"), now=runtime.now())  # fmt: skip
    with pytest.raises(ImportRefused, match="没有名为 nope 的预设"):
        create_batch(units_of_work(db), write(tmp_path / "a.csv", GOOD), Options(preset="nope"),
                     filename="a.csv", actor=Actor(None, "测试"), now=runtime.now())  # fmt: skip
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(ImportBatch)) == 0


def test_a_file_that_breaks_midway_fails_the_batch_and_keeps_what_was_good(
    db, runtime, tmp_path
) -> None:
    path = tmp_path / "broken.csv"
    good = io.StringIO()
    rows = [[f"OK{i:03d}", "", f"第{i}号路灯不亮，已经好几天了", *[""] * 12] for i in range(300)]
    csv.writer(good).writerows([HEADER, *rows])
    path.write_bytes(good.getvalue().encode("utf-8") + "GD009,坏,".encode() + b"\xff\xfe\xfa\n")
    batch = run(db, runtime, path, encoding="utf-8", chunk_size=100)
    assert batch.status == "failed" and "附近无法读取" in batch.error
    assert batch.created >= 100  # the chunks before the damage are in, once
    with db.transaction() as session:
        session.execute(update(ImportBatch).values(status="done"))
