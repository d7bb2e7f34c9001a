"""History backfill: a 12345 export of orders already handled comes in as what they were —
original times, the unit that handled them, the reply and the callback — and none of it
becomes live work (no notices, no deadline restarted, no sweep flood)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hotline.importers.batch import (
    Options,
    Runtime,
    claim,
    create_batch,
    dry_run,
    run_batch,
    units_of_work,
)
from hotline.models import ImportBatch, OutboxMessage, Ticket, TicketEvent
from hotline.services import metrics
from hotline.services.actors import Actor
from hotline.services.sweep import sweep

HEADER = ["12345工单编号", "12345受理时间", "工单类型", "诉求类型", "12345内容描述",
          "事件发生地址", "承办单位", "派单时间", "办结时间", "答复意见", "回访时间",
          "诉求是否解决", "回访满意度", "不满原因", "工单状态"]  # fmt: skip
LONG = "市民来电反映：" + "和平路菜市场门口每天早上流动摊贩占道经营，影响通行。" * 280
# fmt: off
ROWS = [
    # closed, satisfied, with a 7,000-character text
    ["H2019031200001", "2019-03-12 08:41:07", "投诉举报", "占道经营", LONG, "和平路菜市场",
     "市城管局", "2019-03-12 09:10", "2019-03-15 16:20", "经核查，城管中队已清理摊点并加强巡查。",
     "2019-03-18 10:00", "已解决", "满意", "", "已办结"],
    # closed, not solved and dissatisfied, with the complaint
    ["H2019031300002", "2019-03-13 21:17:30", "投诉举报", "城乡建设-市容环境-占道经营",
     "新华里夜市摊点占道经营到深夜，噪音扰民。", "新华里夜市", "市城管局", "", "2019-03-20 11:00",
     "已督促夜市管理方规范经营时间。", "2019-03-22 15:30", "未解决", "不满意", "晚上依旧很吵",
     "已归档"],
    # still open: dispatched in October, its deadline long passed
    ["H2026100800003", "2026-10-08 10:00", "求助", "", "小区门口路灯不亮一个月了。", "振兴路",
     "市城管局", "2026-10-08 11:00", "", "", "", "", "", "", "办理中"],
    # rejected
    ["H2020050500004", "2020-05-05 14:00", "咨询", "", "咨询如何办理居住证。", "", "", "",
     "2020-05-05 14:30", "不属于本热线受理范围，已告知市民拨打 12345-3。", "", "", "", "",
     "不予受理"],
    # answered (no status column value), the unit unknown to us: closed, no unit
    ["H2018120100005", "2018-12-01 09:00", "投诉举报", "", "楼下餐馆油烟很大。", "东门",
     "老城区环保分局", "", "2018-12-06 17:00", "已责令餐馆安装油烟净化器。", "", "", "", "", ""],
    # answered two days ago, not yet called back: waits for its callback
    ["H2026111900006", "2026-11-18 09:00", "投诉举报", "占道经营", "振兴路人行道被水果摊占用。",
     "振兴路", "市城管局", "2026-11-18 09:30", "2026-11-19 15:00", "已清理。", "", "", "",
     "", "待回访"],
]
BAD = [
    ["H2019040100007", "2019-04-01 10:00", "", "", "办结早于来电。", "", "市城管局", "",
     "2019-03-01 10:00", "已处理", "", "", "", "", "已办结"],
    ["H2019040100008", "2019-04-01 10:00", "", "", "满意度写错了。", "", "市城管局", "",
     "2019-04-02 10:00", "已处理", "2019-04-03 10:00", "", "还行吧", "", "已办结"],
    ["H2019040100009", "", "", "", "没有来电时间。", "", "市城管局", "", "", "", "", "", "", "",
     ""],
]
# fmt: on


def export(path: Path, rows: list[list[str]]) -> Path:
    out = io.StringIO()
    csv.writer(out).writerows([HEADER, *rows])
    path.write_bytes(out.getvalue().encode("gb18030"))  # as the call centre's Excel saves it
    return path


def run(db, runtime: Runtime, path: Path, *, history: bool = True) -> ImportBatch:
    work = units_of_work(db)
    batch_id = create_batch(work, path, Options(history=history), filename=path.name,
                            actor=Actor(None, "测试"), now=runtime.now())  # fmt: skip
    assert claim(work, batch_id, runtime.now())
    run_batch(work, batch_id, runtime, chunk_size=4)
    with db.transaction() as session:
        batch = session.get(ImportBatch, batch_id)
        session.expunge(batch)
        return batch


def local(text: str) -> datetime:
    """A Shanghai wall-clock time as the aware UTC value the database returns."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC) - timedelta(hours=8)


def by_ref(db) -> dict[str, tuple[Ticket, list[TicketEvent]]]:
    with db.transaction() as session:
        found = {}
        for ticket in list(session.scalars(select(Ticket))):
            events = list(session.scalars(select(TicketEvent).where(TicketEvent.ticket_id
                                                                    == ticket.id)
                                          .order_by(TicketEvent.sequence)))  # fmt: skip
            _ = (ticket.lead_unit, ticket.category)
            found[ticket.external_ref] = (ticket, events)
        session.expunge_all()
        return found


def test_a_dry_run_counts_closed_open_and_refused(db, runtime, tmp_path) -> None:
    path = export(tmp_path / "history.csv", ROWS + BAD)
    summary = dry_run(units_of_work(db), path, Options(history=True), runtime)
    assert (summary["created"], summary["closed"], summary["rejected"]) == (6, 4, 3)
    reasons = " ".join(r["reason"] for r in summary["rejections"])
    assert "办结时间早于来电时间" in reasons
    assert "无法识别的满意度：还行吧" in reasons
    assert "历史工单缺少来电时间" in reasons
    assert any("答复意见 → 答复意见" in note and "回访满意度 → 回访满意度" in note
               for note in summary["notes"])  # fmt: skip
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 0


def test_handled_orders_come_in_as_they_were_without_notices(db, runtime, tmp_path) -> None:
    batch = run(db, runtime, export(tmp_path / "history.csv", ROWS + BAD))
    assert (batch.mode, batch.created, batch.closed, batch.rejected) == ("history", 6, 4, 3)
    found = by_ref(db)
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0

    ticket, events = found["H2019031200001"]
    assert ticket.status == "closed" and ticket.lead_unit.name == "示范市城市管理局"
    assert ticket.number.startswith("WM20190312-")  # numbered on the day it came in
    assert ticket.description == LONG and ticket.order_kind == "投诉举报"
    assert ticket.category.name == "占道经营"
    assert ticket.created_at == ticket.reported_at == local("2019-03-12 08:41:07")
    assert ticket.dispatched_at == local("2019-03-12 09:10")
    assert ticket.resolved_at == local("2019-03-15 16:20")
    assert ticket.closed_at == local("2019-03-18 10:00")
    assert (ticket.resolved_confirmed, ticket.satisfaction) == (True, "satisfied")
    assert ticket.resolve_by is not None and ticket.resolve_by > ticket.dispatched_at
    kinds = [e.kind for e in events]
    assert kinds == ["submitted", "dispatched", "resolved", "confirmed", "imported"]
    assert all(e.data.get("imported") for e in events)
    resolved = events[2]
    assert resolved.public and resolved.body == "经核查，城管中队已清理摊点并加强巡查。"
    assert resolved.created_at == local("2019-03-15 16:20")
    assert events[0].created_at == local("2019-03-12 08:41:07")
    assert events[-1].created_at == runtime.now()  # the import itself, dated now
    assert "原状态：已办结" in events[-1].body

    ticket, events = found["H2019031300002"]
    assert (ticket.status, ticket.resolved_confirmed, ticket.satisfaction) == (
        "closed", False, "dissatisfied")  # fmt: skip
    assert "不满原因：晚上依旧很吵" in events[-2].body
    assert ticket.dispatched_at == ticket.reported_at  # no 派单时间: when it came in

    ticket, _ = found["H2020050500004"]
    assert ticket.status == "rejected" and ticket.closed_at == local("2020-05-05 14:30")

    ticket, events = found["H2018120100005"]
    assert (ticket.status, ticket.lead_unit_id) == ("closed", None)
    assert ticket.routing["named_unit"] == "老城区环保分局"
    assert (ticket.resolved_confirmed, ticket.satisfaction) == (None, None)

    ticket, _ = found["H2026111900006"]
    assert ticket.status == "resolved"  # waits for its callback, as it did

    ticket, events = found["H2026100800003"]
    assert ticket.status == "dispatched" and ticket.resolved_at is None
    assert ticket.dispatched_at == local("2026-10-08 11:00")  # not restarted now
    assert ticket.resolve_by < runtime.now()
    assert ticket.supervision_level >= 1 and "resolve" in ticket.sla["overdue"]


def test_the_sweep_after_a_history_import_sends_nothing(db, runtime, tmp_path) -> None:
    run(db, runtime, export(tmp_path / "history.csv", ROWS))
    with db.transaction() as session:
        report = sweep(session, now=runtime.now(), clock=runtime.calendars.clock(session))
        assert (report.overdue, report.escalated, report.warned) == (0, 0, 0)
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_metrics_count_history_in_its_own_period(db, runtime, tmp_path) -> None:
    run(db, runtime, export(tmp_path / "history.csv", ROWS))
    with db.transaction() as session:
        march = metrics.compute(session, group_by="unit", start=local("2019-03-01 00:00"),
                                end=local("2019-04-01 00:00"), now=runtime.now())  # fmt: skip
        now = metrics.compute(session, group_by="unit", start=local("2026-11-01 00:00"),
                              end=local("2026-12-01 00:00"), now=runtime.now())  # fmt: skip
    (unit,) = march["groups"]
    assert (unit["name"], unit["tickets"]) == ("示范市城市管理局", 2)
    assert unit["satisfaction_rate"] == 0.5 and unit["resolution_rate"] == 0.5
    assert unit["counts"]["resolved"] == 2 and unit["median_handling_hours"] > 0
    assert sum(g["tickets"] for g in now["groups"]) == 1  # only the order of November


def test_a_history_import_is_idempotent(db, runtime, tmp_path) -> None:
    path = export(tmp_path / "history.csv", ROWS)
    run(db, runtime, path)
    again = run(db, runtime, path)
    assert (again.created, again.unchanged) == (0, len(ROWS))
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == len(ROWS)


def test_a_live_import_names_the_handling_columns_and_leaves_them(db, runtime,
                                                                   tmp_path) -> None:  # fmt: skip
    batch = run(db, runtime, export(tmp_path / "live.csv", ROWS[:1]), history=False)
    assert any(note.startswith("办理结果列（仅历史导入读取") and "答复意见" in note
               for note in batch.notes)  # fmt: skip
    ((ticket, _),) = by_ref(db).values()
    assert ticket.status == "dispatched" and ticket.closed_at is None


def test_history_needs_the_time_orders_came_in(db, runtime, tmp_path) -> None:
    from hotline.importers.batch import ImportRefused, check_file

    path = tmp_path / "no-time.csv"
    path.write_text("工单编号,诉求内容,办结时间\nA1,路灯坏了,2019-01-02\n", encoding="utf-8")
    with pytest.raises(ImportRefused, match="来电时间"):
        check_file(path, Options(history=True))
    check_file(path, Options())  # a live import does not need it
