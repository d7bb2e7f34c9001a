"""From an outbox row to a message on a channel: Chinese templates, masked content for SMS."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.config import Settings
from hotline.domain.tracking import tracking_token
from hotline.models import OutboxMessage, Ticket, Unit

from .channels import Channel, Message, PermanentError, Suppressed
from .channels.console import ConsoleChannel
from .channels.email import SmtpChannel
from .channels.sms import HttpSmsGateway
from .channels.webhook import WebhookChannel

# No names or phone numbers of anyone in these: an SMS can be read over a shoulder.
RESIDENT = {
    "accepted": "您反映的问题（工单{number}）已由承办单位签收，正在处理。进度：{link}",
    "feedback": "工单{number}有新的办理进展，请查看：{link}",
    "resolved": "工单{number}已办理完毕，请确认问题是否解决并评价：{link}",
    "confirmed": "工单{number}已办结，感谢您的监督。",
    "closed_unrated": "工单{number}已办结。如问题仍未解决，请拨打 12345。",
    "rejected": "工单{number}未予受理，原因请查看：{link}",
    "merged": "工单{number}与相同问题合并办理，进度：{link}",
    "reopened": "工单{number}已安排重新办理，进度：{link}",
}
STAFF = {
    "dispatched": "工单{number}（{category}）已派给贵单位，"
    "请于{accept_by}前签收、{resolve_by}前办结。",
    "sla_warning": "工单{number}（{category}）时限将至，办结时限 {resolve_by}。",
    "overdue": "工单{number}（{category}）已超期，请尽快办理。",
    "supervised": "工单{number}（{category}）被督办：{body}",
    "reopened": "工单{number}（{category}）市民不满意，已退回重办，时限 {resolve_by}。",
    "confirmed": "工单{number}（{category}）已获市民确认。",
    "escalated": "工单{number}（{category}）超期升级：{body}",
    "returned": "工单{number}（{category}）被退单：{body}",
    "extension_requested": "工单{number}（{category}）申请延期：{body}",
}


def _when(value, tz: ZoneInfo) -> str:  # type: ignore[no-untyped-def]
    return value.astimezone(tz).strftime("%m月%d日%H:%M") if value else "（未设定）"


def compose(session: Session, row: OutboxMessage, settings: Settings) -> tuple[Channel, Message]:
    ticket = session.get(Ticket, row.ticket_id) if row.ticket_id else None
    if ticket is None:
        raise PermanentError("工单不存在")
    tz = ZoneInfo(settings.timezone)
    kind = row.payload.get("event", "")
    base = settings.public_base_url or "http://127.0.0.1:8000"
    token = tracking_token(settings.secret_key, ticket.number, ticket.tracking_salt)
    values = {
        "number": ticket.number,
        "category": ticket.category.name if ticket.category else "未分类",
        "accept_by": _when(ticket.accept_by, tz),
        "resolve_by": _when(ticket.resolve_by, tz),
        "body": (row.payload.get("body") or "")[:120],
        "link": f"{base}/track/{ticket.number}?token={token}",
    }
    key = str(row.id)
    if row.audience == "resident":
        if ticket.sms_opt_out:
            raise Suppressed("市民选择不接收短信")
        text = RESIDENT.get(kind, "工单{number}有更新：{link}").format(**values)
        channel: Channel = (
            HttpSmsGateway(settings.sms_gateway_url, settings.sms_api_key, settings.sms_signature)
            if settings.sms_gateway_url else ConsoleChannel()
        )  # fmt: skip
        data = {"number": ticket.number, "urgent": ticket.priority != "normal"}
        return channel, Message(key, row.recipient or "", text, data=data)
    text = STAFF.get(kind, "工单{number}（{category}）有更新。").format(**values)
    data = {"number": ticket.number, "event": kind, "status": ticket.status}
    if row.audience == "unit":
        unit = session.scalar(select(Unit).where(Unit.code == row.recipient))
        if unit is not None and unit.webhook_url:
            return WebhookChannel(unit.webhook_url, unit.webhook_secret or ""), Message(
                key, unit.webhook_url, text, data=data
            )
        if unit is not None and unit.email and settings.smtp_host:
            channel = SmtpChannel(settings.smtp_host, settings.smtp_port, settings.mail_from,
                                  settings.smtp_user, settings.smtp_password)  # fmt: skip
            return channel, Message(
                key, unit.email, text, subject=f"工单{ticket.number}", data=data
            )
    return ConsoleChannel(), Message(key, row.recipient or row.audience, text, data=data)
