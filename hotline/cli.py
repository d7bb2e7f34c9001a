"""The ``hotline`` command: database, demo data, API tokens."""

from __future__ import annotations

from pathlib import Path

import click

from .config import Settings


@click.group()
def main() -> None:
    """文明直通车 command line (settings from HOTLINE_* environment variables)."""


@main.group()
def db() -> None:
    """Schema migrations (Alembic)."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head). Safe to run repeatedly."""
    from .migrate import upgrade

    settings = Settings.from_env()
    _ensure_sqlite_dir(settings.database_url)
    upgrade(settings.database_url, revision)
    click.echo(f"database at {revision}")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (e.g. base)."""
    from .migrate import downgrade

    downgrade(Settings.from_env().database_url, revision)
    click.echo(f"database at {revision}")


@db.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Autogenerate a migration from the difference between models and the database."""
    from alembic import command

    from .migrate import alembic_config

    command.revision(
        alembic_config(Settings.from_env().database_url), message=message, autogenerate=True
    )


def _ensure_sqlite_dir(url: str) -> None:
    if url.startswith("sqlite:///") and ":memory:" not in url:
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


@main.command()
@click.option("--demo/--no-demo", default=True, help="Also create demo users and API tokens.")
def seed(demo: bool) -> None:
    """Load the demo city (units, categories) and, with --demo, demo accounts. Idempotent."""
    from .db import Database
    from .extensions import utc_now
    from .seed import DEMO_ACCOUNTS, seed_city, seed_default_ruleset, seed_demo_accounts

    database = Database(Settings.from_env().database_url)
    with database.transaction() as session:
        counts = seed_city(session, now=utc_now())
        ruleset = seed_default_ruleset(session, now=utc_now())
        if demo:
            seed_demo_accounts(session, now=utc_now())
    database.dispose()
    click.echo("seeded: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    click.echo(f"routing ruleset: {ruleset}")
    if demo:
        click.echo("demo accounts (for local demos only; never use in production):")
        for account in DEMO_ACCOUNTS:
            click.echo(
                f"  {account.role:<10} {account.username:<12} password {account.password:<18} "
                f"API token {account.token}"
            )


@main.group()
def token() -> None:
    """API tokens for machine clients."""


@token.command("create")
@click.argument("username")
@click.option("--name", default="cli", help="What the token is for.")
def token_create(username: str, name: str) -> None:
    """Create an API token for USERNAME and print it once."""
    from sqlalchemy import select

    from .db import Database
    from .extensions import utc_now
    from .models import User
    from .services.auth import issue_token

    database = Database(Settings.from_env().database_url)
    with database.transaction() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise click.ClickException(f"no such user: {username}")
        plaintext = issue_token(session, user, name=name, now=utc_now())
    database.dispose()
    click.echo(plaintext)


@main.group()
def sla() -> None:
    """Deadlines: the periodic sweep."""


@sla.command("sweep")
def sla_sweep() -> None:
    """Warn at 75% of the time, mark overdue, escalate, close unrated, erase expired personal
    data. Safe to run again."""
    from .db import Database
    from .extensions import utc_now
    from .services.sweep import sweep_now

    settings = Settings.from_env()
    database = Database(settings.database_url)
    with database.transaction() as session:
        report = sweep_now(session, now=utc_now(), settings=settings)
    database.dispose()
    click.echo(
        f"warned {report.warned}, overdue {report.overdue}, escalated {report.escalated}, "
        f"closed unrated {report.closed_unrated}, "
        f"personal data erased {report.personal_data_erased}"
    )


@main.group()
def calendar() -> None:
    """Local working-day overrides (days off, make-up days) on top of the national schedule."""


@calendar.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def calendar_import(file: Path) -> None:
    """CSV/XLSX/JSONL with columns date (or 日期), working (是否上班: 1/0), note (说明)."""
    from .db import Database
    from .errors import HotlineError
    from .importers.tables import TableError, read_rows
    from .services.calendar import import_days

    try:
        rows = read_rows(file)
    except TableError as exc:
        raise click.ClickException(str(exc)) from exc
    database = Database(Settings.from_env().database_url)
    try:
        with database.transaction() as session:
            count = import_days(session, rows)
    except HotlineError as exc:
        raise click.ClickException(exc.detail) from exc
    finally:
        database.dispose()
    click.echo(f"已导入 {count} 天")


def _register() -> None:
    from .cli_imports import import_command
    from .cli_privacy import privacy_group
    from .cli_routing import routing_group
    from .cli_templates import templates_group

    main.add_command(import_command)
    main.add_command(privacy_group)
    main.add_command(routing_group)
    main.add_command(templates_group)


_register()

if __name__ == "__main__":
    main()
