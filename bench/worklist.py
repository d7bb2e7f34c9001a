"""Console lists at scale: 10,000 open tickets of one unit in PostgreSQL, then the server time
of the pages people open all day (the unit's worklist, first and last page; the operator's
queue; the supervisor's board; search).

    .venv/bin/python bench/worklist.py --tickets 10000

Creates and drops a throwaway database; tickets arrive through the real import path.
Target: under 300 ms server time per page.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.common import import_rows, new_database  # noqa: E402
from hotline.app import create_app  # noqa: E402
from hotline.config import Settings  # noqa: E402
from hotline.migrate import upgrade  # noqa: E402


def load(url: str, count: int) -> None:
    rows = ([f"L{i:06d}", f"第{i}号路灯不亮，晚上出行不安全", "城管局", "和平新村社区"]
            for i in range(count))  # fmt: skip
    import_rows(url, ["工单编号", "诉求内容", "承办单位", "社区"], rows)


def timed(client, path: str, rounds: int) -> tuple[float, float, int]:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return statistics.median(samples), max(samples), len(response.get_data())


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    url, _, drop = new_database("worklist")
    try:
        upgrade(url)
        load(url, args.tickets)
        key = uuid.uuid4().hex  # a throwaway signing key for the throwaway database
        app = create_app(Settings(database_url=url, secret_key=key, form_rate_limit=""))
        print(f"{args.tickets:,} open tickets of one unit, PostgreSQL; server time per page "
              f"(median / max of {args.rounds}):")  # fmt: skip
        for user, password, paths in (
            ("cgj", "demo-unit-1", ["/console/worklist", "/console/worklist?page=200"]),
            ("operator", "demo-operator-1", ["/console/queue", "/console/search?q=路灯"]),
            ("supervisor", "demo-supervisor-1", ["/console/supervision"]),
        ):
            client = app.test_client()
            page = client.get("/login").get_data(as_text=True)
            token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
            client.post("/login", data={"csrf_token": token, "username": user,
                                        "password": password})  # fmt: skip
            for path in paths:
                median, worst, size = timed(client, path, args.rounds)
                print(f"  {path:<32} {median:6.1f} ms / {worst:6.1f} ms  ({size / 1024:.0f} KB)")
    finally:
        drop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
