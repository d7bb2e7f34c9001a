"""Open311 GeoReport v2 to a unit's own system: a ticket dispatched to a unit with an
``open311_endpoint`` is POSTed to ``{endpoint}/requests.xml`` (form-encoded, as the spec
says) and the remote's service_request_id (or token) kept on an ``Open311Link``; the
periodic poll (``hotline.background.open311_peers``) reads its progress back.

Idempotent per (ticket, unit): a link that has a remote id or token is never posted again
(a re-dispatch to the same unit, a second job for the row). The hard case is a post whose
answer was lost (timeout, a worker killed mid-send, a 5xx after the remote stored it): the
retry first looks for the request on the remote — GET requests.xml for our service code
since the dispatch, matched by the ticket number that starts every description we post —
and adopts it instead of posting again. Only a remote that cannot be searched either gets a
second post: a duplicate on their side is better than a ticket they never get.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hotline.models import Open311Link, OutboxMessage, Ticket, Unit
from hotline.services.open311_peers import (
    PeerAnswerError,
    RemoteRequest,
    description_for,
    number_marker,
    parse_requests,
)

from . import Message, PermanentError, Suppressed, TransientError, classify_http

TIMEOUT = (3.05, 15)
SEARCH_MARGIN = timedelta(minutes=10)  # clocks differ: look a little before the dispatch
NO_ADDRESS = "地址不详"  # Open311 needs a location; a phoned-in ticket may have none


def _w3c(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Open311Channel:
    name = "open311"

    def __init__(self, unit: Unit, ticket_id: int, *, recover_since: datetime | None = None,
                 session: requests.Session | None = None) -> None:  # fmt: skip
        self.endpoint = (unit.open311_endpoint or "").rstrip("/")
        self.api_key, self.service_code = unit.open311_api_key or "", unit.open311_service_code
        self.jurisdiction = unit.open311_jurisdiction
        self.unit_id, self.ticket_id = unit.id, ticket_id
        self.recover_since = recover_since  # set on a retry: the last post may have arrived
        self.http = session or requests.Session()
        self.answer: RemoteRequest | None = None

    def _scope(self) -> dict[str, str]:
        return {"jurisdiction_id": self.jurisdiction} if self.jurisdiction else {}

    def send(self, message: Message) -> None:
        if self.recover_since is not None:
            self.answer = self._find(message.data["number"])
            if self.answer is not None:
                return
        form = {"api_key": self.api_key, "service_code": self.service_code, **self._scope(),
                **message.data["form"]}  # fmt: skip
        try:
            response = self.http.post(f"{self.endpoint}/requests.xml", data=form,
                                      timeout=TIMEOUT)  # fmt: skip
        except requests.RequestException as exc:
            raise TransientError(f"{type(exc).__name__}: {exc}") from exc
        if not response.ok:
            classify_http(response.status_code, _said(response))
        try:
            found = parse_requests(response.content)
        except PeerAnswerError as exc:  # a 2xx we cannot read: re-posting would duplicate
            raise PermanentError(str(exc)) from exc
        answer = next((r for r in found if r.service_request_id or r.token), None)
        if answer is None:
            raise PermanentError("单位系统未返回 service_request_id 或 token")
        self.answer = answer

    def _find(self, number: str) -> RemoteRequest | None:
        """The request an earlier, unanswered post made, if the remote lists it."""
        since = self.recover_since - SEARCH_MARGIN  # type: ignore[operator]
        params = {"service_code": self.service_code, "start_date": _w3c(since),
                  "end_date": _w3c(datetime.now(UTC) + SEARCH_MARGIN), **self._scope()}
        try:
            response = self.http.get(f"{self.endpoint}/requests.xml", params=params,
                                     timeout=TIMEOUT)  # fmt: skip
            response.raise_for_status()
            found = parse_requests(response.content)
        except (requests.RequestException, PeerAnswerError):
            return None  # cannot tell: post (see the module's docstring)
        marker = number_marker(number)
        return next((r for r in found if r.service_request_id
                     and (r.description or "").startswith(marker)), None)  # fmt: skip

    def record(self, session: Session, row: OutboxMessage, moment: datetime) -> None:
        """Keep the remote's id or token with the outcome, in the transaction that marks the
        row sent."""
        answer = self.answer
        if answer is None:
            return
        link = _link(session, self.ticket_id, self.unit_id)
        if link is None:
            try:
                with session.begin_nested():
                    link = Open311Link(ticket_id=self.ticket_id, unit_id=self.unit_id,
                                       created_at=moment)  # fmt: skip
                    session.add(link)
                    session.flush()
            except IntegrityError:  # another delivery for this pair got there first
                link = _link(session, self.ticket_id, self.unit_id)
        assert link is not None
        link.remote_id = link.remote_id or answer.service_request_id
        link.remote_token = link.remote_token or answer.token
        row.payload = {**(row.payload or {}), "open311": {
            "service_request_id": answer.service_request_id, "token": answer.token}}


def _said(response: requests.Response) -> str:
    """An Open311 error's description, else the body."""
    try:
        parse_requests(response.content)
    except PeerAnswerError as exc:
        return str(exc)
    return response.text


def _link(session: Session, ticket_id: int, unit_id: int) -> Open311Link | None:
    return session.scalar(select(Open311Link).where(Open311Link.ticket_id == ticket_id,
                                                    Open311Link.unit_id == unit_id))


def is_open311_dispatch(row: OutboxMessage, unit: Unit | None) -> bool:
    """A unit's notice of a dispatch to it, when its own system takes tickets by Open311."""
    return (unit is not None and bool(unit.open311_endpoint) and row.audience == "unit"
            and (row.payload or {}).get("event") == "dispatched")  # fmt: skip


def open311_delivery(session: Session, row: OutboxMessage, ticket: Ticket,
                     unit: Unit) -> tuple[Open311Channel, Message]:  # fmt: skip
    """The post of ``ticket`` to ``unit``'s system (composed inside the claim's transaction)."""
    if not (unit.open311_service_code and unit.open311_api_key):
        raise PermanentError("单位的 Open311 服务编码或密钥未设置，未推送")
    link = _link(session, ticket.id, unit.id)
    if link is not None and (link.remote_id or link.remote_token):
        raise Suppressed(f"已推送至单位系统（编号 {link.remote_id or link.remote_token}）")
    form: dict[str, Any] = {"description": description_for(ticket),
                            "address_string": ticket.address or NO_ADDRESS}  # fmt: skip
    if ticket.latitude is not None and ticket.longitude is not None:
        form["lat"], form["long"] = str(ticket.latitude), str(ticket.longitude)
    if ticket.media_url:
        form["media_url"] = ticket.media_url
    retry = row.attempts > 1  # claimed already: this is not the first post
    since = ticket.dispatched_at or row.created_at
    channel = Open311Channel(unit, ticket.id, recover_since=since if retry else None)
    data = {"number": ticket.number, "event": "dispatched", "form": form}
    return channel, Message(str(row.id), channel.endpoint, form["description"], data=data)
