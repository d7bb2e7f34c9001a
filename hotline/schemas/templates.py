"""Notification texts edited by admins (``/api/v1/templates``)."""

from __future__ import annotations

from marshmallow import Schema, fields

from .fields import StrictSchema, Text


class TemplateSchema(Schema):
    key = fields.String(metadata={"description": "如 resident.accepted、unit.dispatched"})
    audience = fields.String(
        metadata={"description": "resident、follower、unit、supervisor 或 admin"}
    )
    audience_name = fields.String()
    body = fields.String(metadata={"description": "Jinja 模板，如 工单{{ number }}已签收"})
    subject = fields.String(metadata={"description": "邮件标题"})
    sms_template_id = fields.String(
        allow_none=True, metadata={"description": "短信服务商审核通过的模板编号"}
    )
    customised = fields.Boolean(metadata={"description": "是否已改过（否则为系统默认文本）"})
    updated_at = fields.DateTime(allow_none=True)
    default_body = fields.String()
    variables = fields.Dict(metadata={"description": "可用的变量及其含义"})


class TemplateEditSchema(StrictSchema):
    body = Text(required=True, min_len=1, max_len=4000, multiline=True)
    subject = Text(load_default=None, allow_none=True, max_len=200)
    sms_template_id = Text(load_default=None, allow_none=True, max_len=60)


class PreviewArgsSchema(StrictSchema):
    body = Text(load_default=None, allow_none=True, max_len=4000, multiline=True)
    subject = Text(load_default=None, allow_none=True, max_len=200)


class PreviewSchema(Schema):
    ok = fields.Boolean()
    problems = fields.Dict()
    body = fields.String(allow_none=True, metadata={"description": "用示例数据生成的内容"})
    subject = fields.String(allow_none=True)
