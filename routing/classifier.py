"""``route()``: weighted keywords → a rule (category and lead unit), places → the territorial
unit, and a confidence with its explanation.

Scoring, in words an operator can check:
- each keyword found counts its weight × (1 + ln(times found)) × its idf (learned rulesets
  carry an idf per term: rarer words say more; hand-written ones count every term 1);
- a rule's score is its bias plus the sum over its keywords, divided by the length of the
  evidence (√ of the summed squares of idf × (1 + ln count) over every term found), so a long
  letter touching many topics does not win by volume;
- confidence = e^(k·best) / (1 + e^(k·best) + e^(k·runner-up)), k being the ruleset's scale
  (1 unless learned): the best rule against "nothing fits" and against its closest rival.
  One keyword of weight 3 alone gives 0.95; two rules at equal score stay below 0.5; rules
  touched only by a common word do not drag a clear winner down.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .matcher import TermMatcher
from .places import Gazetteer, PlaceMatch
from .rules import Rule, Ruleset
from .text import has_cjk, normalize

TIE_MARGIN = 0.05


@dataclass(frozen=True)
class Match:
    term: str
    weight: float
    count: int
    contribution: float


@dataclass(frozen=True)
class Candidate:
    label: str
    category: str | None
    lead_unit: str | None
    score: float
    matches: tuple[Match, ...]


@dataclass(frozen=True)
class Decision:
    ruleset: str
    label: str | None
    category: str | None
    lead_unit: str | None
    territorial_unit: str | None
    territorial_path: tuple[str, ...]
    co_units: tuple[str, ...]
    confidence: float
    confident: bool
    reason: str
    candidates: tuple[Candidate, ...] = ()
    places: tuple[PlaceMatch, ...] = ()
    threshold: float = 0.0
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (written by hand: dataclasses.asdict deep-copies slowly)."""
        return {
            "ruleset": self.ruleset, "label": self.label, "category": self.category,
            "lead_unit": self.lead_unit, "territorial_unit": self.territorial_unit,
            "territorial_path": list(self.territorial_path), "co_units": list(self.co_units),
            "confidence": self.confidence, "confident": self.confident, "reason": self.reason,
            "threshold": self.threshold, "notes": list(self.notes),
            "candidates": [
                {"label": c.label, "category": c.category, "lead_unit": c.lead_unit,
                 "score": c.score,
                 "matches": [{"term": m.term, "weight": m.weight, "count": m.count,
                              "contribution": m.contribution} for m in c.matches]}
                for c in self.candidates
            ],
            "places": [
                {"name": p.name, "unit": p.unit, "source": p.source, "distance_km": p.distance_km}
                for p in self.places
            ],
        }  # fmt: skip


def confidence_of(best: float, runner_up: float | None, scale: float = 1.0) -> float:
    top = math.exp(min(scale * best, 50.0))
    rival = math.exp(min(scale * runner_up, 50.0)) if runner_up is not None else 0.0
    return top / (1.0 + top + rival)


class Router:
    """A ruleset compiled for fast routing; build once per ruleset and reuse."""

    def __init__(self, ruleset: Ruleset) -> None:
        self.ruleset = ruleset
        self.rules: tuple[Rule, ...] = ruleset.rules
        self.by_label = {rule.label: rule for rule in ruleset.rules}
        # Keywords in the form texts take after normalize(): 佔道 and 占道 are one term.
        self.terms = [{normalize(t): w for t, w in rule.keywords.items()} for rule in self.rules]
        self.index: dict[str, list[tuple[int, float]]] = {}
        for position, terms in enumerate(self.terms):
            for term, weight in terms.items():
                self.index.setdefault(term, []).append((position, weight))
        self.idf = {normalize(t): v for t, v in ruleset.idf.items()}
        # One lookup per term found: (idf, [(rule position, weight), ...]).
        self.info: dict[str, tuple[float, tuple[tuple[int, float], ...]]] = {
            term: (self.idf.get(term, 1.0), tuple(self.index.get(term, ())))
            for term in set(self.index) | set(self.idf)
        }
        self.gazetteer = Gazetteer(ruleset.places, ruleset.units)
        place_terms = {normalize(n): n for n in self.gazetteer.names}
        self._place_names = place_terms
        self.matcher = TermMatcher(set(self.index) | set(self.idf), places=place_terms)

    def route(
        self,
        text: str,
        *,
        title: str = "",
        place: str = "",
        lat: float | None = None,
        lng: float | None = None,
    ) -> Decision:
        body = normalize(f"{title}\n{text}" if title else text)
        found = self.matcher.find(body)
        address_found = self.matcher.find(normalize(place)) if place else Counter()
        places = self.gazetteer.resolve(
            [self._place_names[t] for t in address_found if t in self._place_names],
            [self._place_names[t] for t in found if t in self._place_names],
            lat,
            lng,
        )
        return self._decide(found, places, body)

    # -- scoring

    def scores(self, found: Counter[str], explain: int = 3) -> list[Candidate]:
        """Every rule with at least one keyword found, best first (ties: ruleset order).

        Only the first ``explain`` candidates carry their matched terms: building the
        explanation for every rule would cost more than the scoring.
        """
        info = self.info
        totals: dict[int, float] = {}
        strengths: dict[str, float] = {}
        norm_sq = 0.0
        for term, count in found.items():
            entry = info.get(term)
            if entry is None:
                continue  # a place name
            idf, postings = entry
            strength = (1.0 + math.log(count)) * idf if count > 1 else idf
            strengths[term] = strength
            norm_sq += strength * strength
            for position, weight in postings:
                totals[position] = totals.get(position, 0.0) + weight * strength
        norm = math.sqrt(norm_sq) or 1.0
        ranked = sorted(
            ((self.rules[p].bias + total / norm, -p) for p, total in totals.items()), reverse=True
        )
        candidates = []
        for rank, (score, negative_position) in enumerate(ranked):
            rule, terms = self.rules[-negative_position], self.terms[-negative_position]
            matches: tuple[Match, ...] = ()
            if rank < explain:
                found_here = [
                    Match(t, terms[t], found[t], round(terms[t] * st / norm, 4))
                    for t, st in strengths.items()
                    if t in terms
                ]
                matches = tuple(sorted(found_here, key=lambda m: -abs(m.contribution)))
            candidates.append(
                Candidate(rule.label, rule.category, rule.lead_unit, round(score, 4), matches)
            )
        return candidates

    def _decide(self, found: Counter[str], places: list[PlaceMatch], body: str) -> Decision:
        threshold = self.ruleset.threshold
        territorial = places[0].unit if places else None
        path = self.gazetteer.path(territorial) if territorial else ()
        candidates = self.scores(found)

        def manual(reason: str, confidence: float = 0.0) -> Decision:
            return Decision(
                ruleset=self.ruleset.name, label=None, category=None, lead_unit=None,
                territorial_unit=territorial, territorial_path=path, co_units=(),
                confidence=round(confidence, 4), confident=False, reason=reason,
                candidates=tuple(candidates[:3]), places=tuple(places[:3]), threshold=threshold,
            )  # fmt: skip

        if not body.strip() or not has_cjk(body):
            return manual("文本为空或没有可识别的中文内容，请人工派单")
        if not candidates:
            return manual("没有匹配到任何关键词，请人工派单")
        best = candidates[0]
        runner_up = candidates[1].score if len(candidates) > 1 else None
        confidence = confidence_of(best.score, runner_up, self.ruleset.scale)
        rule = self.by_label[best.label]
        notes: list[str] = []
        if len(candidates) > 1 and best.score - candidates[1].score < TIE_MARGIN:
            return manual(
                f"“{best.label}”与“{candidates[1].label}”得分相同，请人工判断", confidence
            )
        if confidence < threshold:
            return manual(
                f"置信度 {confidence:.2f} 低于阈值 {threshold:.2f}，请人工派单", confidence
            )
        if not rule.lead_unit:
            return manual(f"规则“{rule.label}”没有指定承办单位，请人工派单", confidence)
        co_units = list(rule.co_units)
        if rule.territorial:
            if territorial:
                co_units.append(territorial)
            else:
                notes.append("该类问题需属地协办，但未识别到具体地点")
        co_units = [c for c in dict.fromkeys(co_units) if c != rule.lead_unit]
        return Decision(
            ruleset=self.ruleset.name, label=rule.label, category=rule.category,
            lead_unit=rule.lead_unit, territorial_unit=territorial, territorial_path=path,
            co_units=tuple(co_units), confidence=round(confidence, 4), confident=True,
            reason=f"匹配“{rule.label}”，置信度 {confidence:.2f}",
            candidates=tuple(candidates[:3]), places=tuple(places[:3]), threshold=threshold,
            notes=tuple(notes),
        )  # fmt: skip


def route(ruleset: Ruleset, text: str, **kwargs: Any) -> Decision:
    """One-off convenience; keep a :class:`Router` when routing more than one text."""
    return Router(ruleset).route(text, **kwargs)
