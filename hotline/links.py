"""Absolute links handed to residents (tracking pages), the same from every channel."""

from __future__ import annotations

from flask import request, url_for

from .domain.tracking import tracking_token
from .extensions import hotline


def tracking_path(number: str, salt: str, **extra: str) -> str:
    token = tracking_token(hotline().settings.secret_key, number, salt)
    return url_for("public.track", number=number, token=token, **extra)


def absolute(path: str) -> str:
    """Prefixed with HOTLINE_PUBLIC_BASE_URL when set (behind a proxy the request's own host
    may be internal), else with the host the request came to."""
    base = hotline().settings.public_base_url or request.host_url.rstrip("/")
    return base + path
