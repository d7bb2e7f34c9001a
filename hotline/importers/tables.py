"""Rows from CSV, XLSX or JSONL files, whatever encoding Chinese offices save them in."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .reader import TableError, detect_encoding, open_table

__all__ = ["TableError", "column_text", "decode", "read_rows"]


def decode(raw: bytes) -> str:
    """Text of a small file in whatever encoding it was saved in."""
    return raw.decode(detect_encoding(raw))


def read_rows(path: Path) -> list[dict[str, str]]:
    """Every data row as {column: text}; the header row names the columns."""
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        if not path.exists():
            raise TableError(f"文件不存在：{path.name}")
        return list(_jsonl_rows(decode(path.read_bytes())))
    with open_table(path) as table:
        header = table.header
        return [dict(zip(header, cells, strict=False)) for _, cells in table.rows]


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


def column_text(row: dict[str, str], columns: list[str]) -> str:
    """Several columns joined (e.g. title + content), skipping empty ones."""
    return "\n".join(row[c] for c in columns if row.get(c))
