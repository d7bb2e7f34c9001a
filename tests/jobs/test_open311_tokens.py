"""Batch Open311 services: the token row is the record, made a ticket by an RQ job handed on
after the answer (real Redis), or by the periodic round when that hand-on was lost."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlencode

import pytest
from redis import Redis
from rq import Queue
from rq.serializers import JSONSerializer
from sqlalchemy import select, update

from hotline.app import create_app
from hotline.background import open311_tokens, periodic
from hotline.models import Category, Open311Token, Ticket
from tests.helpers.rq_workers import BurstWorker

FLYERS = {
    "api_key": "hl_demo_operator",
    "service_code": "illegal-flyers",
    "address_string": "文明区解放路 88 号公交站",
    "description": "解放路公交站站牌和旁边电线杆上贴满了办证、开锁的小广告。",
    "first_name": "小红",
    "last_name": "陈",
    "phone": "13900001111",
}


@pytest.fixture
def redis_app(settings, db, clock, redis_url, monkeypatch):
    up = replace(settings, redis_url=redis_url)
    monkeypatch.setattr(open311_tokens, "runtime", lambda: (up, db))
    monkeypatch.setattr(periodic, "runtime", lambda: (up, db))
    open311_tokens.worker_intake.cache_clear()
    connection = Redis.from_url(redis_url)
    queue = Queue("periodic", connection=connection, serializer=JSONSerializer)
    queue.empty()
    app = create_app(up, database=db)
    app.extensions["hotline"].clock = clock
    yield app, connection, queue
    queue.empty()
    open311_tokens.worker_intake.cache_clear()


def post(app, **more):
    response = app.test_client().post(
        "/open311/v2/requests.json", data=urlencode({**FLYERS, **more}).encode(),
        content_type="application/x-www-form-urlencoded")  # fmt: skip
    assert response.status_code == 201, response.get_data(as_text=True)
    return response


def token_row(db, token):
    with db.transaction() as session:
        row = session.scalar(select(Open311Token).where(Open311Token.token == token))
        session.expunge(row)
        return row


def test_the_hand_on_enqueues_a_job_that_makes_the_ticket(redis_app, db) -> None:
    app, connection, queue = redis_app
    response = post(app)
    token = response.get_json()[0]["token"]
    assert token_row(db, token).processed_at is None  # nothing is done inside the request
    response.close()  # the answer is sent: the hand-on runs
    assert queue.count == 1
    BurstWorker([queue], connection=connection, serializer=JSONSerializer).work(burst=True)
    row = token_row(db, token)
    assert row.processed_at is not None and row.error is None
    assert "13900001111" not in str(row.payload)  # the ticket keeps the personal data now
    with db.transaction() as session:
        ticket = session.get(Ticket, row.ticket_id)
        assert (ticket.channel, ticket.category.code) == ("open311", "illegal-flyers")
        assert ticket.reporter_phone == "13900001111"
        assert ticket.number.startswith("WM")
    # A late duplicate of the job finds the token done: still one ticket.
    assert open311_tokens.process_open311_token(row.id) == "skipped"
    with db.transaction() as session:
        assert session.query(Ticket).count() == 1


def test_a_lost_hand_on_is_caught_up_by_the_periodic_round(redis_app, db, monkeypatch) -> None:
    app, _connection, queue = redis_app

    def redis_away(url):  # the hand-on's Redis refuses: the job is never enqueued
        return Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)

    monkeypatch.setattr(open311_tokens, "hand_on_connection", redis_away)
    response = post(app)
    response.close()
    token = response.get_json()[0]["token"]
    assert queue.count == 0 and token_row(db, token).processed_at is None
    # The scheduler's round, as the cron enqueues it and a worker runs it.
    assert periodic.drain_open311_tokens() == 1
    assert token_row(db, token).ticket_id is not None
    assert periodic.drain_open311_tokens() == 0


def test_the_periodic_task_is_scheduled_with_the_drains() -> None:
    names = [task.func.__name__ for task in periodic.tasks()]
    assert "drain_open311_tokens" in names


@pytest.fixture
def withdrawn_flyers(db):
    def set_active(active: bool) -> None:
        with db.transaction() as session:
            session.execute(update(Category).where(Category.code == "illegal-flyers")
                            .values(active=active))  # fmt: skip

    yield set_active
    set_active(True)


def test_a_service_withdrawn_before_processing_records_why(redis_app, db,
                                                            withdrawn_flyers) -> None:  # fmt: skip
    app, connection, queue = redis_app
    response = post(app)
    token = response.get_json()[0]["token"]
    withdrawn_flyers(False)
    response.close()
    BurstWorker([queue], connection=connection, serializer=JSONSerializer).work(burst=True)
    row = token_row(db, token)
    assert row.processed_at is not None and row.ticket_id is None
    assert "类别" in row.error
    assert set(row.payload) == {"notice"}  # refused for good: none of the resident's data kept
    assert periodic.drain_open311_tokens() == 0  # final: not tried again and again
