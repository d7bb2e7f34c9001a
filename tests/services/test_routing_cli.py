"""`hotline routing …` end to end on the test database: learn → evaluate, classify, explain,
import/export."""

from __future__ import annotations

import csv
import json
import re

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, func, select

from hotline.cli import main
from hotline.models import RulesetRecord, Unit
from tests.unit.routing.test_segmenter_and_learn import HISTORY

# The fixture's labels, as a 12345 export would name them: a category by name, a unit by
# code, and one the city does not know.
LABELS = {"城管": "占道经营", "交警": "dept-jj", "人社": "劳动监察大队"}


@pytest.fixture
def cli(settings, monkeypatch, db):
    monkeypatch.setenv("HOTLINE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("HOTLINE_SECRET_KEY", "x")
    runner = CliRunner()

    def run(*args: str):
        result = runner.invoke(main, ["routing", *args])
        return result

    yield run
    with db.transaction() as session:
        session.execute(delete(RulesetRecord).where(RulesetRecord.source != "seed"))
        session.execute(delete(Unit).where(Unit.code.like("unit-%")))


@pytest.fixture
def history(tmp_path):
    path = tmp_path / "history.csv"
    with path.open("w", encoding="gb18030", newline="") as handle:  # as offices save them
        writer = csv.writer(handle)
        writer.writerow(["工单标题", "诉求内容", "承办单位"])
        for key, letters in HISTORY.items():
            for letter in letters * 2:
                writer.writerow(["", letter, LABELS[key]])
    return path


def test_learn_then_evaluate_round_trip(cli, history, db) -> None:
    learned = cli("learn", str(history), "--text", "工单标题,诉求内容", "--label", "承办单位",
                  "--name", "历史学习", "--create-units")  # fmt: skip
    assert learned.exit_code == 0, learned.output
    assert "已生成草稿规则集" in learned.output
    with db.transaction() as session:
        record = session.scalar(select(RulesetRecord).where(RulesetRecord.name == "历史学习"))
        assert record.status == "draft" and record.source == "learn"
        rules = {r["label"]: r for r in record.data["rules"]}
        assert rules["占道经营"]["category"] == "street-vending"
        assert rules["dept-jj"]["lead_unit"] == "dept-jj"
        assert rules["劳动监察大队"]["lead_unit"].startswith("unit-")  # created
        assert session.scalar(select(func.count()).select_from(Unit).where(
            Unit.name == "劳动监察大队")) == 1  # fmt: skip
    result = cli("evaluate", str(history), "--text", "诉求内容", "--label", "承办单位",
                 "--ruleset", str(record.id), "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert {"accuracy", "macro_f1", "per_label", "confusion", "n",
            "tickets_per_second"} <= set(report)  # fmt: skip
    assert report["n"] == 48 and report["accuracy"] > 0.9
    human = cli("evaluate", str(history), "--text", "诉求内容", "--label", "承办单位",
                "--ruleset", "历史学习")  # fmt: skip
    assert "宏平均 F1" in human.output and "混淆矩阵" in human.output


def test_unknown_labels_are_reported_without_create_units(cli, history) -> None:
    result = cli("learn", str(history), "--text", "诉求内容", "--label", "承办单位")
    assert result.exit_code == 0
    assert "劳动监察大队" in result.output  # warned: will go to the manual queue


def test_missing_column_is_a_clear_error(cli, history) -> None:
    result = cli("learn", str(history), "--text", "内容", "--label", "承办单位")
    assert result.exit_code != 0 and "没有这些列" in result.output


def test_classify_writes_one_json_line_per_row(cli, tmp_path) -> None:
    path = tmp_path / "calls.jsonl"
    path.write_text(
        "\n".join(json.dumps({"content": t, "addr": a}, ensure_ascii=False) for t, a in [
            ("和平新村门口有流动摊贩占道经营", "和平新村"), ("天气很好", ""),
        ]) + "\n", encoding="utf-8",
    )  # fmt: skip
    result = cli("classify", str(path), "--text", "content", "--place", "addr")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert lines[0]["category"] == "street-vending" and lines[0]["lead_unit"] == "dept-cgj"
    assert lines[0]["lead_unit_name"] == "示范市城市管理局"
    assert lines[0]["territorial_unit"] and lines[0]["matched"]
    assert lines[1]["confident"] is False and lines[1]["confidence"] == 0


def test_explain_says_why(cli) -> None:
    result = cli("explain", "楼道里有人飞线充电，很危险")
    assert result.exit_code == 0, result.output
    assert "飞线充电" in result.output and "候选" in result.output


def test_import_of_a_broken_file_names_the_line_and_saves_nothing(cli, tmp_path, db) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: 坏规则\nrules:\n  - label: a\n    lead_unit: nope\n"
                    "    keywords: {噪音: 2}\n", encoding="utf-8")  # fmt: skip
    result = cli("import", str(path))
    assert result.exit_code != 0 and "第 3 行" in result.output and "nope" in result.output
    with db.transaction() as session:
        assert session.scalar(select(RulesetRecord).where(RulesetRecord.name == "坏规则")) is None


def test_export_then_import_csv(cli, tmp_path) -> None:
    out = tmp_path / "active.csv"
    assert cli("export", "--format", "csv", "--out", str(out)).exit_code == 0
    result = cli("import", str(out), "--name", "导回")
    assert result.exit_code == 0, result.output
    assert "导回 v1" in result.output
    listing = cli("list")
    assert "导回" in listing.output and "active" in listing.output


def test_learn_from_xlsx_and_update_a_draft(cli, tmp_path, db) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["内容", "类别"])
    for key, letters in HISTORY.items():
        for letter in letters:
            sheet.append([letter, {"城管": "street-vending", "交警": "illegal-parking",
                                   "人社": "wage-arrears"}[key]])  # fmt: skip
    path = tmp_path / "history.xlsx"
    book.save(path)
    result = cli("learn", str(path), "--text", "内容", "--label", "类别", "--name", "表格学习")
    assert result.exit_code == 0, result.output
    exported = tmp_path / "draft.yaml"
    assert cli("export", "表格学习", "--out", str(exported)).exit_code == 0
    # Learning calibrates the threshold: whatever it chose, the edit sets 0.7.
    text = re.sub(r"(?m)^threshold: .*$", "threshold: 0.7", exported.read_text(encoding="utf-8"))
    exported.write_text(text, encoding="utf-8")
    updated = cli("update", "表格学习", str(exported))
    assert updated.exit_code == 0, updated.output
    with db.transaction() as session:
        record = session.scalar(select(RulesetRecord).where(RulesetRecord.name == "表格学习"))
        assert record.data["threshold"] == 0.7 and record.version == 1
    assert cli("activate", "表格学习").exit_code == 0
    assert cli("update", "表格学习", str(exported)).exit_code != 0  # active: copy first
    from tests.helpers import restore_seeded_ruleset

    with db.transaction() as session:
        restore_seeded_ruleset(session)


# ---------------------------------------------------------------- progress of `learn`


def test_learn_prints_plain_progress_lines_off_a_terminal(cli, history) -> None:
    result = cli("learn", str(history), "--text", "诉求内容", "--label", "承办单位")
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert "读取文件：48 / 48" in lines  # the last line of reading, plain text, no bar
    assert not any("\r" in line or "[" in line for line in lines)
    stages = {line.split("：")[0] for line in lines if re.fullmatch(r"\S+：\d+ / \d+", line)}
    assert len(stages - {"读取文件"}) >= 2  # learning's own stages (segmentation, fitting…)
    assert "已生成草稿规则集" in result.stdout and "读取文件" not in result.stdout


def test_learn_reports_learning_stages(cli, history, monkeypatch) -> None:
    """Learning reports its stages through ``progress(stage, done, total)``; the command
    shows each as it comes (here a stand-in learner reports them)."""
    from hotline.services import training

    real = training.learn_draft

    def reporting(training_set, *, name, progress=None):
        for done in range(0, 101, 5):
            progress("segment", done, 100)
        progress("fit", 3, 3)
        return real(training_set, name=name)

    monkeypatch.setattr(training, "learn_draft", reporting)
    result = cli("learn", str(history), "--text", "诉求内容", "--label", "承办单位")
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    segments = [line for line in lines if line.startswith("分词：")]
    assert segments[0] == "分词：0 / 100" and segments[-1] == "分词：100 / 100"
    assert len(segments) == 11  # about ten lines a stage, not one per call
    assert "拟合权重：3 / 3" in lines


def test_progress_draws_a_bar_on_a_terminal() -> None:
    import io

    from hotline.cli.routing import Progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    with Progress(stream) as progress:
        for done in range(0, 1001, 100):
            progress.update("segment", done, 1000)
    assert progress.tty and "分词" in stream.getvalue() and "1000/1000" in stream.getvalue()


# ---------------------------------------------------------------- the gazetteer as a file

PLACES_HEADER = ["地名", "别名", "属地单位", "纬度", "经度"]


def _places_csv(path, rows, encoding="gb18030"):
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(PLACES_HEADER)
        writer.writerows(rows)
    return path


@pytest.fixture
def gazetteer(tmp_path):
    return _places_csv(tmp_path / "地名库.csv", [
        ["银杏苑小区", "银杏苑；银杏苑社区", "grid-zhenxing-gongren-02", "30.2611", "120.1702"],
        ["梧桐里", "", "cm-xinhua-li", "", ""],
    ])  # fmt: skip


def test_places_import_makes_a_draft_then_export_reads_back(cli, gazetteer, tmp_path, db) -> None:
    result = cli("places", "import", str(gazetteer))
    assert result.exit_code == 0, result.output
    assert "已生成草稿规则集" in result.output and "新版本共 2 个（1 个有坐标）" in result.output
    with db.transaction() as session:
        draft = session.scalar(select(RulesetRecord).where(RulesetRecord.source == "places"))
        assert draft.status == "draft"
        assert draft.data["places"][0] == {"name": "银杏苑小区", "unit": "grid-zhenxing-gongren-02",
                                           "aliases": ["银杏苑", "银杏苑社区"], "lat": 30.2611,
                                           "lng": 120.1702}  # fmt: skip
    for suffix in ("csv", "xlsx"):
        out = tmp_path / f"export.{suffix}"
        exported = cli("places", "export", "--ruleset", str(draft.id), "--out", str(out))
        assert exported.exit_code == 0 and "2 个地名" in exported.output, exported.output
        again = cli("places", "import", str(out), "--ruleset", str(draft.id), "--dry-run")
        assert again.exit_code == 0, again.output
        assert "检查通过，未保存" in again.output and "新版本共 2 个" in again.output
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(RulesetRecord).where(
            RulesetRecord.source == "places")) == 1  # dry runs saved nothing  # fmt: skip


def test_places_merge_and_a_bad_file(cli, gazetteer, tmp_path, db) -> None:
    merged = cli("places", "import", str(gazetteer), "--merge")
    assert merged.exit_code == 0, merged.output
    with db.transaction() as session:
        draft = session.scalar(select(RulesetRecord).where(RulesetRecord.source == "places"))
        names = [p["name"] for p in draft.data["places"]]
    assert "幸福家园小区" in names and names[-2:] == ["银杏苑小区", "梧桐里"]
    bad = _places_csv(tmp_path / "bad.csv", [["梧桐里", "", "no-such-unit", "", ""],
                                             ["", "别名", "cm-xinhua-li", "91", "120"]],
                      encoding="utf-8-sig")  # fmt: skip
    refused = cli("places", "import", str(bad))
    assert refused.exit_code == 1
    assert "地名库未导入，未作任何保存" in refused.output
    assert "第 2 行：未知的单位代码：no-such-unit" in refused.output
    assert "第 3 行：缺少地名" in refused.output and "第 3 行：纬度 91 超出范围" in refused.output
    xls = tmp_path / "old.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    assert "旧版 Excel" in cli("places", "import", str(xls)).output
    wrong = cli("places", "export", "--out", str(tmp_path / "places.json"))
    assert wrong.exit_code == 2 and ".csv 或 .xlsx" in wrong.output
