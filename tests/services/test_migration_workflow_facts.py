"""Migration 0009 carries the workflow facts that lived in tickets.sla (a waiting extension
request, co-units' reports, a waiver) into their own table and columns, and back."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import create_engine, text

from hotline.migrate import downgrade, upgrade
from tests.conftest import TEST_DATABASE, new_database_url

T0 = datetime(2026, 11, 20, 2, 0)


def _ticket(connection, ticket_id: int, sla: str) -> None:
    connection.execute(text(
        "INSERT INTO tickets (id, number, channel, description, anonymous, consent_contact, "
        "sms_opt_out, status, priority, extensions_used, sla, supervision_level, tracking_salt, "
        "version, created_at, updated_at, lead_unit_id) VALUES (:id, :number, 'web', '路灯不亮', "
        "false, false, false, 'accepted', 'normal', 0, :sla, 0, 'salt', 1, :t, :t, 1)"
    ), {"id": ticket_id, "number": f"WM20261120-000{ticket_id}", "sla": sla, "t": T0})


def test_facts_move_out_of_the_json_and_back(tmp_path) -> None:
    url, drop = new_database_url(tmp_path, TEST_DATABASE)
    engine = create_engine(url)
    try:
        upgrade(url, "0008")
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO units (id, code, name, kind, aliases, active, created_at) VALUES "
                "(1, 'dept-cgj', '城管局', 'department', '[]', true, :t), "
                "(2, 'st-heping', '和平街道', 'street', '[]', true, :t), "
                "(3, 'dept-jtj', '交通局', 'department', '[]', true, :t)"), {"t": T0})
            _ticket(connection, 1, '{"warned": ["accept"], "pending_extension": {"until": '
                                   '"2026-11-30T09:00:00+00:00", "reason": "需协调施工方"}}')
            _ticket(connection, 2, '{"co_reported": ["st-heping"], "co_units_waived": true, '
                                   '"overdue": ["resolve"]}')
            connection.execute(text("INSERT INTO ticket_co_units (ticket_id, unit_id) VALUES "
                                    "(2, 2), (2, 3)"))
            connection.execute(text(
                "INSERT INTO ticket_events (ticket_id, sequence, kind, actor_label, public, data, "
                "created_at) VALUES (2, 1, 'part_reported', '街道', false, '{}', :t)"),
                {"t": datetime(2026, 11, 21, 3, 0)})  # fmt: skip
        upgrade(url)
        with engine.connect() as connection:
            request = connection.execute(text(
                "SELECT ticket_id, reason, until, decided_at FROM extension_requests")).one()
            assert request[:2] == (1, "需协调施工方") and request[3] is None
            assert str(request[2]).startswith("2026-11-30 09:00")
            reported = dict(connection.execute(text(
                "SELECT unit_id, reported_at FROM ticket_co_units WHERE ticket_id = 2")).all())
            assert str(reported[2]).startswith("2026-11-21 03:00") and reported[3] is None
            waived = connection.execute(text(
                "SELECT co_units_waived_at FROM tickets WHERE id = 2")).scalar()
            assert waived is not None
            slas = dict(connection.execute(text("SELECT id, sla FROM tickets")).all())
            assert "pending_extension" not in str(slas[1]) and "accept" in str(slas[1])
            assert "co_reported" not in str(slas[2]) and "resolve" in str(slas[2])
        downgrade(url, "0008")
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT id, sla FROM tickets")).all()
        slas = {i: json.loads(v) if isinstance(v, str) else v for i, v in rows}
        assert slas[1]["pending_extension"]["reason"] == "需协调施工方"
        assert slas[2]["co_reported"] == ["st-heping"] and slas[2]["co_units_waived"] is True
    finally:
        engine.dispose()
        drop()
