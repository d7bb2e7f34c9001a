"""Bearer tokens: only live tokens of active users open the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from hotline.models import ApiToken, User
from hotline.services.auth import issue_token
from tests.helpers import auth


@pytest.fixture
def temp_user(make_user) -> int:
    user_id, _ = make_user("temp", "operator")
    return user_id


def new_token(db, user_id: int, clock, **fields) -> str:
    with db.transaction() as session:
        user = session.get(User, user_id)
        token = issue_token(session, user, name="t", now=clock.now)
        row = session.scalar(
            select(ApiToken).where(ApiToken.user_id == user_id, ApiToken.name == "t")
        )
        for name, value in fields.items():
            setattr(row, name, value)
    return token


def status(client, token: str) -> int:
    return client.get("/api/v1/tickets", headers=auth(token)).status_code


def test_live_token_works(client, db, clock, temp_user) -> None:
    assert status(client, new_token(db, temp_user, clock)) == 200


def test_token_expiring_later_works_and_expired_does_not(client, db, clock, temp_user) -> None:
    token = new_token(db, temp_user, clock, expires_at=clock.now + timedelta(minutes=5))
    assert status(client, token) == 200
    clock.now += timedelta(minutes=6)
    assert status(client, token) == 401


def test_revoked_token_is_401(client, db, clock, temp_user) -> None:
    assert status(client, new_token(db, temp_user, clock, revoked_at=clock.now)) == 401


def test_inactive_user_is_401(client, db, clock, temp_user) -> None:
    token = new_token(db, temp_user, clock)
    with db.transaction() as session:
        session.get(User, temp_user).active = False
    assert status(client, token) == 401


@pytest.mark.parametrize(
    "header",
    [
        "",
        "Bearer",
        "Bearer ",
        "Basic aGxfZGVtb19vcGVyYXRvcg==",
        "hl_demo_operator",
        "Bearer " + "x" * 500,
    ],
)
def test_malformed_authorization_is_401(client, header: str) -> None:
    response = client.get("/api/v1/tickets", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_token_stored_only_as_hash(db) -> None:
    with db.transaction() as session:
        stored = list(session.scalars(select(ApiToken.token_hash)))
    assert "hl_demo_operator" not in stored
    assert all(len(h) == 64 for h in stored)
