"""Finding a ruleset's terms in a text.

An Aho-Corasick automaton (ahocorasick-rs, in Rust) scans the text once for the
leftmost-longest matches of the ruleset's terms, so 停车位 wins over 车位 when both are terms.
jieba is not run per text: the vocabulary already holds the words that matter (keywords come
from jieba's segmentation when they are learned), and scanning is ~40× faster than segmenting.
Blocking keywords inside longer dictionary words (as jieba would) was tried and measured
worse (macro-F1 0.757 against 0.775 in 5-fold cross-validation on the sample messages).

A place name can contain a keyword (和平农贸市场 holds 农贸市场); the place wins the scan, so
the keywords inside it are counted as well.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import ahocorasick_rs

LEFTMOST_LONGEST = ahocorasick_rs.MatchKind.LeftmostLongest


class TermMatcher:
    def __init__(self, keywords: Iterable[str], places: Iterable[str] = ()) -> None:
        keywords = frozenset(t for t in keywords if t)
        terms = keywords | frozenset(t for t in places if t)
        # The automaton keeps its own copy of the patterns; the Python strings are let go.
        self.automaton = (
            ahocorasick_rs.AhoCorasick(sorted(terms), matchkind=LEFTMOST_LONGEST)
            if terms
            else None
        )
        # Keywords inside each place name that is not itself a keyword.
        self.inside: dict[str, Counter[str]] = {}
        if keywords:
            only_keywords = ahocorasick_rs.AhoCorasick(sorted(keywords), matchkind=LEFTMOST_LONGEST)
            for place in terms - keywords:
                found = Counter(only_keywords.find_matches_as_strings(place))
                if found:
                    self.inside[place] = found

    def find(self, text: str) -> Counter[str]:
        """How often each term occurs (place names, and the keywords inside them, included)."""
        if self.automaton is None or not text:
            return Counter()
        found = Counter(self.automaton.find_matches_as_strings(text))  # counted in C
        inside = self.inside
        if inside:
            for place in inside.keys() & found.keys():
                for term, count in inside[place].items():
                    found[term] += count * found[place]
        return found
