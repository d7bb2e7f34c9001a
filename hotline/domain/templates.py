"""Notification templates: the built-in Chinese texts, the variables each audience may use,
checking an admin's edit before it is saved, and rendering.

Templates are Jinja (``{{ number }}``, ``{% if resolve_by %}…{% endif %}``) in a sandbox with
strict undefined variables, so an admin's text can neither reach into Python objects nor
silently print blanks. Residents' texts may not use staff-only variables (event notes,
addresses): an SMS can be read over a shoulder. Admins' notices are about the system, not a
ticket (a learned routing draft waiting for review): they have variables of their own.

A text may use only what a notification needs (``ALLOWED``): every variable is one short
text, so loops, macros, assignments, arithmetic, function calls, attribute access and
anything that loads another template are refused with a reason when a text is checked, and
again before any render (a text saved before these rules, or written to the table by hand,
fails with that reason instead of running). The environment itself has only the allowed
filters and tests, no globals (``range``, ``lipsum``…) and refuses arithmetic, calls and
attribute access at run time; a render stops at ``OUTPUT_LIMIT`` characters.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from jinja2 import (
    BaseLoader,
    Environment,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
    UndefinedError,
    nodes,
)
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .events import OTHER, event_label

# Followers are residents who said 我也遇到了 on someone else's ticket: they hear of its
# progress in texts of their own, without the reporter's tracking link, and never rate it.
AUDIENCES = {"resident": "市民", "follower": "关注的市民", "unit": "承办单位",
             "supervisor": "督办部门", "admin": "系统管理员"}  # fmt: skip

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
    "code": "查询验证码（仅用于验证码短信）",
    "ruleset": "草稿规则集（名称与版本）",
    "active": "对比的生效中规则集",
    "figures": "影子评估的对比数字（准确率、自动派单比例、改变的决定）",
    "page": "草稿页链接（管理后台）",
}
RESIDENT_VARIABLES = frozenset({"number", "category", "status", "accept_by", "resolve_by", "link"})
# What an admins' notice may say: it has no ticket, only the draft and its evaluation.
ADMIN_VARIABLES = frozenset({"ruleset", "active", "figures", "page"})
STAFF_VARIABLES = frozenset(VARIABLES) - {"link", "code"} - ADMIN_VARIABLES
# The SMS with the 6-digit code a resident asked for to open a ticket by number and phone.
LOOKUP_CODE = "resident.lookup_code"
# The answer to an SMS reply that rated nothing (an unknown text, or no ticket awaiting one).
SMS_REPLY_HELP = "resident.sms_reply_help"
# The notice that a learned routing draft waits for review (services/relearn.py): its text
# is rendered when the draft is saved, and the inbox and the e-mails carry that text.
ROUTING_DRAFT_READY = "admin.routing_draft_ready"
# Messages a request or the system asks for, not an event: no event kind of their own.
STANDALONE = frozenset({LOOKUP_CODE, SMS_REPLY_HELP, ROUTING_DRAFT_READY})
# What the admin console calls them (the others are named by their event kind).
STANDALONE_LABELS = {LOOKUP_CODE: "查询验证码", SMS_REPLY_HELP: "短信回复说明",
                     ROUTING_DRAFT_READY: "分派规则草稿待审阅"}  # fmt: skip
# What a follower's text may say: the ticket's public facts, never the reporter's link.
FOLLOWER_VARIABLES = frozenset({"number", "category", "status", "accept_by", "resolve_by"})

SMS_AUDIENCES = frozenset({"resident", "follower"})  # the audiences reached by SMS
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
    "code": "246810",
    "ruleset": "示范市默认规则 v4",
    "active": "示范市默认规则 v3",
    "figures": (
        "近 30 天已派出且未退单的工单 812 件，准确率 93.2%（生效中 90.1%），"
        "自动派单 84.0%（81.5%），自动派单中正确 97.1%（95.0%）；"
        "话务员改派记录 57 条，准确率 89.5%（生效中 0.0%）。"
    ),
    "page": "https://12345.example.gov.cn/console/admin/routing/42",
}


@dataclass(frozen=True)
class Default:
    body: str
    subject: str = "工单{{ number }}（{{ category }}）"


_R = "resident."
_U = "unit."
_S = "supervisor."
_F = "follower."
DEFAULTS: dict[str, Default] = {
    _R + "accepted": Default("您反映的问题（工单{{ number }}）已由承办单位签收，正在处理。"
                             "进度：{{ link }}"),
    _R + "feedback": Default("工单{{ number }}有新的办理进展，请查看：{{ link }}"),
    _R + "resolved": Default("工单{{ number }}已办理完毕。请回复1满意、2基本满意、3不满意，"
                             "或在此确认并评价：{{ link }}"),
    # Only a satisfied (or basically satisfied) answer reads this one; a dissatisfied one is
    # told with resident.reopened (outbox.template_for).
    _R + "confirmed": Default("工单{{ number }}已办结，感谢您的监督。"),
    _R + "closed_unrated": Default("工单{{ number }}已办结。如问题仍未解决，请拨打 12345。"),
    _R + "rejected": Default("工单{{ number }}未予受理，原因请查看：{{ link }}"),
    _R + "merged": Default("工单{{ number }}与相同问题合并办理，进度：{{ link }}"),
    _R + "reopened": Default("工单{{ number }}已退回承办单位重新办理，进度：{{ link }}"),
    _R + OTHER: Default("工单{{ number }}有更新：{{ link }}"),
    LOOKUP_CODE: Default("验证码 {{ code }}，用于查询工单{{ number }}的办理进度，10分钟内有效。"
                         "如非本人操作，请忽略本短信。"),
    SMS_REPLY_HELP: Default("您好，本号码只接收对已办理完毕工单的评价：回复1满意、2基本满意、"
                            "3不满意。{% if number %}工单{{ number }}的办理进度：{{ link }}"
                            "{% else %}如需帮助，请拨打 12345。{% endif %}"),
    _F + "accepted": Default("您关注的问题（工单{{ number }}，{{ category }}）已由承办单位签收，"
                             "正在处理。"),
    _F + "resolved": Default("您关注的问题（工单{{ number }}，{{ category }}）承办单位已办理完毕。"
                             "如问题仍在，请拨打 12345。"),
    _F + "confirmed": Default("您关注的问题（工单{{ number }}，{{ category }}）已办结，"
                              "感谢您的关注。"),
    _F + "reopened": Default("您关注的问题（工单{{ number }}，{{ category }}）将重新办理。"),
    _F + OTHER: Default("您关注的问题（工单{{ number }}，{{ category }}）有新进展：{{ status }}。"),
    _U + "dispatched": Default("工单{{ number }}（{{ category }}）已派给贵单位，"
                               "请于{{ accept_by }}前签收、{{ resolve_by }}前办结。"),
    _U + "sla_warning": Default("工单{{ number }}（{{ category }}）时限将至，"
                                "办结时限 {{ resolve_by }}。"),
    _U + "overdue": Default("工单{{ number }}（{{ category }}）已超期，请尽快办理。"),
    _U + "supervised": Default("工单{{ number }}（{{ category }}）被督办：{{ body }}"),
    _U + "reopened": Default("工单{{ number }}（{{ category }}）市民不满意，已退回重办，"
                             "时限 {{ resolve_by }}。"),
    # A confirmation either closes the ticket or sends it back: its body says which.
    _U + "confirmed": Default("工单{{ number }}（{{ category }}）回访：{{ body }}"),
    _U + "extension_decided": Default("工单{{ number }}（{{ category }}）{{ body }}。"
                                      "办结时限 {{ resolve_by }}。"),
    _U + "arbitrated": Default("工单{{ number }}（{{ category }}）退单未获支持，请继续办理"
                               "{% if body %}：{{ body }}{% endif %}。"
                               "{% if resolve_by %}办结时限 {{ resolve_by }}。{% endif %}"),
    _U + OTHER: Default("工单{{ number }}（{{ category }}）有更新。"),
    _S + "escalated": Default("工单{{ number }}（{{ category }}，{{ unit }}）超期升级：{{ body }}"),
    _S + "returned": Default("工单{{ number }}（{{ category }}）被{{ unit }}退单，待裁定："
                             "{{ body }}"),
    _S + "extension_requested": Default("工单{{ number }}（{{ category }}）{{ unit }}申请延期："
                                        "{{ body }}"),
    _S + OTHER: Default("工单{{ number }}（{{ category }}）有更新：{{ body }}"),
    ROUTING_DRAFT_READY: Default(
        "已从近期工单和话务员改派记录学习生成分派规则草稿 {{ ruleset }}（不会自动启用）。"
        "与 {{ active }} 的影子评估：{{ figures }}请打开草稿页查看各类别关键词的变化和会改变"
        "分派的工单，确认更好后再启用：{{ page }}",
        "分派规则草稿 {{ ruleset }} 已生成，待审阅"),
}  # fmt: skip


def template_key(audience: str, event: str) -> str:
    """The template for an event; events without their own use the audience's "other"."""
    key = f"{audience}.{event}"
    return key if key in DEFAULTS else f"{audience}.{OTHER}"


def audience_of(key: str) -> str:
    return key.split(".", 1)[0]


def template_label(key: str) -> str:
    """What the admin console calls a template after its audience: its event's label, or
    the standalone message's name."""
    return STANDALONE_LABELS.get(key) or event_label(key.split(".", 1)[-1])


def allowed_variables(key: str) -> frozenset[str]:
    if key == LOOKUP_CODE:
        return RESIDENT_VARIABLES | {"code"}
    if audience_of(key) == "admin":
        return ADMIN_VARIABLES
    if audience_of(key) == "follower":
        return FOLLOWER_VARIABLES
    return RESIDENT_VARIABLES if audience_of(key) == "resident" else STAFF_VARIABLES


# ---------------------------------------------------------------- what a text may use

# Filters that never make a value longer: a fallback, trimming, shortening (to keep an SMS in
# one part), case. ``replace`` is left out: replacing "" multiplies a text's length.
FILTERS = ("default", "d", "trim", "truncate", "upper", "lower")
TESTS = ("defined", "undefined", "none")
# Literals, variables, {% if %} with comparisons, and/or/not, ``a if b else c``, ``~`` and
# the filters above: nothing that repeats, loops or reaches outside the text.
ALLOWED = frozenset({
    nodes.Template, nodes.Output, nodes.TemplateData, nodes.If, nodes.Name, nodes.Const,
    nodes.Concat, nodes.CondExpr, nodes.And, nodes.Or, nodes.Not, nodes.Compare, nodes.Operand,
    nodes.Filter, nodes.Test, nodes.Keyword, nodes.List, nodes.Tuple,
})  # fmt: skip
_REFUSED = (
    ((nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends, nodes.Block),
     "引用其他模板", "include、import、extends、block"),
    ((nodes.For,), "循环", "for"),
    ((nodes.Macro, nodes.CallBlock), "宏", "macro、call"),
    ((nodes.Assign, nodes.AssignBlock, nodes.With), "变量赋值", "set、with"),
    ((nodes.Call,), "函数调用", "如 range()、lipsum()"),
    ((nodes.Getattr, nodes.Getitem, nodes.Slice), "变量的属性或下标", "如 number.upper、number[0]"),
    ((nodes.BinExpr, nodes.UnaryExpr), "算术运算", "+ - * / // % **"),
)  # fmt: skip
# Characters one render may produce at all, whatever the values (the longest text allowed
# is TEXT_LIMIT): a bound on memory, not the length check of an edit.
OUTPUT_LIMIT = 10 * TEXT_LIMIT


class RenderError(Exception):
    """A text that cannot make a message; the message says why, in Chinese."""


def _inspect(tree: nodes.Template) -> tuple[str | None, set[str]]:
    """What a parsed text uses that a notification may not (a Chinese reason naming each
    thing and its first line; None if nothing), and the names of the variables it reads."""
    refused: dict[str, str] = {}  # what → where (the first line it is on)
    names: set[str] = set()
    stack: list[nodes.Node] = [tree]
    while stack:  # a loop, not recursion: a deeply nested text must not exhaust the stack
        node = stack.pop()
        what = _refused(node)
        if what is not None:
            refused.setdefault(what[0], f"{what[1]}第 {node.lineno} 行")
        elif isinstance(node, nodes.Name):
            names.add(node.name)
        stack.extend(reversed(list(node.iter_child_nodes())))
    if not refused:
        return None, names
    listed = "、".join(f"{what}（{where}）" for what, where in refused.items())
    shown = "、".join(name for name in FILTERS if name != "d")
    return (f"不能使用{listed}。通知模板只能使用变量、文字、{{% if %}} 条件和过滤器 "
            f"{shown}"), names  # fmt: skip


def _refused(node: nodes.Node) -> tuple[str, str] | None:
    """What ``node`` is and an example ("" or ending in "，"), if a text may not use it."""
    if isinstance(node, nodes.Filter) and node.name not in FILTERS:
        return f"过滤器 |{node.name}", ""
    if isinstance(node, nodes.Test) and node.name not in TESTS:
        return f"测试 is {node.name}", ""
    if type(node) in ALLOWED:
        return None
    for kinds, what, example in _REFUSED:
        if isinstance(node, kinds):
            return what, f"{example}，"
    return "这种写法", ""


class _NoOtherTemplates(BaseLoader):
    """A text stands alone: include, import and extends find nothing."""

    def get_source(self, environment: Environment, template: str) -> NoReturn:
        raise TemplateNotFound(template, "通知模板不能引用其他模板")


class NotificationSandbox(ImmutableSandboxedEnvironment):
    """Jinja's sandbox narrowed to what a text may use: the allowed filters and tests only, no
    globals, other templates never found, and arithmetic, calls and attribute or item access
    refused while rendering — so a text that skipped the check still cannot loop, repeat a
    string ten million times or reach outside itself."""

    # Intercepted operators are also never folded into constants at compile time.
    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})
    intercepted_unops = frozenset({"+", "-"})

    def __init__(self) -> None:
        super().__init__(undefined=StrictUndefined, autoescape=False, loader=_NoOtherTemplates())
        self.filters = {name: self.filters[name] for name in FILTERS}
        self.tests = {name: self.tests[name] for name in TESTS}
        self.globals = {}

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> NoReturn:
        raise SecurityError(f"通知模板不能做算术运算（{operator}）")

    def call_unop(self, context: Any, operator: str, arg: Any) -> NoReturn:
        raise SecurityError(f"通知模板不能做算术运算（{operator}）")

    def getattr(self, obj: Any, attribute: str) -> NoReturn:
        raise SecurityError("通知模板不能访问变量的属性或下标")

    def getitem(self, obj: Any, argument: Any) -> NoReturn:
        raise SecurityError("通知模板不能访问变量的属性或下标")

    def call(self, context: Any, obj: Any, /, *args: Any, **kwargs: Any) -> NoReturn:
        raise SecurityError("通知模板不能调用函数")


_ENV = NotificationSandbox()
# What rendering an admin's text can raise besides Jinja's own errors: a filter or a
# comparison given the wrong kind of value (truncate("x"), number > 5).
_RENDER_ERRORS = (TemplateError, TypeError, ValueError, LookupError, ArithmeticError,
                  AssertionError, RecursionError)  # fmt: skip


def _parse(text: str) -> nodes.Template:
    try:
        return _ENV.parse(text)
    except TemplateSyntaxError as exc:
        raise RenderError(f"第 {exc.lineno} 行模板语法有误：{exc.message}") from exc
    except RecursionError as exc:
        raise RenderError("模板嵌套过深，无法解析") from exc


@functools.lru_cache(maxsize=256)
def _compiled(text: str) -> Template:
    tree = _parse(text)
    problem, _ = _inspect(tree)
    if problem is not None:
        raise RenderError(problem)
    try:
        return _ENV.from_string(tree)
    except _RENDER_ERRORS as exc:
        raise RenderError(f"模板无法生成内容：{_reason(exc)}") from exc


def _reason(exc: BaseException) -> str:
    if isinstance(exc, UndefinedError):
        return f"变量未定义（{exc.message}）"
    if isinstance(exc, TemplateError):
        return exc.message or type(exc).__name__
    if isinstance(exc, RecursionError):
        return "模板嵌套过深"
    return f"参数或比较的类型不对（{exc}）"


def render(text: str, values: Mapping[str, str]) -> str:
    """The text with its variables filled in. Raises RenderError, with the reason in
    Chinese, for any text that cannot make a message: one that uses what ``ALLOWED`` does not
    allow, an unknown variable, a filter given the wrong argument, or more than
    ``OUTPUT_LIMIT`` characters."""
    template = _compiled(text)
    parts: list[str] = []
    size = 0
    try:
        for part in template.generate(**values):
            size += len(part)
            if size > OUTPUT_LIMIT:
                raise RenderError(f"生成的内容超过 {OUTPUT_LIMIT} 个字，已停止")
            parts.append(part)
    except _RENDER_ERRORS as exc:
        raise RenderError(f"模板无法生成内容：{_reason(exc)}") from exc
    return "".join(parts).strip()


def check(key: str, body: str, subject: str | None = None) -> dict[str, list[str]]:
    """Problems with an edited template, by field, in Chinese; empty when it may be saved."""
    problems: dict[str, list[str]] = {}
    if key not in DEFAULTS:
        return {"key": [f"没有名为 {key} 的通知模板"]}
    allowed = allowed_variables(key)
    limit = SMS_LIMIT if audience_of(key) in SMS_AUDIENCES else TEXT_LIMIT
    for field, text, max_len in (("body", body, limit), ("subject", subject, SUBJECT_LIMIT)):
        if text is None:
            continue
        found = _check_text(text, allowed, max_len, AUDIENCES[audience_of(key)])
        if field == "body" and not text.strip():
            found.insert(0, "模板内容不能为空")
        if found:
            problems[field] = found
    return problems


def _check_text(text: str, allowed: frozenset[str], max_len: int, audience: str) -> list[str]:
    try:
        problem, names = _inspect(_parse(text))
    except RenderError as exc:
        return [str(exc)]
    if problem is not None:
        return [problem]
    # Every name is a variable: nothing in an allowed text assigns one.
    unknown = sorted(names - allowed)
    if unknown:
        hint = "、".join(f"{{{{ {name} }}}}（{VARIABLES[name]}）" for name in sorted(allowed))
        # A variable of another audience is named as such, a typo as unknown.
        where = f"发给{audience}的模板不能使用" if set(unknown) <= set(VARIABLES) else "未知的变量"
        return [f"{where}：{'、'.join(unknown)}。可用的变量：{hint}"]
    try:
        rendered = render(text, SAMPLE)
    except RenderError as exc:
        return [str(exc)]
    if len(rendered) > max_len:
        return [f"按示例数据生成的内容有 {len(rendered)} 个字，超过上限 {max_len} 个字"]
    return []
