"""Staff sessions end on the server (logout, idle, password change, deactivation); sign-in
says nothing about which usernames exist, is throttled per (username, address) and per
address without locking anyone out; ``next`` only ever leads to a local path."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from hotline.models import AuditEvent, User
from hotline.services.auth import hash_password
from tests.helpers import form_post, sign_in, signed_in, token_of

ELSEWHERE = "203.0.113.9"


def is_signed_in(client, path: str = "/console/search") -> bool:
    response = client.get(path)
    if response.status_code == 302:
        assert "/login" in response.headers["Location"]
        return False
    assert response.status_code == 200
    return True


@pytest.fixture
def staff(db, make_user):
    """An operator with a known password (the demo accounts stay untouched)."""

    def make(username: str, password: str = "first-password-1") -> int:
        user_id, _ = make_user(username, "operator")
        with db.transaction() as session:
            session.execute(update(User).where(User.id == user_id)
                            .values(password_hash=hash_password(password)))  # fmt: skip
        return user_id

    return make


# ---------------------------------------------------------------- sessions


def test_a_cookie_captured_before_logout_no_longer_works(app) -> None:
    browser = signed_in(app, "supervisor", "demo-supervisor-1")
    captured = browser.get_cookie("session").value
    page = browser.get("/console/supervision").get_data(as_text=True)
    assert browser.post("/logout", data={"csrf_token": token_of(page)}).status_code == 303
    thief = app.test_client()
    thief.set_cookie("session", captured)
    assert not is_signed_in(thief, "/console/supervision")


def test_idle_sessions_expire_and_use_keeps_them_alive(app, clock, settings) -> None:
    browser = signed_in(app, "operator", "demo-operator-1")
    for _ in range(3):  # used every 7 hours: alive after 21 hours
        clock.now += timedelta(hours=7)
        assert is_signed_in(browser)
    clock.now += timedelta(hours=8, minutes=1)
    assert not is_signed_in(browser)
    # The limit is a setting (HOTLINE_SESSION_IDLE_HOURS).
    app.extensions["hotline"].settings = dataclasses.replace(settings, session_idle_hours=1)
    browser = signed_in(app, "operator", "demo-operator-1")
    clock.now += timedelta(minutes=61)
    assert not is_signed_in(browser)


def test_last_seen_is_written_at_most_once_a_minute(app, db, clock) -> None:
    from hotline.models import StaffSession

    browser = signed_in(app, "operator", "demo-operator-1")
    start = clock.now

    def last_seen():
        with db.transaction() as session:
            return session.scalar(select(StaffSession.last_seen_at))

    clock.now += timedelta(seconds=30)
    assert is_signed_in(browser) and last_seen() == start
    clock.now += timedelta(seconds=31)
    assert is_signed_in(browser) and last_seen() == clock.now


def test_changing_ones_password_ends_every_other_session(app, db, staff) -> None:
    staff("pw-op")
    here, there = signed_in(app, "pw-op", "first-password-1"), signed_in(app, "pw-op",
                                                                         "first-password-1")
    page = "/console/password"
    assert here.get(page).status_code == 200
    wrong = form_post(here, page, page, current_password="not-it", new_password="second-pass-2",
                      confirm_password="second-pass-2")  # fmt: skip
    assert wrong.status_code == 422 and "当前密码不正确" in wrong.get_data(as_text=True)
    short = form_post(here, page, page, current_password="first-password-1",
                      new_password="short", confirm_password="other")  # fmt: skip
    text = short.get_data(as_text=True)
    assert short.status_code == 422 and "至少 10 位" in text and "不一致" in text
    assert is_signed_in(there)  # refusals change nothing
    done = form_post(here, page, page, current_password="first-password-1",
                     new_password="second-pass-2", confirm_password="second-pass-2")  # fmt: skip
    assert done.status_code == 303
    assert is_signed_in(here) and not is_signed_in(there)
    assert sign_in(app.test_client(), "pw-op", "first-password-1").status_code == 401
    assert sign_in(app.test_client(), "pw-op", "second-pass-2").status_code == 303
    with db.transaction() as session:
        assert session.scalar(select(AuditEvent.action)
                              .where(AuditEvent.action == "user.password_changed"))  # fmt: skip


def test_admin_reset_and_deactivation_end_the_users_sessions(app, db, staff) -> None:
    user_id = staff("pw-reset")
    victim = signed_in(app, "pw-reset", "first-password-1")
    admin = signed_in(app, "admin", "demo-admin-1")
    users = "/console/admin/users"
    short = form_post(admin, "/console/admin/users/password", users, user_id=str(user_id),
                      new_password="short")  # fmt: skip
    assert short.status_code == 422 and is_signed_in(victim)
    reset = form_post(admin, "/console/admin/users/password", users, user_id=str(user_id),
                      new_password="reset-by-admin-1")  # fmt: skip
    assert reset.status_code == 303 and not is_signed_in(victim)
    victim = signed_in(app, "pw-reset", "reset-by-admin-1")
    off = form_post(admin, f"/console/admin/users/{user_id}/active", users, active="0",
                    confirm="1")  # fmt: skip
    assert off.status_code == 303 and not is_signed_in(victim)
    on = form_post(admin, f"/console/admin/users/{user_id}/active", users, active="1")
    assert on.status_code == 303
    assert not is_signed_in(victim)  # reactivating the account does not revive old cookies
    with db.transaction() as session:
        actions = set(session.scalars(select(AuditEvent.action)))
    assert {"user.password_reset", "user.deactivated", "user.activated"} <= actions


# ---------------------------------------------------------------- sign-in throttling


def test_unknown_and_known_usernames_get_the_same_answer(client, monkeypatch) -> None:
    import hotline.services.login as login

    checks: list[str] = []
    real = login.check_password_hash
    monkeypatch.setattr(login, "check_password_hash",
                        lambda stored, given: checks.append(stored) or real(stored, given))

    def answer(username: str) -> tuple[int, str]:
        checks.clear()
        response = sign_in(client, username, "wrong-password")
        assert len(checks) == 1  # one hash check whoever asks: the same time taken
        page = response.get_data(as_text=True)
        return response.status_code, re.sub(r'name="csrf_token" value="[^"]+"', "", page)

    unknown, known = answer("nobody-here"), answer("operator")
    assert unknown == known and unknown[0] == 401
    assert "用户名或密码错误" in known[1] and "次" not in known[1]


def test_five_failures_refuse_that_account_from_that_address_only(app, clock, db) -> None:
    client = app.test_client()
    for _ in range(5):
        assert sign_in(client, "operator", "wrong-password").status_code == 401
    refused = sign_in(client, "operator", "demo-operator-1")  # even the right password
    assert refused.status_code == 429 and "登录失败次数过多" in refused.get_data(as_text=True)
    # Nobody can lock the operator out with five requests: elsewhere, sign-in works.
    assert sign_in(app.test_client(), "operator", "demo-operator-1",
                   address=ELSEWHERE).status_code == 303  # fmt: skip
    clock.now += timedelta(minutes=16)
    assert sign_in(client, "operator", "demo-operator-1").status_code == 303
    from hotline.models import LoginFailure

    with db.transaction() as session:  # what was typed as a username is not kept in clear
        assert "operator" not in set(session.scalars(select(LoginFailure.username_hash)))


def test_unknown_usernames_are_throttled_alike(client) -> None:
    answers = [sign_in(client, "nobody-here", "wrong-password") for _ in range(6)]
    assert [a.status_code for a in answers] == [401] * 5 + [429]
    assert "登录失败次数过多" in answers[-1].get_data(as_text=True)


def test_one_address_trying_many_usernames_is_refused(app) -> None:
    client = app.test_client()
    for n in range(20):
        assert sign_in(client, f"guess{n}", "wrong-password").status_code == 401
    assert sign_in(client, "supervisor", "demo-supervisor-1").status_code == 429
    assert sign_in(app.test_client(), "supervisor", "demo-supervisor-1",
                   address=ELSEWHERE).status_code == 303  # fmt: skip


# ---------------------------------------------------------------- where sign-in leads

BYPASSES = [
    "/%09/evil.example", "//evil.example", "/\\evil.example", "\\\\evil.example",
    "/%2F%2Fevil.example", "%2F%2Fevil.example", "https:evil.example",
    "/%0d%0aSet-Cookie:x", "javascript:alert(1)", "///evil.example", "/%5Cevil.example",
    "https://evil.example/", "%09//evil.example", "/%0a/evil.example", "%20//evil.example",
    "/%252F%252Fevil.example", "/%255Cevil.example", "/%5C%5Cevil.example",
    "\\/evil.example", "/%00/evil.example", "http://localhost/console", "%0d%0a//evil.example",
    "/%E2%80%8B/evil.example",  # a zero-width space
]  # fmt: skip


@pytest.mark.parametrize("target", BYPASSES)
def test_next_never_leaves_the_site(client, target: str) -> None:
    response = sign_in(client, "admin", "demo-admin-1", query=f"next={target}")
    assert response.status_code == 303, target
    assert response.headers["Location"] == "/console", target


@pytest.mark.parametrize(("target", "location"), [
    ("/track/WM20261121-0001", "/track/WM20261121-0001"),
    ("%2Fconsole%2Fsearch%3Fq%3D%25E8%258F%259C%26status%3Dreported",
     "/console/search?q=%E8%8F%9C&status=reported"),
    ("/console/search?q=%E8%8F%9C", "/console/search?q=%E8%8F%9C"),  # decoded: Chinese
])  # fmt: skip
def test_next_keeps_local_paths(client, target: str, location: str) -> None:
    response = sign_in(client, "admin", "demo-admin-1", query=f"next={target}")
    assert response.status_code == 303 and response.headers["Location"] == location


def test_a_page_asked_for_before_sign_in_is_where_sign_in_leads(client) -> None:
    asked = client.get("/console/search?q=菜市场")
    assert asked.status_code == 302
    login_url = asked.headers["Location"]
    query = login_url.split("?", 1)[1]
    response = sign_in(client, "operator", "demo-operator-1", query=query)
    assert response.headers["Location"] == "/console/search?q=%E8%8F%9C%E5%B8%82%E5%9C%BA"
