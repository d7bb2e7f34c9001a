"""Shared fixtures: a real database (SQLite or PostgreSQL, chosen by HOTLINE_TEST_DATABASE),
migrated once per session with Alembic, seeded once, and emptied of tickets after each test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from hotline.app import create_app
from hotline.config import Settings
from hotline.db import Database
from hotline.migrate import upgrade
from hotline.seed import seed_demo

IN_CI = os.environ.get("CI") == "true"
TEST_DATABASE = os.environ.get("HOTLINE_TEST_DATABASE", "sqlite")
PG_URL = os.environ.get(
    "HOTLINE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
# Tables that tests fill; reference data (units, categories, users, tokens) stays seeded.
VOLATILE_TABLES = (
    "open311_links",
    "open311_tokens",
    "inbound_sms",
    "lookup_codes",
    "ticket_followers",
    "inbox_reads",
    "extension_requests",
    "outbox_messages",
    "routing_corrections",
    "idempotency_keys",
    "attachments",
    "ticket_events",
    "ticket_co_units",
    "tickets",
    "ticket_counters",
    "notification_templates",
    "audit_events",
    "import_rejections",
    "import_batches",
    "staff_sessions",
    "login_failures",
)


def _pg_admin_engine():
    return create_engine(PG_URL, isolation_level="AUTOCOMMIT")


def postgres_available() -> bool:
    try:
        engine = _pg_admin_engine()
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def _need_postgres() -> None:
    if not postgres_available():
        if IN_CI:
            pytest.fail(f"PostgreSQL is required under CI=true but {PG_URL} is unreachable")
        pytest.skip("PostgreSQL is not reachable; start it or set HOTLINE_TEST_PG_URL")


def new_database_url(tmp_dir: Path, dialect: str) -> tuple[str, Callable[[], None]]:
    """A fresh empty database and the function that removes it."""
    if dialect == "sqlite":
        path = tmp_dir / f"test-{uuid.uuid4().hex[:8]}.db"
        return f"sqlite:///{path}", lambda: None
    _need_postgres()
    name = f"hotline_test_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin_engine()
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url, drop = new_database_url(tmp_path_factory.mktemp("db"), TEST_DATABASE)
    upgrade(url)
    yield url
    drop()


@pytest.fixture(scope="session")
def seeded_database(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    now = datetime.now(UTC)
    with database.transaction() as session:
        seed_demo(session, now=now)
    yield database
    database.dispose()


@pytest.fixture
def db(seeded_database: Database) -> Iterator[Database]:
    yield seeded_database
    emptied(seeded_database)


def emptied(database: Database) -> None:
    """What a test wrote goes; the seeded city stays."""
    with database.transaction() as session:
        if database.dialect == "postgresql":
            session.execute(text(f"TRUNCATE {', '.join(VOLATILE_TABLES)} RESTART IDENTITY"))
        else:
            for table in VOLATILE_TABLES:
                session.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - fixed names


class Clock:
    """A settable ``now`` for the app under test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 21, 2, 30, tzinfo=UTC))  # 10:30 in Shanghai


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key="test-secret",
        upload_dir=tmp_path / "uploads",
        import_dir=tmp_path / "imports",
        max_photo_bytes=512 * 1024,
        max_photos=3,
        form_rate_limit="",  # tested on its own
        ruleset_refresh_seconds=0,  # see activations at once
        # Delivery tests run at any hour of the real clock: no night-time SMS hold here
        # (quiet hours are tested on their own).
        sms_quiet_start=0,
        sms_quiet_end=0,
    )


@pytest.fixture
def app(settings: Settings, db: Database, clock: Clock):
    app = create_app(settings, database=db)
    app.config.update(TESTING=True)
    app.extensions["hotline"].clock = clock
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The real Redis; a failure under CI=true, a skip on a laptop without one."""
    import redis

    url = os.environ.get("HOTLINE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        if IN_CI:
            pytest.fail(f"Redis is required under CI=true but {url} is unreachable")
        pytest.skip("Redis is not reachable; start it or set HOTLINE_TEST_REDIS_URL")
    return url


@pytest.fixture
def make_user(db):
    """Create staff users with one API token each; they are removed after the test."""
    from sqlalchemy import delete, select

    from hotline.models import ApiToken, Unit, User
    from hotline.services.auth import issue_token

    created: list[int] = []

    def make(username: str, role: str, unit_code: str | None = None) -> tuple[int, str]:
        now = datetime.now(UTC)
        with db.transaction() as session:
            unit_id = (
                session.scalar(select(Unit.id).where(Unit.code == unit_code)) if unit_code else None
            )
            user = User(
                username=username,
                display_name=username,
                password_hash="-",
                role=role,
                unit_id=unit_id,
                created_at=now,
            )
            session.add(user)
            session.flush()
            created.append(user.id)
            return user.id, issue_token(session, user, name="test", now=now)

    yield make
    from sqlalchemy import update

    from hotline.models import AuditEvent, RoutingCorrection, Ticket, TicketEvent

    with db.transaction() as session:  # runs before `db` empties the ticket tables
        references = (
            (TicketEvent, "actor_id"), (Ticket, "created_by_id"),
            (RoutingCorrection, "actor_id"), (AuditEvent, "actor_id"),
        )  # fmt: skip
        for model, column in references:
            attribute = getattr(model, column)
            session.execute(update(model).where(attribute.in_(created)).values({column: None}))
        session.execute(delete(ApiToken).where(ApiToken.user_id.in_(created)))
        session.execute(delete(User).where(User.id.in_(created)))


@pytest.fixture
def server(app):
    """The app under test served on 127.0.0.1 (a free port), with the test clock and
    database: for browsers and HTTP clients that need a real socket."""
    import threading

    from werkzeug.serving import make_server

    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    # A short poll: shutdown() waits for it, and every browser test stops a server.
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
