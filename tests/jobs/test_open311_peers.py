"""Units whose own systems speak Open311, end to end against a GeoReport v2 server written
here: the dispatch is posted (delivered by an RQ worker on the real Redis), the remote id
kept; the remote side's notes and closing become the unit's accept, feedback and resolve on
our ticket (deadlines and 三率 columns with them) through the periodic job; a second poll
changes nothing; a remote that is down, answers with a token first, or loses its answer is
handled without a duplicate or a crash."""

from __future__ import annotations

import itertools
import threading
from dataclasses import replace
from datetime import timedelta
from xml.etree.ElementTree import Element, SubElement, tostring

import pytest
from redis import Redis
from rq import Queue
from rq.serializers import JSONSerializer
from sqlalchemy import select, update
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

import hotline.background.periodic as periodic
import notifications.jobs as jobs
from hotline.background.open311_peers import poll_peers
from hotline.domain.clock import utc_now
from hotline.models import Open311Link, OutboxMessage, Ticket, TicketEvent, Unit
from hotline.services.open311_peers import PEER_LABEL
from notifications.outbox import flush
from tests.helpers import VALID, api_act, auth
from tests.helpers.rq_workers import BurstWorker

KEY = "cgj-open311-key-2026"
SERVICE = "CG-ZDJY"
JURISDICTION = "wenming.gov.cn"
OPEN311 = ("open311_endpoint", "open311_api_key", "open311_service_code",
           "open311_jurisdiction", "webhook_url")  # fmt: skip


class GeoReportServer:
    """A unit's back office: POST/GET requests.xml and GET tokens/{token}.xml, in memory."""

    def __init__(self) -> None:
        self.requests: dict[str, dict[str, str]] = {}
        self.posts: list[dict[str, str]] = []
        self.gets: list[str] = []
        self.tokens: dict[str, str | None] = {}  # token → the request id, once numbered
        self.answer_with_token = False
        self.lose_next_answer = False  # store the post, then answer 500
        self.down = False
        self._ids = itertools.count(880001)
        self.server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/open311/v2"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()

    def update(self, remote_id: str, **fields: str) -> None:
        self.requests[remote_id].update(fields)

    @staticmethod
    def _xml(root: Element, status: int = 200) -> Response:
        return Response(b'<?xml version="1.0" encoding="utf-8"?>' + tostring(root),
                        status=status, content_type="text/xml; charset=utf-8")  # fmt: skip

    def _error(self, status: int, description: str) -> Response:
        errors = Element("errors")
        error = SubElement(errors, "error")
        SubElement(error, "code").text = str(status)
        SubElement(error, "description").text = description
        return self._xml(errors, status)

    def _list(self, ids: list[str]) -> Response:
        root = Element("service_requests")
        for remote_id in ids:
            stored = self.requests.get(remote_id)
            if stored is None:
                continue
            node = SubElement(root, "request")
            for tag in ("service_request_id", "status", "status_notes", "service_code",
                        "description", "address", "requested_datetime", "updated_datetime"):
                SubElement(node, tag).text = stored.get(tag)
        return self._xml(root)

    @Request.application
    def _app(self, request: Request) -> Response:
        if self.down:
            return Response("维护中", status=503)
        path = request.path.removeprefix("/open311/v2")
        if request.method == "POST" and path == "/requests.xml":
            form = request.form.to_dict()
            self.posts.append(form)
            if form.get("api_key") != KEY:
                return self._error(403, "api_key 无效")
            if form.get("service_code") != SERVICE:
                return self._error(404, "没有这个服务")
            remote_id = str(next(self._ids))
            self.requests[remote_id] = {
                "service_request_id": remote_id, "status": "open", "service_code": SERVICE,
                "description": form["description"], "address": form.get("address_string"),
                "requested_datetime": "2026-11-21T02:31:00Z",
                "updated_datetime": "2026-11-21T02:31:00Z"}  # fmt: skip
            if self.lose_next_answer:
                self.lose_next_answer = False
                return Response("upstream timeout", status=500)
            root = Element("service_requests")
            node = SubElement(root, "request")
            if self.answer_with_token:
                token = f"tk-{remote_id}"
                self.tokens[token] = None  # numbered later, by the unit's back office
                SubElement(node, "token").text = token
                self._pending = remote_id
            else:
                SubElement(node, "service_request_id").text = remote_id
                SubElement(node, "service_notice").text = "已受理，将于1个工作日内处理"
            return self._xml(root)
        if request.method == "GET" and path == "/requests.xml":
            self.gets.append(request.full_path)
            asked = request.args.get("service_request_id")
            if asked:
                return self._list(asked.split(","))
            code = request.args.get("service_code")
            return self._list([i for i, r in self.requests.items() if r["service_code"] == code])
        if request.method == "GET" and path.startswith("/tokens/") and path.endswith(".xml"):
            self.gets.append(request.full_path)
            token = path.removeprefix("/tokens/").removesuffix(".xml")
            if token not in self.tokens:
                return self._error(404, "没有这个 token")
            root = Element("service_requests")
            node = SubElement(root, "request")
            if self.tokens[token]:
                SubElement(node, "service_request_id").text = self.tokens[token]
            SubElement(node, "token").text = token
            return self._xml(root)
        return self._error(404, "没有这个地址")

    def number_tokens(self) -> None:
        for token in self.tokens:
            self.tokens[token] = token.removeprefix("tk-")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def remote():
    server = GeoReportServer()
    yield server
    server.close()


@pytest.fixture
def cgj_speaks_open311(db, remote):
    """dept-cgj (城管局, which the demo routes 占道经营 to) with its own Open311 system;
    restored afterwards: units are seeded once per session."""
    with db.transaction() as session:
        unit = session.scalar(select(Unit).where(Unit.code == "dept-cgj"))
        saved = {name: getattr(unit, name) for name in OPEN311}
        unit.open311_endpoint, unit.open311_api_key = remote.url, KEY
        unit.open311_service_code, unit.open311_jurisdiction = SERVICE, JURISDICTION
    yield remote
    with db.transaction() as session:
        session.execute(update(Unit).where(Unit.code == "dept-cgj").values(**saved))


@pytest.fixture
def worker(settings, db, redis_url, monkeypatch):
    """Run what is due on the real Redis with a SimpleWorker, as ``hotline worker`` does."""
    up = replace(settings, redis_url=redis_url)
    monkeypatch.setattr(jobs, "runtime", lambda: (up, db))
    monkeypatch.setattr(periodic, "runtime", lambda: (up, db))

    def queues() -> list[Queue]:
        connection = Redis.from_url(redis_url)
        return [Queue(name, connection=connection, serializer=JSONSerializer)
                for name in ("notifications", "periodic")]  # fmt: skip

    def work(found: list[Queue]) -> None:
        BurstWorker(found, connection=found[0].connection,
                    serializer=JSONSerializer).work(burst=True)  # fmt: skip

    def run(now) -> None:  # type: ignore[no-untyped-def]
        flush(up, db, now=now)
        work(queues())

    def poll() -> None:
        found = queues()
        found[1].enqueue("hotline.background.periodic.poll_open311_peers")
        work(found)

    for queue in queues():
        queue.empty()
    run.poll = poll  # type: ignore[attr-defined]
    yield run
    for queue in queues():
        queue.empty()


def new_ticket(client, **changes) -> str:
    response = client.post("/api/v1/tickets", json={**VALID, **changes}, headers=auth())
    assert response.status_code == 201, response.json
    return response.json["number"]


def link_of(db, number: str) -> Open311Link | None:
    with db.transaction() as session:
        return session.scalar(select(Open311Link).join(Ticket, Ticket.id == Open311Link.ticket_id)
                              .where(Ticket.number == number))  # fmt: skip


def ticket_of(db, number: str) -> Ticket:
    with db.transaction() as session:
        return session.scalar(select(Ticket).where(Ticket.number == number))


def events_of(db, number: str) -> list[tuple[str, str, str | None]]:
    with db.transaction() as session:
        return [(e.kind, e.actor_label, e.body) for e in session.scalars(
            select(TicketEvent).join(Ticket).where(Ticket.number == number)
            .order_by(TicketEvent.sequence))]  # fmt: skip


def steps(db, number: str) -> list[tuple[str, str, str | None]]:
    """The events after the first dispatch (intake's "routed" note may come before it)."""
    events = events_of(db, number)
    return events[[kind for kind, *_ in events].index("dispatched") + 1:]


def open311_rows(db, number: str) -> list[OutboxMessage]:
    with db.transaction() as session:
        return list(session.scalars(
            select(OutboxMessage).join(Ticket, Ticket.id == OutboxMessage.ticket_id)
            .where(Ticket.number == number, OutboxMessage.audience == "unit")
            .order_by(OutboxMessage.id)))  # fmt: skip


def test_dispatch_is_posted_and_the_remote_progress_becomes_the_units_steps(
    client, db, settings, clock, cgj_speaks_open311, worker
) -> None:
    remote = cgj_speaks_open311
    number = new_ticket(client, latitude=39.1234, longitude=117.2011)
    dispatched = ticket_of(db, number)
    assert dispatched.status == "dispatched" and dispatched.lead_unit_id is not None
    assert dispatched.accepted_at is None and dispatched.first_feedback_at is None

    worker(clock.now)
    (post,) = remote.posts
    assert post["api_key"] == KEY and post["service_code"] == SERVICE
    assert post["jurisdiction_id"] == JURISDICTION
    assert post["description"] == f"【12345工单 {number}】{VALID['description']}"
    assert post["address_string"] == VALID["address"]
    assert (post["lat"], post["long"]) == ("39.1234", "117.2011")
    assert VALID["reporter_phone"] not in str(post)  # the resident's contact stays with us
    (remote_id,) = remote.requests
    link = link_of(db, number)
    assert link.remote_id == remote_id and link.unit_id == dispatched.lead_unit_id
    (row,) = open311_rows(db, number)
    assert row.status == "sent" and row.payload["open311"]["service_request_id"] == remote_id

    # The unit's back office answers nothing yet: the poll changes nothing.
    poll_peers(settings, db, now=lambda: clock.now)
    assert steps(db, number) == []
    assert any(f"service_request_id={remote_id}" in g for g in remote.gets)

    # Notes on the remote request: signed for and the notes fed back to the resident.
    clock.now += timedelta(hours=2)
    notes = "已派城管中队队员到场劝离流动摊贩，明早复查。"
    remote.update(remote_id, status_notes=notes, updated_datetime="2026-11-21T04:20:00Z")
    worker.poll()
    events = steps(db, number)
    assert [(kind, label) for kind, label, _ in events] == [("accepted", PEER_LABEL),
                                                            ("feedback", PEER_LABEL)]
    assert "已签收" in events[0][2] and events[1][2] == notes
    ticket = ticket_of(db, number)
    assert ticket.status == "in_progress"
    assert ticket.accepted_at is not None and ticket.first_feedback_at is not None
    assert ticket.resolved_at is None
    link = link_of(db, number)
    assert (link.remote_status, link.remote_notes) == ("open", notes)
    assert link.remote_updated_at is not None and link.last_polled_at is not None

    poll_peers(settings, db, now=lambda: clock.now)  # the same answer again: a no-op
    assert steps(db, number) == events

    # Closed on the remote side: resolved here, with their notes as the resolution; the
    # resident confirms as usual (never closed by the unit's system).
    clock.now += timedelta(hours=20)
    fixed = "摊贩已全部清离，已设置提示牌，城管中队每日巡查。"
    remote.update(remote_id, status="closed", status_notes=fixed,
                  updated_datetime="2026-11-22T01:00:00Z")  # fmt: skip
    worker.poll()
    # 占道经营 has co-units here: until they report (or are waived), no resolving — the
    # refusal is logged and the next poll tries again.
    assert steps(db, number) == events and link_of(db, number).remote_status == "open"
    api_act(client, number, "waive_co_units", auth("hl_demo_supervisor"), reason="已口头报告")
    worker.poll()
    assert steps(db, number)[3:] == [("resolved", PEER_LABEL, fixed)]
    ticket = ticket_of(db, number)
    assert ticket.status == "resolved" and ticket.resolved_at is not None
    assert ticket.closed_at is None
    poll_peers(settings, db, now=lambda: clock.now)
    assert len(steps(db, number)) == 4
    # The resident heard about each step, as for a unit working in our console.
    with db.transaction() as session:
        templates = set(session.scalars(
            select(OutboxMessage.template).join(Ticket, Ticket.id == OutboxMessage.ticket_id)
            .where(Ticket.number == number, OutboxMessage.audience == "resident")))  # fmt: skip
    assert {"resident.accepted", "resident.feedback", "resident.resolved"} <= templates


def test_closed_at_once_is_accepted_and_resolved_and_a_second_dispatch_is_not_reposted(
    client, db, settings, clock, cgj_speaks_open311, worker
) -> None:
    remote = cgj_speaks_open311
    number = new_ticket(client)
    worker(clock.now)
    (remote_id,) = remote.requests
    # Dispatched to the same unit again (an operator adds nothing, just re-sends it).
    api_act(client, number, "dispatch", auth(), lead_unit="dept-cgj")
    worker(clock.now + timedelta(minutes=1))
    assert len(remote.posts) == 1
    rows = open311_rows(db, number)
    assert [r.status for r in rows if r.payload["event"] == "dispatched"] == ["sent", "skipped"]
    assert remote_id in rows[-1].last_error

    remote.update(remote_id, status="closed", updated_datetime="2026-11-21T05:00:00Z")
    # The re-dispatch named no co-units: nothing holds the resolving back.
    poll_peers(settings, db, now=lambda: clock.now + timedelta(hours=3))
    kinds = [(kind, label) for kind, label, _ in events_of(db, number)]
    assert kinds[-2:] == [("accepted", PEER_LABEL), ("resolved", PEER_LABEL)]
    assert events_of(db, number)[-1][2] == "承办单位已在本单位系统中办结。"
    assert link_of(db, number).remote_status == "closed"


def test_a_remote_that_answers_with_a_token_first(client, db, settings, clock,
                                                  cgj_speaks_open311, worker) -> None:  # fmt: skip
    remote = cgj_speaks_open311
    remote.answer_with_token = True
    number = new_ticket(client)
    worker(clock.now)
    (token,) = remote.tokens
    link = link_of(db, number)
    assert (link.remote_id, link.remote_token) == (None, token)

    poll_peers(settings, db, now=lambda: clock.now)  # not numbered yet: nothing to read
    assert link_of(db, number).remote_id is None
    assert steps(db, number) == []

    remote.number_tokens()
    (remote_id,) = remote.requests
    remote.update(remote_id, status_notes="已转交和平中队处理。")
    poll_peers(settings, db, now=lambda: clock.now + timedelta(hours=1))
    assert link_of(db, number).remote_id == remote_id
    assert [kind for kind, *_ in events_of(db, number)][-2:] == ["accepted", "feedback"]
    assert sum(f"/tokens/{token}.xml" in g for g in remote.gets) == 2  # then read by its id
    poll_peers(settings, db, now=lambda: clock.now + timedelta(hours=2))
    assert sum(f"/tokens/{token}.xml" in g for g in remote.gets) == 2


def test_a_lost_answer_is_found_on_the_remote_instead_of_posting_twice(
    client, db, clock, cgj_speaks_open311, worker
) -> None:
    remote = cgj_speaks_open311
    remote.lose_next_answer = True  # it stored the request, then the answer was a 500
    number = new_ticket(client)
    worker(clock.now)
    (row,) = open311_rows(db, number)
    assert row.status == "pending" and row.attempts == 1 and "500" in row.last_error
    assert link_of(db, number) is None

    worker(utc_now() + timedelta(minutes=5))  # the retry, after its backoff (real time:
    # the worker's delivery sets it from the clock on the wall)
    assert len(remote.posts) == 1  # found by the ticket number, not posted again
    (remote_id,) = remote.requests
    assert link_of(db, number).remote_id == remote_id
    assert open311_rows(db, number)[0].status == "sent"


def test_refused_posts_fail_and_a_remote_down_crashes_nothing(
    client, db, settings, clock, cgj_speaks_open311, worker, caplog
) -> None:
    remote = cgj_speaks_open311
    with db.transaction() as session:
        session.execute(update(Unit).where(Unit.code == "dept-cgj")
                        .values(open311_api_key="wrong"))  # fmt: skip
    refused = new_ticket(client)
    worker(clock.now)
    (row,) = open311_rows(db, refused)
    assert row.status == "failed" and "api_key 无效" in row.last_error  # a 403: no retry
    with db.transaction() as session:
        session.execute(update(Unit).where(Unit.code == "dept-cgj").values(open311_api_key=KEY))

    number = new_ticket(client)
    worker(clock.now)
    (remote_id,) = remote.requests
    remote.update(remote_id, status_notes="已到场处理。")
    remote.down = True
    report = poll_peers(settings, db, now=lambda: clock.now)
    assert report.failed_units == ["dept-cgj"] and "dept-cgj" in caplog.text
    worker.poll()  # the periodic job itself: no exception, no failed RQ job
    with Redis.from_url(jobs.runtime()[0].redis_url) as connection:
        failed = Queue("periodic", connection=connection).failed_job_registry
        assert not [j for j in failed.get_job_ids() if "poll_open311" in j]
    assert steps(db, number) == []

    # Nobody listening at all: the same, and the next round catches up once it is back.
    with db.transaction() as session:
        session.execute(update(Unit).where(Unit.code == "dept-cgj")
                        .values(open311_endpoint="http://127.0.0.1:9/open311/v2"))  # fmt: skip
    assert poll_peers(settings, db, now=lambda: clock.now).failed_units == ["dept-cgj"]
    with db.transaction() as session:
        session.execute(update(Unit).where(Unit.code == "dept-cgj")
                        .values(open311_endpoint=remote.url))  # fmt: skip
    remote.down = False
    poll_peers(settings, db, now=lambda: clock.now + timedelta(hours=1))
    assert [kind for kind, *_ in events_of(db, number)][-2:] == ["accepted", "feedback"]


def test_a_ticket_handed_to_another_unit_is_no_longer_followed(
    client, db, settings, clock, cgj_speaks_open311, worker
) -> None:
    remote = cgj_speaks_open311
    number = new_ticket(client)
    worker(clock.now)
    (remote_id,) = remote.requests
    api_act(client, number, "dispatch", auth(), lead_unit="dept-zjj")  # 住建局 takes it over
    remote.update(remote_id, status="closed", status_notes="已办结。")
    asked = len(remote.gets)
    report = poll_peers(settings, db, now=lambda: clock.now + timedelta(hours=1))
    assert report.units == 0 and len(remote.gets) == asked  # not even asked
    assert [kind for kind, *_ in steps(db, number)] == ["dispatched"]  # the re-dispatch
    assert ticket_of(db, number).resolved_at is None
