"""Rows from CSV, XLSX or JSONL files, whatever encoding Chinese offices save them in."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ENCODINGS = ("utf-8-sig", "gb18030")  # UTF-8 with or without BOM, then GBK's superset


class TableError(ValueError):
    """The file cannot be read as a table; the message says why, in Chinese."""


def decode(raw: bytes) -> str:
    for encoding in ENCODINGS:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TableError("无法识别文件编码（支持 UTF-8 与 GB18030/GBK）")


def read_rows(path: Path) -> list[dict[str, str]]:
    """Every data row as {column: text}; the header row names the columns."""
    suffix = path.suffix.lower()
    if not path.exists():
        raise TableError(f"文件不存在：{path}")
    if suffix in (".xlsx", ".xlsm"):
        return list(_xlsx_rows(path))
    text = decode(path.read_bytes())
    if suffix in (".jsonl", ".ndjson"):
        return list(_jsonl_rows(text))
    if suffix in (".csv", ".txt", ".tsv"):
        dialect = "excel-tab" if suffix == ".tsv" else "excel"
        return [
            {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
            for row in csv.DictReader(io.StringIO(text), dialect=dialect)
        ]
    raise TableError(f"不支持的文件类型：{suffix}（支持 CSV、XLSX、JSONL）")


def _jsonl_rows(text: str) -> Iterator[dict[str, str]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item: Any = json.loads(line)
        except ValueError as exc:
            raise TableError(f"第 {number} 行不是有效的 JSON") from exc
        if not isinstance(item, dict):
            raise TableError(f"第 {number} 行应为 JSON 对象")
        yield {str(k): "" if v is None else str(v) for k, v in item.items()}


def _xlsx_rows(path: Path) -> Iterator[dict[str, str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise TableError(f"无法读取 Excel 文件：{type(exc).__name__}") from exc
    try:
        rows = workbook.active.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            return
        names = [str(h).strip() if h is not None else f"列{i + 1}" for i, h in enumerate(header)]
        for row in rows:
            if row is None or all(cell is None for cell in row):
                continue
            yield {
                name: "" if cell is None else str(cell).strip()
                for name, cell in zip(names, row, strict=False)
            }
    finally:
        workbook.close()


def column_text(row: dict[str, str], columns: list[str]) -> str:
    """Several columns joined (e.g. title + content), skipping empty ones."""
    return "\n".join(row[c] for c in columns if row.get(c))
