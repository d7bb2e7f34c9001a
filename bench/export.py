"""The search export at scale: 100,000 tickets in PostgreSQL, then the operator's export of
all of them as XLSX and as CSV, each in a fresh process whose peak memory is reported.

    .venv/bin/python bench/export.py --tickets 100000

Creates and drops a throwaway database; tickets arrive through the real import path. Target:
a worker process stays within 300 MB (peak resident set size) while it writes either file.
"""

from __future__ import annotations

import argparse
import re
import resource
import subprocess
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

LIMIT_MB = 300


def load(url: str, count: int) -> None:
    rows = ([f"L{i:06d}", f"第{i}号路灯不亮，晚上出行不安全，附近老人孩子多，请尽快修复。"
             "=HYPERLINK(\"http://evil.example/\")", f"138{i:08d}", "张三",
             f"文明区和平路 {i % 500} 号", "城管局", "和平新村社区"] for i in range(count))
    import_rows(url, ["工单编号", "诉求内容", "来电号码", "求助人员", "事件发生地", "承办单位",
                      "社区"], rows)  # fmt: skip


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def measure(url: str, fmt: str) -> int:
    """One export in this process, read to its end as a browser would; prints the figures."""
    key = uuid.uuid4().hex  # a throwaway signing key for the throwaway database
    app = create_app(Settings(database_url=url, secret_key=key, form_rate_limit=""))
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/login", data={"csrf_token": token, "username": "operator",
                                "password": "demo-operator-1"})  # fmt: skip
    client.get("/console/search")  # the app's code and caches are warm: a worker's baseline
    before = peak_mb()
    started = time.perf_counter()
    response = client.get(f"/console/search.{fmt}", buffered=False)
    assert response.status_code == 200, response.status_code
    size = 0
    for chunk in response.response:
        size += len(chunk)
    response.close()
    seconds = time.perf_counter() - started
    peak = peak_mb()
    verdict = "ok" if peak <= LIMIT_MB else f"OVER {LIMIT_MB} MB"
    print(f"  {fmt.upper():<5} {size / 2**20:7.1f} MB file in {seconds:6.1f} s; peak RSS "
          f"{peak:6.1f} MB (before the export {before:6.1f} MB)  {verdict}")  # fmt: skip
    return 0 if peak <= LIMIT_MB else 1


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--measure", nargs=2, metavar=("URL", "FORMAT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        return measure(*args.measure)
    url, _, drop = new_database("export")
    try:
        upgrade(url)
        started = time.perf_counter()
        load(url, args.tickets)
        print(f"{args.tickets:,} tickets imported in {time.perf_counter() - started:.0f} s; "
              "the operator exports all of them (one fresh process each):")  # fmt: skip
        failed = 0
        for fmt in ("xlsx", "csv"):
            failed |= subprocess.call([sys.executable, __file__, "--measure", url, fmt])
    finally:
        drop()
    return failed


if __name__ == "__main__":
    raise SystemExit(main())
