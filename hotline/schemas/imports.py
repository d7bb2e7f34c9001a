"""Call-centre file uploads (``/api/v1/imports``) and what an import batch reports."""

from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from .fields import StrictSchema, Text


class ImportFormSchema(StrictSchema):
    source = Text(
        load_default="12345", max_len=40,
        metadata={"description": "来源（热线系统名）；工单按 来源 + 工单编号 去重"},
    )  # fmt: skip
    preset = fields.String(load_default=None, validate=validate.Length(max=40),
                           metadata={"description": "列格式预设，默认 auto"})  # fmt: skip
    mapping = fields.String(load_default=None, validate=validate.Length(max=64 * 1024),
                            metadata={"description": "YAML 映射（其他列格式）"})  # fmt: skip
    encoding = fields.String(load_default=None, validate=validate.Length(max=20))
    sheet = fields.String(load_default=None, validate=validate.Length(max=100))
    history = fields.Boolean(
        load_default=False,
        metadata={"description": "历史导入：按当时的办理情况导入（已办结的直接办结，不发通知、"
                                 "不重新派单）；默认 false 为实时导入（新工单立即派单并通知）"},
    )  # fmt: skip


class ImportFileSchema(Schema):
    file = Upload(required=True, metadata={"description": "CSV 或 XLSX 文件"},
                  error_messages={"required": "请选择要导入的文件"})  # fmt: skip


class RejectionSchema(Schema):
    row = fields.Integer(attribute="row_number")
    column = fields.String(attribute="column_name", allow_none=True)
    reason = fields.String()


class ImportBatchSchema(Schema):
    id = fields.Integer()
    source = fields.String()
    filename = fields.String()
    status = fields.String(metadata={"description": "pending、queued、running、done、failed、"
                                                    "cancelled"})  # fmt: skip
    mode = fields.String(metadata={"description": "live（实时导入）或 history（历史导入）"})
    total_rows = fields.Integer(allow_none=True)
    rows_done = fields.Integer()
    created = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
    rejected = fields.Integer()
    closed = fields.Integer(metadata={"description": "新建的工单中导入时已办结的件数（历史导入）"})
    notes = fields.List(fields.String())
    error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    cancel_requested_at = fields.DateTime(allow_none=True,
                                          metadata={"description": "请求取消的时间"})  # fmt: skip
    file_removed_at = fields.DateTime(
        allow_none=True, metadata={"description": "上传的文件按保留期限删除的时间"},
    )  # fmt: skip
    rejections = fields.List(fields.Nested(RejectionSchema),
                             metadata={"description": "前 50 个未导入的行"})  # fmt: skip
    rejected_csv = fields.String(metadata={"description": "全部未导入行的 CSV（含原因列）"})
