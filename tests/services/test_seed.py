"""The demo city seed is idempotent."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from hotline.models import ApiToken, Category, Unit, User
from hotline.seed import load_demo_city, seed_city, seed_demo_accounts


def counts(session) -> tuple[int, ...]:
    return tuple(
        session.scalar(select(func.count()).select_from(m))
        for m in (Unit, Category, User, ApiToken)
    )


def test_seeding_twice_changes_nothing(db) -> None:
    now = datetime.now(UTC)
    with db.transaction() as session:
        before = counts(session)
        hashes = dict(session.execute(select(User.username, User.password_hash)).all())
        seed_city(session, now=now)
        seed_demo_accounts(session, now=now)
        assert counts(session) == before
        assert dict(session.execute(select(User.username, User.password_hash)).all()) == hashes


def test_demo_city_shape(db) -> None:
    city = load_demo_city()
    with db.transaction() as session:
        kinds = dict(session.execute(select(Unit.kind, func.count()).group_by(Unit.kind)).all())
        assert kinds["department"] >= 15 and kinds["grid"] >= 1
        assert session.scalar(select(func.count()).select_from(Category)) == len(city["categories"])
        roles = set(session.scalars(select(User.role)))
        assert roles == {"operator", "unit", "supervisor", "admin"}
