"""What each ticket action takes: one schema per action, for the API and the consoles alike.

Each field carries, besides its OpenAPI description, what the console's form needs
(``metadata["form"]``: the label, the kind of input, the choices): the console builds its
action forms from these definitions (hotline/web/forms.py), so the two never drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import Schema, fields, validate

from ..domain.states import SATISFACTION_LABELS, Satisfaction
from ..domain.workflow import Action
from .fields import Id, StrictSchema, Text, messages

YES_NO = (("true", "是"), ("false", "否"))


def form(label: str, kind: str = "textarea", *choices: tuple[str, str],
         name: str | None = None) -> dict[str, Any]:  # fmt: skip
    """The console's input for a field: ``kind`` is textarea, text, select, datetime, unit
    (one unit), units (several), category, or file (photos, uploaded under ``name``)."""
    return {"label": label, "kind": kind, "choices": tuple(choices), "name": name}


def _version() -> fields.Integer:
    return fields.Integer(
        required=True, strict=True, error_messages=messages(invalid="应为整数"),
        metadata={"description": "你看到的工单版本号；已被他人修改时返回 409"},
    )  # fmt: skip


def _text(max_len: int, description: str, label: str, required: bool = True) -> Text:
    return Text(required=required, allow_none=not required, min_len=1 if required else 0,
                max_len=max_len, multiline=True,
                metadata={"description": description, "form": form(label)})  # fmt: skip


def _aware(label: str, required: bool) -> fields.AwareDateTime:
    return fields.AwareDateTime(
        required=required,
        default_timezone=ZoneInfo("Asia/Shanghai"),
        error_messages=messages(invalid="时间格式应为 ISO 8601，如 2026-11-25T17:00:00+08:00"),
        metadata={"form": form(label, "datetime")},
    )  # fmt: skip


def _choice(values: tuple[tuple[str, str], ...], error: str, label: str,
            description: str | None = None) -> fields.String:  # fmt: skip
    return fields.String(
        required=True, validate=validate.OneOf([v for v, _ in values], error=error),
        metadata={"description": description or "、".join(f"{v}：{t}" for v, t in values),
                  "form": form(label, "select", *values)},
    )  # fmt: skip


def _yes_no(label: str, choices: tuple[tuple[str, str], ...] = YES_NO, *,
            required: bool = True, default: bool | None = None) -> fields.Boolean:  # fmt: skip
    extra: dict[str, Any] = {"required": required} if default is None else {"load_default": default}
    return fields.Boolean(error_messages=messages(invalid="应为 true 或 false"),
                          metadata={"form": form(label, "select", *choices)}, **extra)  # fmt: skip


class DispatchSchema(StrictSchema):
    """派单 / 改派 by an operator."""

    version = _version()
    lead_unit = fields.String(
        required=True,
        validate=validate.Length(min=1, max=40, error="单位代码长度有误"),
        error_messages=messages(invalid="应为单位代码"),
        metadata={"description": "主办单位代码", "form": form("主办单位", "unit")},
    )
    co_units = fields.List(
        fields.String(validate=validate.Length(min=1, max=40)),
        load_default=list,
        validate=validate.Length(max=10, error="协办单位最多 10 个"),
        error_messages=messages(invalid="应为单位代码列表"),
        metadata={"form": form("协办单位（可多选）", "units")},
    )
    category = fields.String(
        allow_none=True,
        validate=validate.Length(max=40),
        error_messages=messages(invalid="应为类别代码"),
        metadata={"description": "同时更正问题类别（可选）",
                  "form": form("问题类别（可更正）", "category")},
    )  # fmt: skip
    note = Text(max_len=500, allow_none=True,
                metadata={"description": "内部备注", "form": form("派单说明（内部）")})  # fmt: skip


class AcceptSchema(StrictSchema):
    version = _version()


class ReturnSchema(StrictSchema):
    version = _version()
    reason = _text(1000, "理由", "退单理由")


class ArbitrateSchema(StrictSchema):
    version = _version()
    decision = _choice((("uphold", "退单成立，重新派单"), ("overrule", "退回原单位办理")),
                       "应为 uphold 或 overrule", "裁决",
                       "uphold：退单成立，重新派单；overrule：退回原单位办理")  # fmt: skip
    reason = _text(1000, "裁决说明", "说明", required=False)


class FeedbackSchema(StrictSchema):
    version = _version()
    body = _text(2000, "内容", "反馈内容（市民可见）")


class NoteSchema(StrictSchema):
    version = _version()
    body = _text(2000, "内容", "备注内容（仅内部可见）")


class ExtensionRequestSchema(StrictSchema):
    version = _version()
    reason = _text(1000, "延期理由", "延期理由")
    until = _aware("申请延至", required=True)


class ExtensionDecisionSchema(StrictSchema):
    version = _version()
    approve = _yes_no("是否批准", (("true", "批准"), ("false", "不批准")))
    reason = _text(1000, "说明", "说明", required=False)


class PartReportSchema(StrictSchema):
    version = _version()
    body = _text(2000, "内容", "协办情况")


class WaiveSchema(StrictSchema):
    version = _version()
    reason = _text(1000, "说明", "说明", required=False)


class ResolveSchema(StrictSchema):
    version = _version()
    reply = _text(2000, "办理结果（市民可见）", "办理结果（市民可见）")
    evidence = fields.List(
        Id(), load_default=list,
        validate=validate.Length(max=10, error="最多 10 张照片"),
        metadata={"description": "先用 …/attachments 上传的照片 id，办结后市民可见",
                  # On a page the photos come with the form itself, not as ids.
                  "form": form("整改照片（可多张，市民可见）", "file", name="photos")},
    )  # fmt: skip


class SuperviseSchema(StrictSchema):
    version = _version()
    notice = _text(1000, "督办意见", "督办意见")
    resolve_by = _aware("新的办结时限（可不填）", required=False)


class RecheckSchema(StrictSchema):
    version = _version()
    result = _text(1000, "回头看结果", "回头看结果")
    held = _yes_no("整改效果是否保持", default=True)


class ConfirmSchema(StrictSchema):
    version = _version()
    resolved = _yes_no("问题是否解决", (("true", "已解决"), ("false", "未解决")))
    satisfaction = _choice(tuple((s.value, SATISFACTION_LABELS[s]) for s in Satisfaction),
                           "应为 satisfied、basic 或 dissatisfied", "满意度")  # fmt: skip
    comment = _text(500, "市民意见", "市民意见", required=False)


class ReopenSchema(StrictSchema):
    version = _version()
    reason = _text(1000, "理由", "重办理由")


class RejectSchema(StrictSchema):
    version = _version()
    reason = _text(1000, "理由", "不予受理的理由")


class MergeSchema(StrictSchema):
    version = _version()
    into = fields.String(required=True, validate=validate.Length(min=1, max=24),
                         metadata={"description": "保留的工单编号",
                                   "form": form("并入的工单编号", "text")})  # fmt: skip


@dataclass(frozen=True)
class ActionSpec:
    schema: type[Schema]
    label: str  # the button and the form's title, e.g. 签收
    summary: str  # the API operation's summary


ACTIONS: dict[Action, ActionSpec] = {
    Action.DISPATCH: ActionSpec(DispatchSchema, "派单 / 改派", "派单 / 改派（操作员、督办）"),
    Action.ACCEPT: ActionSpec(AcceptSchema, "签收", "签收（主办单位）"),
    Action.RETURN: ActionSpec(ReturnSchema, "退单",
                              "退单（主办单位，派单后 1 个工作日内，须说明理由）"),
    Action.ARBITRATE: ActionSpec(ArbitrateSchema, "退单裁决", "退单争议裁决（督办）"),
    Action.FEEDBACK: ActionSpec(FeedbackSchema, "反馈进展", "向市民反馈进展（主办单位，市民可见）"),
    Action.NOTE: ActionSpec(NoteSchema, "内部备注", "内部备注"),
    Action.REQUEST_EXTENSION: ActionSpec(ExtensionRequestSchema, "申请延期",
                                         "申请延期（每次 ≤ 3 个工作日，最多 3 次）"),
    Action.DECIDE_EXTENSION: ActionSpec(ExtensionDecisionSchema, "审批延期",
                                        "批准或不批准延期（督办）"),
    Action.REPORT_PART: ActionSpec(PartReportSchema, "报告协办情况", "协办单位报告办理情况"),
    Action.WAIVE_CO_UNITS: ActionSpec(WaiveSchema, "免除协办报告", "免除协办单位报告（督办）"),
    Action.RESOLVE: ActionSpec(ResolveSchema, "办结", "办结（主办单位；协办单位须已报告）"),
    Action.SUPERVISE: ActionSpec(SuperviseSchema, "督办",
                                 "督办：级别 +1（催办 → 督办 → 通报），可设新时限"),
    Action.RECHECK: ActionSpec(RecheckSchema, "回头看", "回头看（督办）"),
    Action.CONFIRM: ActionSpec(ConfirmSchema, "回访登记",
                               "回访：记录市民是否解决及满意度（操作员）"),
    Action.REOPEN: ActionSpec(ReopenSchema, "重办", "重办：退回原单位，督办级别 +1"),
    Action.REJECT: ActionSpec(RejectSchema, "不予受理", "不予受理（须说明理由）"),
    Action.MERGE: ActionSpec(MergeSchema, "合并为重复件", "合并为另一工单的重复件"),
}  # fmt: skip
