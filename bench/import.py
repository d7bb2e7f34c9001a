"""Import benchmark: a generated 12345 export (CSV and XLSX) imported into PostgreSQL by the
real `hotline import` command, against a plain COPY of the same rows in the same run.

    .venv/bin/python bench/import.py --rows 100000 --small 10000

Creates and drops a throwaway PostgreSQL database. Texts are recombined from
../shared/data/public_messages_495.csv when present (else from a few built-in sentences);
70% of rows name a 承办单位 (dispatched as named), the rest are classified by routing, 1% are
broken on purpose. Prints rows/s including classification, the peak memory of each import
process (10k vs 100k rows: it must not grow with the file) and the COPY floor.
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


def rows(count: int, seed: int = 7) -> list[list[str]]:
    rng = random.Random(seed)
    words = vocabulary()
    start = datetime(2026, 11, 1, 8, 0)
    out = []
    for i in range(count):
        street, community, place = rng.choice(PLACES)
        text_ = "".join(rng.choice(words) for _ in range(rng.randint(1, 3)))[:600]
        at = start + timedelta(minutes=7 * i % 40000)
        named = rng.random() < 0.7
        row = [f"BJ{i:07d}", text_[:20], text_, "", at.strftime("%Y-%m-%d %H:%M:%S"),
               f"13{rng.randint(100000000, 999999999)}", "市民", place, street, community,
               rng.choice(UNITS) if named else "", "", rng.choice(["一般", "一般", "紧急"]),
               "", "办理中"]  # fmt: skip
        if i % 100 == 99:
            row[5] = "12345"  # a broken phone number: the row is refused
        out.append(row)
    return out


def write_csv(path: Path, data: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(data)


def write_xlsx(path: Path, data: list[list[str]]) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("工单")
    sheet.append(HEADER)
    for row in data:
        sheet.append(row)
    book.save(path)


def timed_import(path: Path, env: dict[str, str], source: str) -> tuple[float, float, str]:
    """Seconds, peak RSS (MB) of the import process, and its last line."""
    started = time.perf_counter()
    process = subprocess.Popen([str(BIN / "hotline"), "import", str(path), "--source", source,
                                "--chunk-size", "1000"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    output = process.stdout.read() if process.stdout else ""
    if status != 0:
        raise SystemExit(f"import failed: {output[-500:]}")
    return elapsed, usage.ru_maxrss / 1024, output.strip().splitlines()[-1]


def copy_floor(url: str, data: list[list[str]]) -> float:
    """A plain COPY of the same rows into an unindexed table: the database's own floor."""
    import psycopg

    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as connection:
        connection.execute("CREATE TEMP TABLE floor (" + ", ".join(f"c{i} text"
                           for i in range(len(HEADER))) + ")")  # fmt: skip
        buffer = io.StringIO()
        csv.writer(buffer).writerows(data)
        started = time.perf_counter()
        with connection.cursor().copy("COPY floor FROM STDIN WITH (FORMAT csv)") as copy:
            copy.write(buffer.getvalue())
        connection.commit()
        return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--no-xlsx", action="store_true")
    args = parser.parse_args()

    url, _, drop = new_database("import")
    try:
        upgrade(url)
        database = Database(url)
        now = datetime.now().astimezone()
        with database.transaction() as session:
            seed_demo(session, now=now, accounts=False)
        database.dispose()
        env = {**os.environ, "HOTLINE_DATABASE_URL": url, "HOTLINE_SECRET_KEY": "bench"}
        env.pop("HOTLINE_REDIS_URL", None)
        big, small = rows(args.rows), rows(args.small, seed=11)
        print(f"environment: cpus {os.cpu_count()}, PostgreSQL, texts from "
              f"{'shared/data' if SAMPLE.exists() else 'built-in sentences'}")  # fmt: skip
        with TemporaryDirectory() as tmp:
            folder = Path(tmp)
            write_csv(folder / "small.csv", small)
            write_csv(folder / "big.csv", big)
            size = (folder / "big.csv").stat().st_size / 1e6
            seconds, peak_small, _ = timed_import(folder / "small.csv", env, "small")
            print(f"CSV {args.small:,} rows: {args.small / seconds:,.0f} rows/s, "
                  f"peak {peak_small:.0f} MB")  # fmt: skip
            seconds, peak_big, last = timed_import(folder / "big.csv", env, "csv")
            print(f"CSV {args.rows:,} rows ({size:.0f} MB): {args.rows / seconds:,.0f} rows/s "
                  f"in {seconds:.1f} s, peak {peak_big:.0f} MB  [{last}]")  # fmt: skip
            print(f"peak memory 100k / 10k: {peak_big / peak_small:.2f}")
            again, _, last = timed_import(folder / "big.csv", env, "csv")
            print(f"CSV re-import (all unchanged): {args.rows / again:,.0f} rows/s  [{last}]")
            floor = copy_floor(url, big)
            print(f"COPY floor: {args.rows / floor:,.0f} rows/s ({floor:.2f} s); "
                  f"import / COPY time: {seconds / floor:.0f}×")  # fmt: skip
            if not args.no_xlsx:
                write_xlsx(folder / "big.xlsx", big)
                seconds, peak, last = timed_import(folder / "big.xlsx", env, "xlsx")
                print(f"XLSX {args.rows:,} rows: {args.rows / seconds:,.0f} rows/s, "
                      f"peak {peak:.0f} MB  [{last}]")  # fmt: skip
    finally:
        drop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
