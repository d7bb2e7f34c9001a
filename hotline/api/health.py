"""Liveness (``/healthz``) and readiness (``/readyz``) probes."""

from __future__ import annotations

import time
from typing import Any

from flask import jsonify
from flask_smorest import Blueprint
from sqlalchemy import text

from ..extensions import hotline

bp = Blueprint("health", __name__, description="存活与就绪探针（无需令牌）")

_JSON = {"application/json": {"schema": {"type": "object"}}}


@bp.get("/healthz")
@bp.doc(responses={"200": {"description": "进程存活", "content": _JSON}})
def healthz() -> Any:
    """存活探针：进程能应答即可，不访问任何依赖"""
    return jsonify(status="ok")


def _check_database() -> dict[str, Any]:
    started = time.perf_counter()
    try:
        with hotline().db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}


def _check_redis(url: str) -> dict[str, Any]:
    from ..queues import queue_stats

    started = time.perf_counter()
    try:
        queues = queue_stats(url)
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1),
            "queues": queues}  # fmt: skip


def _outbox() -> dict[str, Any]:
    """Messages waiting and failed. Failures do not make the service unready: admins see
    them (GET /api/v1/outbox) and retry them."""
    from ..services.outbox import summary

    try:
        with hotline().db.transaction() as session:
            counts = summary(session, failures=0)["counts"]
    except Exception as exc:  # the database check above says why
        return {"ok": True, "error": type(exc).__name__}
    waiting = sum(counts.get(s, 0) for s in ("pending", "queued", "sending"))
    return {"ok": True, "waiting": waiting,
            "failed": counts.get("failed", 0) + counts.get("dead", 0)}  # fmt: skip


@bp.get("/readyz")
@bp.doc(
    responses={
        "200": {"description": "数据库可用；配置了 Redis 时 Redis 也可用", "content": _JSON},
        "503": {"description": "某项依赖不可用（checks 中给出）", "content": _JSON},
    }
)
def readyz() -> Any:
    """就绪探针：数据库可用；配置了 HOTLINE_REDIS_URL 时 Redis 也须可用"""
    settings = hotline().settings
    checks: dict[str, Any] = {"database": _check_database()}
    if settings.redis_url:
        checks["redis"] = _check_redis(settings.redis_url)
    else:
        checks["redis"] = {"ok": True, "mode": "inline (HOTLINE_REDIS_URL not set)"}
    checks["outbox"] = _outbox()
    ready = all(check["ok"] for check in checks.values())
    return jsonify(status="ready" if ready else "unavailable", checks=checks), 200 if ready else 503
