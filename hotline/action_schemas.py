"""What each ticket action takes: one schema per action, shared by the API and the consoles."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from marshmallow import Schema, fields, validate

from .domain.workflow import Action
from .schemas import DispatchSchema, Id, StrictSchema, Text, _messages


def _version() -> fields.Integer:
    return fields.Integer(
        required=True, strict=True, error_messages=_messages(invalid="应为整数"),
        metadata={"description": "你看到的工单版本号；已被他人修改时返回 409"},
    )  # fmt: skip


def _text(max_len: int, description: str, required: bool = True) -> Text:
    return Text(required=required, allow_none=not required, min_len=1 if required else 0,
                max_len=max_len, multiline=True, metadata={"description": description})  # fmt: skip


def _aware() -> fields.AwareDateTime:
    return fields.AwareDateTime(
        default_timezone=ZoneInfo("Asia/Shanghai"),
        error_messages=_messages(invalid="时间格式应为 ISO 8601，如 2026-11-25T17:00:00+08:00"),
    )  # fmt: skip


class VersionOnly(StrictSchema):
    version = _version()


class ReasonSchema(StrictSchema):
    version = _version()
    reason = _text(1000, "理由")


class BodySchema(StrictSchema):
    version = _version()
    body = _text(2000, "内容")


class ArbitrateSchema(StrictSchema):
    version = _version()
    decision = fields.String(
        required=True,
        validate=validate.OneOf(["uphold", "overrule"], error="应为 uphold 或 overrule"),
        metadata={"description": "uphold：退单成立，重新派单；overrule：退回原单位办理"},
    )  # fmt: skip
    reason = _text(1000, "裁决说明", required=False)


class ExtensionRequestSchema(StrictSchema):
    version = _version()
    reason = _text(1000, "延期理由")
    until = _aware()
    until.required = True


class ExtensionDecisionSchema(StrictSchema):
    version = _version()
    approve = fields.Boolean(required=True, error_messages=_messages(invalid="应为 true 或 false"))
    reason = _text(1000, "说明", required=False)


class ResolveSchema(StrictSchema):
    version = _version()
    reply = _text(2000, "办理结果（市民可见）")
    evidence = fields.List(
        Id(), load_default=list,
        validate=validate.Length(max=10, error="最多 10 张照片"),
        metadata={"description": "先用 …/attachments 上传的照片 id，办结后市民可见"},
    )  # fmt: skip


class SuperviseSchema(StrictSchema):
    version = _version()
    notice = _text(1000, "督办意见")
    resolve_by = _aware()


class RecheckSchema(StrictSchema):
    version = _version()
    result = _text(1000, "回头看结果")
    held = fields.Boolean(load_default=True)


class ConfirmSchema(StrictSchema):
    version = _version()
    resolved = fields.Boolean(required=True, error_messages=_messages(invalid="应为 true 或 false"))
    satisfaction = fields.String(
        required=True,
        validate=validate.OneOf(["satisfied", "basic", "dissatisfied"],
                                error="应为 satisfied、basic 或 dissatisfied"),
    )  # fmt: skip
    comment = _text(500, "市民意见", required=False)


class MergeSchema(StrictSchema):
    version = _version()
    into = fields.String(required=True, validate=validate.Length(min=1, max=24),
                         metadata={"description": "保留的工单编号"})  # fmt: skip


class WaiveSchema(StrictSchema):
    version = _version()
    reason = _text(1000, "说明", required=False)


SCHEMAS: dict[Action, tuple[type[Schema], str]] = {
    Action.DISPATCH: (DispatchSchema, "派单 / 改派（操作员、督办）"),
    Action.ACCEPT: (VersionOnly, "签收（主办单位）"),
    Action.RETURN: (ReasonSchema, "退单（主办单位，派单后 1 个工作日内，须说明理由）"),
    Action.ARBITRATE: (ArbitrateSchema, "退单争议裁决（督办）"),
    Action.FEEDBACK: (BodySchema, "向市民反馈进展（主办单位，市民可见）"),
    Action.NOTE: (BodySchema, "内部备注"),
    Action.REQUEST_EXTENSION: (ExtensionRequestSchema, "申请延期（每次 ≤ 3 个工作日，最多 3 次）"),
    Action.DECIDE_EXTENSION: (ExtensionDecisionSchema, "批准或不批准延期（督办）"),
    Action.REPORT_PART: (BodySchema, "协办单位报告办理情况"),
    Action.WAIVE_CO_UNITS: (WaiveSchema, "免除协办单位报告（督办）"),
    Action.RESOLVE: (ResolveSchema, "办结（主办单位；协办单位须已报告）"),
    Action.SUPERVISE: (SuperviseSchema, "督办：级别 +1（催办 → 督办 → 通报），可设新时限"),
    Action.RECHECK: (RecheckSchema, "回头看（督办）"),
    Action.CONFIRM: (ConfirmSchema, "回访：记录市民是否解决及满意度（操作员）"),
    Action.REOPEN: (ReasonSchema, "重办：退回原单位，督办级别 +1"),
    Action.REJECT: (ReasonSchema, "不予受理（须说明理由）"),
    Action.MERGE: (MergeSchema, "合并为另一工单的重复件"),
}
