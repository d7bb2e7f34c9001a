"""Notification templates as admins see and edit them: built-in texts overridden by rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain import templates as domain
from ..errors import NotFound, ValidationFailed
from ..models import NotificationTemplate
from . import audit
from .actors import Actor


@dataclass(frozen=True)
class EffectiveTemplate:
    key: str
    body: str
    subject: str
    sms_template_id: str | None
    customised: bool
    updated_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        audience = domain.audience_of(self.key)
        return {
            "key": self.key, "audience": audience, "audience_name": domain.AUDIENCES[audience],
            "body": self.body, "subject": self.subject, "sms_template_id": self.sms_template_id,
            "customised": self.customised, "updated_at": self.updated_at,
            "default_body": domain.DEFAULTS[self.key].body,
            "variables": {name: domain.VARIABLES[name]
                          for name in sorted(domain.allowed_variables(self.key))},
        }  # fmt: skip


def _effective(key: str, row: NotificationTemplate | None) -> EffectiveTemplate:
    default = domain.DEFAULTS[key]
    if row is None:
        return EffectiveTemplate(key, default.body, default.subject, None, False)
    return EffectiveTemplate(key, row.body, row.subject or default.subject,
                             row.sms_template_id, True, row.updated_at)  # fmt: skip


def get_template(session: Session, key: str) -> EffectiveTemplate:
    if key not in domain.DEFAULTS:
        raise NotFound(f"没有名为 {key} 的通知模板")
    return _effective(key, session.get(NotificationTemplate, key))


def list_templates(session: Session) -> list[EffectiveTemplate]:
    rows = {row.key: row for row in session.scalars(select(NotificationTemplate))}
    return [_effective(key, rows.get(key)) for key in domain.DEFAULTS]


def save_template(
    session: Session, key: str, *, body: str, subject: str | None,
    sms_template_id: str | None, actor: Actor, now: datetime,
) -> EffectiveTemplate:  # fmt: skip
    """Check and store an admin's text; nothing is saved if it has a problem. Audited."""
    get_template(session, key)  # 404 for unknown keys
    problems = domain.check(key, body, subject)
    if problems:
        first = next(iter(problems.values()))[0]
        raise ValidationFailed(problems, detail=f"模板未保存：{first}")
    row = session.get(NotificationTemplate, key)
    before = None if row is None else {"body": row.body, "subject": row.subject,
                                       "sms_template_id": row.sms_template_id}  # fmt: skip
    if row is None:
        row = NotificationTemplate(key=key)
        session.add(row)
    row.body, row.subject = body.strip(), (subject or "").strip() or None
    row.sms_template_id = (sms_template_id or "").strip() or None
    row.updated_at, row.updated_by_id = now, actor.user_id
    audit.record(
        session,
        "template.saved",
        f"template:{key}",
        actor,
        now,
        {
            "before": before,
            "after": {
                "body": row.body,
                "subject": row.subject,
                "sms_template_id": row.sms_template_id,
            },
        },
    )
    session.flush()
    return _effective(key, row)


def reset_template(session: Session, key: str, *, actor: Actor, now: datetime) -> EffectiveTemplate:
    """Back to the built-in text."""
    current = get_template(session, key)
    row = session.get(NotificationTemplate, key)
    if row is not None:
        session.delete(row)
        audit.record(session, "template.reset", f"template:{key}", actor, now,
                     {"before": {"body": current.body}})  # fmt: skip
        session.flush()
    return _effective(key, None)


def preview(key: str, body: str | None = None, subject: str | None = None,
            current: EffectiveTemplate | None = None) -> dict[str, Any]:  # fmt: skip
    """What a (possibly unsaved) text looks like with sample values, and its problems."""
    body = body if body is not None else (current.body if current else domain.DEFAULTS[key].body)
    subject = subject if subject is not None else (current.subject if current else None)
    problems = domain.check(key, body, subject)
    if problems:
        return {"ok": False, "problems": problems, "body": None, "subject": None}
    return {"ok": True, "problems": {}, "body": domain.render(body, domain.SAMPLE),
            "subject": domain.render(subject, domain.SAMPLE) if subject else None}  # fmt: skip
