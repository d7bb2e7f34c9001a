"""Private tracking links: the token is an HMAC of the ticket number and a random salt.

Nothing secret is stored in the database, yet the server can rebuild the link later (for the
SMS that asks the resident to confirm). Changing the secret key invalidates existing links.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from urllib.parse import quote, urlencode


def new_salt() -> str:
    return secrets.token_hex(16)


def tracking_token(secret_key: str, number: str, salt: str) -> str:
    digest = hmac.new(
        secret_key.encode(), f"track:{number}:{salt}".encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()  # 24 URL-safe characters, 144 bits


def token_matches(secret_key: str, number: str, salt: str, candidate: str | None) -> bool:
    if not candidate or len(candidate) > 64:
        return False
    return hmac.compare_digest(tracking_token(secret_key, number, salt), candidate)


def tracking_link(secret_key: str, number: str, salt: str, *, base: str = "",
                  **extra: str) -> str:  # fmt: skip
    """The one shape of a tracking link, for pages, API answers and messages alike:
    ``base`` (the site's public address; "" for a path on this site) + ``/track/<number>``
    with the token, then ``extra`` query values. Must agree with the route in web/public/."""
    query = urlencode({"token": tracking_token(secret_key, number, salt), **extra})
    return f"{base}/track/{quote(number, safe='')}?{query}"
