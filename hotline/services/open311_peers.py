"""Units whose own back office speaks Open311 GeoReport v2 (``units.open311_*``): reading
what such a system answers, and turning the state of the remote request into the unit's own
steps on our ticket (accept, feedback, resolve), so that our timeline, deadlines and 三率
follow a unit that works in its own system.

notifications' ``open311`` channel posts the ticket there and records the link; the periodic
poll (``hotline.background.open311_peers``) does the HTTP and hands the answers to
:func:`apply_remote`. This module does no HTTP itself.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain.sla import Clock
from ..domain.states import WITH_UNIT, Role, Status
from ..domain.workflow import Action
from ..errors import HotlineError
from ..models import Open311Link, Ticket, Unit
from .actors import Actor
from .lifecycle import Who, perform
from .queries import lock_ticket

log = logging.getLogger(__name__)

# Who acted, on our timeline: the unit's system, not a person of ours.
PEER_LABEL = "单位系统（Open311）"
IDS_PER_GET = 50  # service_request_ids per GET: URLs stay short enough for any server
# Tickets the lead unit still works on: the only ones whose remote side can move them.
ACTIVE = tuple(sorted(status.value for status in WITH_UNIT))
RESOLVED_WITHOUT_NOTES = "承办单位已在本单位系统中办结。"
MAX_DESCRIPTION = 4000


class PeerAnswerError(Exception):
    """The remote answered something that is not an Open311 list of requests."""


@dataclass(frozen=True)
class RemoteRequest:
    """One ``<request>`` of an Open311 answer, as far as we use it."""

    service_request_id: str | None
    token: str | None = None
    status: str | None = None  # "open" / "closed", lower case
    status_notes: str | None = None
    description: str | None = None
    updated_at: datetime | None = None


def number_marker(number: str) -> str:
    """What starts the description we post: our ticket number, in the one field every Open311
    system keeps (unknown attributes may be refused), so that both sides can find the pair."""
    return f"【12345工单 {number}】"


def description_for(ticket: Ticket) -> str:
    text = number_marker(ticket.number) + (ticket.description or "").strip()
    return text[:MAX_DESCRIPTION]


def _text(node: Element, tag: str) -> str | None:
    child = node.find(tag)
    if child is None or child.text is None:
        return None
    return child.text.strip() or None


def parse_datetime(value: str | None) -> datetime | None:
    """A W3C datetime (``Z`` or an offset); None for anything else."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_requests(body: bytes) -> list[RemoteRequest]:
    """The requests of a GeoReport v2 XML answer (POST, GET requests, GET tokens).

    ``<errors>`` or anything that is not XML raises :class:`PeerAnswerError` with the
    remote's own description. Parsed by defusedxml: the remote is not trusted."""
    try:
        root = fromstring(body)
    except (DefusedXmlException, SyntaxError, ValueError) as exc:
        raise PeerAnswerError(f"单位系统的回答不是有效的 XML：{exc}") from exc
    if root.tag == "errors":
        said = "；".join(filter(None, (_text(e, "description") for e in root))) or "（无说明）"
        raise PeerAnswerError(f"单位系统报错：{said}")
    if root.tag not in ("service_requests", "requests"):
        raise PeerAnswerError(f"单位系统的回答不是 Open311 请求列表（<{root.tag}>）")
    found = []
    for node in root:
        status = _text(node, "status")
        found.append(RemoteRequest(
            service_request_id=_text(node, "service_request_id"), token=_text(node, "token"),
            status=status.lower() if status else None, status_notes=_text(node, "status_notes"),
            description=_text(node, "description"),
            updated_at=parse_datetime(_text(node, "updated_datetime")),
        ))  # fmt: skip
    return found


# ---------------------------------------------------------------- the poll's read


@dataclass(frozen=True)
class PeerLink:
    link_id: int
    remote_id: str | None
    remote_token: str | None


@dataclass(frozen=True)
class PeerUnit:
    """A unit's system and the links to read from it (plain values: the HTTP happens outside
    any transaction)."""

    unit_id: int
    code: str
    endpoint: str
    jurisdiction: str | None
    links: tuple[PeerLink, ...]


def links_to_poll(session: Session) -> list[PeerUnit]:
    """Per unit with an Open311 endpoint, the links of tickets it still leads and works on."""
    rows = session.execute(
        select(Open311Link.id, Open311Link.remote_id, Open311Link.remote_token, Unit)
        .join(Ticket, Ticket.id == Open311Link.ticket_id)
        .join(Unit, Unit.id == Open311Link.unit_id)
        .where(Ticket.lead_unit_id == Open311Link.unit_id, Ticket.status.in_(ACTIVE),
               Unit.open311_endpoint.is_not(None),
               (Open311Link.remote_id.is_not(None)) | (Open311Link.remote_token.is_not(None)))
        .order_by(Unit.id, Open311Link.id)
    )  # fmt: skip
    units: dict[int, PeerUnit] = {}
    for link_id, remote_id, remote_token, unit in rows:
        peer = units.get(unit.id) or PeerUnit(unit.id, unit.code, unit.open311_endpoint,
                                              unit.open311_jurisdiction, ())  # fmt: skip
        units[unit.id] = PeerUnit(peer.unit_id, peer.code, peer.endpoint, peer.jurisdiction,
                                  (*peer.links, PeerLink(link_id, remote_id, remote_token)))
    return list(units.values())


# ---------------------------------------------------------------- the poll's write


def learn_remote_id(session: Session, link_id: int, remote_id: str) -> None:
    """A token the remote has now numbered: from here on the link is read by its id."""
    link = session.get(Open311Link, link_id)
    if link is not None and not link.remote_id:
        link.remote_id = remote_id


def apply_remote(session: Session, link_id: int, remote: RemoteRequest, *, now: datetime,
                 clock: Clock) -> list[str]:  # fmt: skip
    """Turn what the remote request says now into the unit's steps; returns the event kinds
    made. What was seen is remembered on the link, so the same answer twice changes nothing;
    a step our workflow refuses (co-units have not reported, say) is logged and tried again
    at the next poll."""
    link = session.get(Open311Link, link_id)
    if link is None:
        return []
    link.last_polled_at = now
    if remote.service_request_id and not link.remote_id:
        link.remote_id = remote.service_request_id
    status, notes = remote.status, remote.status_notes
    if status not in ("open", "closed"):
        return []  # a token's answer, or a status we cannot read: nothing to follow
    closed_now = status == "closed" and link.remote_status != "closed"
    new_notes = notes is not None and notes != link.remote_notes and status == "open"
    made: list[str] = []
    if closed_now or new_notes:
        number = session.scalar(select(Ticket.number).where(Ticket.id == link.ticket_id))
        ticket = lock_ticket(session, number, None)
        if ticket.lead_unit_id == link.unit_id and ticket.status in ACTIVE:
            who = Who(Actor(None, PEER_LABEL), Role.UNIT, frozenset({link.unit_id}))
            steps: list[tuple[Action, dict[str, Any]]] = []
            if ticket.status == Status.DISPATCHED.value:  # the unit's system has it: signed
                steps.append((Action.ACCEPT, {}))
            if closed_now:
                steps.append((Action.RESOLVE, {"reply": notes or RESOLVED_WITHOUT_NOTES}))
            else:
                steps.append((Action.FEEDBACK, {"body": notes}))
            for action, payload in steps:  # each its own: a receipt counts even if the
                try:  # resolving must wait
                    with session.begin_nested():
                        made.append(perform(session, ticket, action, payload, who=who,
                                            now=now, clock=clock).kind)  # fmt: skip
                except HotlineError as exc:
                    log.warning("Open311 link %s (ticket %s): %s refused (%s); trying again "
                                "at the next poll", link_id, number, action.value,
                                exc.detail)  # fmt: skip
                    return made  # what the remote said is not remembered: asked again
        # else: handed to someone else or done meanwhile: only remember what we saw
    link.remote_status = status
    link.remote_notes = notes if notes is not None else link.remote_notes
    link.remote_updated_at = remote.updated_at or link.remote_updated_at
    return made


# ---------------------------------------------------------------- the admin console


OPEN311_FIELDS = ("open311_endpoint", "open311_service_code", "open311_jurisdiction")
_URL = re.compile(r"https?://[^\s/?#]+(/[^\s?#]*)?")
_CODE = re.compile(r"[\w.:-]{1,64}")


def clean_open311(values: dict[str, str], errors: dict[str, list[str]],
                  current_key: str | None = None) -> dict[str, str | None]:  # fmt: skip
    """The four Open311 fields of a unit form, problems added to ``errors``. An empty key
    keeps the saved one (the form never shows it); ``open311_api_key_clear`` removes it."""
    cleaned: dict[str, str | None] = {
        name: (values.get(name) or "").strip() or None for name in OPEN311_FIELDS
    }
    endpoint = cleaned["open311_endpoint"]
    if endpoint:
        endpoint = endpoint.rstrip("/")
        cleaned["open311_endpoint"] = endpoint
        if len(endpoint) > 500 or not _URL.fullmatch(endpoint):
            errors["open311_endpoint"] = ["应为 http:// 或 https:// 开头的接口根地址，"
                                          "如 https://example.gov.cn/open311/v2"]  # fmt: skip
        elif endpoint.endswith((".xml", ".json")):
            errors["open311_endpoint"] = ["请填写接口根地址（…/v2），不要带 requests.xml"]
    code = cleaned["open311_service_code"]
    if code and not _CODE.fullmatch(code):
        errors["open311_service_code"] = ["服务代码 64 字以内，只含字母、数字和 _ - . :"]
    if cleaned["open311_jurisdiction"] and len(cleaned["open311_jurisdiction"]) > 100:
        errors["open311_jurisdiction"] = ["辖区编号 100 字以内"]
    key = (values.get("open311_api_key") or "").strip()
    if len(key) > 200:
        errors["open311_api_key"] = ["密钥 200 字以内"]
    key_value = None if values.get("open311_api_key_clear") else key or current_key
    if endpoint and not errors.get("open311_endpoint"):
        if not code:
            errors["open311_service_code"] = ["填写了接口地址时，请填写对方系统的服务代码"]
        if not key_value:
            errors["open311_api_key"] = ["填写了接口地址时，请填写对方系统给的密钥（api_key）"]
    cleaned["open311_api_key"] = key_value
    return cleaned


def open311_audit(cleaned: dict[str, str | None], current_key: str | None) -> dict[str, Any]:
    """What the audit log keeps of the Open311 fields: never the key itself."""
    return {**{name: cleaned[name] for name in OPEN311_FIELDS},
            "open311_api_key_set": bool(cleaned["open311_api_key"]),
            "open311_api_key_changed": cleaned["open311_api_key"] != current_key}  # fmt: skip
