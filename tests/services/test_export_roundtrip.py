"""Round trip: tickets handled here, exported with ``hotline export`` (XLSX and CSV) and
imported with ``hotline import FILE --history`` into an empty instance (migrated, same demo
units and categories), come back as the same tickets: text, place, unit, category, status,
the times received / dispatched / accepted / resolved / called back (to the minute), the reply,
the callback's answer and complaint, the order kind and the 12345 number.

Known limits, asserted below so that a change of behaviour shows:

- Our number is not kept as a number: 工单编号 carries the 12345 number when the ticket has
  one, else ours, and the new instance numbers the ticket itself (our number becomes its
  external number). 系统编号 goes out but is not read back.
- The place comes back by its 街道 and 社区 columns: a ticket placed in a district only (文明区,
  no street) comes back without a place (the layout has no district column).
- Every ticket comes back as a call-centre order (channel call_centre), source 12345.
- Anonymity is written as 求助人员 "匿名" without a phone: it comes back as a resident named
  匿名 (no phone, so nothing leaks), not flagged anonymous.
- A duplicate merged into another ticket comes back as not accepted (rejected), with the
  merge note as its reason; the link to the ticket it joined is not kept.
- History flattens: a ticket returned by a unit and then rejected comes back rejected with no
  dispatch; a reopened one (the resident said unresolved) comes back as an open order with
  its unit, its signing and its redo deadline, without the earlier reply or the callback's
  answer (a history import replays those only for answered orders).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from click.testing import CliRunner
from sqlalchemy import select

import hotline.cli.exports as export_cli
import hotline.cli.imports as import_cli
from hotline.cli import main
from hotline.db import Database
from hotline.importers.batch import Options, claim, create_batch, run_batch, units_of_work
from hotline.importers.mapping import PRESETS
from hotline.models import Ticket, TicketEvent
from hotline.services.actors import Actor
from tests.helpers import VALID, api_act, auth

OPERATOR, UNIT, SUPERVISOR = auth(), auth("hl_demo_unit"), auth("hl_demo_supervisor")
LONG = ("市民来电反映：\n和平路菜市场门口每天早上六点起流动摊贩占道经营，"
        + "三轮车和菜筐堵住人行道，老人和孩子只能走机动车道，非常危险。" * 240)  # fmt: skip
FORMULA = '=HYPERLINK("http://evil.example/?x=1","点击查看") 振兴路公交站旁垃圾三天没人清运。'
SHANGHAI = ZoneInfo("Asia/Shanghai")
# An order handled before we went live, imported into the first instance as history.
HISTORY_CSV = (
    "12345工单编号,12345受理时间,工单类型,诉求类型,12345内容描述,事件发生地址,承办单位,"
    "派单时间,办结时间,答复意见,回访时间,诉求是否解决,回访满意度,不满原因,工单状态\n"
    "H2019031300002,2019-03-13 21:17:30,投诉举报,占道经营,新华里夜市摊点占道经营到深夜，"
    "噪音扰民。,新华里夜市,市城管局,2019-03-13 22:00,2019-03-20 11:00,"
    "已督促夜市管理方规范经营时间。,2019-03-22 15:30,未解决,不满意,晚上依旧很吵,已归档\n"
)


def shanghai(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


def cli_runner(clock, monkeypatch, tmp_path: Path):
    """``run(url, *args)``: ``hotline …`` against the database at ``url``, on the test
    clock, without Redis."""
    monkeypatch.delenv("HOTLINE_REDIS_URL", raising=False)
    monkeypatch.setattr(export_cli, "_now", lambda: clock.now)
    monkeypatch.setattr(import_cli, "_now", lambda: clock.now)

    def run(url: str, *args: object):
        env = {"HOTLINE_DATABASE_URL": url, "HOTLINE_SECRET_KEY": "x",
               "HOTLINE_IMPORT_DIR": str(tmp_path / "imports")}  # fmt: skip
        return CliRunner().invoke(main, [str(a) for a in args], env=env)

    return run


@pytest.fixture
def hotline_cli(clock, monkeypatch, tmp_path):
    return cli_runner(clock, monkeypatch, tmp_path)


def new_ticket(client, unit: str = "dept-cgj", co_units: tuple[str, ...] = (),
               before_dispatch=lambda: None, **fields) -> str:  # fmt: skip
    """A resident's complaint taken by an operator, with a unit: routing's, else ``unit``
    (the operator's choice, with ``co_units``, made after ``before_dispatch()``)."""
    created = client.post("/api/v1/tickets", json={**VALID, **fields}, headers=OPERATOR)
    assert created.status_code == 201, created.json
    if created.json["status"] == "reported":
        before_dispatch()
        api_act(client, created.json["number"], "dispatch", OPERATOR, lead_unit=unit,
                co_units=list(co_units))  # fmt: skip
    else:
        assert not co_units, created.json["lead_unit"]  # routed: no say in its co-units
    return created.json["number"]


def push_call(client, **fields) -> str:
    pushed = client.post("/api/v1/intake/calls", json=fields, headers=OPERATOR)
    assert pushed.status_code == 201, pushed.json
    assert pushed.json["status"] == "dispatched", pushed.json  # to the unit it names
    return pushed.json["number"]


def handle_to_reply(client, number: str, reply: str) -> None:
    api_act(client, number, "accept", UNIT)
    api_act(client, number, "waive_co_units", SUPERVISOR, reason="已电话协调")
    api_act(client, number, "resolve", UNIT, reply=reply)


def history_into(db, runtime, path: Path) -> None:
    work = units_of_work(db)
    batch_id = create_batch(work, path, Options(history=True), filename=path.name,
                            actor=Actor(None, "测试"), now=runtime.now())  # fmt: skip
    assert claim(work, batch_id, runtime.now())
    assert run_batch(work, batch_id, runtime) == "done"


def build_tickets(client, clock, db, runtime, tmp_path) -> dict[str, str]:
    """Varied tickets in the first instance, each through the path staff or the call centre
    take; name → the 工单编号 it goes out under."""
    made: dict[str, str] = {}
    clock.now = shanghai(16, 9, 12)  # Monday morning
    made["closed"] = new_ticket(client, description="和平路菜市场门口流动摊贩占道经营，早高峰堵路",
                                address="文明区和平路 12 号")  # fmt: skip
    made["reopened"] = new_ticket(client, description="新华路夜市摊点占道到深夜，行人无法通行。",
                                  address="文明区新华路夜市")  # fmt: skip
    made["rejected"] = new_ticket(client, description="咨询小区物业费的收费标准是否合理合法。",
                                  address="文明区幸福小区")  # fmt: skip
    made["awaiting"] = new_ticket(client, description="振兴路人行道被水果摊占用，推车过不去。",
                                  address="文明区振兴路 8 号")  # fmt: skip
    made["formula"] = new_ticket(client, description=FORMULA, address="振兴路公交站")
    made["anonymous"] = new_ticket(client, description="东门路口早点摊占道经营，油烟很大。",
                                   address="文明区东门路口", anonymous=True,
                                   reporter_phone=None)  # fmt: skip
    made["external"] = "H2026111500117"
    pushed = push_call(client, external_ref=made["external"], reported_at="2026-11-15 20:41",
                       description="幸福路小学门口流动摊贩占道经营，放学时段堵塞严重。",
                       address="幸福路小学门口", lead_unit="市城管局", category="占道经营",
                       phone="13912345678", name="王女士")  # fmt: skip
    made["long"] = "H2026111600042"
    push_call(client, external_ref=made["long"], reported_at="2026-11-16 08:55:40",
              description=LONG, address="和平路菜市场", lead_unit="市城管局",
              category="占道经营", phone="13700001111")  # fmt: skip
    made["redone"] = new_ticket(client, description="胜利街人行道上有人摆摊卖衣服，占了半条路。",
                                address="文明区胜利街 3 号")  # fmt: skip
    clock.now = shanghai(16, 9, 40)
    made["merged"] = new_ticket(client, description="东门路口早点摊又占道了，油烟大得不敢开窗。",
                                address="文明区东门路口")  # fmt: skip
    made["open"] = new_ticket(client, description="东门路口早点摊占道经营，油烟大得不敢开窗。",
                              address="文明区东门路口", title="早点摊占道", priority="urgent",
                              reporter_name="李建国", co_units=("dept-zjj",),
                              before_dispatch=lambda: setattr(clock, "now", shanghai(16, 9, 52)))

    clock.now = shanghai(16, 10, 5)
    for name in ("closed", "reopened", "awaiting", "redone"):
        api_act(client, made[name], "accept", UNIT)
    api_act(client, pushed, "accept", UNIT)
    api_act(client, made["rejected"], "return", UNIT, reason="物业收费不属于城管职责")
    clock.now = shanghai(16, 11, 20)
    api_act(client, made["rejected"], "reject", OPERATOR,
            reason="物业收费问题请向住建部门咨询，本热线不予受理。")  # fmt: skip
    clock.now = shanghai(16, 11, 30)
    api_act(client, made["merged"], "merge", OPERATOR, into=made["open"])
    clock.now = shanghai(17, 15, 30)
    for name, reply in (("closed", "城管中队已清理摊点，并安排早高峰定点值守。"),
                        ("reopened", "已约谈夜市管理方，要求十点前收摊。"),
                        ("redone", "已劝离摆摊人员。"),
                        ("awaiting", "已清理水果摊，人行道恢复通行。")):  # fmt: skip
        api_act(client, made[name], "waive_co_units", SUPERVISOR, reason="已电话协调")
        api_act(client, made[name], "resolve", UNIT, reply=reply)
    clock.now = shanghai(18, 9, 45)
    api_act(client, made["closed"], "confirm", OPERATOR, resolved=True, satisfaction="satisfied")
    api_act(client, made["reopened"], "confirm", OPERATOR, resolved=False,
            satisfaction="dissatisfied", comment="摊贩第二天晚上又回来了")  # fmt: skip
    # Sent back by the resident, done again: it waits for its second callback.
    api_act(client, made["redone"], "confirm", OPERATOR, resolved=False,
            satisfaction="basic", comment="人走了，摊位架子还在")  # fmt: skip
    clock.now = shanghai(18, 16, 10)
    api_act(client, made["redone"], "waive_co_units", SUPERVISOR, reason="已电话协调")
    api_act(client, made["redone"], "resolve", UNIT, reply="摊位架子已一并清走。")

    path = tmp_path / "before-go-live.csv"
    path.write_bytes(HISTORY_CSV.encode("gb18030"))
    history_into(db, runtime, path)
    made["history"] = "H2019031300002"
    clock.now = shanghai(19, 10, 0)  # the export runs the next day
    return made


def tickets(database: Database) -> dict[str, dict]:
    """Each ticket of a database as plain values, by the number it is exported under."""
    found = {}
    with database.transaction() as session:
        for t in session.scalars(select(Ticket)):
            events = list(session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == t.id)
                                          .order_by(TicketEvent.sequence)))  # fmt: skip
            replies = [e.body for e in events if e.kind == "resolved" and e.public]
            ended = [e.body for e in events if e.kind in ("rejected", "merged")]
            callbacks = [e for e in events if e.kind == "confirmed"]
            found[t.external_ref or t.number] = {
                "number": t.number, "external_ref": t.external_ref, "channel": t.channel,
                "description": t.description, "address": t.address,
                "unit": t.lead_unit.code if t.lead_unit else None,
                "category": t.category.code if t.category else None, "status": t.status,
                "received": minute(t.reported_at or t.created_at),
                "created": minute(t.created_at), "dispatched": minute(t.dispatched_at),
                "accepted": minute(t.accepted_at), "resolved": minute(t.resolved_at),
                "closed": minute(t.closed_at), "resolve_by": minute(t.resolve_by),
                "reply": replies[-1] if replies else None,
                "ended": ended[-1] if ended else None,
                "confirmed": t.resolved_confirmed, "satisfaction": t.satisfaction,
                "complaint": callbacks[-1].data.get("comment") if callbacks else None,
                "order_kind": t.order_kind, "name": t.reporter_name, "title": t.title,
                "priority": t.priority, "co_units": sorted(u.code for u in t.co_units),
                "territory": t.territorial_unit.code if t.territorial_unit else None,
                "phone": t.reporter_phone, "anonymous": t.anonymous,
            }
    return found


def file_rows(path: Path) -> dict[str, dict[str, str]]:
    """An export's rows by 工单编号, as the cells read (XLSX or CSV)."""
    if path.suffix == ".xlsx":
        sheet = openpyxl.load_workbook(path, read_only=True).active
        header, *rows = [[c or "" for c in row] for row in sheet.iter_rows(values_only=True)]
    else:
        header, *rows = list(csv.reader(io.StringIO(path.read_text("utf-8-sig"))))
    return {row[0]: dict(zip(header, row, strict=True)) for row in rows}


def minute(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC).replace(second=0, microsecond=0) if value else None


# What is kept whatever the ticket was.
KEPT = ("description", "address", "category", "received", "order_kind", "title", "priority")
# What is kept where the history is not flattened (see the module's docstring).
HANDLED = ("unit", "co_units", "status", "ended", "dispatched", "accepted", "resolved",
           "closed", "reply", "confirmed", "satisfaction", "complaint")  # fmt: skip
CALLBACK = ("confirmed", "satisfaction", "complaint")


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_an_export_imported_as_history_gives_the_same_tickets(
    suffix, client, clock, db, runtime, settings, second, hotline_cli, tmp_path
) -> None:  # fmt: skip
    made = build_tickets(client, clock, db, runtime, tmp_path)
    before = tickets(db)
    assert set(before) == set(made.values())
    assert before[made["reopened"]]["status"] == "reopened"  # the confirm sent it back
    assert len(before[made["long"]]["description"]) > 7000
    assert before[made["anonymous"]]["anonymous"]

    out = tmp_path / f"tickets{suffix}"
    exported = hotline_cli(settings.database_url, "export", "--out", out)
    assert exported.exit_code == 0, exported.output
    assert f"已导出 {len(made)} 件工单" in exported.output
    url_b, db_b = second
    imported = hotline_cli(url_b, "import", out, "--history")
    assert imported.exit_code == 0, imported.output
    assert f"新建 {len(made)}，更新 0，未变 0，拒绝 0" in imported.output, imported.output
    assert "未识别的列（未导入）：系统编号、" in imported.output  # our number is not read
    after = tickets(db_b)
    assert set(after) == set(before)
    again = hotline_cli(url_b, "import", out, "--history")
    assert f"新建 0，更新 0，未变 {len(made)}，拒绝 0" in again.output, again.output

    # A fixed point: the second instance's export says what the first one's did in every
    # column the importer reads, but for the flattened histories.
    back = tmp_path / f"back{suffix}"
    assert hotline_cli(url_b, "export", "--out", back).exit_code == 0
    first, again_out = file_rows(out), file_rows(back)
    assert set(first) == set(again_out)
    read = set(PRESETS["12345"].columns.values())
    flattened = {made["rejected"], made["reopened"], made["merged"]}
    for ref in set(first) - flattened:
        for (column,) in read:
            assert again_out[ref][column] == first[ref][column], (ref, column)

    for ref, was in before.items():
        now = after[ref]
        compared = KEPT + (() if ref in flattened else HANDLED)
        if ref == made["redone"]:  # the callback of the round before does not go out
            compared = tuple(f for f in compared if f not in CALLBACK)
        for field in compared:
            assert now[field] == was[field], (ref, field, was[field], now[field])
        if not was["anonymous"]:
            assert (now["name"], now["phone"]) == (was["name"], was["phone"]), ref
        if was["territory"] and was["territory"].startswith("dist-"):
            assert now["territory"] is None  # a district only: no column for it
        else:
            assert now["territory"] == was["territory"], ref  # street, community or none
        assert now["created"] == was["received"]  # counted in the period it came in
        # Our number: the other instance's external number; it numbers the ticket itself.
        assert now["external_ref"] == ref and now["channel"] == "call_centre"
        assert now["number"].startswith(f"WM{was['received'].astimezone(SHANGHAI):%Y%m%d}-")
        if was["resolve_by"] and was["status"] not in ("closed", "resolved", "rejected"):
            assert now["resolve_by"] == was["resolve_by"]  # the deadline it had

    # The cases by name, so that what each proves is plain.
    closed, history = after[made["closed"]], after[made["history"]]
    assert (closed["status"], closed["confirmed"], closed["satisfaction"]) == (
        "closed", True, "satisfied")  # fmt: skip
    assert closed["closed"] == shanghai(18, 9, 45) and closed["resolved"] == shanghai(17, 15, 30)
    assert (history["status"], history["confirmed"], history["satisfaction"]) == (
        "closed", False, "dissatisfied")  # fmt: skip
    assert history["complaint"] == "晚上依旧很吵" and history["order_kind"] == "投诉举报"
    assert history["received"] == datetime(2019, 3, 13, 13, 17, tzinfo=UTC)
    assert after[made["awaiting"]]["status"] == "resolved"  # still waits for its callback
    redone = after[made["redone"]]
    assert (redone["status"], redone["reply"], redone["resolved"]) == (
        "resolved", "摊位架子已一并清走。", shanghai(18, 16, 10))  # the second round's
    # Waiting for its second callback, the first one's answer is not its own (the file does
    # not say it: dated before this answer, the importer refused the whole row).
    assert (redone["confirmed"], redone["satisfaction"], redone["complaint"]) == (
        None, None, None)  # fmt: skip
    assert after[made["external"]]["status"] == "accepted"
    assert after[made["external"]]["accepted"] == shanghai(16, 10, 5)
    opened = after[made["open"]]
    assert opened["status"] == "dispatched" and opened["co_units"] == ["dept-zjj"]
    assert (opened["received"], opened["dispatched"]) == (shanghai(16, 9, 40), shanghai(16, 9, 52))
    assert opened["resolve_by"] is not None and opened["priority"] == "urgent"
    assert after[made["closed"]]["territory"] == "st-heping"  # a street comes back
    assert after[made["awaiting"]]["territory"] == "cm-zhenxing-lu"  # and a community
    assert after[made["long"]]["description"] == LONG
    assert after[made["formula"]]["description"] == FORMULA
    assert after[made["external"]]["phone"] == "13912345678"  # unmasked by default

    # Limits.
    assert before[made["open"]]["territory"] == "dist-wenming"
    assert opened["territory"] is None
    anonymous = after[made["anonymous"]]
    assert (anonymous["anonymous"], anonymous["name"], anonymous["phone"]) == (False, "匿名", None)
    rejected = after[made["rejected"]]
    assert (rejected["status"], rejected["unit"], rejected["dispatched"]) == (
        "rejected", None, None)  # fmt: skip
    assert rejected["reply"] is None  # the reason is the rejection's, not a reply
    assert rejected["closed"] == before[made["rejected"]]["closed"] == shanghai(16, 11, 20)
    assert rejected["ended"] == before[made["rejected"]]["ended"]  # the reason given
    # A duplicate merged away comes back closed as not accepted (with the unit it had), its
    # note naming the ticket it joined by the number that went out; the link is not kept.
    merged, was = after[made["merged"]], before[made["merged"]]
    assert (merged["status"], merged["closed"]) == ("rejected", shanghai(16, 11, 30))
    assert (merged["unit"], merged["dispatched"]) == (was["unit"], was["dispatched"])
    assert merged["ended"] == was["ended"]
    assert made["open"] in merged["ended"]
    reopened, was = after[made["reopened"]], before[made["reopened"]]
    # Open again with its unit, which had signed for it before: 签收 as it was.
    assert (reopened["status"], reopened["unit"]) == ("accepted", was["unit"])
    assert (reopened["dispatched"], reopened["accepted"]) == (was["dispatched"], was["accepted"])
    assert reopened["resolve_by"] == was["resolve_by"]  # the redo's deadline
    assert (reopened["reply"], reopened["confirmed"], reopened["satisfaction"]) == (
        None, None, None)  # fmt: skip
    assert (was["confirmed"], was["satisfaction"], was["complaint"]) == (
        False, "dissatisfied", "摊贩第二天晚上又回来了")  # fmt: skip


def test_the_exported_file_names_our_number_and_the_words_the_importer_reads(
    client, clock, db, runtime, settings, hotline_cli, tmp_path
) -> None:  # fmt: skip
    made = build_tickets(client, clock, db, runtime, tmp_path)
    out = tmp_path / "tickets.csv"
    assert hotline_cli(settings.database_url, "export", "--out", out).exit_code == 0
    rows = {row["工单编号"]: row for row in csv.DictReader(io.StringIO(
        out.read_text("utf-8-sig")))}  # fmt: skip
    assert rows[made["closed"]]["系统编号"] == made["closed"]
    external = rows[made["external"]]
    assert external["系统编号"].startswith("WM20261116-")  # numbered the day it reached us
    assert external["来电时间"] == "2026-11-15 20:41"  # when the resident called
    assert (rows[made["closed"]]["工单状态"], rows[made["reopened"]]["工单状态"],
            rows[made["rejected"]]["工单状态"], rows[made["awaiting"]]["工单状态"]) == (
        "已办结", "重办", "不予受理", "待回访")  # fmt: skip
    assert rows[made["reopened"]]["不满原因"] == "摊贩第二天晚上又回来了"
    redone = rows[made["redone"]]  # the callback columns are the second round's: none yet
    assert (redone["工单状态"], redone["办结时间"], redone["答复意见"]) == (
        "待回访", "2026-11-18 16:10", "摊位架子已一并清走。")  # fmt: skip
    assert [redone[c] for c in ("回访时间", "诉求是否解决", "回访满意度", "不满原因")] == [""] * 4
    anonymous = rows[made["anonymous"]]
    assert (anonymous["求助人员"], anonymous["来电号码"]) == ("匿名", "")
