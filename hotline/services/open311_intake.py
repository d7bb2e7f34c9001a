"""Open311 intake: a posted GeoReport v2 form checked and mapped onto our submission, then
made a ticket through the same intake as every channel — at once for a realtime service, or
kept as an ``Open311Token`` for a batch one and made a ticket when the token is processed.

What a ticket does not take from ``submit_ticket`` (the category's answers, media_url, the
e-mail and the client's own ids) is written onto it right after, in the same transaction.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from marshmallow import ValidationError, validates_schema
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from ..domain.open311 import (
    BATCH_NOTICE,
    attribute_answers,
    check_attributes,
    describe_answers,
    service_notice,
)
from ..domain.states import Channel
from ..errors import BadRequest, HotlineError, NotFound
from ..models import Category, Open311Token, Ticket
from ..schemas.fields import Text
from ..schemas.tickets import TicketSubmissionSchema
from .actors import Actor
from .calendar import CalendarCache
from .intake import IntakePolicy, submit_ticket
from .router_cache import RouterCache

log = logging.getLogger(__name__)

DESCRIPTION_MAX = 4000  # GeoReport v2 clients send up to 4,000 characters
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s.]{1,63}$")
ID_MAX = 100  # account_id, device_id, address_id
# Our field names → what the Open311 client sent, to name them in an error.
OPEN311_NAMES = {"category": "service_code", "description": "description",
                 "address": "address_string", "latitude": "lat", "longitude": "long",
                 "reporter_name": "first_name/last_name", "reporter_phone": "phone"}  # fmt: skip
BATCH = "batch"
PROCESS_AFTER = timedelta(seconds=5)  # the periodic round leaves fresh tokens to the hand-on


class Open311TicketSchema(TicketSubmissionSchema):
    """A resident's complaint as an Open311 client sends it: longer descriptions (the spec's
    4,000 characters), and a phone that may be missing (clients often know only an e-mail)."""

    description = Text(required=True, min_len=1, max_len=DESCRIPTION_MAX, multiline=True)

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _cross_field(self, data: Any, original: Any, **_: Any) -> None:
        if not isinstance(data, dict) or not isinstance(original, dict):
            return
        if (original.get("latitude") is None) != (original.get("longitude") is None):
            missing = "longitude" if original.get("longitude") is None else "latitude"
            raise ValidationError({missing: ["经纬度需同时填写"]})


@dataclass(frozen=True)
class Checked:
    """A submission that passed every check: what ``submit_ticket`` takes, and the rest."""

    service_code: str
    batch: bool
    ticket: dict[str, Any]  # schema-validated, JSON-safe (it is a token's payload too)
    extras: dict[str, Any]  # attributes, media_url, reporter_email, client_ids
    notice: str

    def payload(self, actor: Actor) -> dict[str, Any]:
        return {"ticket": self.ticket, "extras": self.extras, "notice": self.notice,
                "actor": actor.label}  # fmt: skip


def _refuse(errors: dict[str, str]) -> BadRequest:
    detail = "；".join(f"{name}：{message}" for name, message in errors.items())
    return BadRequest(detail[:1000], errors={name: [m] for name, m in errors.items()})


def _first(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    first: dict[str, str] = {}
    for key, value in items:
        first.setdefault(key, value)
    return first


def check_submission(session: Session, items: list[tuple[str, str]]) -> Checked:
    """Check a posted form (every ``(key, value)`` pair, repeated keys kept).

    Raises ``BadRequest`` (400) naming the Open311 fields that are wrong and ``NotFound`` (404)
    for a service we do not offer.
    """
    form = {key: value.strip() for key, value in _first(items).items()}
    code = form.get("service_code", "")
    if not code:
        raise BadRequest("缺少 service_code（服务代码）", errors={"service_code": ["此项为必填项"]})
    category = session.scalar(select(Category).where(Category.code == code[:40],
                                                     Category.active))  # fmt: skip
    if category is None or len(code) > 40:
        raise NotFound(f"没有这个服务：{code[:40]}")
    errors: dict[str, str] = {}
    has_point = bool(form.get("lat") or form.get("long"))
    if not (has_point or form.get("address_string") or form.get("address_id")):
        errors["location"] = "请提供位置：lat 和 long、address_string 或 address_id"
    definitions = list(category.attributes or [])
    answered = check_attributes(definitions, attribute_answers(items))
    errors.update({f"attribute[{c}]": message for c, message in answered.errors.items()})
    extras, more = _extras(form)
    errors.update(more)
    raw = {"category": category.code, "description": _description(form, category, definitions,
                                                                   answered.answers),
           "address": form.get("address_string") or _address_id(form),
           "latitude": form.get("lat") or None, "longitude": form.get("long") or None,
           "reporter_name": " ".join(filter(None, (form.get("first_name"),
                                                   form.get("last_name")))) or None,
           "reporter_phone": form.get("phone") or None}  # fmt: skip
    raw["anonymous"] = not (raw["reporter_name"] or raw["reporter_phone"]
                            or extras.get("reporter_email"))  # fmt: skip
    try:
        ticket = Open311TicketSchema().load({k: v for k, v in raw.items() if v is not None})
    except ValidationError as exc:
        for name, messages in _flat(exc.messages):
            errors.setdefault(OPEN311_NAMES.get(name, name), messages)
        ticket = {}
    if errors:
        raise _refuse(errors)
    extras["attributes"] = answered.answers or None
    notice = (BATCH_NOTICE if category.service_type == BATCH
              else service_notice(category.time_limit, category.priority))  # fmt: skip
    return Checked(category.code, category.service_type == BATCH, ticket, extras, notice)


def _flat(messages: Any) -> list[tuple[str, str]]:
    if not isinstance(messages, dict):
        return [("description", str(messages))]
    return [(str(name), "；".join(map(str, m)) if isinstance(m, list) else str(m))
            for name, m in messages.items()]  # fmt: skip


def _address_id(form: dict[str, str]) -> str | None:
    address_id = form.get("address_id")
    return f"地址编号 {address_id[:ID_MAX]}" if address_id else None


def _description(form: dict[str, str], category: Category, definitions: list[dict[str, Any]],
                 answers: dict[str, Any]) -> str:  # fmt: skip
    """The description as sent; without one (it is optional in Open311), the service's name
    and the answers, so the ticket still says what it is about."""
    if form.get("description"):
        return form["description"]
    return "\n".join([f"{category.name}（Open311 提交，未填写描述）",
                      *describe_answers(definitions, answers)])  # fmt: skip


def _extras(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    extras: dict[str, Any] = {"media_url": None, "reporter_email": None, "client_ids": None}
    errors: dict[str, str] = {}
    if email := form.get("email"):
        if len(email) > 200 or not EMAIL.match(email):
            errors["email"] = "电子邮箱格式不正确"
        extras["reporter_email"] = email
    if media_url := form.get("media_url"):
        parts = urlsplit(media_url) if len(media_url) <= 500 else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc \
                or re.search(r"\s", media_url):  # fmt: skip
            errors["media_url"] = "应为 500 字符以内的 http(s) 链接"
        extras["media_url"] = media_url  # the link only: we never fetch it
    ids = {}
    for name in ("account_id", "device_id"):
        if value := form.get(name):
            if len(value) > ID_MAX:
                errors[name] = f"不能超过 {ID_MAX} 个字符"
            ids[name] = value
    if len(form.get("address_id", "")) > ID_MAX:
        errors["address_id"] = f"不能超过 {ID_MAX} 个字符"
    extras["client_ids"] = ids or None
    return extras, errors


# ---------------------------------------------------------------- tickets and tokens


@dataclass(frozen=True)
class Intake:
    """What intake needs besides the session (the app's per-process caches, or a worker's)."""

    policy: IntakePolicy
    routers: RouterCache
    calendars: CalendarCache


def file_ticket(session: Session, checked: Checked | dict[str, Any], *, now: datetime,
                intake: Intake, actor: Actor) -> Ticket:  # fmt: skip
    """The ticket, numbered, with the Open311 fields ``submit_ticket`` does not take."""
    ticket_data, extras = ((checked.ticket, checked.extras) if isinstance(checked, Checked)
                           else (checked["ticket"], checked["extras"]))  # fmt: skip
    ticket = submit_ticket(session, dict(ticket_data), now=now, policy=intake.policy,
                           channel=Channel.OPEN311, actor=actor,
                           routing=intake.routers.active(session),
                           sla_clock=intake.calendars.clock(session))  # fmt: skip
    values = {name: extras.get(name) for name in ("attributes", "media_url", "reporter_email",
                                                  "client_ids")}  # fmt: skip
    if any(value is not None for value in values.values()):
        # A plain UPDATE, as numbering does: an ORM one would bump the new ticket's version.
        session.execute(update(Ticket).where(Ticket.id == ticket.id).values(**values))
        for name, value in values.items():
            set_committed_value(ticket, name, value)
    return ticket


def create_token(session: Session, checked: Checked, *, now: datetime, actor: Actor) -> str:
    """Keep a batch service's submission: the row is the record a job makes a ticket of."""
    token = secrets.token_urlsafe(24)
    row = Open311Token(token=token, service_code=checked.service_code,
                       payload=checked.payload(actor), user_id=actor.user_id,
                       created_at=now)  # fmt: skip
    session.add(row)
    session.flush()
    return token


def token_id(session: Session, token: str) -> int | None:
    return session.scalar(select(Open311Token.id).where(Open311Token.token == token))


def due_tokens(session: Session, *, now: datetime, older_than: timedelta = PROCESS_AFTER,
               limit: int = 100) -> list[int]:  # fmt: skip
    """Tokens not processed yet (older than ``older_than``: fresher ones are being handed on)."""
    return list(session.scalars(
        select(Open311Token.id)
        .where(Open311Token.processed_at.is_(None), Open311Token.created_at <= now - older_than)
        .order_by(Open311Token.id).limit(limit)
    ))  # fmt: skip


def process_token(session: Session, row_id: int, *, now: datetime,
                  intake: Intake) -> Open311Token | None:  # fmt: skip
    """Make the token's ticket, or record why it cannot be made (the category was withdrawn
    meanwhile…). None when it is processed already or another process holds it."""
    query = select(Open311Token).where(Open311Token.id == row_id,
                                       Open311Token.processed_at.is_(None))  # fmt: skip
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    row = session.scalar(query)
    if row is None:
        return None
    payload = row.payload or {}
    actor = Actor(row.user_id, str(payload.get("actor") or "Open311"))
    try:
        with session.begin_nested():
            ticket = file_ticket(session, payload, now=now, intake=intake, actor=actor)
    except HotlineError as exc:  # the submission itself is refused: final, not retried
        log.warning("open311 token %s refused: %s", row.id, exc.detail)
        reasons = "".join(f"；{k}：{'；'.join(v)}" for k, v in (exc.errors or {}).items())
        row.error = (exc.detail + reasons)[:1000]
    except (KeyError, TypeError) as exc:  # a payload no longer readable: final too
        row.error = f"无法读取提交的内容：{type(exc).__name__}"
    else:
        row.ticket_id = ticket.id
    # Made a ticket (which holds the submission now, and is erased with it) or refused for
    # good: either way the token keeps none of the resident's data.
    row.payload = {"notice": payload.get("notice")}
    row.processed_at = now
    session.flush()
    return row
