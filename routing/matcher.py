"""Finding a ruleset's terms in a text, the way a dictionary segmenter would cut it.

An Aho-Corasick automaton (ahocorasick-rs, in Rust) scans the text once for the
leftmost-longest matches of the ruleset's terms. On its own that would find 车位 inside 停车位;
so the automaton also holds "guard" words: every dictionary word that contains a keyword. A
guard wins by being longer and then counts for nothing, which is what jieba's segmentation
would have done. Place names get no guards: 和平路口 should still say 和平路.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import ahocorasick_rs


class TermMatcher:
    def __init__(
        self, keywords: Iterable[str], dictionary: Iterable[str] = (), places: Iterable[str] = ()
    ) -> None:
        keywords = frozenset(t for t in keywords if t)
        self.terms = keywords | frozenset(t for t in places if t)
        patterns = sorted(self.terms)
        self._terms = len(patterns)
        if keywords:
            longest = max(map(len, keywords))
            patterns += sorted(
                word
                for word in set(dictionary)
                if 3 <= len(word) <= longest + 6
                and word not in self.terms
                and _contains_term(word, keywords, longest)
            )
        self.patterns = patterns
        self.guards = len(patterns) - self._terms
        self.automaton = (
            ahocorasick_rs.AhoCorasick(patterns, matchkind=ahocorasick_rs.MatchKind.LeftmostLongest)
            if patterns
            else None
        )

    def find(self, text: str) -> Counter[str]:
        """How often each term occurs, as whole words."""
        found: Counter[str] = Counter()
        if self.automaton is None or not text:
            return found
        patterns, terms = self.patterns, self._terms
        for index, _start, _end in self.automaton.find_matches_as_indexes(text):
            if index < terms:
                found[patterns[index]] += 1
        return found


def _contains_term(word: str, terms: frozenset[str], longest: int) -> bool:
    size = len(word)
    for start in range(size):
        for end in range(start + 2, min(size, start + longest) + 1):
            if (end - start) < size and word[start:end] in terms:
                return True
    return False
