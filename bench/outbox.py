"""Outbox benchmark: N notifications → a local webhook receiver through 2 RQ workers, against
bare RQ no-op jobs on the same workers in the same run.

    .venv/bin/python bench/outbox.py --messages 10000 --workers 2

Creates and drops a throwaway PostgreSQL database and empties a Redis database (default 14).
Prints messages/s, commit-to-delivery p50/p99 latency, and the ratio to the no-op throughput.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from redis import Redis
from rq import Queue
from rq.serializers import JSONSerializer
from sqlalchemy import insert, select, update

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.common import new_database  # noqa: E402
from hotline.config import Settings  # noqa: E402
from hotline.db import Database  # noqa: E402
from hotline.domain.states import Channel  # noqa: E402
from hotline.migrate import upgrade  # noqa: E402
from hotline.models import OutboxMessage, Unit  # noqa: E402
from hotline.queues import NOTIFICATIONS as QUEUE  # noqa: E402
from hotline.seed import seed_demo  # noqa: E402
from hotline.services.intake import IntakePolicy, submit_ticket  # noqa: E402
from notifications.outbox import flush  # noqa: E402

BIN = Path(sys.executable).parent


class Receiver:
    """Counts deliveries per idempotency key and when the first one arrived."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.arrived.setdefault(self.headers["Idempotency-Key"], time.time())
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


def start_workers(count: int, env: dict[str, str]) -> list[subprocess.Popen[bytes]]:
    return [subprocess.Popen([str(BIN / "hotline"), "worker"], env=env, start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(count)]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()
    url, _, drop = new_database("outbox")
    redis = Redis.from_url(args.redis)
    redis.flushdb()
    workers: list[subprocess.Popen[bytes]] = []
    database: Database | None = None
    receiver = Receiver()
    try:
        upgrade(url)
        database = Database(url)
        now = datetime.now(UTC)
        with database.transaction() as session:
            seed_demo(session, now=now, accounts=False)
            secret = uuid.uuid4().hex
            session.execute(update(Unit).values(webhook_url=receiver.url, webhook_secret=secret))
            ticket = submit_ticket(
                session, {"description": "和平路有人占道经营", "anonymous": True}, now=now,
                policy=IntakePolicy("WM", "Asia/Shanghai"), channel=Channel.API,
            )  # fmt: skip
            unit = session.scalar(select(Unit.code).where(Unit.kind == "department"))
            ticket_id = ticket.id
        # N ticket changes' notices to a unit, committed together (the commit is t0).
        with database.transaction() as session:
            committed = datetime.now(UTC)
            session.execute(insert(OutboxMessage), [
                {"ticket_id": ticket_id, "audience": "unit", "recipient": unit,
                 "template": "unit.supervised", "payload": {"event": "supervised", "body": str(i)},
                 "status": "pending", "attempts": 0, "next_attempt_at": committed,
                 "created_at": committed}
                for i in range(args.messages)
            ])  # fmt: skip
        t0 = committed.timestamp()
        settings = Settings.from_env({"HOTLINE_DATABASE_URL": url, "HOTLINE_REDIS_URL": args.redis,
                                      "HOTLINE_SECRET_KEY": "bench"})  # fmt: skip
        env = {**os.environ, "HOTLINE_DATABASE_URL": url, "HOTLINE_REDIS_URL": args.redis,
               "HOTLINE_SECRET_KEY": "bench"}  # fmt: skip
        workers = start_workers(args.workers, env)
        while flush(settings, database):
            pass
        deadline = time.time() + args.timeout
        while len(receiver.arrived) < args.messages and time.time() < deadline:
            time.sleep(0.2)
        delivered = len(receiver.arrived)
        elapsed = max(receiver.arrived.values()) - t0
        latencies = [(t - t0) * 1000 for t in receiver.arrived.values()]
        rate = delivered / elapsed

        queue = Queue(QUEUE, connection=redis, serializer=JSONSerializer)
        started = time.time()
        for _ in range(args.messages):
            queue.enqueue("time.time", result_ttl=0)
        while (len(queue) or queue.started_job_registry.count) and time.time() < deadline:
            time.sleep(0.1)
        noop_rate = args.messages / (time.time() - started)

        print(f"environment: cpus {os.cpu_count()}, {args.workers} RQ workers, PostgreSQL, Redis")
        print(f"outbox: {delivered:,}/{args.messages:,} delivered in {elapsed:.1f} s "
              f"→ {rate:.0f} messages/s")  # fmt: skip
        print(f"commit → delivery latency: p50 {percentile(latencies, 50):.0f} ms, "
              f"p99 {percentile(latencies, 99):.0f} ms")  # fmt: skip
        print(f"bare RQ no-op jobs: {noop_rate:.0f} jobs/s")
        print(f"ratio outbox / no-op: {rate / noop_rate:.1%}")
        return 0 if delivered == args.messages else 1
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=30)
        redis.flushdb()
        if database is not None:
            database.dispose()
        drop()
        receiver.server.shutdown()


if __name__ == "__main__":
    sys.exit(main())
