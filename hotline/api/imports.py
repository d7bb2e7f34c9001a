"""``/api/v1/imports``: upload a call-centre export, follow its progress, fetch refused rows."""

from __future__ import annotations

import io
import unicodedata
import uuid
from pathlib import Path
from typing import Any

import yaml
from flask import Response, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from ..domain.states import Role
from ..errors import Conflict, NotFound, PayloadTooLarge, ValidationFailed
from ..extensions import hotline
from ..importers.batch import (
    ImportRefused,
    Options,
    Runtime,
    cancel,
    claim,
    create_batch,
    run_batch,
    units_of_work,
)
from ..importers.mapping import PRESETS, MappingError, mapping_from_file_data
from ..importers.rejected import write_rejected
from ..importers.xlsx import expanded_size
from ..models import ImportBatch, ImportRejection
from ..request import received_bytes
from ..schemas.imports import ImportBatchSchema, ImportFileSchema, ImportFormSchema
from ..services.import_retention import remove_upload
from .auth import authenticated, db_session, principal

blp = Blueprint("imports", __name__, url_prefix="/api/v1/imports",
                description="12345 工单导入（CSV / XLSX）")  # fmt: skip

READERS = (Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN)


def _present(batch: ImportBatch) -> dict[str, Any]:
    first = db_session().scalars(
        select(ImportRejection).where(ImportRejection.batch_id == batch.id)
        .order_by(ImportRejection.row_number).limit(50)
    )  # fmt: skip
    return {**{c: getattr(batch, c) for c in ImportBatchSchema._declared_fields
               if hasattr(batch, c)},
            "rejections": list(first),
            "rejected_csv": url_for("imports.RejectedRows", batch_id=batch.id)}  # fmt: skip


def _runtime() -> Runtime:
    app = hotline()
    return Runtime(prefix=app.settings.ticket_prefix, timezone=app.settings.timezone,
                   now=app.now, routers=app.routers, calendars=app.calendars)  # fmt: skip


def _options(form: dict[str, Any]) -> Options:
    if form["preset"] is not None and form["preset"] not in PRESETS:
        choices = "、".join(PRESETS)
        raise ValidationFailed({"preset": [f"没有这个列格式预设（可选：{choices}）"]})
    mapping = None
    if form["mapping"]:
        try:
            mapping = mapping_from_file_data(yaml.safe_load(form["mapping"]))
        except (MappingError, yaml.YAMLError) as exc:
            raise ValidationFailed({"mapping": [f"映射有误：{exc}"]}) from exc
    return Options(source=form["source"], preset=form["preset"], mapping=mapping,
                   encoding=form["encoding"], sheet=form["sheet"],
                   history=form["history"])  # fmt: skip


def _upload_name(raw: str | None) -> str:
    """The file name the client sent, as the batch shows it: its last path part (some
    browsers send the whole path), without control characters or lone surrogates (a NUL
    would reach the stored path and PostgreSQL, which refuse it)."""
    kept = "".join(ch for ch in raw or "" if unicodedata.category(ch) not in ("Cc", "Cs"))
    return kept.replace("\\", "/").rsplit("/", 1)[-1].strip()[:255]


def _small(path: Path, limit: int) -> bool:
    """Imported within the request: small on disk and, for a workbook, once decompressed
    (real exports expand 3–9×; a workbook of empty cells just under the ratio cap would hold
    the worker for a minute)."""
    return path.stat().st_size <= limit and expanded_size(path) <= 8 * limit


@blp.route("")
class Imports(MethodView):
    @blp.response(202, ImportBatchSchema, description="文件已接收，后台导入中；用 GET 查询进度")
    @blp.alt_response(201, schema=ImportBatchSchema, description="小文件：已在本次请求内导入完毕")
    @authenticated(Role.OPERATOR, Role.ADMIN)
    @blp.arguments(ImportFormSchema(), location="form")
    @blp.arguments(ImportFileSchema(), location="files")
    @blp.doc(security=[{"bearerAuth": []}])
    def post(self, form: dict[str, Any], files: dict[str, Any]) -> Any:
        """上传 12345 导出文件并导入（同一工单重复导入不会重复建单）"""
        app, session = hotline(), db_session()
        options = _options(form)
        upload = files["file"]
        if received_bytes(upload) > app.settings.import_max_bytes:
            limit = app.settings.import_max_bytes // (1024 * 1024)
            raise PayloadTooLarge(f"导入文件不能超过 {limit} MB")
        directory = Path(app.settings.import_dir)
        directory.mkdir(parents=True, exist_ok=True)
        filename = _upload_name(upload.filename)
        suffix = Path(filename).suffix.lower()[:8]
        path = directory / f"{uuid.uuid4().hex}{suffix}"
        upload.save(path)
        work = units_of_work(app.db, session)
        try:
            batch_id = create_batch(work, path, options, filename=filename or path.name,
                                    actor=principal().actor, now=app.now())  # fmt: skip
        except ImportRefused as exc:
            path.unlink(missing_ok=True)
            raise ValidationFailed({"file": [str(exc)]}, detail=f"无法导入：{exc}") from exc
        status = 202
        if _small(path, app.settings.import_inline_bytes):
            claim(work, batch_id, app.now())
            run_batch(work, batch_id, _runtime())
            status = 201
        batch = session.get(ImportBatch, batch_id)
        session.refresh(batch)
        if batch.status == "done":  # a failed one's upload is kept for its retention period
            remove_upload(batch, directory, app.now())
        location = url_for("imports.ImportItem", batch_id=batch_id)
        return _present(batch), status, {"Location": location}

    @blp.response(200, ImportBatchSchema(many=True))
    @authenticated(*READERS)
    @blp.doc(security=[{"bearerAuth": []}])
    def get(self) -> list[dict[str, Any]]:
        """最近的 50 个导入批次"""
        batches = db_session().scalars(select(ImportBatch).order_by(ImportBatch.id.desc())
                                       .limit(50))  # fmt: skip
        return [_present(b) for b in batches]


def _batch(batch_id: int) -> ImportBatch:
    batch = db_session().get(ImportBatch, batch_id)
    if batch is None:
        raise NotFound("没有这个导入批次")
    return batch


@blp.route("/<int:batch_id>")
class ImportItem(MethodView):
    @blp.response(200, ImportBatchSchema)
    @authenticated(*READERS)
    @blp.doc(security=[{"bearerAuth": []}])
    def get(self, batch_id: int) -> dict[str, Any]:
        """导入进度（已处理行数 / 总行数）与结果"""
        return _present(_batch(batch_id))


@blp.route("/<int:batch_id>/cancel")
class CancelImport(MethodView):
    @blp.response(200, ImportBatchSchema,
                  description="已取消：批次尚未开始（或其进程已中断），立即停止")  # fmt: skip
    @blp.alt_response(202, schema=ImportBatchSchema,
                      description="已请求取消：批次正在导入，处理完当前这一批行（最多 500 行）"
                                  "后停止；用 GET 查询，状态变为 cancelled")  # fmt: skip
    @authenticated(Role.OPERATOR, Role.ADMIN)
    @blp.doc(security=[{"bearerAuth": []}])
    def post(self, batch_id: int) -> Any:
        """取消导入：已提交的行保留，其后的行不再导入；已结束的批次返回 409"""
        app, session = hotline(), db_session()
        batch = _batch(batch_id)
        if batch.status in ("done", "failed", "cancelled"):
            raise Conflict(f"导入批次 {batch_id} 已结束（{FINISHED_NAMES[batch.status]}），"
                           "无法取消")  # fmt: skip
        status = cancel(units_of_work(app.db, session), batch_id, app.now())
        session.refresh(batch)
        if status not in ("cancelled", "running"):  # it finished meanwhile
            raise Conflict(f"导入批次 {batch_id} 已结束（{FINISHED_NAMES.get(status, status)}），"
                           "无法取消")  # fmt: skip
        return _present(batch), 200 if status == "cancelled" else 202


FINISHED_NAMES = {"done": "已完成", "failed": "已失败", "cancelled": "已取消"}


@blp.route("/<int:batch_id>/rejected.csv")
class RejectedRows(MethodView):
    @authenticated(*READERS)
    @blp.doc(security=[{"bearerAuth": []}],
             responses={"200": {"description": "原列 + 原行号 + 未导入原因，UTF-8 BOM",
                                "content": {"text/csv": {}}}})  # fmt: skip
    def get(self, batch_id: int) -> Response:
        """下载未导入的行（修改后可重新导入）"""
        batch = _batch(batch_id)
        out = io.StringIO()
        write_rejected(db_session(), batch, out)
        name = f"rejected-{batch_id}.csv"
        disposition = f'attachment; filename="{name}"'
        return Response(out.getvalue(), mimetype="text/csv",
                        headers={"Content-Disposition": disposition})  # fmt: skip
