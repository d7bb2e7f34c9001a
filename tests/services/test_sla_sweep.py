"""The SLA sweep: warnings, overdue marks, escalation, unrated closing — and idempotence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from click.testing import CliRunner
from sqlalchemy import select

from hotline.domain.calendar import WorkCalendar
from hotline.domain.sla import Clock
from hotline.models import Ticket, TicketEvent
from hotline.services.sweep import sweep
from tests.helpers import VALID, auth

CLOCK = Clock(WorkCalendar())


def shanghai(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


def run(db, now: datetime):
    with db.transaction() as session:
        return sweep(session, now=now, clock=CLOCK)


def state(db, number: str) -> tuple[Ticket, list[str]]:
    with db.transaction() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        kinds = list(session.scalars(
            select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket.id)
            .order_by(TicketEvent.sequence)
        ))  # fmt: skip
        return ticket, kinds


def test_warn_mark_escalate_once(client, db, clock) -> None:
    clock.now = shanghai(23, 9)  # Monday 09:00: accept by 13:00, resolve by Friday 17:00
    number = client.post("/api/v1/tickets", json=VALID, headers=auth()).json["number"]
    ticket, _ = state(db, number)
    assert ticket.accept_by == shanghai(23, 13) and ticket.resolve_by == shanghai(27, 17)

    report = run(db, shanghai(23, 12, 30))  # past 75% of the accept time
    assert report.warned == 1 and report.overdue == 0
    assert run(db, shanghai(23, 12, 30)).warned == 0  # the second run changes nothing
    _, kinds = state(db, number)
    assert kinds.count("sla_warning") == 1

    report = run(db, shanghai(23, 14))  # not accepted in time
    assert report.overdue == 1 and report.escalated == 0  # only resolve-overdue escalates
    ticket, _ = state(db, number)
    assert ticket.sla["overdue"] == ["accept"] and ticket.supervision_level == 0

    report = run(db, shanghai(30, 10))  # Monday after: resolve overdue by 1 working hour
    ticket, kinds = state(db, number)
    assert ticket.supervision_level == 1 and "escalated" in kinds
    run(db, shanghai(30, 18))  # a full working day late → 督办
    assert state(db, number)[0].supervision_level == 2
    run(db, shanghai(30, 18))
    run(db, datetime(2026, 12, 3, 9, tzinfo=UTC))  # three working days late → 通报
    ticket, kinds = state(db, number)
    assert ticket.supervision_level == 3 and kinds.count("escalated") == 3
    assert run(db, datetime(2026, 12, 3, 9, tzinfo=UTC)).escalated == 0


def test_resolved_and_unrated_closes_after_seven_days(client, db, clock) -> None:
    clock.now = shanghai(23, 9)
    body = client.post("/api/v1/tickets", json=VALID, headers=auth()).json
    number = body["number"]
    unit, supervisor = auth("hl_demo_unit"), auth("hl_demo_supervisor")
    for action, headers, payload in [
        ("accept", unit, {}), ("waive_co_units", supervisor, {}),
        ("resolve", unit, {"reply": "已处理"}),
    ]:  # fmt: skip
        version = client.get(f"/api/v1/tickets/{number}", headers=auth()).json["version"]
        response = client.post(f"/api/v1/tickets/{number}/actions/{action}",
                               json={"version": version, **payload}, headers=headers)  # fmt: skip
        assert response.status_code == 200, response.json
    assert run(db, shanghai(29, 9)).closed_unrated == 0
    assert run(db, shanghai(30, 10)).closed_unrated == 1
    ticket, kinds = state(db, number)
    assert ticket.status == "closed" and kinds[-1] == "closed_unrated"
    assert run(db, shanghai(30, 10)).closed_unrated == 0


def test_cli_sweep_and_calendar_import(settings, monkeypatch, db, tmp_path) -> None:
    from hotline.cli import main

    monkeypatch.setenv("HOTLINE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("HOTLINE_SECRET_KEY", "x")
    runner = CliRunner()
    result = runner.invoke(main, ["sla", "sweep"])
    assert result.exit_code == 0 and "warned" in result.output
    days = tmp_path / "days.csv"
    days.write_text("日期,是否上班,说明\n2026-12-24,0,本地活动\n", encoding="utf-8")
    assert runner.invoke(main, ["calendar", "import", str(days)]).exit_code == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("日期,是否上班\n24/12,maybe\n", encoding="utf-8")
    result = runner.invoke(main, ["calendar", "import", str(bad)])
    assert result.exit_code != 0 and "第 2 行" in result.output
    from sqlalchemy import delete

    from hotline.models import CalendarDay

    with db.transaction() as session:
        assert session.get(CalendarDay, datetime(2026, 12, 24).date()).working is False
        session.execute(delete(CalendarDay))
