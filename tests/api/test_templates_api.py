"""Admins edit the notification texts; deliveries use them; bad edits save nothing."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from hotline.cli import main
from hotline.models import AuditEvent, NotificationTemplate, OutboxMessage
from notifications.outbox import flush
from tests.helpers import VALID, auth

ADMIN = auth("hl_demo_admin")
URL = "/api/v1/templates"


def test_admins_list_every_template_with_its_variables(client) -> None:
    listing = client.get(URL, headers=ADMIN)
    assert listing.status_code == 200
    by_key = {t["key"]: t for t in listing.json}
    accepted = by_key["resident.accepted"]
    assert accepted["customised"] is False and accepted["body"] == accepted["default_body"]
    assert "link" in accepted["variables"] and "body" not in accepted["variables"]
    assert by_key["supervisor.returned"]["audience_name"] == "督办部门"
    for token in ("hl_demo_operator", "hl_demo_unit", "hl_demo_supervisor"):
        assert client.get(URL, headers=auth(token)).status_code == 403
    assert client.get(URL).status_code == 401
    missing = client.get(f"{URL}/resident.nothing", headers=ADMIN)
    assert missing.status_code == 404 and missing.content_type == "application/problem+json"


def test_a_bad_edit_is_refused_and_nothing_changes(client) -> None:
    refused = client.put(f"{URL}/resident.resolved", headers=ADMIN,
                         json={"body": "工单{{ number }}：{{ body }}"})  # fmt: skip
    assert refused.status_code == 422
    assert refused.content_type == "application/problem+json"
    assert "不能使用" in refused.json["errors"]["body"][0]
    assert client.get(f"{URL}/resident.resolved", headers=ADMIN).json["customised"] is False
    empty = client.put(f"{URL}/resident.resolved", headers=ADMIN, json={"body": ""})
    assert empty.status_code == 422
    extra = client.put(f"{URL}/resident.resolved", headers=ADMIN, json={"body": "x", "y": 1})
    assert extra.status_code == 422


def test_preview_and_reset(client, db) -> None:
    preview = client.post(f"{URL}/unit.dispatched/preview", headers=ADMIN,
                          json={"body": "请{{ unit }}于{{ accept_by }}前签收"})  # fmt: skip
    assert preview.json == {"ok": True, "problems": {},
                            "subject": "工单WM20261121-0007（占道经营）",
                            "body": "请示范市城市管理局于11月23日13:00前签收"}  # fmt: skip
    bad = client.post(f"{URL}/unit.dispatched/preview", headers=ADMIN, json={"body": "{{ x"})
    assert bad.status_code == 422 and bad.content_type == "application/problem+json"
    assert "模板语法有误" in bad.json["errors"]["body"][0]
    client.put(f"{URL}/unit.dispatched", headers=ADMIN, json={"body": "新派单：{{ number }}"})
    reset = client.delete(f"{URL}/unit.dispatched", headers=ADMIN)
    assert reset.status_code == 200 and reset.json["customised"] is False
    assert reset.json["body"].startswith("工单{{ number }}（{{ category }}）已派给贵单位")
    with db.transaction() as session:
        actions = set(session.scalars(
            select(AuditEvent.action).where(AuditEvent.subject == "template:unit.dispatched")
        ))  # fmt: skip
        assert actions == {"template.saved", "template.reset"}


def test_cli_sets_lists_and_resets(settings, monkeypatch, db) -> None:
    monkeypatch.setenv("HOTLINE_DATABASE_URL", settings.database_url)
    runner = CliRunner()
    bad = runner.invoke(main, ["templates", "set", "resident.feedback", "--body", "{{ address }}"])
    assert bad.exit_code != 0 and "不能使用" in bad.output
    good = runner.invoke(main, ["templates", "set", "resident.feedback",
                                "--body", "工单{{ number }}有进展：{{ link }}"])  # fmt: skip
    assert good.exit_code == 0, good.output
    assert "工单WM20261121-0007有进展" in good.output
    listing = runner.invoke(main, ["templates", "list"]).output
    assert "* resident.feedback" in listing
    shown = runner.invoke(main, ["templates", "show", "resident.feedback"]).output
    assert "[edited]" in shown and "link (" in shown
    assert runner.invoke(main, ["templates", "reset", "resident.feedback"]).exit_code == 0
    assert "* resident.feedback" not in runner.invoke(main, ["templates", "list"]).output


# The cases: each once answered 500 or held the worker while it built the value.
HOSTILE = [
    ("{% for i in range(99999999) %}x{% endfor %}", "循环"),
    ('工单{{ number }}{% include "footer.txt" %}', "引用其他模板"),
    ('{% import "macros.txt" as m %}工单{{ number }}', "引用其他模板"),
    ("{{ (number * 10000000)|length }}", "算术运算"),
]


@pytest.mark.parametrize(("body", "expected"), HOSTILE)
def test_hostile_previews_and_edits_get_422_with_the_reason(client, body, expected) -> None:
    started = time.perf_counter()
    preview = client.post(f"{URL}/unit.dispatched/preview", headers=ADMIN, json={"body": body})
    saved = client.put(f"{URL}/unit.dispatched", headers=ADMIN, json={"body": body})
    assert time.perf_counter() - started < 2
    for response in (preview, saved):
        assert response.status_code == 422, response.get_data(as_text=True)[:300]
        assert response.content_type == "application/problem+json"
        assert expected in response.json["errors"]["body"][0]
    assert client.get(f"{URL}/unit.dispatched", headers=ADMIN).json["customised"] is False


def test_a_saved_text_that_breaks_the_rules_fails_cleanly_everywhere(client, db, settings) -> None:
    from notifications.compose import forget_templates

    body = '工单{{ number }}（{{ category }}）已派给贵单位。{% include "footer.txt" %}'
    with db.transaction() as session:  # saved before the checks refused it, or by hand
        session.add(NotificationTemplate(key="unit.dispatched", body=body,
                                         updated_at=datetime.now(UTC)))  # fmt: skip
    forget_templates()
    try:
        shown = client.get(f"{URL}/unit.dispatched", headers=ADMIN)
        assert shown.status_code == 200 and shown.json["body"] == body
        preview = client.post(f"{URL}/unit.dispatched/preview", headers=ADMIN, json={})
        assert preview.status_code == 422 and "引用其他模板" in preview.json["detail"]
        ticket = client.post("/api/v1/tickets", json=VALID, headers=auth())
        assert ticket.status_code == 201 and ticket.json["status"] == "dispatched"
        flush(settings, db)  # the worker composes the unit's notice
    finally:
        forget_templates()
    with db.transaction() as session:
        row = session.scalar(select(OutboxMessage)
                             .where(OutboxMessage.template == "unit.dispatched"))  # fmt: skip
        assert row.status == "failed"
        assert row.last_error.startswith("通知模板 unit.dispatched 有误，未发送：")
        assert "不能使用引用其他模板" in row.last_error
