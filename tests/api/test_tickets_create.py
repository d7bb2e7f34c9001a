"""POST /api/v1/tickets: intake for machine clients."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from hotline.models import IdempotencyKey, Ticket, TicketEvent
from tests.conftest import TEST_DATABASE
from tests.helpers import VALID, auth


def post(client, body, headers=None, **kwargs):
    return client.post("/api/v1/tickets", json=body, headers=headers or auth(), **kwargs)


def count(db, model) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_create_returns_number_tracking_link_and_event(client, db) -> None:
    response = post(client, VALID)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["number"] == "WM20261121-0001"
    assert response.headers["Location"].endswith("/api/v1/tickets/WM20261121-0001")
    # Routed by the default ruleset and dispatched at once: 条 = 城管局, 块 = 和平街道.
    assert body["status"] == "dispatched" and body["status_label"] == "已派单"
    assert body["category"] == {"code": "street-vending", "name": "占道经营"}
    assert body["lead_unit"]["code"] == "dept-cgj"
    assert body["territorial_unit"]["code"].startswith(("st-heping", "cm-heping", "grid-heping"))
    assert body["routing"]["confident"] is True and body["routing"]["ruleset_version"] == 1
    assert body["channel"] == "api"
    assert "/track/WM20261121-0001?token=" in body["tracking_url"]
    assert body["created_at"].endswith("+08:00")
    with db.transaction() as session:
        events = session.scalars(select(TicketEvent).order_by(TicketEvent.sequence)).all()
        kinds = [(e.kind, e.sequence, e.public) for e in events]
        assert kinds == [("submitted", 1, True), ("routed", 2, False), ("dispatched", 3, True)]
        assert events[0].actor_label == "话务员小王" and events[2].actor_label == "系统"


def test_numbers_are_sequential_within_a_day_and_restart_the_next(client, clock) -> None:
    numbers = [post(client, VALID).json["number"] for _ in range(3)]
    assert numbers == ["WM20261121-0001", "WM20261121-0002", "WM20261121-0003"]
    clock.now = clock.now.replace(hour=17)  # 01:00 on the 22nd in Shanghai
    assert post(client, VALID).json["number"] == "WM20261122-0001"


def test_priority_defaults_from_category_and_can_be_set(client) -> None:
    assert post(client, {**VALID, "category": "gas-leak"}).json["priority"] == "emergency"
    assert post(client, VALID).json["priority"] == "normal"
    assert post(client, {**VALID, "priority": "urgent"}).json["priority"] == "urgent"


def test_uncertain_category_is_allowed_and_routing_fills_it(client) -> None:
    response = post(client, {**VALID, "category": None})
    assert response.status_code == 201
    assert response.json["category"]["code"] == "street-vending"


def test_unroutable_text_waits_in_the_manual_queue(client) -> None:
    body = post(client, {**VALID, "category": None, "description": "请问这个事情找谁办理呢"}).json
    assert body["status"] == "reported" and body["lead_unit"] is None
    assert body["routing"]["confident"] is False
    assert "人工" in body["routing"]["reason"]


def test_resident_category_that_disagrees_goes_to_an_operator(client) -> None:
    body = post(client, {**VALID, "category": "noise"}).json
    assert body["status"] == "reported"
    assert body["category"]["code"] == "noise"  # what the resident chose is kept
    assert "不一致" in body["routing"]["reason"]


def test_unknown_category_is_422_and_leaves_nothing(client, db) -> None:
    response = post(client, {**VALID, "category": "no-such-thing"})
    assert response.status_code == 422
    assert response.json["errors"] == {"category": ["未知的问题类别，请从列表中选择或留空"]}
    assert count(db, Ticket) == 0 and count(db, TicketEvent) == 0
    # ...and the failed attempt did not burn a number.
    assert post(client, VALID).json["number"] == "WM20261121-0001"


def test_anonymous_drops_the_name(client) -> None:
    body = post(
        client, {"description": VALID["description"], "anonymous": True, "reporter_name": "张三"}
    ).json
    assert body["reporter"] == {
        "name": None,
        "phone": None,
        "anonymous": True,
        "consent_contact": False,
    }


def test_script_is_stored_as_text(client) -> None:
    body = post(client, {**VALID, "description": "<script>alert(1)</script> 乱扔垃圾"}).json
    assert body["description"] == "<script>alert(1)</script> 乱扔垃圾"


class TestIdempotency:
    def test_same_key_same_body_returns_same_ticket(self, client, db) -> None:
        headers = {**auth(), "Idempotency-Key": "call-20261121-001"}
        first = post(client, VALID, headers)
        second = post(client, VALID, headers)
        assert first.status_code == second.status_code == 201
        assert second.headers["Idempotent-Replayed"] == "true"
        assert first.json["number"] == second.json["number"]
        assert first.json["tracking_url"] == second.json["tracking_url"]
        assert count(db, Ticket) == 1 and count(db, IdempotencyKey) == 1

    def test_same_key_different_body_is_422(self, client, db) -> None:
        headers = {**auth(), "Idempotency-Key": "k1"}
        post(client, VALID, headers)
        response = post(client, {**VALID, "address": "别处"}, headers)
        assert response.status_code == 422
        assert "Idempotency-Key" in response.json["errors"]
        assert count(db, Ticket) == 1

    def test_keys_are_per_client(self, client, db) -> None:
        post(client, VALID, {**auth(), "Idempotency-Key": "k1"})
        other = post(client, VALID, {**auth("hl_demo_supervisor"), "Idempotency-Key": "k1"})
        assert other.status_code == 201 and "Idempotent-Replayed" not in other.headers
        assert count(db, Ticket) == 2

    def test_malformed_key_is_422(self, client) -> None:
        response = post(client, VALID, {**auth(), "Idempotency-Key": "有中文"})
        assert response.status_code == 422

    def test_without_key_each_post_creates(self, client, db) -> None:
        post(client, VALID)
        post(client, VALID)
        assert count(db, Ticket) == 2


class TestBadInput:
    def assert_problem(self, response, status: int) -> dict:
        assert response.status_code == status, response.get_data(as_text=True)
        assert response.mimetype == "application/problem+json"
        body = response.json
        assert {"type", "title", "status", "detail", "request_id"} <= body.keys()
        assert body["status"] == status
        return body

    def test_validation_errors_per_field_in_chinese(self, client, db) -> None:
        body = self.assert_problem(
            post(client, {"description": "短", "reporter_phone": "123", "x": 1}), 422
        )
        assert body["errors"] == {
            "description": ["至少需要 5 个字"],
            "reporter_phone": ["请填写有效的手机号码或带区号的固定电话"],
            "x": ["不支持的字段"],
        }
        assert count(db, Ticket) == 0

    def test_unparsable_json_is_400(self, client) -> None:
        response = client.post(
            "/api/v1/tickets",
            data='{"description": ',
            headers=auth(),
            content_type="application/json",
        )
        assert self.assert_problem(response, 400)["detail"] == "请求体不是有效的 JSON"

    def test_deeply_nested_json_is_400_not_500(self, client) -> None:
        response = client.post(
            "/api/v1/tickets",
            data="[" * 100_000 + "]" * 100_000,
            headers=auth(),
            content_type="application/json",
        )
        assert response.status_code in (400, 413)

    def test_wrong_content_type_is_400(self, client) -> None:
        response = client.post(
            "/api/v1/tickets", data=json.dumps(VALID), headers=auth(), content_type="text/plain"
        )
        self.assert_problem(response, 400)

    def test_form_encoded_is_400(self, client) -> None:
        response = client.post("/api/v1/tickets", data=VALID, headers=auth())
        self.assert_problem(response, 400)

    def test_oversized_body_is_413(self, client) -> None:
        response = post(client, {**VALID, "description": "长" * 200_000})
        self.assert_problem(response, 413)

    def test_array_body_is_422(self, client) -> None:
        body = self.assert_problem(post(client, [VALID]), 422)
        assert body["errors"] == {"_schema": ["请求体应为 JSON 对象"]}

    def test_lone_surrogate_is_422(self, client) -> None:
        raw = '{"description": "\\ud800 路灯不亮了好几天", "anonymous": true}'
        response = client.post(
            "/api/v1/tickets", data=raw, headers=auth(), content_type="application/json"
        )
        self.assert_problem(response, 422)

    def test_nul_bytes_are_dropped_not_a_500(self, client) -> None:
        response = post(client, {**VALID, "description": "路灯\u0000不亮了好几天"})
        assert response.status_code == 201
        assert response.json["description"] == "路灯不亮了好几天"

    def test_missing_token_is_401(self, client) -> None:
        response = client.post("/api/v1/tickets", json=VALID)
        body = self.assert_problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "errors" not in body

    def test_unknown_token_is_401_even_with_a_bad_body(self, client) -> None:
        self.assert_problem(post(client, {"x": 1}, auth("hl_nope")), 401)

    def test_unit_staff_cannot_create(self, client) -> None:
        self.assert_problem(post(client, VALID, auth("hl_demo_unit")), 403)

    def test_method_not_allowed_is_problem(self, client) -> None:
        response = client.delete("/api/v1/tickets", headers=auth())
        self.assert_problem(response, 405)

    def test_request_id_is_echoed(self, client) -> None:
        response = client.post(
            "/api/v1/tickets", json={}, headers={**auth(), "X-Request-ID": "r-1"}
        )
        assert response.headers["X-Request-ID"] == "r-1"
        assert response.json["request_id"] == "r-1"


@pytest.mark.skipif(TEST_DATABASE != "postgresql", reason="a real race needs PostgreSQL")
def test_concurrent_requests_with_one_key_create_one_ticket(app, db) -> None:
    import threading

    headers = {**auth(), "Idempotency-Key": "race-1"}
    barrier = threading.Barrier(6)
    results: list[tuple[int, str]] = []

    def send() -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post("/api/v1/tickets", json=VALID, headers=headers)
        results.append((response.status_code, response.json.get("number")))

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {status for status, _ in results} == {201}
    assert len({number for _, number in results}) == 1
    assert count(db, Ticket) == 1


def test_database_outage_is_503_and_retryable(client, monkeypatch) -> None:
    from sqlalchemy.exc import OperationalError

    from hotline.api import tickets

    def down(*args, **kwargs):
        raise OperationalError("INSERT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(tickets, "submit_ticket", down)
    response = post(client, VALID)
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"] == "5"
    assert "server closed" not in response.get_data(as_text=True)
