"""From an outbox row to a message on a channel, with the admins' templates
(``hotline.domain.templates``; built-in texts unless edited).

Admins' notices (audience "admin": a learned routing draft waits for review) have no ticket:
their text was rendered from the template when the draft was saved, and the inbox shows the
same text. Each row with an address is one e-mail."""

from __future__ import annotations

import logging
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.config import Settings
from hotline.domain.states import PUBLIC_STATUS_LABELS, STATUS_LABELS, Status
from hotline.domain.templates import LOOKUP_CODE, SMS_REPLY_HELP, RenderError, render
from hotline.domain.tracking import tracking_link
from hotline.models import OutboxMessage, Ticket, Unit
from hotline.services.inbox import ADMIN_AUDIENCE
from hotline.services.templates import EffectiveTemplate, get_template

from .channels import Channel, Message, PermanentError, Suppressed
from .channels.console import ConsoleChannel
from .channels.email import SmtpChannel
from .channels.open311 import is_open311_dispatch, open311_delivery
from .channels.sms import HttpSmsGateway
from .channels.webhook import WebhookChannel

log = logging.getLogger(__name__)
TEMPLATE_TTL = 5.0  # seconds: an admin's edit reaches every worker within this time
_templates: dict[str, tuple[float, EffectiveTemplate]] = {}


def _template(session: Session, key: str) -> EffectiveTemplate:
    """The template for ``key``, read at most every few seconds per process (one query per
    message would cost as much as the rest of composing it)."""
    cached = _templates.get(key)
    if cached is None or time.monotonic() - cached[0] > TEMPLATE_TTL:
        cached = (time.monotonic(), get_template(session, key))
        _templates[key] = cached
    return cached[1]


def forget_templates() -> None:
    """Drop the cached templates (tests; a process that must see an edit at once)."""
    _templates.clear()


def _when(value: datetime | None, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%m月%d日%H:%M") if value else "（未设定）"


def _unit_name(session: Session, ticket: Ticket, row: OutboxMessage) -> str:
    """The unit the event is about: the one that returned it, else the lead unit."""
    code = row.payload.get("unit")
    named = session.scalar(select(Unit.name).where(Unit.code == code)) if code else None
    return named or (ticket.lead_unit.name if ticket.lead_unit else "（未派单）")


def values_for(
    session: Session, ticket: Ticket, row: OutboxMessage, settings: Settings
) -> dict[str, str]:
    """Every template variable for this ticket; residents' messages get only theirs."""
    tz = ZoneInfo(settings.timezone)
    status = Status(ticket.status)
    values = {
        "number": ticket.number,
        "category": ticket.category.name if ticket.category else "未分类",
        "accept_by": _when(ticket.accept_by, tz),
        "resolve_by": _when(ticket.resolve_by, tz),
    }
    if row.audience == "follower":  # the ticket's public facts, never the reporter's link
        return values | {"status": PUBLIC_STATUS_LABELS[status]}
    if row.audience == "resident":
        values["status"] = PUBLIC_STATUS_LABELS[status]
        values["link"] = _tracking_link(ticket, settings)
        if row.template == LOOKUP_CODE:
            values["code"] = str(row.payload.get("code", ""))
        return values
    return values | {
        "status": STATUS_LABELS[status],
        "unit": _unit_name(session, ticket, row),
        "feedback_by": _when(ticket.feedback_by, tz),
        "address": ticket.address or "",
        "body": (row.payload.get("body") or "")[:120],
    }


def _tracking_link(ticket: Ticket, settings: Settings) -> str:
    """Messages are composed without a request to take the host from, so the link stands on
    HOTLINE_PUBLIC_BASE_URL (required in production, see config); a development setup
    without it gets a relative link and a warning rather than a made-up host."""
    if not settings.public_base_url:
        log.warning("HOTLINE_PUBLIC_BASE_URL is not set: the tracking link for %s is relative",
                    ticket.number)  # fmt: skip
    return tracking_link(settings.secret_key, ticket.number, ticket.tracking_salt,
                         base=settings.public_base_url or "")  # fmt: skip


# What a ticketless message (the answer to an SMS reply from a phone with no ticket) fills in.
NO_TICKET = {"number": "", "category": "", "status": "", "accept_by": "", "resolve_by": "",
             "link": ""}  # fmt: skip


def _sms_channel(settings: Settings) -> Channel:
    if settings.sms_gateway_url:
        return HttpSmsGateway(settings.sms_gateway_url, settings.sms_api_key,
                              settings.sms_signature)  # fmt: skip
    return ConsoleChannel()


def _smtp_channel(settings: Settings) -> Channel:
    return SmtpChannel(settings.smtp_host or "", settings.smtp_port, settings.mail_from,
                       settings.smtp_user, settings.smtp_password)  # fmt: skip


def _admin_notice(row: OutboxMessage, settings: Settings) -> tuple[Channel, Message]:
    """An e-mail to an admins' address (the demo channel without SMTP, as units' e-mail)."""
    payload = row.payload or {}
    text, subject = (payload.get("body") or "").strip(), payload.get("subject") or ""
    if not text:
        raise PermanentError("通知内容为空，未发送")
    data = {"event": payload.get("event", ""), "link": payload.get("link_path", "")}
    channel = _smtp_channel(settings) if row.recipient and settings.smtp_host else ConsoleChannel()
    return channel, Message(str(row.id), row.recipient or "admin", text, subject=subject,
                            data=data)  # fmt: skip


def compose(session: Session, row: OutboxMessage, settings: Settings) -> tuple[Channel, Message]:
    if row.audience == ADMIN_AUDIENCE:
        return _admin_notice(row, settings)
    ticket = session.get(Ticket, row.ticket_id) if row.ticket_id else None
    template = _template(session, row.template)
    if ticket is None and row.template == SMS_REPLY_HELP and row.recipient:
        try:
            text = render(template.body, NO_TICKET)
        except RenderError as exc:
            raise PermanentError(f"通知模板 {template.key} 有误，未发送：{exc}") from exc
        data = {"number": "", "urgent": True, "template_id": template.sms_template_id,
                "params": NO_TICKET}  # fmt: skip
        return _sms_channel(settings), Message(str(row.id), row.recipient, text, data=data)
    if ticket is None:
        raise PermanentError("工单不存在")
    values = values_for(session, ticket, row, settings)
    try:
        text, subject = render(template.body, values), render(template.subject, values)
    except RenderError as exc:  # a text saved before today's checks, or written by hand
        raise PermanentError(f"通知模板 {template.key} 有误，未发送：{exc}") from exc
    key = str(row.id)
    if row.audience in ("resident", "follower"):
        # The opt-out is the reporter's; a follower asked for these texts by following.
        # A lookup code was asked for just now: the opt-out is from progress messages.
        if row.audience == "resident" and ticket.sms_opt_out and row.template != LOOKUP_CODE:
            raise Suppressed("市民选择不接收短信")
        channel = _sms_channel(settings)
        # A lookup code is wanted now, at any hour; it expires before the morning. The answer
        # to a resident's own SMS follows it at once, as a reply does.
        urgent = ticket.priority != "normal" or row.template in (LOOKUP_CODE, SMS_REPLY_HELP)
        data = {"number": ticket.number, "urgent": urgent,
                "template_id": template.sms_template_id, "params": values}  # fmt: skip
        return channel, Message(key, row.recipient or "", text, data=data)
    data = {"number": ticket.number, "event": row.payload.get("event", ""),
            "status": ticket.status}  # fmt: skip
    code = row.recipient if row.audience == "unit" else settings.supervisor_unit
    unit = session.scalar(select(Unit).where(Unit.code == code)) if code else None
    if is_open311_dispatch(row, unit):  # the unit's own system takes the ticket itself
        return open311_delivery(session, row, ticket, unit)  # type: ignore[arg-type]
    if unit is not None and unit.webhook_url:
        return WebhookChannel(unit.webhook_url, unit.webhook_secret or ""), Message(
            key, unit.webhook_url, text, subject=subject, data=data
        )
    if unit is not None and unit.email and settings.smtp_host:
        return _smtp_channel(settings), Message(key, unit.email, text, subject=subject, data=data)
    return ConsoleChannel(), Message(key, code or row.audience, text, subject=subject, data=data)
