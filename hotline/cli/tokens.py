"""``hotline token …``: API tokens for machine clients."""

from __future__ import annotations

import click

from .support import now, transaction


@click.group()
def token() -> None:
    """API tokens for machine clients."""


@token.command("create")
@click.argument("username")
@click.option("--name", default="cli", help="What the token is for.")
def token_create(username: str, name: str) -> None:
    """Create an API token for USERNAME and print it once."""
    from sqlalchemy import select

    from ..models import User
    from ..services.auth import issue_token

    with transaction() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise click.ClickException(f"no such user: {username}")
        plaintext = issue_token(session, user, name=name, now=now())
    click.echo(plaintext)
