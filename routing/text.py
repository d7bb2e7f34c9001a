"""Text normalisation before matching: one form for full-width, traditional and simplified."""

from __future__ import annotations

import functools
import unicodedata

MAX_CHARS = 20_000  # longer texts are cut: the topic is decided long before that


@functools.cache
def _t2s():  # type: ignore[no-untyped-def]
    import opencc  # the C++ OpenCC converter; loaded once per process

    return opencc.OpenCC("t2s")


def normalize(text: str) -> str:
    """NFKC, traditional → simplified (OpenCC), lower-case Latin, bounded length."""
    if not text:
        return ""
    text = text[:MAX_CHARS]
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates, e.g. from a JSON "\ud800" escape
        text = text.encode("utf-8", "replace").decode("utf-8")
    if not unicodedata.is_normalized("NFKC", text):  # intake already stores NFKC text
        text = unicodedata.normalize("NFKC", text)
    return _t2s().convert(text).lower()


def compact(text: str) -> str:
    """Without white space: terms are found across the spaces of word-segmented history and of
    texts typed with spaces between words (占道 经营), so nothing depends on them."""
    return "".join(text.split())


def has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)
