"""Notifications waiting, failed, retried (``/api/v1/outbox``)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from .fields import Id, StrictSchema


class OutboxSummarySchema(Schema):
    counts = fields.Dict(
        metadata={"description": "各状态的条数：pending、queued、sending、sent、failed、dead"}
    )
    failures = fields.List(fields.Dict(), metadata={"description": "最近的失败及原因"})
    queues = fields.Dict(metadata={"description": "各 RQ 队列等待中的任务数与失败任务数"
                                                  "（未配置 Redis 时为空）"})  # fmt: skip


class RetrySchema(StrictSchema):
    ids = fields.List(Id(), load_default=list,
                      validate=validate.Length(max=1000))  # fmt: skip


class RetryResultSchema(Schema):
    retried = fields.Integer()
