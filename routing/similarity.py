"""How alike two complaints read, for suggesting duplicates: cheap enough for a web request and
for an import's thousands of rows, with no word segmentation at request time.

A text becomes one sparse unit vector of two parts:
- the ruleset's terms found in it (the router's Aho-Corasick scan, the words jieba cut when the
  ruleset was learned), weighted idf × (1 + ln count) as routing weighs them; terms the idf
  table lacks (hand-written keywords, place names) count as the rarest known word;
- the character bigrams of its Chinese runs, weighted 1 + ln count: they still see two texts
  as alike when the ruleset is hand-written and knows few words, and when a term is spelt a
  little differently.

The parts are L2-normalised each and joined with weights √α and √(1 − α), so the cosine of two
profiles is α · (term cosine) + (1 − α) · (bigram cosine), one dot product. A learned ruleset's
vocabulary (tens of thousands of words with their idf) is enough alone (α = 1, and bigrams,
the slower half in Python, are not computed); a hand-written one knows a few hundred keywords,
so bigrams carry most of the comparison (α = 0.4). ``bench/duplicates.py`` measures both and
the thresholds on near-duplicates of the history data.

:class:`Index` finds, for many probes against many candidates, the pairs above a threshold
without scoring every pair: a candidate can only reach ``t`` if it shares a feature in the
probe's prefix (the features outside it weigh less than ``t`` together), so only those
candidates are scored (prefix filtering, exact for the threshold). A :class:`Budget` makes it
approximate and bounded: the probe's rarest features only, the candidates sharing most of
them scored — measured by bench/duplicates.py against the exact search.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import islice, pairwise
from typing import Protocol

from .text import normalize

ALPHA = 0.4  # share of the terms in the score with a hand-written ruleset (rest: bigrams)
LEARNED_VOCABULARY = 1000  # an idf table this large is a learned vocabulary: terms alone
MAX_CHARS = 600  # a complaint's topic is said long before this
GRAM = "\x00"  # bigram features are keyed apart from terms (垃圾 the term ≠ 垃圾 the bigram)

Profile = dict[str, float]  # feature → weight, unit length (empty: nothing to compare)


class _Finder(Protocol):
    def find(self, text: str) -> Counter[str]: ...


class _RouterLike(Protocol):
    """What similarity needs of a compiled router: its term scanner and idf table."""

    matcher: _Finder
    idf: Mapping[str, float]


_CJK = re.compile("[\u4e00-\u9fff]")
_CJK_RUN = re.compile("[\u4e00-\u9fff]{2,}")
_NUMBER = re.compile(r"\d+")


def bigrams(body: str) -> Counter[str]:
    """Half the character bigrams inside runs of Chinese characters (punctuation and Latin
    break a run; spaces must be removed first): those whose two code points add up to an
    even number. The same half in every text, so two texts share the same share of what they
    have in common, at half the cost of comparing and indexing (bench/duplicates.py: no loss
    at the thresholds used)."""
    found: Counter[str] = Counter()
    for run in _CJK_RUN.findall(body):
        codes = list(map(ord, run))
        found.update([run[i : i + 2] for i, (a, b) in enumerate(pairwise(codes))
                      if not (a + b) & 1])  # fmt: skip
    return found


def _unit(weights: dict[str, float], scale: float) -> Profile:
    norm = math.sqrt(sum(w * w for w in weights.values()))
    if not norm:
        return {}
    factor = scale / norm
    return {k: w * factor for k, w in weights.items()}


class TextSimilarity:
    """Profiles of texts as one router sees them; build once per compiled router."""

    def __init__(self, router: _RouterLike, *, alpha: float | None = None) -> None:
        self.matcher = router.matcher
        self.idf = router.idf
        if alpha is None:
            alpha = 1.0 if len(self.idf) >= LEARNED_VOCABULARY else ALPHA
        if not 0.0 <= alpha <= 1.0:
            raise ValueError("alpha must be between 0 and 1")
        self.alpha = alpha
        self.unknown_idf = max(self.idf.values(), default=1.0)

    def profile(self, text: str) -> Profile:
        """``text`` as a unit vector; empty when it holds no Chinese to compare."""
        # Spaces between words (segmented sources) must not change what is found.
        body = "".join(normalize((text or "")[:MAX_CHARS]).split())
        if not _CJK.search(body):
            return {}  # no Chinese: a phone number or "ok" says nothing about the problem
        idf, unknown = self.idf, self.unknown_idf
        terms = {
            t: idf.get(t, unknown) * (1.0 + math.log(c) if c > 1 else 1.0)
            for t, c in self.matcher.find(body).items()
        }
        # Numbers tell apart what the words alone do not: 3号路灯 and 5号路灯, 12 and 14号楼.
        for number in set(_NUMBER.findall(body)):
            terms[GRAM + number] = unknown
        alpha = self.alpha if terms else 0.0  # no term known: the characters must do
        vector = _unit(terms, math.sqrt(alpha)) if alpha else {}
        if alpha < 1.0:
            weighted = {GRAM + g: 1.0 + math.log(c) if c > 1 else 1.0
                        for g, c in bigrams(body).items()}  # fmt: skip
            vector.update(_unit(weighted, math.sqrt(1.0 - alpha)))
        return vector

    def score(self, a: str, b: str) -> float:
        return cosine(self.profile(a), self.profile(b))


def cosine(a: Profile, b: Profile) -> float:
    """The dot product of two profiles (both unit length): 0 = nothing shared, 1 = the same."""
    if not a or not b:
        return 0.0
    # The shared keys are found in C; only they are multiplied in Python.
    total = sum([a[key] * b[key] for key in a.keys() & b.keys()])
    return min(1.0, max(0.0, total))


@dataclass(frozen=True, slots=True)
class Near:
    candidate: int  # the candidate's position in the index
    score: float


class Index:
    """Candidates' profiles, searchable by probe with a threshold (see the module's notes)."""

    def __init__(self, profiles: Iterable[Profile]) -> None:
        self.profiles: list[Profile] = list(profiles)
        # Positions only (no tuple per entry: hundreds of thousands of small objects would
        # cost more to build, and to the garbage collector, than the lookups they save).
        postings: dict[str, list[int]] = {}
        for position, profile in enumerate(self.profiles):
            for key in profile:
                found = postings.get(key)
                if found is None:
                    postings[key] = [position]
                else:
                    found.append(position)
        self.postings = postings

    def __len__(self) -> int:
        return len(self.profiles)

    def near(self, probe: Profile, threshold: float, *, among: set[int] | None = None,
             below: int | None = None, budget: Budget | None = None) -> list[Near]:  # fmt: skip
        """Candidates scoring at least ``threshold`` with ``probe``, best first: only those in
        ``among`` and before position ``below``, when given. Exact unless a ``budget``
        bounds the work (an import's thousands of rows): then a few may be missed, never a
        wrong one returned."""
        profiles = self.profiles
        if not probe or threshold <= 0.0:
            scored = [
                Near(i, cosine(probe, p))
                for i, p in enumerate(profiles)
                if (among is None or i in among) and (below is None or i < below)
            ]
            return sorted((n for n in scored if n.score >= threshold), key=_best_first)
        postings = self.postings
        # Features whose postings are short for their weight first (the bound holds in any
        # order); the prefix ends once what is left of the probe weighs less than the
        # threshold. What a candidate shares in the prefix is summed on the way, and only
        # those that the rest could still lift to the threshold are scored in full.
        if budget is not None:  # only the rarest features that some candidate has
            rarest = heapq.nsmallest(
                budget.features,
                [(len(listed), key) for key in probe if (listed := postings.get(key))],
            )
            ordered = [(key, probe[key]) for _, key in rarest]
        else:
            ordered = sorted(probe.items(), key=lambda kw: len(postings.get(kw[0], ())) / kw[1])
        rest = 1.0
        partial: dict[int, float] = {}
        cap = budget.postings if budget else None
        for key, weight in ordered:
            if rest < threshold * threshold:
                break
            listed = postings.get(key)
            if listed is None:  # no candidate has it: it only lowers what the rest can add
                rest -= weight * weight
                continue
            if budget is not None and len(partial) >= budget.postings:
                break
            rest -= weight * weight
            # Postings list candidates in the order given (newest first, for duplicates).
            for position in islice(listed, cap):
                partial[position] = partial.get(position, 0.0) + weight * profiles[position][key]
        # Out of budget, what is in sight is scored, those sharing most of it first.
        lift = 1.0 if budget is not None else math.sqrt(max(rest, 0.0))
        hopeful = [
            (shared, position) for position, shared in partial.items()
            if shared + lift >= threshold and (below is None or position < below)
            and (among is None or position in among)
        ]  # fmt: skip
        if budget is not None and len(hopeful) > budget.verify:
            hopeful = sorted(hopeful, reverse=True)[: budget.verify]
        found = []
        for _, position in hopeful:
            score = cosine(probe, profiles[position])
            if score >= threshold:
                found.append(Near(position, score))
        return sorted(found, key=_best_first)


@dataclass(frozen=True, slots=True)
class Budget:
    """How much one search may do: features of the probe looked up, candidates kept in sight
    (and read per feature), candidates scored in full."""

    features: int = 12
    postings: int = 200
    verify: int = 5


def _best_first(near: Near) -> tuple[float, int]:
    return (-near.score, near.candidate)
