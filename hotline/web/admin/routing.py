"""分派规则: try a text (naming the units it would go to), the ruleset versions, learning a
draft from a labelled file and operators' corrections, a version's page (edit a draft,
compare it with the active one on the same labelled file, activate).

Learning runs within the request (cutting words and fitting take seconds: about 5 s for
8,340 rows of 7 labels here), so the page takes files up to ``LEARN_WORK`` rows × labels and
points larger ones to ``hotline routing learn``; nothing is held open while it learns.
"""

from __future__ import annotations

import io
import logging
import tempfile
from pathlib import Path
from typing import Any

from flask import Response, flash, redirect, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from routing.gazetteer_file import not_a_table
from routing.rules import RulesetError, dump_yaml, from_dict

from ...domain.states import Role
from ...errors import HotlineError
from ...exports import csv_text, write_xlsx
from ...extensions import hotline
from ...importers.reader import open_table
from ...importers.tables import TableError, column_text, read_rows
from ...models import RulesetRecord
from ...request import ADMIN_FILE_BYTES, received_bytes
from ...services.evaluation import Comparison, compare_rulesets
from ...services.router_cache import Compiled
from ...services.rulesets import (
    activate,
    copy_as_draft,
    get_ruleset,
    import_places,
    parse_ruleset_text,
    places_rows,
    ruleset_problem,
    update_draft,
)
from ...services.training import count_corrections, learn_draft, save_draft, training_set
from ..staff import current_actor, staff_only
from . import bp, page

# Rows × labels the page learns within one request (~15 s here); above it, the CLI.
LEARN_WORK = 150_000
LEARN_ROWS = 25_000
EVALUATE_ROWS = 20_000
# Without an evaluation file, every fifth row of the learning file is kept back for it.
HOLD_OUT_EVERY = 5
HOLD_OUT_MIN_ROWS = 50
TEXT_COLUMNS = ("text", "诉求内容", "问题描述", "内容", "content", "留言详情")
TITLE_COLUMNS = ("title", "工单标题", "标题", "留言主题")
LABEL_COLUMNS = ("label", "标签", "类别", "分类", "诉求类型", "一级分类", "承办单位")
STATUS_NAMES = {"draft": "草稿", "active": "生效中", "archived": "已归档"}
SOURCE_NAMES = {"seed": "内置", "import": "导入", "learn": "学习", "copy": "复制", "api": "接口",
                "places": "地名库导入"}  # fmt: skip


log = logging.getLogger(__name__)


class PageProblem(Exception):
    """Something about the upload the page says next to the form (422)."""


# ---------------------------------------------------------------- trying a text


def trial(compiled: Compiled, text: str, place: str) -> dict[str, Any]:
    """Routing's decision on a text, with the names of the units it would dispatch to."""
    city = compiled.city
    decision = compiled.router.route(text, place=place)
    data = decision.to_dict()
    category = city.categories.get(decision.category or "")
    data["category_name"] = category.name if category else None
    data["lead_unit_name"] = city.unit_name(decision.lead_unit)
    data["co_unit_names"] = [city.unit_name(c) or c for c in decision.co_units]
    data["territorial_names"] = [city.unit_name(c) or c for c in decision.territorial_path]
    for candidate in data["candidates"]:
        candidate["lead_unit_name"] = city.unit_name(candidate["lead_unit"])
        found = city.categories.get(candidate["category"] or "")
        candidate["category_name"] = found.name if found else None
    data["ruleset_label"] = f"{compiled.name} v{compiled.version}"
    return data


def _trial_args() -> tuple[str, str]:
    return request.args.get("text", "")[:2000], request.args.get("place", "")[:200]


# ---------------------------------------------------------------- the routing page


def _routing_page(session: Session, *, message: str | None = None,
                  form: dict[str, Any] | None = None,
                  places: dict[str, Any] | None = None) -> str:  # fmt: skip
    app = hotline()
    text, place = _trial_args()
    rulesets = list(session.scalars(select(RulesetRecord).order_by(RulesetRecord.id.desc())
                                    .limit(30)))  # fmt: skip
    decision = None
    if text.strip():
        compiled = app.routers.active(session)
        decision = trial(compiled, text, place) if compiled else None
    return page("routing.html", rulesets=rulesets, text=text, place=place, decision=decision,
                corrections=count_corrections(session), message=message, form=form or {},
                statuses=STATUS_NAMES, sources=SOURCE_NAMES, learn_work=LEARN_WORK,
                places=_places_form(rulesets, places),
                learning=_learning_panel(session))  # fmt: skip


@bp.get("/console/admin/routing")
@staff_only(Role.ADMIN)
def admin_routing() -> str:
    with hotline().db.transaction() as session:
        return _routing_page(session)


@bp.post("/console/admin/routing/<int:ruleset_id>/activate")
@staff_only(Role.ADMIN)
def admin_activate_ruleset(ruleset_id: int) -> Any:
    app = hotline()
    back = url_for("admin.admin_routing")
    if request.form.get("back") == "ruleset":
        back = url_for("admin.admin_ruleset", ruleset_id=ruleset_id)
    with app.db.transaction() as session:
        try:
            with session.begin_nested():
                record = get_ruleset(session, ruleset_id)
                activate(session, record, now=app.now(), actor=current_actor())
                label = f"{record.name} v{record.version}"
        except HotlineError as exc:
            flash(f"未启用：{exc.detail}", "error")
            return redirect(back, code=303)
    app.routers.forget_active()
    flash(f"已启用规则集 {label}；新工单从现在起按它分派", "success")
    return redirect(back, code=303)


# ---------------------------------------------------------------- labelled files


def _labelled(upload: Any, text_columns: str, label_column: str,
              limit: int) -> tuple[list[str], list[str]]:  # fmt: skip
    """(texts, labels) of an uploaded CSV/XLSX/JSONL; columns named, or found by usual names."""
    if upload is None or not upload.filename:
        raise PageProblem("请选择带标签的样本文件（CSV、XLSX 或 JSONL）")
    if received_bytes(upload) > ADMIN_FILE_BYTES:
        raise PageProblem(f"文件不能超过 {ADMIN_FILE_BYTES // (1024 * 1024)} MB")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("sample" + Path(upload.filename).suffix.lower()[:6])
        upload.save(path)
        try:
            rows = read_rows(path)
        except TableError as exc:
            raise PageProblem(str(exc)) from exc
    if not rows:
        raise PageProblem("文件中没有数据行")
    header = list(rows[0])
    wanted = [c.strip() for c in text_columns.replace("，", ",").split(",") if c.strip()]
    if wanted:
        columns = wanted
    else:
        body = next((c for c in TEXT_COLUMNS if c in header), None)
        title = next((c for c in TITLE_COLUMNS if c in header), None)
        columns = [c for c in (title, body) if c]
    label = label_column.strip() or next((c for c in LABEL_COLUMNS if c in header), "")
    missing = [c for c in [*columns, label] if c and c not in header]
    if missing or not columns or not label:
        raise PageProblem(
            (f"文件中没有这些列：{'、'.join(missing)}" if missing else "没有找到文本列或标签列")
            + f"（现有列：{'、'.join(header)}）；请在“文本列”“标签列”中填写列名"
        )
    pairs = [(column_text(row, columns), (row.get(label) or "").strip()) for row in rows]
    pairs = [(t, g) for t, g in pairs if t.strip() and g]
    if not pairs:
        raise PageProblem("文件中没有同时有文本和标签的行")
    if len(pairs) > limit:
        raise PageProblem(f"文件有 {len(pairs):,} 行，网页一次最多处理 {limit:,} 行；"
                          "更大的文件请用命令行 hotline routing learn / evaluate")  # fmt: skip
    return [t for t, _ in pairs], [g for _, g in pairs]


Rows = tuple[list[str], list[str]]


def _columns(pairs: list[tuple[str, str]]) -> Rows:
    return [t for t, _ in pairs], [g for _, g in pairs]


def _hold_out(texts: list[str], labels: list[str]) -> tuple[Rows, Rows]:
    """(rows to learn from, rows kept back to evaluate on): every fifth row is kept back,
    so a file sorted by label still leaves each label on both sides."""
    pairs = list(zip(texts, labels, strict=True))
    last = HOLD_OUT_EVERY - 1
    return (_columns([p for i, p in enumerate(pairs) if i % HOLD_OUT_EVERY != last]),
            _columns([p for i, p in enumerate(pairs) if i % HOLD_OUT_EVERY == last]))  # fmt: skip


# ---------------------------------------------------------------- one version's page


def _ruleset_page(session: Session, ruleset_id: int, *, text: str | None = None,
                  errors: list[str] | None = None, message: str | None = None,
                  comparison: Comparison | None = None, compared_on: str | None = None,
                  learned: dict[str, Any] | None = None,
                  places: dict[str, Any] | None = None) -> str:  # fmt: skip
    app = hotline()
    record = get_ruleset(session, ruleset_id)
    trial_text, place = _trial_args()
    decision = None
    compiled = app.routers.compiled(session, record)
    if trial_text.strip():
        decision = trial(compiled, trial_text, place)
    active = app.routers.active(session)
    rules = compiled.router.ruleset.rules
    return page("ruleset.html", record=record,
                text=text if text is not None else _editor_yaml(record),
                errors=errors or [], message=message, trial_text=trial_text, place=place,
                decision=decision, comparison=comparison, compared_on=compared_on,
                learned=learned, statuses=STATUS_NAMES, sources=SOURCE_NAMES,
                active_label=f"{active.name} v{active.version}" if active else None,
                rule_count=len(rules),
                keyword_count=sum(len(r.keywords) for r in rules),
                places=_places_form([record], places),
                place_count=len(compiled.router.ruleset.places),
                calibration=compiled.router.ruleset.calibration,
                record_threshold=compiled.router.ruleset.threshold,
                common_count=len(compiled.router.ruleset.common_terms))  # fmt: skip


@bp.get("/console/admin/routing/<int:ruleset_id>")
@staff_only(Role.ADMIN)
def admin_ruleset(ruleset_id: int) -> str:
    with hotline().db.transaction() as session:
        return _ruleset_page(session, ruleset_id)


@bp.post("/console/admin/routing/<int:ruleset_id>")
@staff_only(Role.ADMIN)
def admin_edit_ruleset(ruleset_id: int) -> Any:
    """Save a draft's YAML, or copy a version into a new draft."""
    app = hotline()
    with app.db.transaction() as session:
        record = get_ruleset(session, ruleset_id)
        if request.form.get("copy") == "1":
            draft = copy_as_draft(session, record, now=app.now(), actor=current_actor())
            target = draft.id
        else:
            text = request.form.get("yaml", "")
            try:
                with session.begin_nested():
                    try:
                        data = parse_ruleset_text(text, "yaml")
                    except RulesetError as exc:
                        raise ruleset_problem(exc) from exc
                    update_draft(session, record, _kept_places(record, data), now=app.now())
            except HotlineError as exc:
                problems = [m for ms in (exc.errors or {}).values() for m in ms] or [exc.detail]
                return _ruleset_page(session, ruleset_id, text=text, errors=problems,
                                     message=exc.detail), exc.status  # fmt: skip
            target = ruleset_id
    flash("已复制为新草稿" if request.form.get("copy") == "1" else "草稿已保存", "success")
    return redirect(url_for("admin.admin_ruleset", ruleset_id=target), code=303)


@bp.post("/console/admin/routing/<int:ruleset_id>/evaluate")
@staff_only(Role.ADMIN)
def admin_evaluate_ruleset(ruleset_id: int) -> Any:
    """This version next to the active one on an uploaded labelled file."""
    app = hotline()
    form = request.form
    try:
        rows = _labelled(request.files.get("file"), form.get("text_columns", ""),
                         form.get("label_column", ""), EVALUATE_ROWS)  # fmt: skip
    except PageProblem as exc:
        with app.db.transaction() as session:
            return _ruleset_page(session, ruleset_id, message=str(exc)), 422
    with app.db.transaction() as session:
        candidate = app.routers.compiled(session, get_ruleset(session, ruleset_id))
        active = app.routers.active(session)
    comparison = compare_rulesets(candidate, active, list(zip(*rows, strict=True)))
    name = request.files["file"].filename or "样本"
    with app.db.transaction() as session:
        return _ruleset_page(session, ruleset_id, comparison=comparison,
                             compared_on=f"上传的文件 {name}（{len(rows[0])} 行）")  # fmt: skip


@bp.post("/console/admin/routing/learn")
@staff_only(Role.ADMIN)
def admin_learn_ruleset() -> Any:
    """A draft learned from a labelled file (and, if asked, operators' corrections), shown
    next to the active ruleset on an evaluation file or on rows kept back from the file."""
    app = hotline()
    form = request.form
    name = (form.get("name") or "").strip()[:100] or "学习所得规则"
    with_corrections = form.get("corrections") == "1"
    try:
        texts, labels = _labelled(request.files.get("file"), form.get("text_columns", ""),
                                  form.get("label_column", ""), LEARN_ROWS)  # fmt: skip
        evaluation_file = request.files.get("evaluation")
        if evaluation_file is not None and evaluation_file.filename:
            held = _labelled(evaluation_file, form.get("text_columns", ""),
                             form.get("label_column", ""), EVALUATE_ROWS)  # fmt: skip
            compared_on = f"评估文件 {evaluation_file.filename}（{len(held[0])} 行）"
        elif len(texts) >= HOLD_OUT_MIN_ROWS:
            (texts, labels), held = _hold_out(texts, labels)
            compared_on = (f"学习文件中留出的 {len(held[0])} 行"
                           f"（每 {HOLD_OUT_EVERY} 行取 1 行，未用于学习）")  # fmt: skip
        else:
            held, compared_on = ([], []), None
    except PageProblem as exc:
        with app.db.transaction() as session:
            return _routing_page(session, message=str(exc), form=form), 422
    with app.db.transaction() as session:
        active = app.routers.active(session)
        try:
            training = training_set(session, texts, labels,
                                    base=active.router.ruleset if active else None,
                                    with_corrections=with_corrections)  # fmt: skip
        except HotlineError as exc:
            return _routing_page(session, message=exc.detail, form=form), exc.status
        work = len(training.texts) * len(set(training.labels))
        if work > LEARN_WORK:
            message = (f"{len(training.texts):,} 行 × {len(set(training.labels))} 个标签，"
                       "在网页中学习会超过半分钟；请减少行数，"
                       "或用命令行 hotline routing learn")  # fmt: skip
            return _routing_page(session, message=message, form=form), 422
    ruleset = learn_draft(training, name=name)  # seconds: no transaction is open
    with app.db.transaction() as session:
        try:
            with session.begin_nested():
                record = save_draft(session, training, ruleset, actor=current_actor(),
                                    now=app.now())  # fmt: skip
        except HotlineError as exc:
            return _routing_page(session, message=exc.detail, form=form), exc.status
        draft_id = record.id
        candidate = app.routers.compiled(session, record)
    comparison = None
    if held[0]:
        comparison = compare_rulesets(candidate, active, list(zip(*held, strict=True)))
    learned = {"rows": training.from_file, "corrections": training.from_corrections,
               "labels": len(set(training.labels)), "unknown": training.unknown}  # fmt: skip
    with app.db.transaction() as session:
        return _ruleset_page(session, draft_id, comparison=comparison, compared_on=compared_on,
                             learned=learned)  # fmt: skip


# ---------------------------------------------------------------- the gazetteer as a file

PLACES_PROBLEMS_SHOWN = 20


def _places_form(rulesets: list[RulesetRecord], state: dict[str, Any] | None) -> dict[str, Any]:
    """The gazetteer upload form's state: the problems of the last attempt, the fields as
    they were sent, and the base version chosen by default (the active one)."""
    state = dict(state or {})
    active = next((r.id for r in rulesets if r.status == "active"), None)
    state.setdefault("base", str(active or (rulesets[0].id if rulesets else "")))
    state.setdefault("problems", [])
    state["editor_limit"] = PLACES_IN_EDITOR
    state["counts"] = {r.id: len(r.data.get("places") or []) for r in rulesets}
    return state


@bp.post("/console/admin/routing/places")
@staff_only(Role.ADMIN)
def admin_import_places() -> Any:
    """A gazetteer file → a new draft version of the chosen ruleset, with its places
    replaced (or merged); all or nothing, the active ruleset untouched until activation."""
    app = hotline()
    form = request.form
    base, back = (form.get("ruleset") or "").strip(), form.get("back")
    merge, dry_run = form.get("merge") == "1", form.get("dry_run") == "1"
    state: dict[str, Any] = {"base": base, "merge": merge, "dry_run": dry_run}
    upload = request.files.get("file")

    def refused(problems: list[str], status: int = 422, session: Session | None = None) -> Any:
        if session is None:
            with app.db.transaction() as session:
                return refused(problems, status, session)
        state["problems"] = problems
        if back == "ruleset" and base.isdigit():
            return _ruleset_page(session, int(base), places=state), status
        return _routing_page(session, places=state), status

    if not base.isdigit():
        return refused(["请选择以哪个规则集版本为基础"])
    if upload is None or not upload.filename:
        return refused(["请选择地名库文件（CSV 或 XLSX）"])
    if received_bytes(upload) > ADMIN_FILE_BYTES:
        return refused([f"文件不能超过 {ADMIN_FILE_BYTES // (1024 * 1024)} MB"])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("places" + Path(upload.filename).suffix.lower()[:6])
        upload.save(path)
        with path.open("rb") as handle:
            wrong_kind = not_a_table(handle.read(16))
        if wrong_kind:
            return refused([wrong_kind])
        with app.db.transaction() as session:
            try:
                with session.begin_nested(), open_table(path) as table:
                    result = import_places(session, table.header, table.rows, now=app.now(),
                                           actor=current_actor(), ref=base, merge=merge,
                                           dry_run=dry_run, filename=upload.filename)  # fmt: skip
            except TableError as exc:
                reason = str(exc).replace("，可用 --encoding 指定", "")  # a command-line hint
                return refused([f"无法读取文件：{reason}"], session=session)
            except HotlineError as exc:
                problems = [m for ms in (exc.errors or {}).values() for m in ms] or [exc.detail]
                more = len(problems) - PLACES_PROBLEMS_SHOWN
                shown = problems[:PLACES_PROBLEMS_SHOWN]
                return refused(shown + ([f"……还有 {more} 处问题"] if more > 0 else []),
                               exc.status, session)  # fmt: skip
            counts = result.counts()
            if result.record is None:
                flash(f"检查通过，未保存：{counts}", "success")
                target = result.base.id
            else:
                flash(f"已生成草稿 {result.record.name} v{result.record.version}：{counts}。"
                      "请试分派几条带地址的诉求，确认后启用", "success")  # fmt: skip
                target = result.record.id
    return redirect(url_for("admin.admin_ruleset", ruleset_id=target), code=303)


@bp.get("/console/admin/routing/<int:ruleset_id>/places.<any(csv, xlsx):fmt>")
@staff_only(Role.ADMIN)
def admin_export_places(ruleset_id: int, fmt: str) -> Response:
    """A version's gazetteer in the columns the upload reads."""
    with hotline().db.transaction() as session:
        record = get_ruleset(session, ruleset_id)
        rows = list(places_rows(record))
        filename = f"places-{record.id}-v{record.version}.{fmt}"
    out = io.BytesIO()
    if fmt == "xlsx":
        write_xlsx(out, rows, sheet="地名库", widths=(24, 32, 26, 12, 12))
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        out.write(csv_text(rows).encode("utf-8"))
        mimetype = "text/csv; charset=utf-8"
    disposition = f'attachment; filename="{filename}"'
    return Response(out.getvalue(), mimetype=mimetype,
                    headers={"Content-Disposition": disposition})  # fmt: skip


# ---------------------------------------------------------------- the learning loop
# (立即学习新草稿: the weekly job, started now; its drafts' shadow evaluation is shown on
# their ruleset page from ``record.evaluation``.)

LEARNING_MESSAGES = {
    "running": ("info", "学习正在进行中，请稍候；完成后会在收件箱通知您。"),
    "pending": ("info", "已在排队学习新草稿，无需重复点击；完成后会在收件箱通知您。"),
    "queued": ("success", "已开始学习新草稿，通常需要几十秒到几分钟；完成后会在收件箱通知您。"),
}


def _learning_panel(session: Session) -> dict[str, Any]:
    """The weekly learning's state for the routing page: running or asked for, the last
    run's result and the newest learned drafts."""
    from ...services.relearn import learned_drafts, learning_state

    state = learning_state(session, now=hotline().now())
    return {"running": state.running, "pending": state.pending, "last": state.last_result(),
            "drafts": learned_drafts(session, limit=3)}  # fmt: skip


@bp.post("/console/admin/routing/relearn")
@staff_only(Role.ADMIN)
def admin_relearn() -> Any:
    """立即学习新草稿: the weekly learning, now. With Redis a worker runs it; without, this
    request does (as the learning form does). A second click while it is asked for or
    running starts nothing."""
    from ...background.learning import request_and_start

    app = hotline()
    try:
        found, outcome = request_and_start(app.settings, app.db, actor=current_actor(),
                                           now=app.now())  # fmt: skip
    except Exception:
        log.exception("learning a routing draft failed")
        flash("学习新草稿失败，请稍后重试；如仍失败，请联系系统维护人员。", "error")
        return redirect(url_for("admin.admin_routing"), code=303)
    if outcome is None or outcome.get("status") == "skipped":
        category, message = LEARNING_MESSAGES["running" if outcome else found]
        flash(message, category)
        return redirect(url_for("admin.admin_routing") + "#learning", code=303)
    if outcome["status"] == "no_data":
        flash(f"未生成草稿：{outcome['detail']}", "error")
        return redirect(url_for("admin.admin_routing") + "#learning", code=303)
    flash(f"已生成草稿 {outcome['label']}：下面是它与生效中规则的影子评估和各类别的变化，"
          "确认更好后再启用（不会自动启用）。", "success")  # fmt: skip
    return redirect(url_for("admin.admin_ruleset", ruleset_id=outcome["ruleset_id"])
                    + "#shadow", code=303)  # fmt: skip


# A city's gazetteer (thousands of places) stays out of the YAML editor: YAML of 10,000
# places takes seconds to write and to read back, and the file upload is how they change.
PLACES_IN_EDITOR = 300


def _editor_yaml(record: RulesetRecord) -> str:
    data = record.data
    if len(data.get("places") or []) > PLACES_IN_EDITOR:
        data = {**data, "places": []}
    return dump_yaml(from_dict(data))


def _kept_places(record: RulesetRecord, data: dict[str, Any]) -> dict[str, Any]:
    """The edited YAML with the version's places put back when the editor left them out."""
    if not data.get("places") and len(record.data.get("places") or []) > PLACES_IN_EDITOR:
        return {**data, "places": record.data["places"]}
    return data
