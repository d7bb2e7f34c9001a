"""Small helpers for tests."""

from __future__ import annotations

import io
import re

from PIL import Image

VALID = {
    "description": "和平路菜市场门口流动摊贩占道经营，行人只能走机动车道。",
    "reporter_phone": "13812341234",
    "category": "street-vending",
    "address": "文明区和平路 12 号",
}


def auth(token: str = "hl_demo_operator") -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (32, 24), exif: bool = False) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, (200, 30, 30))
    kwargs = {}
    if exif:
        data = Image.Exif()
        data[0x010F] = "TestCam"  # Make
        kwargs["exif"] = data.tobytes()
    image.save(out, fmt, **kwargs)
    return out.getvalue()


def csrf_token(client) -> str:
    page = client.get("/").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "the form must carry a CSRF token"
    return match.group(1)


def restore_seeded_ruleset(session) -> None:
    """Make the seeded ruleset the active one again (plain UPDATEs: no stale ORM state)."""
    from sqlalchemy import update

    from hotline.models import RulesetRecord

    session.execute(
        update(RulesetRecord).where(RulesetRecord.status == "active").values(status="archived")
    )
    session.execute(
        update(RulesetRecord).where(RulesetRecord.source == "seed").values(status="active")
    )


# ---------------------------------------------------------------- signed-in pages


def token_of(page: str) -> str:
    """The CSRF token a rendered form carries."""
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def sign_in(client, username: str, password: str, *, query: str = "",
            address: str = "127.0.0.1"):  # fmt: skip
    """A real sign-in form post; ``query`` is sent byte for byte as the query string."""
    token = token_of(client.get("/login").get_data(as_text=True))
    return client.post("/login", query_string=query, environ_base={"REMOTE_ADDR": address},
                       data={"csrf_token": token, "username": username, "password": password})


def signed_in(app, username: str, password: str):
    """A test client with a staff session."""
    client = app.test_client()
    assert sign_in(client, username, password).status_code == 303
    return client


def form_post(client, path: str, page: str, **data: str):
    """Post ``data`` to ``path`` with the CSRF token of the form on ``page``."""
    token = token_of(client.get(page).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data})


def console_act(client, number: str, action: str, **fields):
    """One action through the console's ticket page, as a signed-in user would."""
    page = client.get(f"/console/tickets/{number}").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    data = {"csrf_token": token_of(page), "version": version, **fields}
    return client.post(f"/console/tickets/{number}/{action}", data=data,
                       content_type="multipart/form-data")  # fmt: skip


# ---------------------------------------------------------------- the API


def api_act(client, number: str, action: str, headers: dict[str, str], **body) -> None:
    """One action through the API with the ticket's current version; it must succeed."""
    version = client.get(f"/api/v1/tickets/{number}", headers=auth()).json["version"]
    response = client.post(f"/api/v1/tickets/{number}/actions/{action}", headers=headers,
                           json={"version": version, **body})  # fmt: skip
    assert response.status_code == 200, (action, response.json)


def upload_export(client, content: bytes, name: str = "export.csv",
                  token: str = "hl_demo_operator", **form: str):  # fmt: skip
    """A call-centre export posted to /api/v1/imports."""
    return client.post("/api/v1/imports", headers=auth(token),
                       data={"file": (io.BytesIO(content), name), **form},
                       content_type="multipart/form-data")  # fmt: skip
