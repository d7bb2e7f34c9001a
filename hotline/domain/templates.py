"""Notification templates: the built-in Chinese texts, the variables each audience may use,
checking an admin's edit before it is saved, and rendering.

Templates are Jinja (``{{ number }}``, ``{% if resolve_by %}…{% endif %}``) in a sandbox with
strict undefined variables, so an admin's text can neither reach into Python objects nor
silently print blanks. Residents' texts may not use staff-only variables (event notes,
addresses): an SMS can be read over a shoulder.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

AUDIENCES = {"resident": "市民", "unit": "承办单位", "supervisor": "督办部门"}

VARIABLES = {
    "number": "工单编号",
    "category": "诉求类别",
    "status": "当前状态",
    "accept_by": "签收时限",
    "resolve_by": "办结时限",
    "link": "市民查询链接（含查询凭证，仅限发给市民本人）",
    "unit": "主办单位",
    "feedback_by": "首次反馈时限",
    "address": "事件地址",
    "body": "本次事件的说明（退单理由、督办意见等）",
}
RESIDENT_VARIABLES = frozenset({"number", "category", "status", "accept_by", "resolve_by", "link"})
STAFF_VARIABLES = frozenset(VARIABLES) - {"link"}

SMS_LIMIT = 300  # characters after rendering; longer texts are split into many billed parts
TEXT_LIMIT = 2000
SUBJECT_LIMIT = 200

# Shown in previews and used to check that a template renders.
SAMPLE = {
    "number": "WM20261121-0007",
    "category": "占道经营",
    "status": "办理中",
    "accept_by": "11月23日13:00",
    "resolve_by": "11月27日17:00",
    "link": "https://12345.example.gov.cn/track/WM20261121-0007?token=…",
    "unit": "示范市城市管理局",
    "feedback_by": "11月24日17:00",
    "address": "文明区人民路与解放路交叉口",
    "body": "该点位属于道路养护范围，请交通运输局办理。",
}


@dataclass(frozen=True)
class Default:
    body: str
    subject: str = "工单{{ number }}（{{ category }}）"


_R = "resident."
_U = "unit."
_S = "supervisor."
DEFAULTS: dict[str, Default] = {
    _R + "accepted": Default("您反映的问题（工单{{ number }}）已由承办单位签收，正在处理。"
                             "进度：{{ link }}"),
    _R + "feedback": Default("工单{{ number }}有新的办理进展，请查看：{{ link }}"),
    _R + "resolved": Default("工单{{ number }}已办理完毕，请确认问题是否解决并评价：{{ link }}"),
    _R + "confirmed": Default("工单{{ number }}已办结，感谢您的监督。"),
    _R + "closed_unrated": Default("工单{{ number }}已办结。如问题仍未解决，请拨打 12345。"),
    _R + "rejected": Default("工单{{ number }}未予受理，原因请查看：{{ link }}"),
    _R + "merged": Default("工单{{ number }}与相同问题合并办理，进度：{{ link }}"),
    _R + "reopened": Default("工单{{ number }}已安排重新办理，进度：{{ link }}"),
    _R + "other": Default("工单{{ number }}有更新：{{ link }}"),
    _U + "dispatched": Default("工单{{ number }}（{{ category }}）已派给贵单位，"
                               "请于{{ accept_by }}前签收、{{ resolve_by }}前办结。"),
    _U + "sla_warning": Default("工单{{ number }}（{{ category }}）时限将至，"
                                "办结时限 {{ resolve_by }}。"),
    _U + "overdue": Default("工单{{ number }}（{{ category }}）已超期，请尽快办理。"),
    _U + "supervised": Default("工单{{ number }}（{{ category }}）被督办：{{ body }}"),
    _U + "reopened": Default("工单{{ number }}（{{ category }}）市民不满意，已退回重办，"
                             "时限 {{ resolve_by }}。"),
    _U + "confirmed": Default("工单{{ number }}（{{ category }}）已获市民确认。"),
    _U + "other": Default("工单{{ number }}（{{ category }}）有更新。"),
    _S + "escalated": Default("工单{{ number }}（{{ category }}，{{ unit }}）超期升级：{{ body }}"),
    _S + "returned": Default("工单{{ number }}（{{ category }}）被{{ unit }}退单，待裁定："
                             "{{ body }}"),
    _S + "extension_requested": Default("工单{{ number }}（{{ category }}）{{ unit }}申请延期："
                                        "{{ body }}"),
    _S + "other": Default("工单{{ number }}（{{ category }}）有更新：{{ body }}"),
}  # fmt: skip


def template_key(audience: str, event: str) -> str:
    """The template for an event; events without their own use the audience's "other"."""
    key = f"{audience}.{event}"
    return key if key in DEFAULTS else f"{audience}.other"


def audience_of(key: str) -> str:
    return key.split(".", 1)[0]


def allowed_variables(key: str) -> frozenset[str]:
    return RESIDENT_VARIABLES if audience_of(key) == "resident" else STAFF_VARIABLES


_ENV = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


@functools.lru_cache(maxsize=256)
def _compiled(text: str):  # type: ignore[no-untyped-def]
    return _ENV.from_string(text)


def render(text: str, values: Mapping[str, str]) -> str:
    """The text with its variables filled in (checked templates only)."""
    return _compiled(text).render(**values).strip()


def check(key: str, body: str, subject: str | None = None) -> dict[str, list[str]]:
    """Problems with an edited template, by field, in Chinese; empty when it may be saved."""
    problems: dict[str, list[str]] = {}
    if key not in DEFAULTS:
        return {"key": [f"没有名为 {key} 的通知模板"]}
    allowed = allowed_variables(key)
    limit = SMS_LIMIT if audience_of(key) == "resident" else TEXT_LIMIT
    for field, text, max_len in (("body", body, limit), ("subject", subject, SUBJECT_LIMIT)):
        if text is None:
            continue
        found = _check_text(text, allowed, max_len)
        if field == "body" and not text.strip():
            found.insert(0, "模板内容不能为空")
        if found:
            problems[field] = found
    return problems


def _check_text(text: str, allowed: frozenset[str], max_len: int) -> list[str]:
    try:
        names = meta.find_undeclared_variables(_ENV.parse(text))
    except TemplateSyntaxError as exc:
        return [f"第 {exc.lineno} 行模板语法有误：{exc.message}"]
    unknown = sorted(names - allowed)
    if unknown:
        hint = "、".join(f"{{{{ {name} }}}}（{VARIABLES[name]}）" for name in sorted(allowed))
        where = "发给市民的模板不能使用" if set(unknown) <= set(VARIABLES) else "未知的变量"
        return [f"{where}：{'、'.join(unknown)}。可用的变量：{hint}"]
    try:
        rendered = render(text, SAMPLE)
    except TemplateError as exc:
        return [f"模板无法生成内容：{exc}"]
    if len(rendered) > max_len:
        return [f"按示例数据生成的内容有 {len(rendered)} 个字，超过上限 {max_len} 个字"]
    return []
