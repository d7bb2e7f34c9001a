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
    status = fields.String(metadata={"description": "pending、running、done、failed"})
    total_rows = fields.Integer(allow_none=True)
    rows_done = fields.Integer()
    created = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
    rejected = fields.Integer()
    notes = fields.List(fields.String())
    error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    rejections = fields.List(fields.Nested(RejectionSchema),
                             metadata={"description": "前 50 个未导入的行"})  # fmt: skip
    rejected_csv = fields.String(metadata={"description": "全部未导入行的 CSV（含原因列）"})
