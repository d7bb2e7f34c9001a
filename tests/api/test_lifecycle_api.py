"""The lifecycle over HTTP: report → dispatch → accept → feedback → resolve → confirm, and the
side roads (return, extension, co-units, supervise, reopen, reject, merge)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import TEST_DATABASE
from tests.helpers import VALID, auth

OPERATOR, UNIT, SUPERVISOR = auth(), auth("hl_demo_unit"), auth("hl_demo_supervisor")


def create(client, **overrides) -> dict:
    response = client.post("/api/v1/tickets", json={**VALID, **overrides}, headers=OPERATOR)
    assert response.status_code == 201, response.json
    return response.json


def act(client, ticket: dict, action: str, headers=OPERATOR, **body):
    response = client.post(
        f"/api/v1/tickets/{ticket['number']}/actions/{action}",
        json={"version": ticket["version"], **body}, headers=headers,
    )  # fmt: skip
    if response.status_code == 200:
        ticket.update(response.json)
    return response


def kinds(client, ticket: dict) -> list[str]:
    events = client.get(f"/api/v1/tickets/{ticket['number']}/events", headers=OPERATOR).json
    assert [e["sequence"] for e in events] == list(range(1, len(events) + 1))
    return [e["kind"] for e in events]


def test_main_path_to_closure(client) -> None:
    ticket = create(client)  # routed and dispatched to 城管局 at intake, clock started
    assert ticket["status"] == "dispatched" and ticket["resolve_by"] and ticket["accept_by"]
    assert act(client, ticket, "accept", UNIT).status_code == 200
    assert act(client, ticket, "feedback", UNIT, body="已安排执法队员前往").status_code == 200
    assert ticket["status"] == "in_progress"
    assert act(client, ticket, "report_part", auth("hl_demo_supervisor"), body="x"
               ).status_code == 403  # fmt: skip
    waived = act(client, ticket, "waive_co_units", SUPERVISOR, reason="街道已口头报告")
    assert waived.status_code == 200
    assert act(client, ticket, "resolve", UNIT, reply="摊贩已劝离，设置了宣传牌").status_code == 200
    assert ticket["status"] == "resolved"
    confirmed = act(client, ticket, "confirm", resolved=True, satisfaction="satisfied")
    assert confirmed.status_code == 200 and ticket["status"] == "closed"
    assert kinds(client, ticket) == [
        "submitted",
        "routed",
        "dispatched",
        "accepted",
        "feedback",
        "co_units_waived",
        "resolved",
        "confirmed",
    ]
    assert act(client, ticket, "feedback", UNIT, body="再说一句").status_code == 409  # read-only
    assert act(client, ticket, "note", SUPERVISOR, body="抽查合格").status_code == 200


def test_resolve_waits_for_co_units(client, make_user) -> None:
    ticket = create(client)
    assert ticket["co_units"], "the street co-handles street vending"
    street = ticket["co_units"][0]["code"]
    _, street_token = make_user("street-staff", "unit", street)
    act(client, ticket, "accept", UNIT)
    refused = act(client, ticket, "resolve", UNIT, reply="已处理")
    assert refused.status_code == 409 and "协办" in refused.json["detail"]
    assert (
        act(client, ticket, "report_part", auth(street_token), body="已配合清理").status_code == 200
    )
    assert act(client, ticket, "resolve", UNIT, reply="已处理").status_code == 200


def test_unit_cannot_act_on_another_units_ticket(client) -> None:
    ticket = create(client, description="公司拖欠工资三个月了，老板一直不给", category=None)
    assert ticket["lead_unit"]["code"] != "dept-cgj"
    response = act(client, ticket, "accept", UNIT)
    assert response.status_code == 403
    assert client.get(f"/api/v1/tickets/{ticket['number']}/events", headers=UNIT
                      ).status_code == 404  # fmt: skip


def test_return_within_the_window_then_redispatch(client, clock) -> None:
    ticket = create(client)
    assert act(client, ticket, "return", UNIT).status_code == 422  # reason required
    assert act(client, ticket, "return", UNIT, reason="非本单位职责，属市场监管").status_code == 200
    assert ticket["status"] == "returned" and ticket["lead_unit"] is None
    assert act(client, ticket, "dispatch", lead_unit="dept-scjgj").status_code == 200
    clock.now += timedelta(days=5)
    late = act(client, ticket, "return", auth("hl_demo_unit"), reason="x")
    assert late.status_code == 403  # 城管局 no longer has it


def test_return_after_the_window_is_refused(client, make_user, clock) -> None:
    ticket = create(client)
    clock.now += timedelta(days=4)  # well past one working day
    response = act(client, ticket, "return", UNIT, reason="不归我们管")
    assert response.status_code == 409 and "时限" in response.json["detail"]


def test_disputed_return_overruled_goes_back_to_the_unit(client) -> None:
    ticket = create(client)
    act(client, ticket, "return", UNIT, reason="不归我们管")
    assert act(client, ticket, "arbitrate", OPERATOR, decision="overrule").status_code == 403
    assert act(client, ticket, "arbitrate", SUPERVISOR, decision="overrule").status_code == 200
    assert ticket["status"] == "dispatched" and ticket["lead_unit"]["code"] == "dept-cgj"


def test_extension_request_and_approval(client) -> None:
    ticket = create(client)
    act(client, ticket, "accept", UNIT)
    from datetime import datetime

    resolve_by = datetime.fromisoformat(ticket["resolve_by"])
    too_far = (resolve_by + timedelta(days=10)).isoformat()
    assert act(client, ticket, "request_extension", UNIT, reason="需协调", until=too_far
               ).status_code == 422  # fmt: skip
    until = (resolve_by + timedelta(days=1)).isoformat()
    assert act(client, ticket, "request_extension", UNIT, reason="需协调多部门", until=until
               ).status_code == 200  # fmt: skip
    assert act(client, ticket, "request_extension", UNIT, reason="再延", until=until
               ).status_code == 409  # one pending at a time  # fmt: skip
    assert act(client, ticket, "decide_extension", SUPERVISOR, approve=True).status_code == 200
    assert datetime.fromisoformat(ticket["resolve_by"]) == datetime.fromisoformat(until)


def test_dissatisfied_resident_reopens_with_higher_supervision(client) -> None:
    ticket = create(client)
    act(client, ticket, "accept", UNIT)
    act(client, ticket, "waive_co_units", SUPERVISOR)
    act(client, ticket, "resolve", UNIT, reply="已处理")
    act(client, ticket, "confirm", resolved=False, satisfaction="dissatisfied", comment="还在摆")
    assert ticket["status"] == "reopened" and ticket["supervision_level"] == 1
    assert act(client, ticket, "feedback", UNIT, body="再次处理中").status_code == 200


def test_supervise_raises_the_level_up_to_three(client) -> None:
    ticket = create(client)
    for level in (1, 2, 3):
        assert act(client, ticket, "supervise", SUPERVISOR, notice="请加快").status_code == 200
        assert ticket["supervision_level"] == level
    assert act(client, ticket, "supervise", SUPERVISOR, notice="再催").status_code == 409


def test_reject_and_merge(client) -> None:
    manual = create(client, category=None, description="请问这个事情找谁办理呢")
    assert act(client, manual, "reject", reason="咨询类，已电话答复").status_code == 200
    assert manual["status"] == "rejected"
    original, duplicate = create(client), create(client)
    assert act(client, duplicate, "merge", into=duplicate["number"]).status_code == 422
    assert act(client, duplicate, "merge", into=original["number"]).status_code == 200
    assert duplicate["status"] == "merged" and duplicate["duplicate_of"] == original["number"]


def test_stale_version_is_409(client) -> None:
    ticket = create(client)
    stale = dict(ticket)
    act(client, ticket, "accept", UNIT)
    response = act(client, stale, "note", OPERATOR, body="x")
    assert response.status_code == 409 and response.json["current_version"] == ticket["version"]


@pytest.mark.skipif(TEST_DATABASE != "postgresql", reason="real concurrency needs PostgreSQL")
def test_two_operators_dispatch_at_once_exactly_one_wins(app) -> None:
    import threading

    client = app.test_client()
    ticket = create(client, category=None, description="请问这个事情找谁办理呢")
    barrier = threading.Barrier(2)
    results: list[int] = []

    def send(unit: str) -> None:
        own = app.test_client()
        barrier.wait()
        response = own.post(
            f"/api/v1/tickets/{ticket['number']}/actions/dispatch",
            json={"version": ticket["version"], "lead_unit": unit}, headers=OPERATOR,
        )  # fmt: skip
        results.append(response.status_code)

    threads = [threading.Thread(target=send, args=(u,)) for u in ("dept-cgj", "dept-mzj")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200, 409]


def test_transitions_write_their_outbox_rows_in_the_same_transaction(client, db) -> None:
    from sqlalchemy import select

    from hotline.models import OutboxMessage

    ticket = create(client)
    act(client, ticket, "accept", UNIT)
    act(client, ticket, "feedback", UNIT, body="处理中")
    other = create(client)
    act(client, other, "return", UNIT, reason="不归我们管")
    with db.transaction() as session:
        rows = session.execute(
            select(OutboxMessage.template, OutboxMessage.recipient, OutboxMessage.status)
            .order_by(OutboxMessage.id)
        ).all()  # fmt: skip
    templates = [r.template for r in rows]
    assert templates == [
        "unit.dispatched",
        "resident.accepted",
        "resident.feedback",
        "unit.dispatched",
        "supervisor.returned",
    ]
    assert rows[1].recipient == "13812341234" and rows[0].recipient == "dept-cgj"
    assert {r.status for r in rows} == {"pending"}
    # an internal note notifies nobody
    act(client, ticket, "note", OPERATOR, body="内部")
    with db.transaction() as session:
        assert len(session.scalars(select(OutboxMessage.id)).all()) == 5


def test_evidence_photos_become_public_with_the_fix(client, db) -> None:
    import io

    from tests.helpers import image_bytes

    ticket = create(client)
    act(client, ticket, "accept", UNIT)
    upload = client.post(
        f"/api/v1/tickets/{ticket['number']}/attachments",
        data={"photos": [(io.BytesIO(image_bytes("JPEG")), "after.jpg")]},
        headers=UNIT, content_type="multipart/form-data",
    )  # fmt: skip
    assert upload.status_code == 201, upload.json
    photo_id = upload.json[0]["id"]
    bad = client.post(
        f"/api/v1/tickets/{ticket['number']}/attachments",
        data={"photos": [(io.BytesIO(b"not an image"), "x.jpg")]},
        headers=UNIT, content_type="multipart/form-data",
    )  # fmt: skip
    assert bad.status_code == 415
    other_unit = client.post(
        f"/api/v1/tickets/{ticket['number']}/attachments",
        data={"photos": [(io.BytesIO(image_bytes()), "a.png")]},
        headers=auth("hl_demo_admin"), content_type="multipart/form-data",
    )  # fmt: skip
    assert other_unit.status_code == 201  # admins may; units only on their own tickets
    act(client, ticket, "waive_co_units", SUPERVISOR)
    assert (
        act(client, ticket, "resolve", UNIT, reply="已整改", evidence=[999999]).status_code == 422
    )
    assert (
        act(client, ticket, "resolve", UNIT, reply="已整改", evidence=[photo_id]).status_code == 200
    )
    from sqlalchemy import select

    from hotline.models import Attachment

    with db.transaction() as session:
        photo = session.get(Attachment, photo_id)
        assert photo.public and photo.event_id is not None
        unused = session.scalar(select(Attachment).where(Attachment.id != photo_id))
        assert unused.public is False
