"""Metrics benchmark: fill PostgreSQL with N tickets (default 1,000,000) and their events, then
time a month's metrics for every unit, category and street.

    .venv/bin/python bench/metrics.py --tickets 1000000

Creates and drops a throwaway database. Rows are generated inside PostgreSQL with
generate_series (a few seconds per million), with plausible shares of each outcome.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import text

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.common import new_database  # noqa: E402
from hotline.db import Database  # noqa: E402
from hotline.domain.clock import local_period  # noqa: E402
from hotline.migrate import upgrade  # noqa: E402
from hotline.seed import seed_city  # noqa: E402
from hotline.services.metrics import compute  # noqa: E402

# One year of tickets ending 2026-11-30; outcomes by share of tickets.
FILL = """
INSERT INTO tickets (number, channel, description, anonymous, consent_contact, category_id,
    lead_unit_id, territorial_unit_id, status, priority, supervision_level, tracking_salt,
    version, created_at, updated_at, dispatched_at, accept_by, feedback_by, resolve_by,
    accepted_at, first_feedback_at, resolved_at, resolved_confirmed, satisfaction,
    extensions_used, sla)
SELECT 'B' || g, 'api', '生成的工单', false, true,
    (SELECT id FROM categories ORDER BY id OFFSET (g % :categories) LIMIT 1),
    (SELECT id FROM units WHERE kind = 'department' ORDER BY id OFFSET (g % :departments) LIMIT 1),
    (SELECT id FROM units WHERE kind = 'grid' ORDER BY id OFFSET (g % :grids) LIMIT 1),
    CASE WHEN r < 0.70 THEN 'closed' WHEN r < 0.80 THEN 'resolved' WHEN r < 0.92 THEN 'in_progress'
         ELSE 'dispatched' END,
    'normal', 0, md5(g::text), 1, t, t, t, t + interval '4 hours', t + interval '2 days',
    t + interval '7 days',
    CASE WHEN r < 0.92 THEN t + (random() * interval '6 hours') END,
    CASE WHEN r < 0.92 THEN t + (random() * interval '3 days') END,
    CASE WHEN r < 0.80 THEN t + (random() * interval '9 days') END,
    CASE WHEN r < 0.70 THEN random() < 0.9 END,
    CASE WHEN r < 0.70 THEN (ARRAY['satisfied', 'basic', 'dissatisfied'])[1 + (g % 3)] END,
    0, '{}'
FROM (SELECT g, random() AS r,
             timestamptz '2025-12-01 00:00+08' + (g::float / :n) * interval '365 days' AS t
      FROM generate_series(1, :n) AS g) AS s
"""
EVENTS = """
INSERT INTO ticket_events (ticket_id, sequence, kind, actor_label, public, body, data, created_at)
SELECT id, 1, 'submitted', '市民', true, NULL, '{}', created_at FROM tickets;
INSERT INTO ticket_events (ticket_id, sequence, kind, actor_label, public, body, data, created_at)
SELECT id, 2, 'resolved', '单位', true, NULL,
       '{"from": "in_progress", "to": "resolved"}', resolved_at
FROM tickets WHERE resolved_at IS NOT NULL;
INSERT INTO ticket_events (ticket_id, sequence, kind, actor_label, public, body, data, created_at)
SELECT id, 3, 'returned', '单位', false, NULL, '{"from": "dispatched", "to": "returned"}',
       created_at + interval '1 hour'
FROM tickets WHERE id % 20 = 0;
INSERT INTO ticket_events (ticket_id, sequence, kind, actor_label, public, body, data, created_at)
SELECT id, 4, 'reopened', '话务员', true, NULL, '{"from": "resolved", "to": "reopened"}',
       resolved_at + interval '1 day'
FROM tickets WHERE resolved_at IS NOT NULL AND id % 33 = 0;
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    url, _, drop = new_database("metrics")
    database: Database | None = None
    try:
        upgrade(url)
        database = Database(url)
        started = time.perf_counter()
        with database.transaction() as session:
            seed_city(session, now=datetime.now(UTC))
            counts = session.execute(text(
                "SELECT (SELECT count(*) FROM categories), "
                "(SELECT count(*) FROM units WHERE kind = 'department'), "
                "(SELECT count(*) FROM units WHERE kind = 'grid')"
            )).one()  # fmt: skip
            session.execute(text(FILL), {"n": args.tickets, "categories": counts[0],
                                         "departments": counts[1], "grids": counts[2]})  # fmt: skip
            for statement in EVENTS.split(";"):
                if statement.strip():
                    session.execute(text(statement))
        with database.engine.connect() as connection:
            connection.execute(text("COMMIT"))
            connection.execute(text("ANALYZE"))
            events = connection.execute(text("SELECT count(*) FROM ticket_events")).scalar()
        print(f"filled {args.tickets:,} tickets and {events:,} events "
              f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
        start, end = local_period(date(2026, 10, 1), date(2026, 10, 31), "Asia/Shanghai")
        now = datetime(2026, 11, 30, tzinfo=UTC)
        worst = 0.0
        for group_by in ("unit", "category", "street"):
            timings = []
            for _ in range(args.repeat):
                began = time.perf_counter()
                with database.transaction() as session:
                    result = compute(session, group_by=group_by, start=start, end=end, now=now)
                timings.append(time.perf_counter() - began)
            tickets = sum(g["tickets"] for g in result["groups"])
            best, slowest = min(timings), max(timings)
            worst = max(worst, slowest)
            print(
                f"metrics by {group_by:<8} October 2026: {len(result['groups'])} groups, "
                f"{tickets:,} tickets, best {best * 1000:.0f} ms, worst {slowest * 1000:.0f} ms"
            )
        print("target: a month's metrics for all units under 1 s at 1,000,000 tickets")
        print("result: target " + ("met" if worst < 1.0 else "NOT met"))
    finally:
        if database is not None:
            database.dispose()
        drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
