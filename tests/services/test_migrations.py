"""Alembic: one head, models and migrations agree, upgrade/downgrade round-trips."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from hotline.db import Base
from hotline.migrate import alembic_config, downgrade, upgrade
from tests.conftest import TEST_DATABASE, new_database_url


def test_single_head() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1


def test_models_match_migrations(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == []


def test_upgrade_downgrade_round_trip(tmp_path) -> None:
    url, drop = new_database_url(tmp_path, TEST_DATABASE)
    try:
        upgrade(url)
        engine = create_engine(url)
        tables = set(inspect(engine).get_table_names())
        assert {"tickets", "ticket_events", "units", "users", "api_tokens"} <= tables
        downgrade(url, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(url)
        assert set(inspect(engine).get_table_names()) == tables
        upgrade(url)  # running it again is a no-op
        engine.dispose()
    finally:
        drop()
