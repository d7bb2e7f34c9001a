"""Residents' personal data: erased by the sweep once the retention period has passed, and on
request (admin page, CLI) — the ticket and every metric stay as they were."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from hotline.cli import main
from hotline.domain.clock import local_period
from hotline.models import (
    Attachment,
    AuditEvent,
    OutboxMessage,
    RoutingCorrection,
    Ticket,
    TicketEvent,
)
from hotline.photos import PhotoStore
from hotline.services.metrics import compute
from tests.helpers import api_act as act
from tests.helpers import auth, csrf_token, image_bytes

OPERATOR, UNIT = auth("hl_demo_operator"), auth("hl_demo_unit")
SUPERVISOR = auth("hl_demo_supervisor")
PHONE, NAME = "13812341234", "张三"
FORM = {
    "category": "street-vending",
    "description": "和平路菜市场门口流动摊贩占道经营，请打 138 1234 1234 找张三，"
                   "邻居李四 13900001111 也知道。",
    "address": "和平路 12 号",
    "reporter_name": NAME,
    "reporter_phone": "138 1234 1234",
    "consent_contact": "on",
}  # fmt: skip
DAY = timedelta(days=1)


def submit(client) -> str:
    """A resident's complaint through the public form, with a photo."""
    data = {**FORM, "csrf_token": csrf_token(client),
            "photos": [(io.BytesIO(image_bytes("JPEG")), "现场.jpg")]}  # fmt: skip
    response = client.post("/", data=data, content_type="multipart/form-data")
    assert response.status_code == 303
    return urlsplit(response.headers["Location"]).path.rsplit("/", 1)[1]


def closed_ticket(client) -> str:
    """Submitted, accepted, answered, fixed with evidence and rated: closed."""
    number = submit(client)
    ticket = client.get(f"/api/v1/tickets/{number}", headers=OPERATOR).json
    if ticket["status"] == "reported":
        act(client, number, "dispatch", OPERATOR, lead_unit="dept-cgj")
    act(client, number, "accept", UNIT)
    act(client, number, "feedback", UNIT, body="已电话联系张三（138-1234-1234），明天到场")
    if client.get(f"/api/v1/tickets/{number}", headers=OPERATOR).json["co_units"]:
        act(client, number, "waive_co_units", SUPERVISOR)
    upload = client.post(f"/api/v1/tickets/{number}/attachments", headers=UNIT,
                         data={"photos": [(io.BytesIO(image_bytes("JPEG")), "after.jpg")]},
                         content_type="multipart/form-data")  # fmt: skip
    assert upload.status_code == 201
    act(client, number, "resolve", UNIT, reply="摊贩已劝离", evidence=[upload.json[0]["id"]])
    act(client, number, "confirm", OPERATOR, resolved=True, satisfaction="satisfied",
        comment="张三说很满意，回电 13812341234")  # fmt: skip
    return number


def texts_of(db, number: str) -> str:
    """Every text the ticket keeps, in one string to search."""
    with db.transaction() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        parts = [ticket.title or "", ticket.description, ticket.reporter_name or "",
                 ticket.reporter_phone or ""]  # fmt: skip
        for event in session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)):
            parts += [event.body or "", repr(event.data)]
        for message in session.scalars(select(OutboxMessage)
                                       .where(OutboxMessage.ticket_id == ticket.id)):  # fmt: skip
            parts += [message.recipient or "", repr(message.payload)]
        for row in session.scalars(select(RoutingCorrection.text)
                                   .where(RoutingCorrection.ticket_id == ticket.id)):  # fmt: skip
            parts.append(row)
    return "\n".join(parts)


def snapshot(db, number: str) -> dict:
    """What the statistics read: must not change."""
    with db.transaction() as session:
        t = session.scalar(select(Ticket).where(Ticket.number == number))
        return {name: getattr(t, name) for name in (
            "status", "category_id", "lead_unit_id", "territorial_unit_id", "priority",
            "created_at", "dispatched_at", "accepted_at", "first_feedback_at", "resolved_at",
            "closed_at", "accept_by", "feedback_by", "resolve_by", "satisfaction",
            "resolved_confirmed", "supervision_level", "address", "routing", "consent_contact",
        )}  # fmt: skip


def metrics(db, now) -> dict:
    start, end = local_period(date(2026, 11, 1), date(2026, 11, 30), "Asia/Shanghai")
    with db.transaction() as session:
        return {group: compute(session, group_by=group, start=start, end=end, now=now)
                for group in ("unit", "category", "street")}  # fmt: skip


def run_expiry(db, settings, now, *, days: int = 730, limit: int = 200) -> list[str]:
    from hotline.services.privacy import erase_expired

    with db.transaction() as session:
        return erase_expired(session, now=now, retention_days=days, limit=limit,
                             photos=PhotoStore(settings.upload_dir))  # fmt: skip


def stored_files(settings) -> set[str]:
    return {p.name for p in settings.upload_dir.glob("*")}


def test_the_sweep_erases_after_the_retention_period_and_keeps_the_statistics(
    client, db, clock, settings
) -> None:
    number = closed_ticket(client)
    with db.transaction() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket.status == "closed"
        closed_at = ticket.closed_at
        photos = {a.stored_name: a.event.kind for a in ticket.attachments}
        session.add(RoutingCorrection(ticket_id=ticket.id, text=ticket.description,
                                      lead_unit="dept-cgj", created_at=closed_at))  # fmt: skip
        pending = session.scalar(select(OutboxMessage.id).where(
            OutboxMessage.ticket_id == ticket.id, OutboxMessage.audience == "resident"))
        # as an Open311 client leaves them (its own e-mail, account and photo link)
        ticket.reporter_email, ticket.media_url = "wangxl@example.cn", "https://img.example.cn/1.jpg"
        ticket.client_ids = {"account_id": "fms-20418", "device_id": "iphone-7f3a"}
        ticket.attributes = {"period": "evening",
                             "detail": f"我是{NAME}，电话{PHONE}，邮箱 wangxl@example.cn"}
    resident_photo = next(name for name, kind in photos.items() if kind == "submitted")
    evidence_photo = next(name for name, kind in photos.items() if kind == "resolved")
    assert {resident_photo, evidence_photo} <= stored_files(settings)
    before_texts = texts_of(db, number)
    assert PHONE in before_texts and NAME in before_texts and "13900001111" in before_texts
    before, numbers_before = snapshot(db, number), metrics(db, clock.now)

    assert run_expiry(db, settings, closed_at + 729 * DAY) == []  # not yet
    assert run_expiry(db, settings, closed_at + 730 * DAY + timedelta(minutes=1)) == [number]

    after_texts = texts_of(db, number)
    for gone in (PHONE, "138 1234 1234", "138-1234-1234", NAME, "13900001111"):
        assert gone not in after_texts, gone
    assert "[电话已删除]" in after_texts and "某某" in after_texts
    assert "菜市场门口流动摊贩占道经营" in after_texts  # the complaint itself stays
    with db.transaction() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket.reporter_name is None and ticket.reporter_phone is None
        assert (ticket.reporter_email, ticket.client_ids, ticket.media_url) == (None, None, None)
        assert ticket.attributes == {"period": "evening",
                                     "detail": "我是某某，电话[电话已删除]，邮箱 [邮箱已删除]"}
        assert ticket.personal_data_erased_at == closed_at + 730 * DAY + timedelta(minutes=1)
        assert [a.stored_name for a in ticket.attachments] == [evidence_photo]
        kinds = list(session.scalars(select(TicketEvent.kind)
                                     .where(TicketEvent.ticket_id == ticket.id)))  # fmt: skip
        assert kinds[-1] == "personal_data_erased"
        message = session.get(OutboxMessage, pending)
        assert message.recipient is None and message.status == "skipped"
        version = ticket.version
        audit = session.scalar(select(AuditEvent).where(AuditEvent.action == "privacy.expired"))
        assert audit.data["tickets"] == [number]
    assert resident_photo not in stored_files(settings) and evidence_photo in stored_files(settings)
    assert snapshot(db, number) == before and metrics(db, clock.now) == numbers_before

    assert run_expiry(db, settings, closed_at + 800 * DAY) == []  # a second run: nothing
    with db.transaction() as session:
        assert session.scalar(select(Ticket.version).where(Ticket.number == number)) == version


def test_the_sweep_works_in_bounded_batches_and_skips_open_tickets(client, db, clock,
                                                                     settings) -> None:  # fmt: skip
    closed = [closed_ticket(client) for _ in range(3)]
    still_open = submit(client)
    later = clock.now + 731 * DAY
    with db.transaction() as session:  # even an open ticket with an old closed_at is kept
        session.execute(update(Ticket).where(Ticket.number == still_open)
                        .values(closed_at=clock.now))  # fmt: skip
    assert run_expiry(db, settings, later, limit=2) == closed[:2]
    assert run_expiry(db, settings, later, limit=2) == closed[2:]
    assert run_expiry(db, settings, later, limit=2) == []
    with db.transaction() as session:
        kept = session.scalar(select(Ticket).where(Ticket.number == still_open))
        assert kept.reporter_phone == PHONE and kept.personal_data_erased_at is None


def test_the_periodic_sweep_runs_the_erasure(client, db, clock, settings) -> None:
    from hotline.services.sweep import sweep_now

    number = closed_ticket(client)
    with db.transaction() as session:
        report = sweep_now(session, now=clock.now + 731 * DAY, settings=settings)
    assert report.personal_data_erased == 1
    with db.transaction() as session:
        assert session.scalar(select(Ticket.reporter_phone).where(Ticket.number == number)) is None


def test_the_schedulers_sweep_task_erases_too(client, db, settings, monkeypatch) -> None:
    """What `hotline scheduler` enqueues every minute (run here in-process, on real time)."""
    from datetime import UTC, datetime

    import hotline.background.periodic as periodic

    number = closed_ticket(client)
    with db.transaction() as session:
        session.execute(update(Ticket).where(Ticket.number == number)
                        .values(closed_at=datetime.now(UTC) - 731 * DAY))  # fmt: skip
    monkeypatch.setattr(periodic, "runtime", lambda: (settings, db))
    assert periodic.sweep_deadlines()["personal_data_erased"] == 1
    with db.transaction() as session:
        assert session.scalar(select(Ticket.reporter_phone).where(Ticket.number == number)) is None


# ---------------------------------------------------------------- on request


def signed_in_admin(app):
    from tests.helpers import signed_in

    return signed_in(app, "admin", "demo-admin-1")


def post(admin, **data: str):
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      admin.get("/console/admin/privacy").get_data(as_text=True)).group(1)
    return admin.post("/console/admin/privacy", data={"csrf_token": token, **data})


def test_an_admin_erases_one_residents_data_on_request(app, client, db, settings) -> None:
    closed, running = closed_ticket(client), submit(client)
    other = client.post("/api/v1/tickets", headers=OPERATOR, json={
        "description": "振兴路工地夜间施工噪音扰民", "reporter_phone": "13955556666",
        "reporter_name": "王五"}).json["number"]  # fmt: skip
    admin = signed_in_admin(app)
    page = admin.get("/console/admin/privacy")
    assert page.status_code == 200 and "730 天" in page.get_data(as_text=True)
    bad = post(admin, phone="123", step="check")
    assert bad.status_code == 422 and 'id="phone-error"' in bad.get_data(as_text=True)
    check = post(admin, phone="138-1234-1234", step="check")
    text = check.get_data(as_text=True)
    assert check.status_code == 200 and "<strong>2</strong> 件工单" in text
    assert "<strong>1</strong> 件尚未办结" in text
    assert closed not in text and running not in text  # counts only, never the tickets
    with db.transaction() as session:  # checking changed nothing, but left a trace
        assert session.scalar(select(Ticket.reporter_phone).where(Ticket.number == closed))
        checked = session.scalar(select(AuditEvent).where(AuditEvent.action == "privacy.checked"))
        assert checked.subject == "phone:138****1234" and checked.data == {"tickets": 2}
    done = post(admin, phone=PHONE, step="erase")
    assert done.status_code == 303
    with db.transaction() as session:
        rows = {t.number: t for t in session.scalars(select(Ticket))}
        assert rows[closed].reporter_phone is None and rows[running].reporter_phone is None
        assert rows[running].personal_data_erased_at and rows[running].status != "closed"
        assert rows[other].reporter_phone == "13955556666" and rows[other].reporter_name == "王五"
        resident_photos = session.scalars(
            select(Attachment).join(TicketEvent, Attachment.event_id == TicketEvent.id)
            .where(TicketEvent.kind == "submitted")).all()  # fmt: skip
        assert resident_photos == []
        unsent = session.scalars(select(OutboxMessage).where(
            OutboxMessage.ticket_id == rows[running].id, OutboxMessage.audience == "resident"
        )).all()  # fmt: skip
        assert all(m.recipient is None and m.status == "skipped" for m in unsent)
        audit = session.scalar(select(AuditEvent).where(AuditEvent.action == "privacy.erased"))
        assert audit.subject == "phone:138****1234" and audit.actor_label == "系统管理员"
        assert sorted(audit.data["tickets"]) == sorted([closed, running])
        assert PHONE not in repr(audit.data)  # the audit keeps no copy of what was erased
    for number in (closed, running):
        assert PHONE not in texts_of(db, number) and NAME not in texts_of(db, number)
    again = post(admin, phone=PHONE, step="check")
    assert "没有该号码反映的工单" in again.get_data(as_text=True)
    from tests.helpers import signed_in

    supervisor = signed_in(app, "supervisor", "demo-supervisor-1")
    assert supervisor.get("/console/admin/privacy").status_code == 403


@pytest.fixture
def cli(settings, monkeypatch, db):
    monkeypatch.setenv("HOTLINE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("HOTLINE_UPLOAD_DIR", str(settings.upload_dir))
    monkeypatch.setenv("HOTLINE_SECRET_KEY", "x")
    runner = CliRunner()
    return lambda *args, **kw: runner.invoke(main, ["privacy", *args], **kw)


def test_the_cli_erases_on_request_and_is_audited(client, db, cli, settings) -> None:
    number = submit(client)
    refused = cli("erase", "--phone", "12")
    assert refused.exit_code != 0 and "号码无效" in refused.output
    asked = cli("erase", "--phone", "138 1234 1234", input="n\n")
    assert asked.exit_code != 0 and "1 件工单" in asked.output  # declined: nothing done
    with db.transaction() as session:
        assert session.scalar(select(Ticket.reporter_phone).where(Ticket.number == number))
    done = cli("erase", "--phone", "13812341234", "--yes")
    assert done.exit_code == 0, done.output
    assert "已删除 1 件工单" in done.output and number not in done.output
    with db.transaction() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket.reporter_phone is None and ticket.attachments == []
        audit = session.scalar(select(AuditEvent).where(AuditEvent.action == "privacy.erased"))
        assert audit.actor_label == "命令行" and audit.data["tickets"] == [number]
    assert stored_files(settings) == set()
    assert "没有工单" in cli("erase", "--phone", PHONE, "--yes").output


def test_the_cli_catches_up_with_expired_tickets(client, db, cli) -> None:
    from datetime import UTC, datetime

    old, recent = closed_ticket(client), closed_ticket(client)
    with db.transaction() as session:  # closed long ago (the CLI runs on the real clock)
        session.execute(update(Ticket).where(Ticket.number == old)
                        .values(closed_at=datetime(2020, 1, 1, tzinfo=UTC)))  # fmt: skip
    first = cli("expire")
    assert first.exit_code == 0 and "已删除 1 件" in first.output and "730 天" in first.output
    assert "已删除 0 件" in cli("expire").output
    with db.transaction() as session:
        phones = dict(session.execute(select(Ticket.number, Ticket.reporter_phone)).all())
    assert phones == {old: None, recent: PHONE}
