"""Outbox delivery: retries with backoff, permanent failures, signatures, claims, Redis."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select, update

from hotline.models import OutboxMessage, Unit
from hotline.services.outbox import retry_failed
from notifications.jobs import deliver
from notifications.outbox import flush
from tests.helpers import VALID, auth
from tests.helpers.rq_workers import BurstWorker


def accepted_ticket(client) -> str:
    """A ticket whose acceptance queued an SMS to the resident (and a unit notice)."""
    ticket = client.post("/api/v1/tickets", json=VALID, headers=auth()).json
    response = client.post(f"/api/v1/tickets/{ticket['number']}/actions/accept",
                           json={"version": ticket["version"]},
                           headers=auth("hl_demo_unit"))  # fmt: skip
    assert response.status_code == 200
    return ticket["number"]


def rows(db, template: str) -> list[OutboxMessage]:
    with db.transaction() as session:
        return list(session.scalars(
            select(OutboxMessage).where(OutboxMessage.template == template)
        ))  # fmt: skip


def test_gateway_500_three_times_then_200_is_delivered_once(client, db, settings, clock,
                                                             receiver) -> None:  # fmt: skip
    sms = replace(settings, sms_gateway_url=receiver.url, sms_api_key="k")
    accepted_ticket(client)
    receiver.script = [500, 500, 500]
    now = clock.now
    for _ in range(6):
        flush(sms, db, now=now)
        now += timedelta(hours=1)
    (row,) = rows(db, "resident.accepted")
    assert row.status == "sent" and row.attempts == 4
    sms_calls = [r for r in receiver.requests if b"13812341234" in r["body"]]
    assert [r["status"] for r in sms_calls] == [500, 500, 500, 200]
    assert {r["key"] for r in sms_calls} == {str(row.id)}  # the outbox id, every time
    import json

    sent = json.loads(sms_calls[-1]["body"])
    assert "工单" in sent["content"] and "/track/" in sent["content"]
    assert sent["request_id"] == str(row.id)


def test_gateway_400_fails_without_retry_and_can_be_retried_by_hand(
    client, db, settings, clock, receiver
) -> None:
    sms = replace(settings, sms_gateway_url=receiver.url)
    accepted_ticket(client)
    receiver.script = [400]
    for hours in range(3):
        flush(sms, db, now=clock.now + timedelta(hours=hours))
    (row,) = rows(db, "resident.accepted")
    assert row.status == "failed" and row.attempts == 1 and "400" in row.last_error
    with db.transaction() as session:
        assert retry_failed(session, now=clock.now) >= 1
    flush(sms, db, now=clock.now + timedelta(hours=4))
    assert rows(db, "resident.accepted")[0].status == "sent"


def test_webhook_is_signed_and_carries_the_idempotency_key(client, db, settings, receiver):
    with db.transaction() as session:
        session.execute(update(Unit).where(Unit.code == "dept-cgj")
                        .values(webhook_url=receiver.url, webhook_secret="s3cret"))  # fmt: skip
    try:
        client.post("/api/v1/tickets", json=VALID, headers=auth())
        flush(settings, db)
        (request,) = [r for r in receiver.requests if r["signature"]]
        parts = dict(p.split("=", 1) for p in request["signature"].split(","))
        expected = hmac.new(b"s3cret", f"{parts['t']}.".encode() + request["body"],
                            hashlib.sha256).hexdigest()  # fmt: skip
        assert hmac.compare_digest(parts["v1"], expected)
        assert "已派给贵单位" in request["body"].decode()
    finally:
        with db.transaction() as session:
            session.execute(update(Unit).values(webhook_url=None, webhook_secret=None))


def test_a_claimed_or_sent_message_is_never_sent_again(client, db, settings, receiver) -> None:
    sms = replace(settings, sms_gateway_url=receiver.url)
    accepted_ticket(client)
    (row,) = rows(db, "resident.accepted")
    assert deliver(row.id, context=(sms, db)) == "sent"
    assert deliver(row.id, context=(sms, db)) == "skipped"
    assert len([r for r in receiver.requests if r["key"] == str(row.id)]) == 1


def test_redis_down_intake_still_succeeds_and_delivery_catches_up(
    app, db, settings, redis_url, receiver
) -> None:
    from redis import Redis
    from rq import Queue
    from rq.serializers import JSONSerializer

    from notifications.inline import install

    down = replace(settings, redis_url="redis://127.0.0.1:1/0", sms_gateway_url=receiver.url)
    app.extensions["hotline"].settings = down
    install(app)
    client = app.test_client()
    number = accepted_ticket(client)  # the hand-on after each request fails quietly
    assert number
    with db.transaction() as session:
        statuses = set(session.scalars(select(OutboxMessage.status)))
    assert statuses == {"pending"}  # waiting, not lost

    up = replace(down, redis_url=redis_url)
    connection = Redis.from_url(redis_url)
    queue = Queue("notifications", connection=connection, serializer=JSONSerializer)
    queue.empty()
    ids = flush(up, db)
    assert len(ids) == 2 and len(queue) == 2
    import notifications.jobs as jobs

    jobs.runtime.cache_clear()
    original = jobs.runtime
    jobs.runtime = lambda: (up, db)  # the worker's process settings, pointing at the test DB
    try:
        BurstWorker([queue], connection=connection, serializer=JSONSerializer).work(burst=True)
    finally:
        jobs.runtime = original
    with db.transaction() as session:
        assert set(session.scalars(select(OutboxMessage.status))) == {"sent"}
    assert len(receiver.accepted_keys) == 1  # the SMS; the unit notice went to the console
    assert flush(up, db) == []  # nothing left, nothing sent twice


def test_admins_see_failures_and_retry_them(client, db, settings, clock, receiver) -> None:
    sms = replace(settings, sms_gateway_url=receiver.url)
    accepted_ticket(client)
    receiver.script = [400]
    flush(sms, db, now=clock.now)
    admin = auth("hl_demo_admin")
    body = client.get("/api/v1/outbox", headers=admin).json
    assert body["counts"]["failed"] == 1 and "400" in body["failures"][0]["error"]
    assert client.get("/api/v1/outbox", headers=auth()).status_code == 403
    ready = client.get("/readyz").json["checks"]["outbox"]
    assert ready["failed"] == 1
    retried = client.post("/api/v1/outbox/retry", json={}, headers=admin).json
    assert retried == {"retried": 1}
    flush(sms, db, now=clock.now)
    assert client.get("/api/v1/outbox", headers=admin).json["counts"].get("failed", 0) == 0


def test_opted_out_residents_get_no_sms(client, db, settings, receiver) -> None:
    sms = replace(settings, sms_gateway_url=receiver.url)
    ticket = client.post("/api/v1/tickets", json={**VALID, "sms_opt_out": True},
                         headers=auth()).json  # fmt: skip
    client.post(f"/api/v1/tickets/{ticket['number']}/actions/accept",
                json={"version": ticket["version"]}, headers=auth("hl_demo_unit"))  # fmt: skip
    flush(sms, db)
    (row,) = rows(db, "resident.accepted")
    assert row.status == "skipped" and not [r for r in receiver.requests if r["key"] == str(row.id)]


def test_sms_waits_for_the_morning(client, db, settings, clock, receiver) -> None:
    from datetime import UTC, datetime

    sms = replace(settings, sms_gateway_url=receiver.url, sms_quiet_start=22, sms_quiet_end=8)
    accepted_ticket(client)
    night = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai
    flush(sms, db, now=night)
    (row,) = rows(db, "resident.accepted")
    assert row.status == "pending" and row.attempts == 0
    assert row.next_attempt_at == datetime(2026, 11, 22, 0, 0, tzinfo=UTC)  # 08:00 local
    flush(sms, db, now=datetime(2026, 11, 22, 0, 1, tzinfo=UTC))
    assert rows(db, "resident.accepted")[0].status == "sent"


def test_queue_depth_shows_in_readyz_and_for_admins(app, db, settings, redis_url) -> None:
    from redis import Redis
    from rq import Queue

    up = replace(settings, redis_url=redis_url)
    connection = Redis.from_url(redis_url)
    connection.flushdb()  # the tests' own Redis database: no jobs left by earlier tests
    queue = Queue("notifications", connection=connection)
    try:
        app.extensions["hotline"].settings = up
        client = app.test_client()
        accepted_ticket(client)
        assert len(flush(up, db)) == 2  # enqueued, no worker running
        ready = client.get("/readyz").json["checks"]["redis"]["queues"]
        assert ready["notifications"] == {"waiting": 2, "failed_jobs": 0}
        admin = client.get("/api/v1/outbox", headers=auth("hl_demo_admin")).json
        assert admin["queues"]["notifications"]["waiting"] == 2
        assert admin["counts"] == {"queued": 2}
    finally:
        queue.empty()
        app.extensions["hotline"].settings = settings
