"""``hotline routing …``: rulesets, learning, evaluation and explanation from the shell."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from .support import now as _now
from .support import transaction


def _rows(path: Path, text: str, label: str | None,
          progress: bool = False) -> tuple[list[str], list[str]]:  # fmt: skip
    from ..importers.tables import TableError, column_text, read_rows

    try:
        rows = _read_with_progress(path) if progress else read_rows(path)
    except TableError as exc:
        raise click.ClickException(str(exc)) from exc
    columns = [c.strip() for c in text.split(",") if c.strip()]
    wanted = columns + ([label] if label else [])
    missing = [c for c in wanted if rows and c not in rows[0]]
    if missing:
        raise click.ClickException(
            f"文件中没有这些列：{'、'.join(missing)}（现有：{'、'.join(rows[0])}）"
        )
    texts = [column_text(row, columns) for row in rows]
    labels = [row.get(label, "").strip() for row in rows] if label else []
    if label:
        keep = [i for i, gold in enumerate(labels) if gold]
        texts, labels = [texts[i] for i in keep], [labels[i] for i in keep]
    return texts, labels


# ---------------------------------------------------------------- progress on long files

# Stage names routing.learn reports, as a person reads them (others are shown as given).
STAGE_LABELS = {
    "read": "读取文件", "segment": "分词", "segmentation": "分词", "tokenize": "分词",
    "vocabulary": "统计词频", "features": "提取特征", "fit": "拟合权重", "fitting": "拟合权重",
    "calibrate": "校准置信度", "calibration": "校准置信度",
}  # fmt: skip
PLAIN_LINES_PER_STAGE = 10
READ_REPORT_EVERY = 500


class Progress:
    """``update(stage, done, total)``: on a terminal a click progress bar per stage; in a log
    or a pipe, plain lines (about ten per stage), which stay readable where a bar would not.
    Written to stderr, so stdout keeps only the command's result."""

    def __init__(self, stream: Any = None, *, tty: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)()) if tty is None else tty
        self.stage: str | None = None
        self.bar: Any = None
        self.done = 0
        self.next_line = 0

    def update(self, stage: str, done: int, total: int) -> None:
        total = max(int(total), int(done), 1)
        label = STAGE_LABELS.get(stage, stage)
        if stage != self.stage:
            self.finish()
            self.stage, self.done, self.next_line = stage, 0, 0
            if self.tty:
                self.bar = click.progressbar(length=total, label=label, file=self.stream,
                                             show_pos=True, show_eta=True)  # fmt: skip
                self.bar.__enter__()
        if self.bar is not None:
            self.bar.length = total
            self.bar.update(max(done - self.done, 0))
        elif done >= self.next_line or done == total:
            click.echo(f"{label}：{done:,} / {total:,}", file=self.stream)
            self.next_line = done + max(total // PLAIN_LINES_PER_STAGE, 1)
        self.done = done

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.finish()


def _read_with_progress(path: Path) -> list[dict[str, str]]:
    """``read_rows``, row by row with a progress bar (the reader counts a CSV's rows in a
    quick first pass; a workbook's come from its dimension when it has one)."""
    from ..importers.reader import open_table
    from ..importers.tables import read_rows

    if path.suffix.lower() in (".jsonl", ".ndjson"):
        rows = read_rows(path)  # one quick read: a line that says how many
        with Progress() as progress:
            progress.update("read", len(rows), len(rows))
        return rows
    rows = []
    with Progress() as progress, open_table(path, count=True) as table:
        header, total = table.header, table.total_rows or 0
        for _, cells in table.rows:
            rows.append(dict(zip(header, cells, strict=False)))
            if len(rows) % READ_REPORT_EVERY == 0:
                progress.update("read", len(rows), max(total, len(rows)))
        progress.update("read", len(rows), len(rows))
    return rows


def _learn_with_progress(learn_draft: Callable[..., Any], training: Any, name: str,
                         progress: Callable[[str, int, int], None]) -> Any:  # fmt: skip
    """The learned ruleset, reporting its stages through ``routing.learn.learn(progress=…)``."""
    return learn_draft(training, name=name, progress=progress)


def _ruleset_file(file: Path) -> dict[str, Any]:
    """A YAML or CSV ruleset file read (any encoding offices use) and checked for syntax."""
    from routing.rules import RulesetError

    from ..importers.tables import TableError, decode
    from ..services.rulesets import parse_ruleset_text

    fmt = "csv" if file.suffix.lower() == ".csv" else "yaml"
    try:
        return parse_ruleset_text(decode(file.read_bytes()), fmt)
    except (RulesetError, TableError) as exc:
        raise click.ClickException(f"{file}：\n{exc}") from exc


@click.group("routing")
def routing_group() -> None:
    """Routing rulesets: list, import, export, activate, learn, evaluate, classify, explain."""


@routing_group.command("list")
def list_rulesets() -> None:
    """All ruleset versions, newest first."""
    from sqlalchemy import select

    from ..models import RulesetRecord

    with transaction() as session:
        records = session.scalars(select(RulesetRecord).order_by(RulesetRecord.id.desc())).all()
        for r in records:
            rules, places = len(r.data.get("rules", [])), len(r.data.get("places") or [])
            click.echo(f"{r.id:>4}  {r.status:<8}  v{r.version:<3} {r.name}  "
                       f"({rules} 条规则, {places:,} 个地名, {r.source})")  # fmt: skip


@routing_group.command("export")
@click.argument("ref", required=False)
@click.option("--format", "fmt", type=click.Choice(["yaml", "csv", "json"]), default="yaml")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path))
def export_ruleset(ref: str | None, fmt: str, out: Path | None) -> None:
    """Write ruleset REF (id or name; default: the active one) as YAML, CSV or JSON."""
    from routing.rules import csv_rows, dump_yaml, from_dict

    from ..exports import csv_text
    from ..services.rulesets import find_ruleset

    with transaction() as session:
        data = find_ruleset(session, ref).data
    if fmt == "json":
        text = json.dumps(data, ensure_ascii=False, indent=2)
    else:
        ruleset = from_dict(data)
        text = dump_yaml(ruleset) if fmt == "yaml" else csv_text(csv_rows(ruleset), bom=False)
    if out:
        out.write_text(text, encoding="utf-8")
        click.echo(f"已写入 {out}")
    else:
        click.echo(text)


@routing_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", help="Ruleset name (default: the name in the file).")
@click.option("--activate", is_flag=True, help="Activate it at once.")
def import_ruleset(file: Path, name: str | None, activate: bool) -> None:
    """Import a YAML or CSV ruleset as a new draft version (all or nothing)."""
    from ..services.actors import SYSTEM
    from ..services.rulesets import activate as activate_ruleset
    from ..services.rulesets import create_ruleset

    data = _ruleset_file(file)
    with transaction() as session:
        record = create_ruleset(session, data, source="import", now=_now(), name=name)
        if activate:
            activate_ruleset(session, record, now=_now(), actor=SYSTEM)
        summary = f"{record.id}（{record.name} v{record.version}，{record.status}）"
    click.echo(f"已导入规则集 {summary}")


@routing_group.command("update")
@click.argument("ref")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def update_ruleset(ref: str, file: Path) -> None:
    """Replace the content of draft REF with a YAML or CSV file (all or nothing)."""
    from ..services.rulesets import find_ruleset, update_draft

    data = _ruleset_file(file)
    with transaction() as session:
        record = update_draft(session, find_ruleset(session, ref), data, now=_now())
        summary = f"{record.id}（{record.name} v{record.version}）"
    click.echo(f"已更新草稿 {summary}")


@routing_group.command("activate")
@click.argument("ref")
def activate_ruleset(ref: str) -> None:
    """Make ruleset REF the active one (the previous one is archived)."""
    from ..services.actors import Actor
    from ..services.rulesets import activate, find_ruleset

    with transaction() as session:
        record = activate(
            session, find_ruleset(session, ref), now=_now(), actor=Actor(None, "命令行")
        )
        summary = f"{record.id}（{record.name} v{record.version}）"
    click.echo(f"已启用规则集 {summary}")


@routing_group.command("learn")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--text", "text_cols", required=True, help="Text column(s), comma-separated.")
@click.option("--label", "label_col", required=True, help="Label column: unit or category.")
@click.option("--name", default="学习所得规则", show_default=True)
@click.option("--create-units", is_flag=True, help="Create a department for unknown labels.")
@click.option("--corrections", "with_corrections", is_flag=True,
              help="Also learn from operators' re-dispatches (routing corrections).")  # fmt: skip
def learn_ruleset(file: Path, text_cols: str, label_col: str, name: str, create_units: bool,
                  with_corrections: bool) -> None:  # fmt: skip
    """Learn a draft ruleset of weighted keywords per label from labelled history."""
    from ..services.actors import Actor
    from ..services.router_cache import RouterCache
    from ..services.training import learn_draft, save_draft, training_set

    texts, labels = _rows(file, text_cols, label_col, progress=True)
    with transaction() as session:
        active = RouterCache(refresh_seconds=0).active(session)
        training = training_set(session, texts, labels,
                                base=active.router.ruleset if active else None,
                                with_corrections=with_corrections,
                                create_units=create_units)  # fmt: skip
    with Progress() as progress:  # seconds of jieba: outside any transaction
        ruleset = _learn_with_progress(learn_draft, training, name, progress.update)
    with transaction() as session:
        record = save_draft(session, training, ruleset, actor=Actor(None, "命令行"), now=_now())
        summary = (
            f"已生成草稿规则集 {record.id}（{record.name} v{record.version}）："
            f"{len(training.texts)} 行，{len(ruleset.rules)} 个标签，"
            f"{sum(len(r.keywords) for r in ruleset.rules)} 个关键词"
        )
    click.echo(summary)
    if training.unknown:
        click.echo(
            "这些标签没有对应的类别或单位，按它们分出的工单将进入人工派单"
            f"（可用 --create-units 建立单位）：{'、'.join(training.unknown)}",
            err=True,
        )


def _compiled(ref: str | None) -> Any:
    """Ruleset REF (id, name, or the active one) compiled for routing."""
    from ..services.router_cache import RouterCache
    from ..services.rulesets import find_ruleset

    with transaction() as session:
        return RouterCache(refresh_seconds=0).compiled(session, find_ruleset(session, ref))


@routing_group.command("evaluate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--text", "text_cols", required=True)
@click.option("--label", "label_col", required=True)
@click.option("--ruleset", "ref", help="Ruleset id or name (default: the active one).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
def evaluate_ruleset(file: Path, text_cols: str, label_col: str, ref: str | None,
                     as_json: bool) -> None:  # fmt: skip
    """Accuracy, macro-F1, per-label scores, confusion matrix and throughput."""
    from ..services.evaluation import evaluate_ruleset

    texts, labels = _rows(file, text_cols, label_col)
    compiled = _compiled(ref)
    report = evaluate_ruleset(compiled, list(zip(texts, labels, strict=True)))
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
        return
    click.echo(f"规则集 {compiled.name} v{compiled.version}，{report.n} 行")
    click.echo(f"准确率 {report.accuracy:.3f}   宏平均 F1 {report.macro_f1:.3f}")
    click.echo(
        f"自动派单比例 {report.coverage:.1%}（置信度达到阈值），"
        f"其中正确 {report.confident_accuracy:.1%}"
    )
    click.echo(f"速度 {report.tickets_per_second:,.0f} 件/秒\n")
    click.echo(f"{'标签':<16}{'精确率':>8}{'召回率':>8}{'F1':>8}{'样本':>6}")
    for label, scores in report.per_label.items():
        click.echo(
            f"{label:<16}{scores['precision']:>8.3f}{scores['recall']:>8.3f}"
            f"{scores['f1']:>8.3f}{int(scores['support']):>6}"
        )
    click.echo("\n混淆矩阵（行：实际，列：预测）")
    columns = sorted({p for row in report.confusion.values() for p in row})
    click.echo("\t".join(["", *columns]))
    for gold, row in report.confusion.items():
        click.echo("\t".join([gold, *(str(row.get(c, 0)) for c in columns)]))


def _decision_json(compiled: Any, decision: Any) -> dict[str, Any]:
    city = compiled.city
    category = city.categories.get(decision.category or "")
    best = decision.candidates[0] if decision.candidates else None
    return {
        "label": decision.label,
        "category": decision.category,
        "category_name": category.name if category else None,
        "lead_unit": decision.lead_unit,
        "lead_unit_name": city.unit_name(decision.lead_unit),
        "co_units": list(decision.co_units),
        "territorial_unit": decision.territorial_unit,
        "territorial_unit_name": city.unit_name(decision.territorial_unit),
        "territorial_path": list(decision.territorial_path),
        "confidence": decision.confidence,
        "confident": decision.confident,
        "reason": decision.reason,
        "best_candidate": best.label if best else None,
        "matched": [
            {"term": m.term, "weight": m.weight, "count": m.count}
            for m in (best.matches if best else ())
        ],
        "places": [{"name": p.name, "unit": p.unit, "source": p.source} for p in decision.places],
    }


@routing_group.command("classify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--text", "text_cols", required=True)
@click.option("--place", "place_col", help="Column with the address, if any.")
@click.option("--ruleset", "ref")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path))
def classify_file(file: Path, text_cols: str, place_col: str | None, ref: str | None,
                  out: Path | None) -> None:  # fmt: skip
    """One JSON line per row with the routing decision."""
    from ..importers.tables import TableError, column_text, read_rows

    try:
        rows = read_rows(file)
    except TableError as exc:
        raise click.ClickException(str(exc)) from exc
    columns = [c.strip() for c in text_cols.split(",") if c.strip()]
    compiled = _compiled(ref)
    stream = out.open("w", encoding="utf-8") if out else sys.stdout
    try:
        for number, row in enumerate(rows, start=1):
            decision = compiled.router.route(
                column_text(row, columns), place=row.get(place_col, "") if place_col else ""
            )
            line = {"row": number, **_decision_json(compiled, decision)}
            stream.write(json.dumps(line, ensure_ascii=False) + "\n")
    finally:
        if out:
            stream.close()
            click.echo(f"已写入 {out}（{len(rows)} 行）", err=True)


@routing_group.command("explain")
@click.argument("text")
@click.option("--place", default="", help="Address text.")
@click.option("--ruleset", "ref")
def explain(text: str, place: str, ref: str | None) -> None:
    """Route one text and say why."""

    compiled = _compiled(ref)
    decision = compiled.router.route(text, place=place)
    city = compiled.city
    click.echo(f"规则集：{compiled.name} v{compiled.version}（阈值 {decision.threshold:.2f}）")
    click.echo(f"结论：{decision.reason}")
    if decision.confident:
        co = "、".join(filter(None, (city.unit_name(c) for c in decision.co_units)))
        click.echo(f"主办：{city.unit_name(decision.lead_unit)}" + (f"；协办：{co}" if co else ""))
    if decision.territorial_unit:
        path = " → ".join(filter(None, (city.unit_name(c) for c in decision.territorial_path)))
        click.echo(f"属地：{path}")
    for place_match in decision.places:
        click.echo(
            f"  地名“{place_match.name}” → {city.unit_name(place_match.unit)}"
            f"（{place_match.source}）"
        )
    click.echo("候选：")
    for candidate in decision.candidates:
        click.echo(f"  {candidate.label}  得分 {candidate.score:.3f}")
        for match in candidate.matches[:8]:
            click.echo(
                f"    “{match.term}” 权重 {match.weight:+.2f} × {match.count} 次"
                f" → {match.contribution:+.3f}"
            )


@routing_group.command("corrections")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def export_corrections(out: Path) -> None:
    """Operators' re-dispatches as training rows (CSV: text,label,…)."""
    from sqlalchemy import select

    from ..exports import write_csv
    from ..models import RoutingCorrection, Ticket

    with transaction() as session:
        rows = session.execute(
            select(RoutingCorrection, Ticket.number)
            .join(Ticket, Ticket.id == RoutingCorrection.ticket_id)
            .order_by(RoutingCorrection.id)
        ).all()
        header = ["text", "label", "category", "lead_unit", "predicted", "ticket", "at"]
        lines = ([c.text, c.category or c.lead_unit, c.category or "", c.lead_unit,
                  c.predicted_label or "", number, c.created_at.isoformat()]
                 for c, number in rows)  # fmt: skip
        with out.open("w", encoding="utf-8", newline="") as handle:
            write_csv(handle, [header, *lines])
    click.echo(f"已写入 {out}（{len(rows)} 行）")


# ---------------------------------------------------------------- the gazetteer as a file


@routing_group.group("places")
def places_group() -> None:
    """A ruleset's gazetteer as a CSV/XLSX file: import it as a new draft version, export it."""


@places_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--ruleset", "ref", help="Base ruleset id or name (default: the active one).")
@click.option("--merge", is_flag=True, help="Keep the base's places; rows replace same names.")
@click.option("--dry-run", is_flag=True, help="Check the file only; save nothing.")
def import_places_file(file: Path, ref: str | None, merge: bool, dry_run: bool) -> None:
    """Import gazetteer FILE (columns 地名/name, 别名/aliases, 单位代码/unit, 纬度/lat,
    经度/lng) as a new draft version of the ruleset; activate it like any draft."""
    from routing.gazetteer_file import not_a_table

    from ..errors import ValidationFailed
    from ..importers.reader import open_table
    from ..services.actors import Actor
    from ..services.rulesets import import_places

    with file.open("rb") as handle:
        wrong_kind = not_a_table(handle.read(16))
    if wrong_kind:
        raise click.ClickException(wrong_kind)
    with transaction() as session:
        try:
            with open_table(file) as table:
                result = import_places(session, table.header, table.rows, now=_now(),
                                       actor=Actor(None, "命令行"), ref=ref, merge=merge,
                                       dry_run=dry_run, filename=file.name)  # fmt: skip
        except ValidationFailed as exc:
            lines = [m for messages in exc.errors.values() for m in messages][:50]
            raise click.ClickException("\n".join(["地名库未导入，未作任何保存：", *lines])) from exc
        base = f"{result.base.name} v{result.base.version}"
        counts = result.counts()
        if result.record is None:
            summary = f"检查通过，未保存（--dry-run）：基于 {base}，{counts}"
        else:
            record = result.record
            summary = (f"已生成草稿规则集 {record.id}（{record.name} v{record.version}，"
                       f"基于 {base}）：{counts}；"
                       f"启用：hotline routing activate {record.id}")  # fmt: skip
    click.echo(summary)


@places_group.command("export")
@click.option("--ruleset", "ref", help="Ruleset id or name (default: the active one).")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="A .csv (UTF-8 with BOM) or .xlsx file.")  # fmt: skip
def export_places_file(ref: str | None, out: Path) -> None:
    """Write a ruleset's gazetteer in the columns ``places import`` reads."""
    from ..exports import write_csv, write_xlsx
    from ..services.rulesets import find_ruleset, places_rows

    suffix = out.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise click.UsageError("--out 应为 .csv 或 .xlsx 文件")
    with transaction() as session:
        record = find_ruleset(session, ref)
        rows = list(places_rows(record))
        label = f"{record.name} v{record.version}"
    if suffix == ".xlsx":
        with out.open("wb") as handle:
            count = write_xlsx(handle, rows, sheet="地名库", widths=(24, 32, 26, 12, 12))
    else:
        with out.open("w", encoding="utf-8", newline="") as handle:
            count = write_csv(handle, rows)
    click.echo(f"已写入 {out}（{label}，{count:,} 个地名）")


# ---------------------------------------------------------------- the learning loop, now


@routing_group.command("relearn")
@click.option("--history", "history_file", type=click.Path(exists=True, dir_okay=False,
              path_type=Path), help="Labelled base history (text,label columns); default: "
              "HOTLINE_ROUTING_HISTORY.")  # fmt: skip
def relearn_from_tickets(history_file: Path | None) -> None:
    """The weekly learning, now: a draft from the city's settled tickets, returns and
    operators' corrections (plus the base history), shadow-evaluated against the active
    ruleset and announced to the admins. Never activated."""
    from ..background.learning import run_learning
    from ..services.actors import Actor
    from ..services.relearn import request_learning
    from .support import opened

    with opened() as (settings, database):
        with database.transaction() as session:
            found = request_learning(session, actor=Actor(None, "命令行"), now=_now())
        if found != "queued":
            raise click.ClickException("学习已在进行中或已在排队，请稍后再试")
        outcome = run_learning(settings, database, now=_now(), history_file=history_file)
    if outcome["status"] == "no_data":
        raise click.ClickException(f"未生成草稿：{outcome['detail']}")
    if outcome["status"] != "learned":
        raise click.ClickException("学习已在进行中，请稍后再试")
    ruleset_id = outcome["ruleset_id"]
    click.echo(f"已生成草稿规则集 {ruleset_id}（{outcome['label']}），影子评估见管理后台的"
               f"草稿页；启用：hotline routing activate {ruleset_id}")  # fmt: skip
