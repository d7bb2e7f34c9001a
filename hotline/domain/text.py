"""Normalisation of free text and phone numbers received from the public."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Full-width punctuation is how Chinese is written; NFKC would turn "，" into "," and "…" into
# "...", which residents would see as mangled text. Everything between them is still NFKC'd
# (full-width letters and digits, compatibility ideographs, ligatures).
_CJK_PUNCTUATION = re.compile("([，！？；：（）［］｛｝～…])")


class TextError(ValueError):
    """The text cannot be stored (for example it holds lone surrogates)."""


def normalize_text(value: str, *, multiline: bool = True) -> str:
    """NFKC (sparing Chinese full-width punctuation), unified newlines, control characters
    dropped, trimmed.

    Lone surrogates (possible in JSON ``\\ud800`` escapes) cannot be encoded as UTF-8, so they
    are refused rather than stored.
    """
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise TextError("text contains characters that are not valid Unicode") from exc
    # Most texts are NFKC already once that punctuation is set aside: checking is cheaper
    # than normalising piece by piece (an import checks a dozen cells a row).
    if not unicodedata.is_normalized("NFKC", _CJK_PUNCTUATION.sub("", value)):
        value = "".join(
            part if _CJK_PUNCTUATION.fullmatch(part) else unicodedata.normalize("NFKC", part)
            for part in _CJK_PUNCTUATION.split(value)
        )
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = _CONTROL.sub("", value)
    if not multiline:
        value = " ".join(value.split())
    return value.strip()


# Mobile prefixes every number of which phonenumbers' metadata accepts as a mainland mobile;
# the others (144x, 174x...) take the full check.
_MOBILE = re.compile(r"1(?:3\d|4[57]|5[0-35-9]|6[2567]|7[0-35-8]|8\d|9[0-35-9])\d{8}")


def normalize_phone(raw: str) -> str:
    """A mainland mobile (``13812341234``) or a landline with area code (``057188001234``).

    Raises ValueError when the number is not one of those.
    """
    cleaned = re.sub(r"[\s\-()（）]", "", raw)
    if cleaned.startswith("+86"):
        cleaned = cleaned[3:]
    elif cleaned.startswith("0086"):
        cleaned = cleaned[4:]
    if not cleaned.isdigit() or not 7 <= len(cleaned) <= 13:
        raise ValueError("not a phone number")
    if _MOBILE.fullmatch(cleaned):
        return cleaned  # the common case, without phonenumbers' full parse (imports: 100k/s)
    try:
        parsed = phonenumbers.parse(cleaned, "CN")
    except phonenumbers.NumberParseException as exc:
        raise ValueError("not a phone number") from exc
    if not phonenumbers.is_valid_number_for_region(parsed, "CN"):
        raise ValueError("not a valid mainland number")
    kind = phonenumbers.number_type(parsed)
    national = str(parsed.national_number)
    if kind == phonenumbers.PhoneNumberType.MOBILE:
        return national
    if kind in (
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        return "0" + national
    raise ValueError("not a mobile or landline number")
