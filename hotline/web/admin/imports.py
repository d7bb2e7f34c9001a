"""12345 导入: upload a call-centre export, choose the column layout (a preset or a mapping
file), see the dry run (columns found, counts, first refused rows), start it, watch its
progress, cancel it, download the refused rows. The same batches as ``/api/v1/imports`` and
``hotline import``; a live import (orders to handle now) or a history one (``--history``:
handled orders as they were, no dispatch, no notices) is chosen on the upload form.

The upload waits in ``HOTLINE_IMPORT_DIR/staged`` under a random name between the dry run
and the start (no batch exists yet, so the scheduler cannot pick it up); abandoned ones are
removed a day later. Small files import within the start request, larger ones in the
background (RQ, or ``hotline scheduler`` without Redis) while the batch page follows them.
"""

from __future__ import annotations

import io
import logging
import re
import shutil
import time
import unicodedata
import uuid
from pathlib import Path
from typing import Any

import yaml
from flask import (
    Response,
    abort,
    after_this_request,
    flash,
    jsonify,
    redirect,
    request,
    url_for,
)
from sqlalchemy import select

from ...domain.states import Role
from ...extensions import hotline
from ...importers.batch import (
    ImportRefused,
    Options,
    Runtime,
    cancel,
    check_file,
    claim,
    create_batch,
    dry_run,
    run_batch,
    units_of_work,
)
from ...importers.mapping import PRESET_NOTES, PRESETS, MappingError, mapping_from_file_data
from ...importers.rejected import write_rejected
from ...importers.xlsx import expanded_size
from ...models import ImportBatch, ImportRejection
from ...request import received_bytes
from ...services.import_retention import remove_upload
from ..staff import current_actor, staff_only
from . import bp, page

log = logging.getLogger(__name__)
STAGED_TOKEN = re.compile(r"[0-9a-f]{32}(\.[a-z0-9]{1,8})?")
STAGED_HOURS = 24
MAPPING_BYTES = 64 * 1024
# The dry run reads and checks every row (about 5,000 rows/s here); beyond this many bytes
# (read as the import would: a workbook decompressed) the page shows the columns and the
# row count only, and points to `hotline import --dry-run`.
DRY_RUN_FACTOR = 8  # × HOTLINE_IMPORT_INLINE_BYTES
STATUS_NAMES = {"pending": "等待开始", "queued": "排队中", "running": "导入中", "done": "已完成",
                "failed": "失败", "cancelled": "已取消"}  # fmt: skip
CANCELLING = "取消中"  # asked to stop, still on its current chunk
FINISHED = ("done", "failed", "cancelled")
MODES = {"live": "实时导入", "history": "历史导入"}


class Refused(Exception):
    """The upload or its options cannot be used; the message says why, by field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _runtime() -> Runtime:
    app = hotline()
    return Runtime(prefix=app.settings.ticket_prefix, timezone=app.settings.timezone,
                   now=app.now, routers=app.routers, calendars=app.calendars)  # fmt: skip


def _staging() -> Path:
    folder = Path(hotline().settings.import_dir) / "staged"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _forget_abandoned(folder: Path) -> None:
    """Staged uploads nobody started within a day."""
    cutoff = time.time() - STAGED_HOURS * 3600
    for path in folder.iterdir():
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


def _file_name(raw: str | None) -> str:
    """The name the browser sent, as the batch shows it: its last path part, without
    control characters (some browsers send a whole Windows path)."""
    kept = "".join(ch for ch in raw or "" if unicodedata.category(ch) not in ("Cc", "Cs"))
    return kept.replace("\\", "/").rsplit("/", 1)[-1].strip()[:255]


def _options(form: Any, mapping_text: str) -> Options:
    """The column layout and reading options from the form."""
    source = (form.get("source") or "12345").strip()[:40] or "12345"
    preset = form.get("preset") or None
    if preset is not None and preset not in PRESETS:
        raise Refused("preset", "没有这个列格式预设")
    mapping = None
    if mapping_text.strip():
        try:
            mapping = mapping_from_file_data(yaml.safe_load(mapping_text))
        except (MappingError, yaml.YAMLError) as exc:
            raise Refused("mapping", f"映射文件有误：{exc}") from exc
    encoding = (form.get("encoding") or "").strip()[:20] or None
    sheet = (form.get("sheet") or "").strip()[:100] or None
    mode = form.get("mode") or "live"
    if mode not in MODES:
        raise Refused("mode", "请选择实时导入或历史导入")
    return Options(source=source, preset=None if mapping else preset, mapping=mapping,
                   encoding=encoding, sheet=sheet, history=mode == "history")  # fmt: skip


def _mapping_text() -> str:
    upload = request.files.get("mapping_file")
    if upload is not None and upload.filename:
        raw = upload.read(MAPPING_BYTES + 1)
        if len(raw) > MAPPING_BYTES:
            raise Refused("mapping", "映射文件不能超过 64 KB")
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise Refused("mapping", "映射文件应为 UTF-8 编码的 YAML") from exc
    return request.form.get("mapping", "")[:MAPPING_BYTES]


def _recent() -> list[ImportBatch]:
    with hotline().db.transaction() as session:
        batches = list(session.scalars(select(ImportBatch).order_by(ImportBatch.id.desc())
                                       .limit(20)))  # fmt: skip
        session.expunge_all()
        return batches


def _imports_page(*, errors: dict[str, str] | None = None, form: Any = None) -> str:
    settings = hotline().settings
    return page("imports.html", batches=_recent(), presets=PRESET_NOTES, errors=errors or {},
                form=form or {}, statuses=STATUS_NAMES,
                max_mb=settings.import_max_bytes // (1024 * 1024),
                inline_mb=f"{settings.import_inline_bytes / (1024 * 1024):g}")  # fmt: skip


@bp.get("/console/admin/imports")
@staff_only(Role.ADMIN)
def admin_imports() -> str:
    return _imports_page()


@bp.post("/console/admin/imports")
@staff_only(Role.ADMIN)
def admin_import_upload() -> Any:
    """Stage the upload and show what importing it would do (nothing is written)."""
    app = hotline()
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise Refused("file", "请选择要导入的文件（CSV 或 XLSX）")
        if received_bytes(upload) > app.settings.import_max_bytes:
            limit = app.settings.import_max_bytes // (1024 * 1024)
            raise Refused("file", f"导入文件不能超过 {limit} MB")
        mapping_text = _mapping_text()
        options = _options(request.form, mapping_text)
    except Refused as exc:
        return _imports_page(errors={exc.field: str(exc)}, form=request.form), 422
    folder = _staging()
    _forget_abandoned(folder)
    filename = _file_name(upload.filename)
    suffix = Path(filename).suffix.lower()
    token = uuid.uuid4().hex + (suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else "")
    path = folder / token
    upload.save(path)
    try:
        checked = check_file(path, options, count=True)
        summary = None
        if expanded_size(path) <= DRY_RUN_FACTOR * app.settings.import_inline_bytes:
            summary = dry_run(units_of_work(app.db), path, options, _runtime())
    except ImportRefused as exc:
        path.unlink(missing_ok=True)
        return _imports_page(errors={"file": f"无法导入：{exc}"}, form=request.form), 422
    # Which column was taken for which field (the table), and the notes besides that list.
    fields = checked.binding.taken()
    notes = [n for n in (summary or {}).get("notes", checked.notes) if not n.startswith("列的对应")]
    if options.mapping:
        layout = "映射文件"
    elif options.preset in (None, "auto"):
        layout = "按常见列名自动识别"
    else:
        layout = f"{options.preset}：{PRESET_NOTES.get(options.preset, '')}"
    return page("import_check.html", token=token, filename=filename or "上传的文件",
                options=options, mapping_text=mapping_text, checked=checked, fields=fields,
                notes=notes, summary=summary, form=request.form, preset_name=layout,
                mode_name=MODES[options.mode])  # fmt: skip


def _small(path: Path) -> bool:
    """Imported within the request, like the API's small uploads."""
    limit = hotline().settings.import_inline_bytes
    return path.stat().st_size <= limit and expanded_size(path) <= 8 * limit


@bp.post("/console/admin/imports/start")
@staff_only(Role.ADMIN)
def admin_import_start() -> Any:
    """Turn a staged upload into a batch: imported now if small, else in the background."""
    app = hotline()
    token = request.form.get("token", "")
    staged = _staging() / token
    if not STAGED_TOKEN.fullmatch(token) or not staged.is_file():
        return _imports_page(errors={"file": "上传的文件已过期或已导入，请重新上传"}), 422
    try:
        options = _options(request.form, request.form.get("mapping", "")[:MAPPING_BYTES])
    except Refused as exc:
        return _imports_page(errors={exc.field: str(exc)}), 422
    path = Path(app.settings.import_dir) / token  # where finished uploads are removed from
    shutil.move(staged, path)
    work = units_of_work(app.db)
    filename = _file_name(request.form.get("filename")) or path.name
    try:
        batch_id = create_batch(work, path, options, filename=filename, actor=current_actor(),
                                now=app.now())  # fmt: skip
    except ImportRefused as exc:
        path.unlink(missing_ok=True)
        return _imports_page(errors={"file": f"无法导入：{exc}"}), 422
    if _small(path):
        claim(work, batch_id, app.now())
        if run_batch(work, batch_id, _runtime()) == "done":
            with app.db.transaction() as session:
                remove_upload(session.get(ImportBatch, batch_id), path.parent, app.now())
    elif app.settings.redis_url:
        _hand_on_after_response()
    return redirect(url_for("admin.admin_import_batch", batch_id=batch_id), code=303)


def _hand_on_after_response() -> None:
    """With Redis, enqueue the batch once the answer is sent (without Redis the scheduler
    finds it); if Redis is down, the scheduler's next round hands it on."""
    from ...background.imports import flush_imports

    extension = hotline()

    def quietly() -> None:
        try:
            flush_imports(extension.settings, extension.db)
        except Exception:
            log.warning("import hand-on failed; the scheduler will retry", exc_info=True)

    @after_this_request
    def later(response: Response) -> Response:
        response.call_on_close(quietly)
        return response


def _batch(session: Any, batch_id: int) -> ImportBatch:
    batch = session.get(ImportBatch, batch_id)
    if batch is None:
        abort(404)
    return batch


def _rate(batch: ImportBatch) -> float | None:
    """Rows per second since the batch started (to its end, or now while it runs), as
    ``hotline import`` shows it; None before there is anything to divide."""
    if batch.started_at is None or not batch.rows_done:
        return None
    seconds = ((batch.finished_at or hotline().now()) - batch.started_at).total_seconds()
    return batch.rows_done / seconds if seconds > 0 else None


def _progress(batch: ImportBatch) -> dict[str, Any]:
    finished = batch.status in FINISHED
    cancelling = batch.cancel_requested_at is not None and not finished
    rate = _rate(batch)
    return {
        "id": batch.id,
        "status": batch.status,
        "status_name": CANCELLING if cancelling else STATUS_NAMES.get(batch.status, batch.status),
        "mode": batch.mode,
        "mode_name": MODES.get(batch.mode, batch.mode),
        "rows_done": batch.rows_done,
        "total_rows": batch.total_rows,
        "rate": round(rate, 1) if rate is not None else None,
        "rate_text": f"{rate:,.0f}" if rate is not None else "—",
        "created": batch.created,
        "updated": batch.updated,
        "unchanged": batch.unchanged,
        "rejected": batch.rejected,
        "closed": batch.closed,
        "still_open": batch.created - batch.closed,
        "cancelling": cancelling,
        "finished": finished,
    }


@bp.get("/console/admin/imports/<int:batch_id>")
@staff_only(Role.ADMIN)
def admin_import_batch(batch_id: int) -> str:
    with hotline().db.transaction() as session:
        batch = _batch(session, batch_id)
        rejections = list(session.scalars(
            select(ImportRejection).where(ImportRejection.batch_id == batch.id)
            .order_by(ImportRejection.row_number).limit(50)
        ))  # fmt: skip
        return page("import_batch.html", batch=batch, rejections=rejections,
                    progress=_progress(batch), statuses=STATUS_NAMES,
                    background=bool(hotline().settings.redis_url))  # fmt: skip


@bp.get("/console/admin/imports/<int:batch_id>/progress")
@staff_only(Role.ADMIN)
def admin_import_progress(batch_id: int) -> Response:
    """What the batch page's script polls (rows done / total and the counts)."""
    with hotline().db.transaction() as session:
        response = jsonify(_progress(_batch(session, batch_id)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/console/admin/imports/<int:batch_id>/cancel")
@staff_only(Role.ADMIN)
def admin_import_cancel(batch_id: int) -> Response:
    """Stop a batch: a waiting one at once, a running one after its current chunk; the rows
    already imported stay. A batch that has ended says so (no error page)."""
    app = hotline()
    with app.db.transaction() as session:
        batch = _batch(session, batch_id)
        status = batch.status
        if status not in FINISHED:
            status = cancel(units_of_work(app.db, session), batch_id, app.now())
            session.refresh(batch)
            ended = status not in ("cancelled", "running")  # it finished meanwhile
        else:
            ended = True
        done, total = batch.rows_done, batch.total_rows
    of = f" / {total}" if total else ""
    if ended:
        name = STATUS_NAMES.get(status or "", status)
        flash(f"导入批次 #{batch_id} 已结束（{name}），无法取消", "error")
    elif status == "cancelled":
        flash(f"已取消导入批次 #{batch_id}：已处理 {done}{of} 行，之后的行不会导入", "success")
    elif status == "running":
        flash(f"已请求取消导入批次 #{batch_id}：正在导入（已处理 {done}{of} 行），"
              "处理完当前这一批行后停止；已导入的工单保留", "success")  # fmt: skip
    return redirect(url_for("admin.admin_import_batch", batch_id=batch_id), code=303)


@bp.get("/console/admin/imports/<int:batch_id>/rejected.csv")
@staff_only(Role.ADMIN)
def admin_import_rejected(batch_id: int) -> Response:
    """The refused rows with their original columns, 原行号 and 未导入原因 (for Excel)."""
    with hotline().db.transaction() as session:
        out = io.StringIO()
        write_rejected(session, _batch(session, batch_id), out)
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition":
                             f'attachment; filename="rejected-{batch_id}.csv"'})  # fmt: skip
