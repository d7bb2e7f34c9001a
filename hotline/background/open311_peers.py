"""The periodic read of units' Open311 systems: for every open ticket posted to one, what
the remote request says now, turned into the unit's steps (``services.open311_peers``).

Three steps, as elsewhere: a short read of the links, the HTTP outside any transaction
(tokens first, to learn their ids; then ``requests.xml?service_request_id=…`` in batches),
a short write per unit. A remote that is down or answers nonsense is logged and skipped:
the next round asks again, and nothing escapes the periodic task.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import requests

from ..config import Settings
from ..db import Database
from ..domain.clock import utc_now
from ..services.calendar import CalendarCache
from ..services.open311_peers import (
    IDS_PER_GET,
    PeerAnswerError,
    PeerUnit,
    RemoteRequest,
    apply_remote,
    learn_remote_id,
    links_to_poll,
    parse_requests,
)

log = logging.getLogger(__name__)
TIMEOUT = (3.05, 15)


class PeerDown(Exception):
    """The unit's system did not answer usefully this time."""


@dataclass
class PollReport:
    units: int = 0
    polled: int = 0  # links whose remote request was read
    events: list[str] = field(default_factory=list)
    failed_units: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"units": self.units, "polled": self.polled, "events": len(self.events),
                "failed_units": self.failed_units}  # fmt: skip


def _get(http: requests.Session, url: str, params: dict[str, str]) -> list[RemoteRequest]:
    try:
        response = http.get(url, params=params, timeout=TIMEOUT)
    except requests.RequestException as exc:
        raise PeerDown(f"{type(exc).__name__}: {exc}") from exc
    if response.status_code == 404:
        return []  # a token or request the remote no longer knows: nothing to learn
    if not response.ok:
        raise PeerDown(f"HTTP {response.status_code}: {response.text[:200]}")
    try:
        return parse_requests(response.content)
    except PeerAnswerError as exc:
        raise PeerDown(str(exc)) from exc


def read_peer(peer: PeerUnit, http: requests.Session) -> tuple[dict[int, str],
                                                               dict[int, RemoteRequest]]:
    """(link id → id learned from its token, link id → the remote request) for one unit."""
    scope = {"jurisdiction_id": peer.jurisdiction} if peer.jurisdiction else {}
    learned: dict[int, str] = {}
    for link in peer.links:
        if link.remote_id is None and link.remote_token:
            found = _get(http, f"{peer.endpoint}/tokens/{link.remote_token}.xml", scope)
            remote_id = next((r.service_request_id for r in found if r.service_request_id),
                             None)  # fmt: skip
            if remote_id:
                learned[link.link_id] = remote_id
    by_remote = {learned.get(link.link_id, link.remote_id): link.link_id for link in peer.links}
    by_remote.pop(None, None)
    ids = list(by_remote)
    seen: dict[int, RemoteRequest] = {}
    for start in range(0, len(ids), IDS_PER_GET):
        batch = ids[start:start + IDS_PER_GET]
        found = _get(http, f"{peer.endpoint}/requests.xml",
                     {"service_request_id": ",".join(batch), **scope})  # fmt: skip
        for remote in found:
            link_id = by_remote.get(remote.service_request_id)  # type: ignore[arg-type]
            if link_id is not None:
                seen[link_id] = remote
    return learned, seen


def poll_peers(settings: Settings, database: Database, *,
               now: Callable[[], datetime] = utc_now,
               http: requests.Session | None = None) -> PollReport:  # fmt: skip
    """One round over every unit with links to read."""
    report = PollReport()
    http = http or requests.Session()
    with database.transaction() as session:
        peers = links_to_poll(session)
    calendars = CalendarCache(timezone=settings.timezone)
    for peer in peers:
        report.units += 1
        try:
            learned, seen = read_peer(peer, http)
        except PeerDown as exc:
            log.warning("Open311 system of unit %s is unreachable or unreadable (%s); "
                        "trying again at the next round", peer.code, exc)  # fmt: skip
            report.failed_units.append(peer.code)
            continue
        try:
            with database.transaction() as session:
                for link_id, remote_id in learned.items():
                    learn_remote_id(session, link_id, remote_id)
                clock = calendars.clock(session)
                for link_id, remote in seen.items():
                    report.events += apply_remote(session, link_id, remote, now=now(),
                                                  clock=clock)  # fmt: skip
                    report.polled += 1
        except Exception:  # one unit's bad data must not stop the others' round
            log.exception("Open311 answers of unit %s could not be applied", peer.code)
            report.failed_units.append(peer.code)
    return report
