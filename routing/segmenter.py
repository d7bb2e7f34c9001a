"""Word segmentation with jieba: one tokenizer per process, with the domain dictionary.

Used where text must be cut into words: learning keywords from history. Routing a ticket
does not segment; it scans for the ruleset's terms (see matcher.py), so web workers never load
jieba's 100 MB dictionary unless they learn.
"""

from __future__ import annotations

import functools
import logging
import re
from importlib.resources import files
from pathlib import Path

import jieba

from .text import normalize

# Tokens that carry no topic: numbers, Latin fragments, punctuation, single characters.
_NOISE = re.compile(r"^[\W\d_a-z]+$")


def _data(name: str) -> Path:
    return Path(str(files("routing") / "data" / name))


class Segmenter:
    def __init__(self, userdict: Path | None = None, stopwords: Path | None = None) -> None:
        jieba.setLogLevel(logging.WARNING)
        self.tokenizer = jieba.Tokenizer()
        self.tokenizer.initialize()
        userdict = userdict or _data("userdict.txt")
        if userdict.exists():
            self.tokenizer.load_userdict(str(userdict))
        stopwords = stopwords or _data("stopwords.txt")
        self.stopwords: frozenset[str] = (
            frozenset(
                line.strip() for line in stopwords.read_text("utf-8").splitlines() if line.strip()
            )
            if stopwords.exists()
            else frozenset()
        )

    def tokens(self, text: str, *, normalized: bool = False) -> list[str]:
        """Topic-bearing words of ``text``: no stop words, no single characters, no numbers."""
        text = text if normalized else normalize(text)
        stop = self.stopwords
        return [
            word
            for word in self.tokenizer.lcut(text, HMM=False)
            if len(word) > 1 and word not in stop and not _NOISE.match(word)
        ]


@functools.cache
def default_segmenter() -> Segmenter:
    """The process's segmenter; call it before forking so workers share the loaded dictionary."""
    return Segmenter()
