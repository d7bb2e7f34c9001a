"""``hotline db …``: schema migrations (Alembic)."""

from __future__ import annotations

from pathlib import Path

import click

from ..config import Settings


@click.group()
def db() -> None:
    """Schema migrations (Alembic)."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head). Safe to run repeatedly."""
    from ..migrate import upgrade

    settings = Settings.from_env()
    _ensure_sqlite_dir(settings.database_url)
    upgrade(settings.database_url, revision)
    click.echo(f"database at {revision}")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (e.g. base)."""
    from ..migrate import downgrade

    downgrade(Settings.from_env().database_url, revision)
    click.echo(f"database at {revision}")


@db.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Autogenerate a migration from the difference between models and the database."""
    from alembic import command

    from ..migrate import alembic_config

    command.revision(
        alembic_config(Settings.from_env().database_url), message=message, autogenerate=True
    )


def _ensure_sqlite_dir(url: str) -> None:
    if url.startswith("sqlite:///") and ":memory:" not in url:
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
