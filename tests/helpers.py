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
