"""Staff sign-in: sessions, safe redirects (throttling and server-side sessions:
test_staff_sessions.py)."""

from __future__ import annotations

from tests.helpers import sign_in


def test_console_needs_a_session(client) -> None:
    response = client.get("/console")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_sign_in_and_out(client) -> None:
    response = sign_in(client, "supervisor", "demo-supervisor-1")
    assert response.status_code == 303 and response.headers["Location"].endswith("/console")
    page = client.get("/console", follow_redirects=True).get_data(as_text=True)
    assert "创建办督查员" in page and "督办" in page
    token = __import__("re").search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    after = client.get("/console")
    assert after.status_code == 302 and "/login" in after.headers["Location"]


def test_unknown_user_gets_the_same_answer(client) -> None:
    response = sign_in(client, "nobody", "x")
    assert response.status_code == 401 and "用户名或密码错误" in response.get_data(as_text=True)


def test_next_must_stay_on_this_site(client) -> None:
    response = sign_in(client, "admin", "demo-admin-1", query="next=https://evil.example/")
    assert response.headers["Location"].endswith("/console")
    response = sign_in(client, "admin", "demo-admin-1", query="next=/track/x")
    assert response.headers["Location"].endswith("/track/x")


def test_login_needs_csrf(client) -> None:
    response = client.post("/login", data={"username": "admin", "password": "demo-admin-1"})
    assert response.status_code == 400
