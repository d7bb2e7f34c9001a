"""SMS through an HTTP gateway. A real vendor is one small class implementing ``send``."""

from __future__ import annotations

import requests

from . import Message, PermanentError, TransientError, classify_http

TIMEOUT = (3.05, 10)


class HttpSmsGateway:
    """A generic JSON gateway: ``{phone, content, sign, request_id}`` with a bearer key, plus
    ``template_id`` and ``params`` when the admin gave the template a vendor's id.

    ``request_id`` is the outbox id, so a gateway that dedupes never sends twice.
    """

    name = "sms"

    def __init__(self, url: str, api_key: str, signature: str,
                 session: requests.Session | None = None) -> None:  # fmt: skip
        self.url, self.api_key, self.signature = url, api_key, signature
        self.http = session or requests.Session()

    def send(self, message: Message) -> None:
        if not message.to.isdigit() or not 8 <= len(message.to) <= 13:
            raise PermanentError("号码无效")
        payload = {"phone": message.to, "content": message.text, "sign": self.signature,
                   "request_id": message.key}  # fmt: skip
        if message.data.get("template_id"):  # a vendor-approved template and its parameters
            payload["template_id"] = message.data["template_id"]
            payload["params"] = message.data.get("params", {})
        try:
            response = self.http.post(
                self.url, json=payload, timeout=TIMEOUT,
                headers={"Authorization": f"Bearer {self.api_key}",
                         "Idempotency-Key": message.key},
            )  # fmt: skip
        except requests.RequestException as exc:
            raise TransientError(f"{type(exc).__name__}: {exc}") from exc
        if not response.ok:
            classify_http(response.status_code, response.text)
