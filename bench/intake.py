"""Intake benchmark: POST /api/v1/tickets throughput compared with GET /healthz.

Creates a throwaway PostgreSQL database, migrates and seeds it, serves the app with
gunicorn on 127.0.0.1, sends a bounded number of requests per phase, prints the figures
and removes everything it created. Exit status 1 if any request failed.

    .venv/bin/python bench/intake.py --requests 300 --concurrency 8
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.common import PG_URL, new_database  # noqa: E402

BIN = REPO / ".venv" / "bin"
DEFAULT_DATA = REPO.parent / "shared" / "data" / "public_messages_495.jsonl"
TOKEN = "hl_demo_operator"  # noqa: S105 - public demo token that `hotline seed --demo` creates
WARMUP = 50
TARGET_RATIO = 0.40
HEALTH_TIMEOUT = 30.0

# Used only when the public data file is absent.
FALLBACK_TEXTS = (
    "和平路菜市场门口有人长期占道经营，行人只能走机动车道。",
    "人民公园东门外每天晚上都有流动摊贩占道摆摊，油烟很大。",
    "文明小区门口共享单车乱停乱放，堵住了消防通道。",
    "建设路人行道上停满了私家车，乱停乱放严重，轮椅无法通过。",
    "楼下广场舞音响每天晚上十点以后还在放，噪音扰民严重。",
    "隔壁工地夜间施工到凌晨两点，噪音扰民，请尽快处理。",
    "解放街垃圾桶已经三天没有清运，垃圾满溢，气味难闻。",
    "河边步道有人乱扔垃圾，塑料袋和饮料瓶到处都是。",
    "幸福路从十字路口到学校门口的路灯坏了一个多星期，晚上很黑。",
    "小区东侧道路路灯白天也亮着，浪费电，希望维修。",
    "商业街店铺把货物堆在门外，占道经营，消防车进不来。",
    "公交站台旁边有人随地吐痰、乱贴小广告，影响市容。",
    "农贸市场周边电动车乱停乱放，早高峰经常堵车。",
    "夜市烧烤摊油烟直排居民楼，噪音和油烟都很扰民。",
    "老城区巷子里建筑垃圾堆了半个月无人清理。",
    "学校门口的护栏被撞坏了，一直没有修，孩子上学不安全。",
    "街心花园的绿化带被人踩出一条路，还有人在里面种菜。",
    "桥下涵洞积水很深，下雨天行人无法通过，路灯也不亮。",
    "沿街商户把空调外机的冷凝水直接排到人行道上。",
    "小区里有人饲养的狗随地大小便，主人不清理。",
)


@dataclass
class PhaseResult:
    name: str
    latencies: list[float] = field(default_factory=list)  # seconds, every request
    statuses: Counter[str] = field(default_factory=Counter)
    errors: int = 0
    elapsed: float = 0.0
    first_error: str | None = None

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def throughput(self) -> float:
        return self.count / self.elapsed if self.elapsed else 0.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per phase")
    parser.add_argument("--concurrency", type=int, default=16, help="client threads")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="alternate the two phases this many times (requests are split between rounds), "
        "so drift on a shared machine hits both alike",
    )
    parser.add_argument("--pg-url", default=PG_URL, help="PostgreSQL admin URL")
    parser.add_argument("--port", type=int, default=None, help="default: a free port")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="JSONL complaints")
    args = parser.parse_args()
    if args.requests < 1 or args.concurrency < 1 or args.workers < 1:
        parser.error("--requests, --concurrency and --workers must be positive")
    return args


def load_texts(path: Path) -> list[str]:
    """Complaint descriptions from the JSONL file, or the built-in sentences."""
    if not path.exists():
        print(f"data file {path} not found; using {len(FALLBACK_TEXTS)} built-in sentences")
        return list(FALLBACK_TEXTS)
    texts: list[str] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            row = json.loads(line)
            # The app applies NFKC before its 2000-character limit (e.g. "…" becomes "..."),
            # so normalise first and trim afterwards.
            content = unicodedata.normalize("NFKC", row.get("content") or "").strip()
            content = content[:2000].rstrip()
            if len(content) >= 5:
                texts.append(content)
    if not texts:
        print(f"data file {path} has no usable rows; using built-in sentences")
        return list(FALLBACK_TEXTS)
    print(f"texts: {len(texts)} rows from {path}")
    return texts


def run_cli(args: list[str], env: dict[str, str]) -> None:
    """Run the hotline CLI; show its output only if it fails."""
    try:
        subprocess.run(
            [str(BIN / "hotline"), *args],
            cwd=REPO,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
    except subprocess.CalledProcessError as exc:
        print(f"hotline {' '.join(args)} failed:\n{exc.stdout}{exc.stderr}", file=sys.stderr)
        raise


def wait_healthy(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + HEALTH_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited early with status {server.returncode}")
        try:
            if requests.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"/healthz did not answer 200 within {HEALTH_TIMEOUT:.0f} s")


# A request: (session, index) -> (HTTP status, short body for error reports).
Sender = Callable[[requests.Session, int], tuple[int, str]]


def intake_sender(base: str, texts: list[str]) -> Sender:
    url = base + "/api/v1/tickets"
    headers = {"Authorization": f"Bearer {TOKEN}"}

    def send(session: requests.Session, index: int) -> tuple[int, str]:
        body = {
            "description": texts[index % len(texts)],
            "reporter_phone": "13812341234",
            "anonymous": False,
            "address": "文明区和平路 12 号",
        }
        response = session.post(url, json=body, headers=headers, timeout=30)
        return response.status_code, response.text[:300]

    return send


def healthz_sender(base: str) -> Sender:
    url = base + "/healthz"

    def send(session: requests.Session, _index: int) -> tuple[int, str]:
        response = session.get(url, timeout=30)
        return response.status_code, response.text[:300]

    return send


def run_phase(name: str, send: Sender, ok: int, total: int, concurrency: int) -> PhaseResult:
    """Warm up, then send ``total`` requests from ``concurrency`` threads."""
    local = threading.local()
    sessions: list[requests.Session] = []
    lock = threading.Lock()
    result = PhaseResult(name)

    def session() -> requests.Session:
        if not hasattr(local, "session"):  # one keep-alive session per thread
            local.session = requests.Session()
            with lock:
                sessions.append(local.session)
        return local.session

    def one(index: int) -> tuple[float, int | None, str]:
        started = time.perf_counter()
        try:
            status, body = send(session(), index)
        except requests.RequestException as exc:
            return time.perf_counter() - started, None, f"{type(exc).__name__}: {exc}"
        return time.perf_counter() - started, status, body

    pool = ThreadPoolExecutor(max_workers=concurrency)
    try:
        list(pool.map(one, range(total, total + WARMUP)))  # not counted
        started = time.perf_counter()
        outcomes = list(pool.map(one, range(total)))
        result.elapsed = time.perf_counter() - started
    finally:
        # On Ctrl-C, drop the queued requests instead of sending them all first.
        pool.shutdown(wait=True, cancel_futures=True)
        for session_ in sessions:
            session_.close()

    for latency, status, body in outcomes:
        result.latencies.append(latency)
        result.statuses[str(status) if status is not None else "exception"] += 1
        if status != ok:
            result.errors += 1
            result.first_error = result.first_error or f"{status}: {body}"
    return result


def merge(rounds: list[PhaseResult]) -> PhaseResult:
    """All rounds of one phase as one result: requests and time added up."""
    merged = PhaseResult(rounds[0].name)
    for part in rounds:
        merged.latencies += part.latencies
        merged.statuses.update(part.statuses)
        merged.errors += part.errors
        merged.elapsed += part.elapsed
        merged.first_error = merged.first_error or part.first_error
    return merged


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, round(pct / 100 * len(ordered) + 0.5))
    return ordered[min(rank, len(ordered)) - 1]


def report(result: PhaseResult) -> None:
    ms = [v * 1000 for v in result.latencies]
    print(f"\n[{result.name}]")
    print(f"  requests    {result.count}")
    print(f"  errors      {result.errors}  (statuses: {dict(result.statuses)})")
    print(f"  elapsed     {result.elapsed:.2f} s")
    print(f"  throughput  {result.throughput:.1f} req/s")
    print(
        f"  latency ms  p50 {percentile(ms, 50):.1f}  p90 {percentile(ms, 90):.1f}  "
        f"p99 {percentile(ms, 99):.1f}"
    )
    if result.first_error:
        print(f"  first error {result.first_error}")


def stop(server: subprocess.Popen[bytes] | None) -> None:
    """Stop gunicorn (its master takes the workers with it)."""
    if server is None or server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def main() -> int:
    args = parse_args()
    port = args.port or free_port()
    base = f"http://127.0.0.1:{port}"
    texts = load_texts(args.data)

    server: subprocess.Popen[bytes] | None = None
    url, name, drop = new_database("intake", args.pg_url)
    try:
        with tempfile.TemporaryDirectory(prefix="hotline-bench-") as uploads:
            env = {
                **os.environ,
                "HOTLINE_DATABASE_URL": url,
                "HOTLINE_SECRET_KEY": "bench-secret",
                "HOTLINE_UPLOAD_DIR": uploads,
            }
            run_cli(["db", "upgrade"], env)
            run_cli(["seed", "--demo"], env)

            server = subprocess.Popen(
                [
                    str(BIN / "gunicorn"),
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    str(args.workers),
                    "--log-level",
                    "warning",
                    "wsgi:app",
                ],
                cwd=REPO,
                env=env,
            )
            wait_healthy(base, server)

            print(
                f"environment: cpus {os.cpu_count()}, gunicorn workers {args.workers} "
                "(gevent, gunicorn.conf.py), "
                f"concurrency {args.concurrency}, requests/phase {args.requests}, "
                f"warm-up {WARMUP}, database PostgreSQL ({name})"
            )
            per_round = max(1, args.requests // args.rounds)
            intake_rounds, health_rounds = [], []
            for _ in range(args.rounds):
                intake_rounds.append(
                    run_phase(
                        "POST /api/v1/tickets",
                        intake_sender(base, texts),
                        201,
                        per_round,
                        args.concurrency,
                    )
                )
                health_rounds.append(
                    run_phase(
                        "GET /healthz", healthz_sender(base), 200, per_round, args.concurrency
                    )
                )
            for index, (a, b) in enumerate(zip(intake_rounds, health_rounds, strict=True), 1):
                print(
                    f"round {index}: intake {a.throughput:.1f} req/s, healthz "
                    f"{b.throughput:.1f} req/s, ratio {a.throughput / b.throughput:.1%}"
                )
            intake, health = merge(intake_rounds), merge(health_rounds)
            stop(server)
    finally:
        stop(server)
        drop()

    report(intake)
    report(health)
    ratio = intake.throughput / health.throughput if health.throughput else 0.0
    print(f"\nintake / healthz throughput: {ratio:.1%}")
    print(f"target: intake >= {TARGET_RATIO:.0%} of /healthz")
    print("result: target " + ("met" if ratio >= TARGET_RATIO else "NOT met"))
    return 1 if intake.errors or health.errors else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; server stopped and database dropped", file=sys.stderr)
        sys.exit(130)
