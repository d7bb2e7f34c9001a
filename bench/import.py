"""Import benchmark: generated 12345 exports (CSV and XLSX, live and answered history)
imported into PostgreSQL by the real `hotline import` command, against a plain COPY of the
same rows in the same run.

    .venv/bin/python bench/import.py --rows 100000 --small 10000

Creates and drops a throwaway PostgreSQL database. Texts are recombined from
../shared/data/public_messages_495.csv when present (else from a few built-in sentences).
Live file: 80% of rows carry a known 诉求类型 (as real exports do; `--no-subjects` leaves it
out everywhere), 70% name a 承办单位 (dispatched as named), the rest are dispatched by
routing, 1% are broken on purpose. History file: answered orders from 2019 to 2025, 95%
naming their unit, 90% closed with a reply and a callback, the rest still open. Prints rows/s
(including classification, dispatch, deadlines, events and notices) with the pool of
HOTLINE_IMPORT_WORKERS processes and with one, the peak memory of the import and its workers
together (PSS; 10k vs 100k rows: it must not grow with the file) and the COPY floor.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.common import new_database  # noqa: E402
from hotline.db import Database  # noqa: E402
from hotline.migrate import upgrade  # noqa: E402
from hotline.seed import seed_demo  # noqa: E402

SAMPLE = REPO.parent / "shared" / "data" / "public_messages_495.csv"
BIN = Path(sys.executable).parent
HEADER = ["工单编号", "工单标题", "诉求内容", "诉求类型", "来电时间", "来电号码", "求助人员",
          "事件发生地", "街道", "社区", "承办单位", "协办单位", "紧急程度", "办理时限",
          "工单状态"]  # fmt: skip
HISTORY_HEADER = [*HEADER, "派单时间", "办结时间", "答复意见", "回访时间", "诉求是否解决",
                  "回访满意度"]  # fmt: skip
# Subjects as a call centre writes them; all are categories of the demo city.
SUBJECTS = ["生活垃圾", "占道经营", "噪音扰民", "路灯", "道路破损", "乱停乱放", "飞线充电",
            "餐饮油烟", "物业管理", "违章搭建", "欠薪", "停水"]  # fmt: skip
REPLIES = ["经现场核实，已安排人员处理完毕，并向来电人反馈。", "已联系相关单位整改，现已恢复正常。",
           "经查，该问题已纳入整改计划，将于近期完成。"]  # fmt: skip
UNITS = ["市城管局", "城管局", "住建局", "环保局", "交警支队", "市场监管局", "人社局", "教育局",
         "卫健委", "水务局", "供电公司", "燃气公司", "示范市城市管理局"]  # fmt: skip
PLACES = [("和平街道", "和平新村社区", "和平路菜市场"), ("振兴街道", "振兴路社区", "振兴路工地"),
          ("新华街道", "书院社区", "书院路口"), ("新华街道", "滨河社区", "滨河公园"),
          ("和平街道", "东门社区", "东门小学")]  # fmt: skip
FALLBACK = ["小区门口流动摊贩占道经营，早晚高峰行人只能走机动车道。",
            "夜里工地施工噪音很大，严重影响附近居民休息。",
            "路灯坏了好几天，晚上出行很不安全。",
            "垃圾桶满溢没人清运，气味很大。",
            "楼道里有人用飞线给电动车充电，存在火灾隐患。"]  # fmt: skip


def vocabulary() -> list[str]:
    if not SAMPLE.exists():
        return FALLBACK
    sentences = []
    with SAMPLE.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            for part in row["content"].replace("\n", "").split("。"):
                if 8 <= len(part) <= 120:
                    sentences.append(part + "。")
    return sentences or FALLBACK


def rows(count: int, seed: int = 7, *, history: bool = False,
         subjects: bool = True) -> list[list[str]]:  # fmt: skip
    rng = random.Random(seed)
    words = vocabulary()
    start = datetime(2019, 3, 1, 8, 0) if history else datetime(2026, 11, 1, 8, 0)
    span = 3_300_000 if history else 40_000  # minutes: six years of history, or a month
    step = max(span // max(count, 1), 1) if history else 7
    out = []
    for i in range(count):
        street, community, place = rng.choice(PLACES)
        text_ = "".join(rng.choice(words) for _ in range(rng.randint(1, 3)))[:600]
        at = start + timedelta(minutes=step * i % span)
        named = rng.random() < (0.95 if history else 0.7)
        subject = rng.choice(SUBJECTS) if subjects and rng.random() < 0.8 else ""
        row = [f"{'LS' if history else 'BJ'}{i:07d}", text_[:20], text_, subject,
               at.strftime("%Y-%m-%d %H:%M:%S"), f"13{rng.randint(100000000, 999999999)}",
               "市民", place, street, community, rng.choice(UNITS) if named else "", "",
               rng.choice(["一般", "一般", "紧急"]), "", "办理中"]  # fmt: skip
        if history:
            answered = rng.random() < 0.9
            resolved = at + timedelta(days=rng.randint(1, 9), hours=rng.randint(0, 8))
            callback = resolved + timedelta(days=1)
            row[-1] = "已办结" if answered else "办理中"
            row += [(at + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S"),
                    resolved.strftime("%Y-%m-%d %H:%M:%S") if answered else "",
                    rng.choice(REPLIES) if answered else "",
                    callback.strftime("%Y-%m-%d %H:%M:%S") if answered else "",
                    rng.choice(["是", "是", "否"]) if answered else "",
                    rng.choice(["满意", "基本满意", "不满意"]) if answered else ""]  # fmt: skip
        if i % 100 == 99:
            row[5] = "12345"  # a broken phone number: the row is refused
        out.append(row)
    return out


def write_csv(path: Path, header: list[str], data: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(data)


def write_xlsx(path: Path, header: list[str], data: list[list[str]]) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("工单")
    sheet.append(header)
    for row in data:
        sheet.append(row)
    book.save(path)


def _tree(root: int) -> list[int]:
    """``root`` and its descendants (the pool's workers), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def _pss_mb(pids: list[int]) -> float:
    """Proportional set size of these processes together: pages a forked worker shares
    with its parent count once, not once per process as RSS would count them."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def timed_import(path: Path, env: dict[str, str], source: str, *, workers: int,
                 history: bool = False) -> tuple[float, float, str]:  # fmt: skip
    """Seconds, peak memory (MB: the most the import process and its pool's workers held
    together, as PSS sampled every 0.2 s) and the command's last line."""
    command = [str(BIN / "hotline"), "import", str(path), "--source", source,
               "--chunk-size", "1000", *(["--history"] if history else [])]  # fmt: skip
    started = time.perf_counter()
    process = subprocess.Popen(command, env={**env, "HOTLINE_IMPORT_WORKERS": str(workers)},
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    peak = 0.0
    while process.poll() is None:
        peak = max(peak, _pss_mb(_tree(process.pid)))
        time.sleep(0.2)
    elapsed = time.perf_counter() - started
    output = process.stdout.read() if process.stdout else ""
    if process.returncode != 0:
        raise SystemExit(f"import failed: {output[-500:]}")
    return elapsed, peak, output.strip().splitlines()[-1]


def copy_floor(url: str, width: int, data: list[list[str]]) -> float:
    """A plain COPY of the same rows into an unindexed table: the database's own floor."""
    import psycopg

    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as connection:
        connection.execute("DROP TABLE IF EXISTS floor")
        connection.execute("CREATE TEMP TABLE floor (" + ", ".join(f"c{i} text"
                           for i in range(width)) + ")")  # fmt: skip
        buffer = io.StringIO()
        csv.writer(buffer).writerows(data)
        started = time.perf_counter()
        with connection.cursor().copy("COPY floor FROM STDIN WITH (FORMAT csv)") as copy:
            copy.write(buffer.getvalue())
        connection.commit()
        return time.perf_counter() - started


def fresh_database() -> tuple[str, Callable[[], None]]:
    url, _, drop = new_database("import")
    upgrade(url)
    database = Database(url)
    with database.transaction() as session:
        seed_demo(session, now=datetime.now().astimezone(), accounts=False)
    database.dispose()
    return url, drop


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2, help="the pool's processes")
    parser.add_argument("--no-xlsx", action="store_true")
    parser.add_argument("--only", choices=["live", "history", "xlsx"], help="one part only")
    parser.add_argument("--no-subjects", action="store_true",
                        help="no 诉求类型 in any row: every row is classified by routing")
    args = parser.parse_args()
    n, pool = args.rows, args.workers
    print(f"environment: cpus {os.cpu_count()}, PostgreSQL, texts from "
          f"{'shared/data' if SAMPLE.exists() else 'built-in sentences'}; "
          f"pool of {pool} import processes unless said")  # fmt: skip
    with TemporaryDirectory() as tmp:
        folder = Path(tmp)
        parts = [args.only] if args.only else ["live", "history"] + ([] if args.no_xlsx
                                                                      else ["xlsx"])
        for part in parts:
            history = part == "history"
            header = HISTORY_HEADER if history else HEADER
            subjects = not args.no_subjects
            big = rows(n, history=history, subjects=subjects)
            small = rows(args.small, seed=11, history=history, subjects=subjects)
            suffix = "xlsx" if part == "xlsx" else "csv"
            write = write_xlsx if suffix == "xlsx" else write_csv
            write(folder / f"small.{suffix}", header, small)
            write(folder / f"big.{suffix}", header, big)
            size = (folder / f"big.{suffix}").stat().st_size / 1e6
            label = {"live": "CSV live", "history": "CSV --history", "xlsx": "XLSX live"}[part]
            url, drop = fresh_database()
            try:
                env = {**os.environ, "HOTLINE_DATABASE_URL": url, "HOTLINE_SECRET_KEY": "bench"}
                env.pop("HOTLINE_REDIS_URL", None)
                seconds, peak_small, _ = timed_import(folder / f"small.{suffix}", env, "small",
                                                      workers=pool, history=history)
                print(f"{label} {args.small:,} rows: {args.small / seconds:,.0f} rows/s, "
                      f"peak {peak_small:.0f} MB")  # fmt: skip
                seconds, peak_big, last = timed_import(folder / f"big.{suffix}", env, part,
                                                       workers=pool, history=history)
                print(f"{label} {n:,} rows ({size:.0f} MB): {n / seconds:,.0f} rows/s in "
                      f"{seconds:.1f} s, peak {peak_big:.0f} MB  [{last}]")  # fmt: skip
                print(f"  peak memory {n // 1000}k / {args.small // 1000}k rows: "
                      f"{peak_big / peak_small:.2f}")  # fmt: skip
                floor = copy_floor(url, len(header), big)
                print(f"  COPY floor: {n / floor:,.0f} rows/s ({floor:.2f} s); "
                      f"import / COPY time: {seconds / floor:.0f}×")  # fmt: skip
                if part == "live":
                    again, _, last = timed_import(folder / "big.csv", env, part, workers=pool)
                    print(f"  re-import (all unchanged): {n / again:,.0f} rows/s  [{last}]")
            finally:
                drop()
            if part != "xlsx":  # the same file into an empty database by one process
                url, drop = fresh_database()
                try:
                    env = {**os.environ, "HOTLINE_DATABASE_URL": url,
                           "HOTLINE_SECRET_KEY": "bench"}  # fmt: skip
                    env.pop("HOTLINE_REDIS_URL", None)
                    single, _, _ = timed_import(folder / f"big.{suffix}", env, part, workers=1,
                                                history=history)
                    print(f"  one process: {n / single:,.0f} rows/s; the pool of {pool}: "
                          f"{single / seconds:.2f}× faster")  # fmt: skip
                finally:
                    drop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
