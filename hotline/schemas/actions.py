"""What each ticket action takes: one schema per action, for the API and the consoles alike.

Each field carries, besides its OpenAPI description, what the console's form needs
(``metadata["form"]``: the label, the kind of input, the choices): the console builds its
action forms from these definitions (hotline/web/forms.py), so the two never drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import Schema, fields, pre_load, validate

from ..domain.states import SATISFACTION_LABELS, Satisfaction
from ..domain.workflow import CALLBACK_OUTCOMES, Action
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
    # Nothing preselected: the form's first choice is empty and the server refuses it, so a
    # ruling is always one the supervisor picked after reading the return.
    decision = fields.String(
        required=True,
        validate=validate.OneOf(["uphold", "overrule"], error="请选择裁决结果"),
        error_messages=messages(required="请选择裁决结果", invalid="请选择裁决结果"),
        metadata={"description": "uphold：退单成立，重新派单；overrule：退回原单位办理",
                  "form": form("裁决", "select", ("", "请选择"),
                               ("uphold", "退单成立，重新派单"), ("overrule", "退回原单位办理"))},
    )  # fmt: skip
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
    # Nothing preselected (as for the ruling on a return): "" is neither true nor false.
    approve = fields.Boolean(
        required=True,
        error_messages=messages(required="请选择批准或不批准", invalid="请选择批准或不批准"),
        metadata={"description": "true：批准（办结时限改为申请的时间）；false：不批准",
                  "form": form("是否批准", "select", ("", "请选择"),
                               ("true", "批准"), ("false", "不批准"))},
    )  # fmt: skip
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


# A form's first choice when nothing may be preset: the operator must pick the answer.
UNANSWERED = ("", "请选择")


class ConfirmSchema(StrictSchema):
    """回访: the resident's answer. Nothing is preset on a form (an unchanged default would
    count as "resolved and satisfied"), and a missing answer is refused."""

    version = _version()
    resolved = fields.Boolean(
        required=True,
        error_messages=messages(required="请选择问题是否解决", invalid="应为 true 或 false"),
        metadata={"form": form("问题是否解决", "select", UNANSWERED, ("true", "已解决"),
                               ("false", "未解决"))},
    )  # fmt: skip
    satisfaction = fields.String(
        required=True,
        validate=validate.OneOf([s.value for s in Satisfaction],
                                error="应为 satisfied、basic 或 dissatisfied"),
        error_messages=messages(required="请选择满意程度"),
        metadata={"description": "satisfied：满意；basic：基本满意；dissatisfied：不满意",
                  "form": form("满意度", "select", UNANSWERED,
                               *((s.value, SATISFACTION_LABELS[s]) for s in Satisfaction))},
    )  # fmt: skip
    comment = _text(500, "市民意见", "市民意见", required=False)

    @pre_load
    def _blank_is_unanswered(self, data: Any, **_: Any) -> Any:
        # A form's "请选择" sends ""; that is no answer, not a wrong one.
        if isinstance(data, dict):
            return {k: v for k, v in data.items()
                    if not (k in ("resolved", "satisfaction") and v == "")}  # fmt: skip
        return data


class CallbackAttemptSchema(StrictSchema):
    """回访未成功: nobody answered, or the resident declined to answer."""

    version = _version()
    outcome = fields.String(
        required=True,
        validate=validate.OneOf(list(CALLBACK_OUTCOMES), error="应为 no_answer 或 refused"),
        error_messages=messages(required="请选择回访结果"),
        metadata={"description": "no_answer：未接通；refused：拒绝回访",
                  "form": form("回访结果", "select", UNANSWERED, *CALLBACK_OUTCOMES.items())},
    )  # fmt: skip
    note = _text(500, "备注", "备注（可不填）", required=False)

    @pre_load
    def _blank_is_unanswered(self, data: Any, **_: Any) -> Any:
        if isinstance(data, dict) and data.get("outcome") == "":
            return {k: v for k, v in data.items() if k != "outcome"}
        return data


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
    Action.CALLBACK_ATTEMPT: ActionSpec(CallbackAttemptSchema, "回访未成功",
                                        "回访未接通或市民拒绝回访（操作员）：计一次，仍待回访；"
                                        "达到设定次数后按未评价办结"),
    Action.REOPEN: ActionSpec(ReopenSchema, "重办", "重办：退回原单位，督办级别 +1"),
    Action.REJECT: ActionSpec(RejectSchema, "不予受理", "不予受理（须说明理由）"),
    Action.MERGE: ActionSpec(MergeSchema, "合并为重复件", "合并为另一工单的重复件"),
}  # fmt: skip
