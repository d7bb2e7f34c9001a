"""Tracking links handed to residents within a request (pages, API answers). They have the
shape of ``domain.tracking.tracking_link``, as the messages' links do (notifications/compose)."""

from __future__ import annotations

from flask import request

from .domain.tracking import tracking_link
from .extensions import hotline


def tracking_path(number: str, salt: str, **extra: str) -> str:
    """The tracking link as a path on this site (below the app's mount point, if any)."""
    link = tracking_link(hotline().settings.secret_key, number, salt, **extra)
    return request.script_root + link


def absolute(path: str) -> str:
    """Prefixed with HOTLINE_PUBLIC_BASE_URL when set (behind a proxy the request's own host
    may be internal), else with the host the request came to."""
    base = hotline().settings.public_base_url or request.host_url.rstrip("/")
    return base + path
