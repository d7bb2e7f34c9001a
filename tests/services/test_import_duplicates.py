"""An imported work order that repeats an open ticket is linked, not dispatched again blindly:
held in the manual queue naming the likely original (可能重复), or — the same caller saying the
same thing — merged into it by the workflow's merge. Also inside one chunk."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import select

from hotline.importers.batch import Options, Runtime, claim, create_batch, run_batch, units_of_work
from hotline.models import Ticket, TicketEvent
from hotline.services.actors import Actor
from tests.helpers import VALID, auth

HEADER = ["工单编号", "工单标题", "诉求内容", "诉求类型", "来电号码", "事件发生地", "街道",
          "承办单位"]  # fmt: skip
KIND = "城乡建设-市容环境-占道经营"
AGAIN = "和平路菜市场门口流动摊贩占道经营，行人只能走机动车道，请尽快处理。"
LAMP = "新华大街 8 号门口路灯坏了一个星期，晚上一片漆黑。"
LAMP_AGAIN = "新华大街 8 号门口的路灯坏了一个星期了，晚上一片漆黑"
ROWS = [
    # Another caller, the same complaint at the same street: named unit, yet held for a person.
    ["RD001", "占道经营", AGAIN, KIND, "13900002222", "和平路菜市场", "和平街道", "市城管局"],
    # The caller of the open ticket, saying it again: merged into it.
    ["RD002", "", VALID["description"], KIND, "138 1234 1234", "和平路菜市场", "和平街道",
     "市城管局"],
    # Something else at the same street: dispatched as named.
    ["RD003", "", "和平路 30 号饭店油烟直排，楼上开不了窗", "", "13900003333", "和平路 30 号",
     "和平街道", "生态环境局"],
    # A new problem, and the same again two rows later in the same chunk.
    ["RD004", "", LAMP, "", "13900004444", "新华大街 8 号", "新华街道", "城管局"],
    ["RD005", "", LAMP_AGAIN, "", "13900005555", "新华大街 8 号", "新华街道", "城管局"],
]  # fmt: skip


def run(db, runtime: Runtime, path: Path, chunk_size: int = 10) -> None:
    work = units_of_work(db)
    batch_id = create_batch(work, path, Options(), filename=path.name,
                            actor=Actor(None, "测试"), now=runtime.now())  # fmt: skip
    assert claim(work, batch_id, runtime.now())
    run_batch(work, batch_id, runtime, chunk_size=chunk_size)


def export(tmp_path: Path, rows: list[list[str]]) -> Path:
    path = tmp_path / "export.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([HEADER, *rows])
    return path


def imported(db) -> dict[str, tuple[Ticket, list[TicketEvent]]]:
    with db.transaction() as session:
        found = {}
        for ticket in session.scalars(select(Ticket).where(Ticket.external_ref.isnot(None))).all():
            events = list(session.scalars(select(TicketEvent).where(
                TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.sequence)))  # fmt: skip
            _ = ticket.duplicate_of
            found[ticket.external_ref] = (ticket, events)
        session.expunge_all()
        return found


def test_a_repeated_work_order_is_linked_not_dispatched(client, db, runtime, tmp_path) -> None:
    response = client.post("/api/v1/tickets", json=VALID, headers=auth())
    open_one = response.json["number"]
    run(db, runtime, export(tmp_path, ROWS))
    found = imported(db)

    held, events = found["RD001"]
    assert held.status == "reported" and held.lead_unit_id is None  # not dispatched
    assert held.routing["duplicate_of"]["number"] == open_one
    assert held.routing["named_unit"] == "市城管局"  # the operator still sees what 12345 said
    routed = [e for e in events if e.kind == "routed"][-1]
    assert routed.body.startswith(f"可能重复：与工单 {open_one}")
    assert routed.data["duplicate_of"] == open_one and routed.data["dispatched"] is False
    assert "dispatched" not in [e.kind for e in events]

    merged, events = found["RD002"]
    assert merged.status == "merged" and merged.duplicate_of.number == open_one
    assert [e.kind for e in events][-1] == "merged"
    assert "dispatched" not in [e.kind for e in events]

    other, _ = found["RD003"]
    assert other.status == "dispatched"  # same street, another problem

    first_lamp, _ = found["RD004"]
    assert first_lamp.status == "dispatched"
    lamp_again, events = found["RD005"]
    assert lamp_again.status == "reported"
    assert lamp_again.routing["duplicate_of"]["number"] == first_lamp.number

    with db.transaction() as session:  # the open ticket itself is untouched
        original = session.scalar(select(Ticket).where(Ticket.number == open_one))
        assert original.status != "merged" and original.duplicate_of_id is None


def test_a_repeat_across_chunks_and_a_re_import_change_nothing_twice(
    client, db, runtime, tmp_path
) -> None:
    path = export(tmp_path, ROWS[3:])
    run(db, runtime, path, chunk_size=1)  # RD005 meets RD004 as an open ticket
    run(db, runtime, path, chunk_size=1)  # the same file again: nothing new
    found = imported(db)
    assert len(found) == 2
    assert found["RD004"][0].status == "dispatched"
    again, events = found["RD005"]
    assert again.status == "reported"
    assert again.routing["duplicate_of"]["number"] == found["RD004"][0].number
    assert [e.kind for e in events].count("routed") == 1
