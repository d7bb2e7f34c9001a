"""``hotline seed``: the demo city, its routing ruleset and (with --demo) demo accounts."""

from __future__ import annotations

import click

from .support import now, transaction


@click.command()
@click.option("--demo/--no-demo", default=True, help="Also create demo users and API tokens.")
def seed(demo: bool) -> None:
    """Load the demo city (units, categories) and, with --demo, demo accounts. Idempotent."""
    from ..seed import DEMO_ACCOUNTS, seed_demo

    with transaction() as session:
        seeded = seed_demo(session, now=now(), accounts=demo)
    click.echo("seeded: " + ", ".join(f"{k} {v}" for k, v in seeded.counts.items()))
    click.echo(f"routing ruleset: {seeded.ruleset}")
    if demo:
        click.echo("demo accounts (for local demos only; never use in production):")
        for account in DEMO_ACCOUNTS:
            click.echo(
                f"  {account.role:<10} {account.username:<12} password {account.password:<18} "
                f"API token {account.token}"
            )
