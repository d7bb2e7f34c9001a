"""Typed settings, read from the environment only (``HOTLINE_*``)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite:///var/hotline.db"


class SettingsError(ValueError):
    """A configuration value is missing or malformed."""


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from exc


def _bool(env: dict[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be a boolean, got {raw!r}")


def _path(env: dict[str, str], name: str, base: Path) -> Path | None:
    """An optional file, relative to ``base``; None when unset or empty."""
    raw = (env.get(name) or "").strip()
    return (base / raw).resolve() if raw else None


def _sqlite_absolute(url: str, base: Path) -> str:
    """Make a relative SQLite path absolute so every process opens the same file."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
        return prefix + str((base / url[len(prefix) :]).resolve())
    return url


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    secret_key: str = field(default="", repr=False)
    upload_dir: Path = Path("var/uploads")
    public_base_url: str | None = None
    ticket_prefix: str = "WM"
    timezone: str = "Asia/Shanghai"
    max_photo_bytes: int = 5 * 1024 * 1024
    max_photos: int = 4
    # A request carrying photos (form, evidence, API); photos over max_photo_bytes inside it
    # are refused by name, with the rest of the form kept.
    max_upload_bytes: int = 100 * 1024 * 1024
    max_json_bytes: int = 256 * 1024
    sql_echo: bool = False
    production: bool = False
    # Accepted complaints per client address and phone number (residents share carriers'
    # addresses), and per address alone; "" turns one off. Syntax: "5/minute;30/hour".
    form_rate_limit: str = "5/minute;30/hour"
    form_address_rate_limit: str = "60/hour"
    # Open311 POST requests per api_key (a client's integration account); "" turns it off.
    open311_rate_limit: str = "60/minute;1000/hour"
    proxy_count: int = 0  # reverse proxies in front that set X-Forwarded-For/-Proto/-Host
    # How often each process looks for a newly activated routing ruleset.
    ruleset_refresh_seconds: float = 5.0
    # Resolved tickets the resident never rates are closed as unrated after this many days.
    unrated_close_days: int = 7
    # ... or once this many callbacks (回访) reached nobody or were refused (0: days only).
    callback_attempts: int = 3
    # Staff sign-in sessions end after this many hours without a request.
    session_idle_hours: int = 8
    # Residents' names, phones and photos are erased this many days after a ticket closes.
    personal_data_days: int = 730
    # Delivery of notifications (see notifications/): an HTTP SMS gateway and SMTP.
    sms_gateway_url: str | None = None
    sms_api_key: str = field(default="", repr=False)
    sms_signature: str = "文明直通车"
    # Shared with the SMS gateway: it signs the residents' replies it forwards to us.
    sms_inbound_secret: str = field(default="", repr=False)
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str = field(default="", repr=False)
    mail_from: str = "hotline@localhost"
    # Non-urgent SMS to residents wait for the morning: local hours [start, end).
    sms_quiet_start: int = 22
    sms_quiet_end: int = 8
    # The campaign office (创建办): escalations and disputed returns go to this unit's
    # webhook or e-mail. A code that names no unit leaves them in the log.
    supervisor_unit: str = "office"
    # Call-centre imports: where uploads are kept until imported, the largest accepted, and
    # up to which size an upload is imported within its request (larger: a background job).
    import_dir: Path = Path("var/imports")
    import_max_bytes: int = 200 * 1024 * 1024
    import_inline_bytes: int = 1024 * 1024
    # Days a failed or cancelled batch's upload is kept (to look into it) before the periodic
    # retention task removes it; a done batch's upload goes at once (services/import_retention).
    import_retention_days: int = 7
    # Processes that apply a large import's chunks side by side on PostgreSQL (parsing and
    # routing in parallel, writes in file order); 1 applies them one after another.
    import_workers: int = 2
    # A labelled file (CSV/XLSX/JSONL, text and label columns) the city's routing rules were
    # first learned from: the weekly learning of a routing draft learns it again with the
    # city's own tickets (background/learning.py). Unset: the tickets alone.
    routing_history: Path | None = None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, base: Path | None = None) -> Settings:
        """Read ``HOTLINE_*`` variables; relative paths are resolved against ``base`` (cwd)."""
        env = dict(os.environ if env is None else env)
        base = base or Path.cwd()
        production = env.get("HOTLINE_ENV", "development") == "production"
        secret = env.get("HOTLINE_SECRET_KEY", "")
        if not secret:
            if production:
                raise SettingsError("HOTLINE_SECRET_KEY is required when HOTLINE_ENV=production")
            secret = _development_secret(base / "var" / "secret_key")
        public_base_url = (env.get("HOTLINE_PUBLIC_BASE_URL") or "").rstrip("/") or None
        if production and public_base_url is None:
            # Messages to residents carry tracking links and are sent by workers, without a
            # request to take the site's address from.
            raise SettingsError("HOTLINE_PUBLIC_BASE_URL is required when HOTLINE_ENV=production")
        prefix = env.get("HOTLINE_TICKET_PREFIX", "WM")
        if not (prefix.isascii() and prefix.isalpha() and 1 <= len(prefix) <= 4):
            raise SettingsError("HOTLINE_TICKET_PREFIX must be 1-4 ASCII letters")
        return cls(
            database_url=_sqlite_absolute(
                env.get("HOTLINE_DATABASE_URL") or DEFAULT_DATABASE_URL, base
            ),
            redis_url=env.get("HOTLINE_REDIS_URL") or None,
            secret_key=secret,
            upload_dir=(base / env.get("HOTLINE_UPLOAD_DIR", "var/uploads")).resolve(),
            public_base_url=public_base_url,
            ticket_prefix=prefix.upper(),
            timezone=env.get("HOTLINE_TIMEZONE", "Asia/Shanghai"),
            max_photo_bytes=_int(env, "HOTLINE_MAX_PHOTO_BYTES", 5 * 1024 * 1024),
            max_photos=_int(env, "HOTLINE_MAX_PHOTOS", 4),
            max_upload_bytes=_int(env, "HOTLINE_MAX_UPLOAD_BYTES", 100 * 1024 * 1024),
            max_json_bytes=_int(env, "HOTLINE_MAX_JSON_BYTES", 256 * 1024),
            sql_echo=_bool(env, "HOTLINE_SQL_ECHO", False),
            production=production,
            form_rate_limit=env.get("HOTLINE_FORM_RATE_LIMIT", "5/minute;30/hour"),
            form_address_rate_limit=env.get("HOTLINE_FORM_ADDRESS_RATE_LIMIT", "60/hour"),
            open311_rate_limit=env.get("HOTLINE_OPEN311_RATE_LIMIT", "60/minute;1000/hour"),
            proxy_count=_int(env, "HOTLINE_PROXY_COUNT", 0),
            ruleset_refresh_seconds=_int(env, "HOTLINE_RULESET_REFRESH_SECONDS", 5),
            unrated_close_days=_int(env, "HOTLINE_UNRATED_CLOSE_DAYS", 7),
            callback_attempts=_int(env, "HOTLINE_CALLBACK_ATTEMPTS", 3),
            session_idle_hours=_int(env, "HOTLINE_SESSION_IDLE_HOURS", 8),
            personal_data_days=_int(env, "HOTLINE_PERSONAL_DATA_DAYS", 730),
            sms_gateway_url=env.get("HOTLINE_SMS_GATEWAY_URL") or None,
            sms_api_key=env.get("HOTLINE_SMS_API_KEY", ""),
            sms_signature=env.get("HOTLINE_SMS_SIGNATURE", "文明直通车"),
            sms_inbound_secret=env.get("HOTLINE_SMS_INBOUND_SECRET", ""),
            smtp_host=env.get("HOTLINE_SMTP_HOST") or None,
            smtp_port=_int(env, "HOTLINE_SMTP_PORT", 587),
            smtp_user=env.get("HOTLINE_SMTP_USER") or None,
            smtp_password=env.get("HOTLINE_SMTP_PASSWORD", ""),
            mail_from=env.get("HOTLINE_MAIL_FROM", "hotline@localhost"),
            sms_quiet_start=_int(env, "HOTLINE_SMS_QUIET_START", 22),
            sms_quiet_end=_int(env, "HOTLINE_SMS_QUIET_END", 8),
            supervisor_unit=env.get("HOTLINE_SUPERVISOR_UNIT", "office"),
            import_dir=(base / env.get("HOTLINE_IMPORT_DIR", "var/imports")).resolve(),
            import_max_bytes=_int(env, "HOTLINE_IMPORT_MAX_BYTES", 200 * 1024 * 1024),
            import_inline_bytes=_int(env, "HOTLINE_IMPORT_INLINE_BYTES", 1024 * 1024),
            import_retention_days=_int(env, "HOTLINE_IMPORT_RETENTION_DAYS", 7),
            import_workers=_int(env, "HOTLINE_IMPORT_WORKERS", 2),
            routing_history=_path(env, "HOTLINE_ROUTING_HISTORY", base),
        )


def _development_secret(path: Path) -> str:
    """A per-checkout random key, kept on disk so tracking links survive restarts."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key
