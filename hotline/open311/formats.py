"""Open311 GeoReport v2 documents in XML (the spec's primary format) and JSON, from the same
plain data, and its errors.

A document is a dict (discovery, a service definition) or a list of dicts (services,
requests, errors). XML names a list's items by its parent: ``services`` holds ``service``,
``attributes`` holds ``attribute`` and so on (``ITEM_TAGS``). Times are W3C datetimes in UTC
with ``Z``, which the strictest clients parse; every response says ``charset=utf-8``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from flask import Response

FORMATS = ("xml", "json")
MIMETYPES = {"xml": "text/xml", "json": "application/json"}
# A list's element name → the name of each of its items.
ITEM_TAGS = {
    "services": "service", "service_requests": "request", "attributes": "attribute",
    "values": "value", "endpoints": "endpoint", "formats": "format", "errors": "error",
}  # fmt: skip


class Open311Error(Exception):
    """An answer in Open311's error format: ``[{"code": 400, "description": "…"}]``."""

    def __init__(self, status: int, description: str, *,
                 headers: Mapping[str, str] | None = None) -> None:  # fmt: skip
        super().__init__(description)
        self.status, self.description = status, description
        self.headers = dict(headers or {})


def w3c(moment: datetime | None) -> str | None:
    """``2026-12-04T08:30:00Z``: seconds, UTC, no fraction."""
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


# Characters XML 1.0 cannot carry at all (a control character a client sent in account_id
# would make the whole answer unreadable, and a strict client would post again).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return w3c(value) or ""
    return _NOT_XML.sub("", str(value))


def _fill(parent: Element, tag: str, value: Any) -> None:
    node = SubElement(parent, tag)
    if value is None:
        return
    if isinstance(value, Mapping):
        for key, inner in value.items():
            _fill(node, key, inner)
    elif isinstance(value, Sequence) and not isinstance(value, str):
        for item in value:
            _fill(node, ITEM_TAGS.get(tag, "item"), item)
    else:
        node.text = _text(value)


def to_xml(root: str, document: Any) -> bytes:
    """``document`` under ``<root>`` with an XML declaration, UTF-8."""
    top = Element(root)
    if isinstance(document, Mapping):
        for key, value in document.items():
            _fill(top, key, value)
    else:
        for item in document:
            _fill(top, ITEM_TAGS.get(root, "item"), item)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + tostring(top, encoding="utf-8",
                                                                 xml_declaration=False)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return w3c(value)
    if isinstance(value, Mapping):
        return {key: _plain(inner) for key, inner in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_plain(item) for item in value]
    return value


def respond(fmt: str, root: str, document: Any, status: int = 200, *,
            headers: Mapping[str, str] | None = None) -> Response:  # fmt: skip
    """The document in ``fmt``: XML under ``root``, or JSON as it is (Chinese and emoji as
    themselves, not escaped)."""
    if fmt == "json":
        body = json.dumps(_plain(document), ensure_ascii=False).encode("utf-8")
    else:
        body = to_xml(root, document)
    response = Response(body, status=status, headers=dict(headers or {}))
    response.headers["Content-Type"] = f"{MIMETYPES.get(fmt, 'text/xml')}; charset=utf-8"
    return response


def error_response(fmt: str, status: int, description: str, *,
                   headers: Mapping[str, str] | None = None) -> Response:  # fmt: skip
    return respond(fmt if fmt in FORMATS else "xml", "errors",
                   [{"code": status, "description": description}], status,
                   headers=headers)  # fmt: skip


def format_of(path: str) -> str:
    """The format a request asked for by its suffix (XML when it named none we know)."""
    suffix = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
    return suffix if suffix in FORMATS else "xml"


def parse_w3c(raw: str, *, timezone: tzinfo) -> datetime | None:
    """A W3C datetime from a query (``2026-11-01T08:00:00Z``, ``…+08:00``, or a bare date);
    without an offset it is the city's local time. In UTC; None when it is no datetime we
    can store."""
    # An unencoded "+08:00" arrives as " 08:00" (a plus in a query string is a space).
    text = re.sub(r"(\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$", r"\1+\2",
                  raw.strip())  # fmt: skip
    if text[-1:] in ("z", "Z"):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
        moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone)
        return moment.astimezone(UTC)  # stored times are UTC: 9999-12-31T23:00-05:00 is none
    except (ValueError, OverflowError):
        return None
