"""The request as the application reads it: how much of a body is read, per endpoint (the
whole request, each uploaded file, each text field of a form), and text without NUL.

Photos straight from a phone are 2–5 MB, call-centre exports up to 200 MB; a form's text
fields are small. Werkzeug applies one ``max_form_memory_size`` to the multipart parser's
buffer too, so it must stay well above the parser's 64 KB chunks or every file is refused.

A file part over its limit is not a reason to drop the request: its bytes beyond the limit
are read and thrown away, so the view still gets every text field and can answer "this photo
is too big" next to the photo, with what the resident typed kept.

NUL characters are dropped from every query parameter, form field and JSON string before any
view or schema sees them: PostgreSQL cannot store them, no real text contains them, and text
fields drop control characters anyway (see domain.text). One place, every endpoint.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from typing import IO, Any

from flask import Request, current_app, request
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.routing import IntegerConverter, UnicodeConverter

from .config import Settings

MB = 1024 * 1024
# Text fields of ordinary forms; the ruleset editor posts a whole ruleset as YAML.
FORM_FIELD_BYTES = MB
RULESET_FORM_BYTES = 32 * MB
# Ordinary requests (forms without files, API JSON is bounded separately per endpoint).
DEFAULT_BODY_BYTES = 2 * MB
# Spreadsheets an admin uploads (calendar days, a labelled sample to evaluate routing).
ADMIN_FILE_BYTES = 20 * MB
# The admin's import page: the export and, optionally, a small YAML mapping file.
IMPORT_PAGE_ENDPOINT = "admin.admin_import_upload"
# Learning a ruleset: the labelled file and, optionally, an evaluation file.
LEARN_PAGE_ENDPOINT = "admin.admin_learn_ruleset"
ENVELOPE = 64 * 1024  # multipart boundaries, part headers and a few small fields


@dataclass(frozen=True)
class BodyLimit:
    total: int  # the whole request; above it 413, from Content-Length before reading
    file_bytes: int = 0  # each file is kept up to this + 1 byte (so "too big" shows)
    files: int = 0  # file parts kept; later ones are read and dropped
    field_bytes: int = FORM_FIELD_BYTES


PHOTO_ENDPOINTS = frozenset({"public.submit", "console.act", "actions.TicketAttachments"})
ADMIN_FILE_ENDPOINTS = frozenset({
    "admin.admin_import_calendar", "admin.admin_evaluate_ruleset", "admin.admin_import_places",
    "rulesets.RulesetPlaces",
})  # fmt: skip


def body_limit(endpoint: str | None, settings: Settings) -> BodyLimit:
    """The limits for a request to ``endpoint``."""
    if endpoint in PHOTO_ENDPOINTS:
        # Photos over their own limit still arrive whole (and are refused by name), so the
        # request may carry more than max_photos × max_photo_bytes.
        return BodyLimit(settings.max_upload_bytes, settings.max_photo_bytes,
                         settings.max_photos + 1)  # fmt: skip
    if endpoint == "imports.Imports":
        return BodyLimit(settings.import_max_bytes + ENVELOPE, settings.import_max_bytes, 1)
    if endpoint == IMPORT_PAGE_ENDPOINT:
        return BodyLimit(settings.import_max_bytes + 2 * ENVELOPE, settings.import_max_bytes, 2)
    if endpoint in ADMIN_FILE_ENDPOINTS:
        return BodyLimit(ADMIN_FILE_BYTES + ENVELOPE, ADMIN_FILE_BYTES, 1)
    if endpoint == LEARN_PAGE_ENDPOINT:
        return BodyLimit(2 * ADMIN_FILE_BYTES + ENVELOPE, ADMIN_FILE_BYTES, 2)
    if endpoint == "admin.admin_edit_ruleset":
        return BodyLimit(RULESET_FORM_BYTES + MB, field_bytes=RULESET_FORM_BYTES)
    return BodyLimit(DEFAULT_BODY_BYTES)


class CappedFile(tempfile.SpooledTemporaryFile):  # type: ignore[type-arg]
    """A file part's container that keeps at most ``keep`` bytes (in memory up to 512 KB,
    then on disk) and counts the rest; ``received`` is what the client sent."""

    def __init__(self, keep: int) -> None:
        super().__init__(max_size=512 * 1024)
        self.keep = keep
        self.kept = 0
        self.received = 0

    def write(self, data: Any) -> int:  # type: ignore[override]
        size = len(data)
        self.received += size
        room = self.keep - self.kept
        if room > 0:
            chunk = data[:room]
            super().write(chunk)
            self.kept += len(chunk)
        return size


NUL = "\x00"


def without_nul(value: Any) -> Any:
    """``value`` (text, or JSON lists and objects) with every NUL character removed."""
    if isinstance(value, str):
        return value.replace(NUL, "")
    if isinstance(value, list):
        return [without_nul(item) for item in value]
    if isinstance(value, dict):
        return {without_nul(key): without_nul(item) for key, item in value.items()}
    return value


class TextParameters(ImmutableMultiDict):  # type: ignore[type-arg]
    """Query and form parameters with NUL removed from names and text values (uploaded
    files, stored in the same kind of dict, are left alone)."""

    def __init__(self, mapping: Any = None) -> None:
        if mapping is None:
            super().__init__()
            return
        if isinstance(mapping, MultiDict):
            items = mapping.items(multi=True)
        elif isinstance(mapping, dict):
            items = (
                (key, value)
                for key, values in mapping.items()
                for value in (values if isinstance(values, list | tuple) else [values])
            )
        else:
            items = mapping
        super().__init__([(without_nul(k), without_nul(v)) for k, v in items])


class HotlineRequest(Request):
    """Flask's request with per-endpoint body limits (see :func:`body_limit`) and text
    without NUL."""

    parameter_storage_class = TextParameters
    limit: BodyLimit | None = None
    _file_parts = 0

    def get_data(  # type: ignore[override]
        self, cache: bool = True, as_text: bool = False, parse_form_data: bool = False
    ) -> bytes | str:
        """The body; a JSON body that spells a NUL (``\\u0000``) comes back without it."""
        data = super().get_data(cache=cache, as_text=False, parse_form_data=parse_form_data)
        if self.is_json and b"\\u0000" in data:
            try:
                cleaned = without_nul(json.loads(data))
            except (ValueError, RecursionError):
                pass  # unparsable: the JSON check answers 400 with its own reason
            else:
                data = json.dumps(cleaned, ensure_ascii=False).encode()
        return data.decode("utf-8", "replace") if as_text else data

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        limit = self.limit or BodyLimit(DEFAULT_BODY_BYTES, DEFAULT_BODY_BYTES, 1)
        self._file_parts += 1
        keep = limit.file_bytes + 1 if self._file_parts <= limit.files else 0
        return CappedFile(keep)  # type: ignore[return-value]


def apply_body_limit() -> None:
    """Before each request: set the limits of the endpoint it goes to."""
    limit = body_limit(request.endpoint, current_app.extensions["hotline"].settings)
    request.limit = limit  # type: ignore[attr-defined]
    request.max_content_length = limit.total
    request.max_form_memory_size = limit.field_bytes


def received_bytes(upload: Any) -> int:
    """How many bytes the client sent for an uploaded file (werkzeug FileStorage), including
    any beyond its limit that were not kept."""
    stream = upload.stream
    if isinstance(stream, CappedFile):
        return stream.received
    size = stream.seek(0, 2)
    stream.seek(0)
    return size


# ---------------------------------------------------------------- path parameters

MAX_ID = 2**31 - 1  # ids are 32-bit integer columns


class IdConverter(IntegerConverter):
    """``<int:…>`` in every route: at most a 32-bit id, so a larger one is a 404 rather than
    an overflow in the database."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


class TextConverter(UnicodeConverter):
    """A path segment (``<number>``, ``<code>``…) without control characters: a NUL or a
    newline in a ticket number is no ticket, a 404."""

    def __init__(self, map: Any, minlength: int = 1, maxlength: int | None = None,
                 length: int | None = None) -> None:  # fmt: skip
        super().__init__(map, minlength, maxlength, length)
        self.regex = self.regex.replace("[^/]", "[^/\\x00-\\x1f\\x7f]")


def install_converters(url_map: Any) -> None:
    """Before any route is added: the bounded converters replace werkzeug's defaults."""
    url_map.converters.update(int=IdConverter, default=TextConverter, string=TextConverter)
