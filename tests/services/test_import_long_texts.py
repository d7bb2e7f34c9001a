"""Long call-centre work orders come in whole: real orders run to 7,000+ characters, and one
the call centre accepted is never dropped for length (up to 20,000 characters; beyond that
the row is refused with the count, never cut silently)."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import select

from hotline.importers.batch import Options, Runtime, claim, create_batch, run_batch, units_of_work
from hotline.importers.mapping import mapping_from_file_data
from hotline.importers.rejected import rejected_rows
from hotline.models import ImportBatch, Ticket
from hotline.services.actors import Actor

OPENING = "市民来电反映：本人居住在和平路88号和平新村小区3栋，楼下沿街商铺长期占道经营并深夜施工。"
EPISODES = (
    "{n}月以来，烧烤店每晚把桌椅摆到人行道上，营业到凌晨两点，油烟直接飘进二楼住户窗内。",
    "曾多次拨打12345反映，工作人员到场后商户收起桌椅，但第二天照旧，问题始终没有解决。",
    "小区老人和孩子出行只能走机动车道，上周一位老人被电动车刮倒，家属已报警备案。",
    "装修工地每天早上六点开工，电锯和冲击钻的噪音持续到晚上十点，严重影响休息。",
    "物业表示无权管理沿街商铺，社区说已上报街道，街道让市民找城管，互相推诿。",
    "希望相关部门依法查处占道经营和夜间施工，并将处理结果书面答复来电人。",
)
CLOSING = "来电人要求：处理后电话回访，不同意公开个人信息。（完）"


def long_complaint(chars: int) -> str:
    """A realistic long complaint of exactly ``chars`` characters: paragraphs a resident
    would dictate, then an ending that shows whether the whole text came in."""
    paragraphs, month = [OPENING], 1
    while sum(len(p) + 1 for p in paragraphs) + len(CLOSING) < chars:
        paragraphs.append("".join(e.format(n=month % 12 + 1) for e in EPISODES))
        month += 1
    body = "\n".join(paragraphs)[: chars - len(CLOSING) - 1].rstrip()
    text = body + "\n" + CLOSING
    return text + "。" * (chars - len(text))


HEADER = ["工单编号", "诉求内容", "来电时间", "承办单位"]


def write(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, *rows])
    return path


def run(db, runtime: Runtime, path: Path, **options) -> ImportBatch:
    work = units_of_work(db)
    batch_id = create_batch(work, path, Options(**options), filename=path.name,
                            actor=Actor(None, "测试"), now=runtime.now())  # fmt: skip
    assert claim(work, batch_id, runtime.now())
    run_batch(work, batch_id, runtime, chunk_size=10)
    with db.transaction() as session:
        batch = session.get(ImportBatch, batch_id)
        session.expunge(batch)
        return batch


def descriptions(db) -> dict[str, str]:
    with db.transaction() as session:
        return {t.external_ref: t.description for t in session.scalars(select(Ticket))}


def test_the_builder_writes_what_it_says() -> None:
    text = long_complaint(7000)
    assert len(text) == 7000 and text.count("\n") > 10 and "（完）" in text


def test_a_7000_character_order_comes_in_whole(db, runtime, tmp_path) -> None:
    long, longest = long_complaint(7000), long_complaint(20_000)
    path = write(tmp_path / "long.csv", [
        ["L7000", long, "2026-11-20 09:30", "市城管局"],
        ["L20000", longest, "2026-11-20 09:31", "市城管局"],
        ["S1", "小区路灯坏了很久", "2026-11-20 09:32", ""],
    ])  # fmt: skip
    batch = run(db, runtime, path)
    assert (batch.status, batch.created, batch.rejected) == ("done", 3, 0)
    stored = descriptions(db)
    assert stored["L7000"] == long  # every character and every line break
    assert stored["L20000"] == longest


def test_the_real_layouts_message_column_comes_in_whole(db, runtime, tmp_path) -> None:
    """The layout of the issue names the text 留言详情 (refused today at 2,659 characters)."""
    mapping = mapping_from_file_data({"columns": {"external_ref": "工单编号",
                                                  "description": "留言详情"}})  # fmt: skip
    long = long_complaint(7345)
    path = write(tmp_path / "msg.csv", [["R1", long]], header=["工单编号", "留言详情"])
    batch = run(db, runtime, path, mapping=mapping)
    assert (batch.created, batch.rejected) == (1, 0)
    assert descriptions(db)["R1"] == long


def test_beyond_20000_the_row_is_refused_with_the_count(db, runtime, tmp_path) -> None:
    """Refused, not cut: a cell this long is far more often a broken export (a stray quote
    swallowing the rows after it) than an order, and the refusal file says how long it was."""
    path = write(tmp_path / "over.csv", [
        ["O1", long_complaint(20_001), "2026-11-20 09:30", ""],
        ["O2", "楼道墙皮脱落", "2026-11-20 09:31", ""],
    ])  # fmt: skip
    batch = run(db, runtime, path)
    assert (batch.created, batch.rejected) == (1, 1)
    assert "O1" not in descriptions(db)  # nothing half-saved
    with db.transaction() as session:
        _, row = rejected_rows(session, session.get(ImportBatch, batch.id))
    assert "［诉求内容］超过 20000 个字（实有 20001 个字）" in row[-1]
