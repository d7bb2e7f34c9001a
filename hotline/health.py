"""Liveness (``/healthz``) and readiness (``/readyz``) probes."""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, jsonify
from sqlalchemy import text

from .extensions import hotline

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Any:
    """The process answers; touches nothing else."""
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
    import redis  # only when configured

    started = time.perf_counter()
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        client.ping()
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}


@bp.get("/readyz")
def readyz() -> Any:
    settings = hotline().settings
    checks: dict[str, Any] = {"database": _check_database()}
    if settings.redis_url:
        checks["redis"] = _check_redis(settings.redis_url)
    else:
        checks["redis"] = {"ok": True, "mode": "inline (HOTLINE_REDIS_URL not set)"}
    ready = all(check["ok"] for check in checks.values())
    return jsonify(status="ready" if ready else "unavailable", checks=checks), 200 if ready else 503
