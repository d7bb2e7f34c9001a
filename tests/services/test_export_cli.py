"""``hotline export``: plain progress without a terminal, the formats it refuses, the search's
filters, formula-looking texts kept as text, no half file left behind, and ``--masked``."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

import hotline.cli.exports as export_cli
from hotline.models import AuditEvent, Ticket
from hotline.services import exports
from tests.helpers import api_act, auth
from tests.services.test_export_roundtrip import (
    FORMULA,
    cli_runner,
    handle_to_reply,
    new_ticket,
    shanghai,
)

OPERATOR = auth()


@pytest.fixture
def run(settings, clock, monkeypatch, tmp_path):
    """``hotline export …`` on the test instance; ``run.on(url, …)`` on another one."""
    runner = cli_runner(clock, monkeypatch, tmp_path)

    def export(*args: object):
        return runner(settings.database_url, "export", *args)

    export.on = runner
    return export


def rows_of(path: Path) -> list[dict[str, str]]:
    """A CSV export's rows as its raw cells (nothing taken off)."""
    return list(csv.DictReader(io.StringIO(path.read_text("utf-8-sig"))))


def numbers(path: Path) -> set[str]:
    return {row["工单编号"] for row in rows_of(path)}


def test_without_a_terminal_progress_is_plain_lines(client, clock, run, tmp_path,
                                                    monkeypatch) -> None:  # fmt: skip
    clock.now = shanghai(16, 9)
    made = {new_ticket(client, description=f"和平路菜市场门口第{i}个流动摊贩占道经营，早高峰堵路。")
            for i in range(5)}  # fmt: skip
    monkeypatch.setattr(exports, "CHUNK", 2)
    monkeypatch.setattr(export_cli, "PLAIN_EVERY", 2)
    out = tmp_path / "tickets.csv"
    result = run("--out", out)
    assert result.exit_code == 0, result.output
    # Chunks end at 2, 4 and 5 rows: a line for each but the last, which the summary says.
    assert result.output.splitlines() == [
        "已导出 2 / 5 件", "已导出 4 / 5 件",
        f"已导出 5 件工单到 {out}（含完整姓名和电话，请妥善保管）",
    ]  # fmt: skip
    assert numbers(out) == made and len(rows_of(out)) == 5  # each ticket once across chunks


@pytest.mark.parametrize("name", ["tickets.txt", "tickets.xls", "tickets"])
def test_an_unknown_format_is_refused_and_leaves_no_file(client, run, tmp_path, db,
                                                         name) -> None:  # fmt: skip
    new_ticket(client)
    result = run("--out", tmp_path / name)
    assert result.exit_code == 1
    assert f"只能导出为 .xlsx 或 .csv 文件：{name}" in result.output
    assert "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    with db.transaction() as session:  # nothing was exported, nothing audited
        assert session.scalars(select(AuditEvent)).all() == []


def test_filters_narrow_the_rows(client, clock, run, tmp_path) -> None:
    clock.now = shanghai(16, 9)
    closed = new_ticket(client, description="和平路菜市场门口流动摊贩占道经营，早高峰堵路。")
    open_cgj = new_ticket(client, description="振兴路人行道被水果摊占用，推车过不去。")
    handle_to_reply(client, closed, "已清理摊点。")
    api_act(client, closed, "confirm", OPERATOR, resolved=True, satisfaction="satisfied")
    clock.now = shanghai(18, 14)
    zjj = new_ticket(client, unit="dept-zjj", description="咨询小区物业费的收费标准是否合理合法。")
    clock.now = shanghai(19, 10)

    def exported(*args: str) -> set[str]:
        out = tmp_path / "filtered.csv"
        result = run("--out", out, *args)
        assert result.exit_code == 0, result.output
        return numbers(out)

    assert exported() == {closed, open_cgj, zjj}
    assert exported("--status", "closed") == {closed}
    assert exported("--status", "closed", "--status", "dispatched") == {closed, open_cgj, zjj}
    assert exported("--unit", "dept-zjj") == {zjj}
    assert exported("--unit", "dept-cgj", "--status", "dispatched") == {open_cgj}
    assert exported("--from", "2026-11-17") == {zjj}
    assert exported("--to", "2026-11-16") == {closed, open_cgj}
    assert exported("--from", "2026-11-17", "--to", "2026-11-17") == set()
    refused = run("--out", tmp_path / "x.csv", "--from", "2026-11-18", "--to", "2026-11-16")
    assert refused.exit_code == 1 and "结束日期不能早于开始日期" in refused.output
    refused = run("--out", tmp_path / "x.csv", "--status", "finished")
    assert refused.exit_code == 1 and "没有这个状态：finished" in refused.output
    refused = run("--out", tmp_path / "x.csv", "--unit", "dept-none")
    assert refused.exit_code == 1 and "没有这个承办单位：dept-none（--unit）" in refused.output
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_a_formula_looking_text_stays_text_and_imports_back_equal(
    client, clock, run, tmp_path, second, suffix
) -> None:  # fmt: skip
    clock.now = shanghai(16, 9)
    new_ticket(client, description=FORMULA, title="=1+1", address="@振兴路公交站")
    out = tmp_path / f"formula{suffix}"
    assert run("--out", out).exit_code == 0
    if suffix == ".xlsx":
        sheet = openpyxl.load_workbook(out).active
        header = [cell.value for cell in sheet[1]]
        cells = {name: sheet.cell(2, header.index(name) + 1) for name in
                 ("诉求内容", "工单标题", "事件发生地")}  # fmt: skip
        assert all(cell.data_type == "s" for cell in cells.values())  # no formula
        raw = {name: cell.value for name, cell in cells.items()}
    else:
        (raw,) = rows_of(out)
    # Behind an apostrophe, which Excel shows as text and our importer takes off again.
    assert (raw["诉求内容"], raw["工单标题"], raw["事件发生地"]) == (
        "'" + FORMULA, "'=1+1", "'@振兴路公交站")  # fmt: skip
    url_b, db_b = second
    imported = run.on(url_b, "import", out, "--history")
    assert imported.exit_code == 0 and "新建 1，" in imported.output, imported.output
    with db_b.transaction() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert (ticket.description, ticket.title, ticket.address) == (
            FORMULA, "=1+1", "@振兴路公交站")  # fmt: skip


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_no_half_file_is_left_behind(client, clock, run, tmp_path, monkeypatch,
                                     suffix) -> None:  # fmt: skip
    clock.now = shanghai(16, 9)
    for i in range(3):
        new_ticket(client, description=f"和平路菜市场门口第{i}个流动摊贩占道经营，早高峰堵路。")
    out = tmp_path / f"tickets{suffix}"
    assert run("--out", out).exit_code == 0
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no .tickets….partial
    kept = out.read_bytes()

    # Interrupted after the first chunk: the earlier file stays as it was, no partial file.
    real = exports.export_rows
    calls = []

    def failing(session, plan, **kwargs):
        calls.append(kwargs)
        if len(calls) > 1:
            raise RuntimeError("连接中断")
        return real(session, plan, **kwargs)

    monkeypatch.setattr(exports, "CHUNK", 2)
    monkeypatch.setattr(exports, "export_rows", failing)
    result = run("--out", out)
    assert result.exit_code != 0 and isinstance(result.exception, RuntimeError)
    assert len(calls) == 2
    assert [p.name for p in tmp_path.iterdir()] == [out.name]
    assert out.read_bytes() == kept


def test_masked_hides_names_and_phones_and_such_rows_do_not_import(
    client, clock, run, tmp_path, db, second
) -> None:  # fmt: skip
    clock.now = shanghai(16, 9)
    known = new_ticket(client, reporter_name="张三丰", reporter_phone="13812341234")
    anonymous = new_ticket(client, description="东门路口早点摊占道经营，油烟很大。",
                           anonymous=True, reporter_phone=None)  # fmt: skip
    out = tmp_path / "masked.csv"
    result = run("--out", out, "--masked")
    assert result.exit_code == 0 and "（已遮挡姓名和电话）" in result.output
    rows = {row["工单编号"]: row for row in rows_of(out)}
    assert (rows[known]["求助人员"], rows[known]["来电号码"]) == ("张**", "138****1234")
    assert (rows[anonymous]["求助人员"], rows[anonymous]["来电号码"]) == ("匿名", "")
    assert "13812341234" not in out.read_text("utf-8-sig")
    with db.transaction() as session:
        audit = session.scalars(select(AuditEvent)
                                .where(AuditEvent.action == "search.exported")).one()  # fmt: skip
        assert audit.subject == "cli:csv"
        assert (audit.data["masked"], audit.data["rows"], audit.data["file"]) == (
            True, 2, "masked.csv")  # fmt: skip

    # As the option's help says, a masked phone does not import back: the importer refuses
    # the row (naming the column and the value) and takes the rest.
    url_b, db_b = second
    imported = run.on(url_b, "import", out, "--history")
    assert imported.exit_code == 0, imported.output
    assert "电话号码无效：138****1234" in imported.output
    assert "新建 1，更新 0，未变 0，拒绝 1" in imported.output
    with db_b.transaction() as session:
        (ticket,) = session.scalars(select(Ticket)).all()
        assert ticket.external_ref == anonymous


def test_a_text_that_starts_with_an_apostrophe_and_a_formula_sign_comes_back_whole(
    client, clock, db, run, tmp_path, second
) -> None:  # fmt: skip
    clock.now = shanghai(16, 9)
    said = "'=号是市民原话里的，振兴路公交站旁垃圾三天没人清运。"
    new_ticket(client, description=said)
    with db.transaction() as session:
        assert session.scalars(select(Ticket)).one().description == said  # kept as typed
    out = tmp_path / "apostrophe.csv"
    assert run("--out", out).exit_code == 0
    assert rows_of(out)[0]["诉求内容"] == "'" + said  # one more, which the importer takes off
    url_b, db_b = second
    assert run.on(url_b, "import", out, "--history").exit_code == 0
    with db_b.transaction() as session:
        assert session.scalars(select(Ticket)).one().description == said
