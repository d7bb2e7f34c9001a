"""Word segmentation with jieba: one tokenizer per process, with the domain dictionary.

Used to learn keywords from history and to explain decisions. Routing itself matches the
ruleset's terms with an automaton (see matcher.py) built from this same dictionary, which is
an order of magnitude faster than segmenting every complaint.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable, Iterator
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

    def add_terms(self, terms: Iterable[str]) -> None:
        """Make sure these terms come out whole (rule keywords, place names)."""
        freq = self.tokenizer.FREQ
        for term in terms:
            if len(term) > 1 and not freq.get(term):
                self.tokenizer.add_word(term, freq=max(2000, len(term) * 1000))

    def tokens(self, text: str, *, normalized: bool = False) -> list[str]:
        """Topic-bearing words of ``text``: no stop words, no single characters, no numbers."""
        text = text if normalized else normalize(text)
        stop = self.stopwords
        return [
            word
            for word in self.tokenizer.lcut(text, HMM=False)
            if len(word) > 1 and word not in stop and not _NOISE.match(word)
        ]

    def dictionary_words(self) -> Iterator[str]:
        """Every word jieba knows (frequency > 0)."""
        return (word for word, count in self.tokenizer.FREQ.items() if count)


@functools.cache
def default_segmenter() -> Segmenter:
    """The process's segmenter; call it before forking so workers share the loaded dictionary."""
    return Segmenter()
