"""``route()``: weighted keywords → a rule (category and lead unit), places → the territorial
unit, and a confidence with its explanation.

Scoring, in words an operator can check:
- each keyword found counts its weight × (1 + ln(times found)) × its idf (learned rulesets
  carry an idf per term: rarer words say more; hand-written ones count every term 1);
- a rule's score is its bias plus the sum over its keywords, divided by the length of the
  evidence (√ of the summed squares of idf × (1 + ln count) over every term found), so a long
  letter touching many topics does not win by volume;
- a hand-written ruleset's confidence = e^(k·best) / (1 + e^(k·best) + e^(k·runner-up)), k
  being its scale (1): the best rule against "nothing fits" and against its closest rival.
  One keyword of weight 3 alone gives 0.95; two rules at equal score stay below 0.5;
- a learned ruleset carries a calibration fitted on held-out rows (rules.Calibration):
  confidence = σ(a·best + b·(best − runner-up) + c), which says how often such a decision
  was right on rows the rules had not seen;
- an everyday word (the ruleset's common terms: 员工, 服务…) never decides alone: when the
  winner's strongest keyword is one and carries most of its evidence, a person decides.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

from .matcher import TermMatcher
from .places import Gazetteer, PlaceMatch
from .rules import Calibration, Rule, Ruleset
from .text import compact, has_cjk, normalize

TIE_MARGIN = 0.05
# A learned ruleset finds dozens of keywords in a letter; the explanation keeps the strongest.
EXPLAINED_TERMS = 12


class Match(NamedTuple):
    """A keyword found (a tuple: a hundred are built per ticket, and frozen dataclasses are
    slow to build)."""

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
    # (contribution before the length scale, term, weight, count) of every keyword found;
    # ``matches`` explains them.
    found: list[tuple[float, str, float, int]] = field(default_factory=list, repr=False)
    length_scale: float = 1.0
    evidence: float = 0.0  # the sum of the positive contributions

    @cached_property
    def matches(self) -> tuple[Match, ...]:
        """The strongest keywords found, by the size of their contribution (built when asked:
        most routing callers never read them)."""
        strongest = sorted(self.found, key=_size, reverse=True)[:EXPLAINED_TERMS]
        scale = self.length_scale
        return tuple(Match(t, w, n, round(c * scale, 4)) for c, t, w, n in strongest)

    @property
    def strongest(self) -> tuple[float, str] | None:
        """(contribution, term) of the keyword that adds most, or None."""
        best = max(self.found, default=None)
        return (best[0] * self.length_scale, best[1]) if best else None


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


@functools.cache
def _regions() -> dict[str, list[str]]:
    from importlib.resources import files

    import yaml

    return yaml.safe_load((files("routing") / "data" / "regions.yaml").read_text("utf-8"))


def elsewhere_pattern(home: tuple[str, ...]) -> re.Pattern[str] | None:
    """An address written in full in another province: 河南省郑州市, 广西百色市, 北京市朝阳区."""
    regions = _regions()
    mine = {h.removesuffix("省").removesuffix("市") for h in home}

    def others(key: str) -> str:
        return "|".join(r for r in regions[key] if r not in mine)

    cjk = "[\u4e00-\u9fff]"
    parts = [f"(?:{others('provinces')})省{cjk}{{1,4}}?[市州盟]",
             f"(?:{others('autonomous_regions')})(?:壮族|回族|维吾尔)?(?:自治区)?{cjk}{{1,4}}?[市州盟]",
             f"(?:{others('municipalities')})市{cjk}{{1,4}}?[区县]"]  # fmt: skip
    return re.compile("|".join(parts))


def _size(part: tuple[float, str, float, int]) -> float:
    return abs(part[0])


def confidence_of(best: float, runner_up: float | None, scale: float = 1.0) -> float:
    top = math.exp(min(scale * best, 50.0))
    rival = math.exp(min(scale * runner_up, 50.0)) if runner_up is not None else 0.0
    return top / (1.0 + top + rival)


def calibrated(calibration: Calibration, best: float, runner_up: float) -> float:
    z = calibration.best * best + calibration.margin * (best - runner_up) + calibration.intercept
    return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))


class Router:
    """A ruleset compiled for fast routing; build once per ruleset and reuse."""

    def __init__(self, ruleset: Ruleset) -> None:
        self.ruleset = ruleset
        self.rules: tuple[Rule, ...] = ruleset.rules
        self.by_label = {rule.label: rule for rule in ruleset.rules}
        # Keywords in the form texts take after normalize(): 佔道 and 占道 are one term.
        # Built here and dropped: a worker keeps only what scoring reads.
        index: dict[str, list[tuple[int, float]]] = {}
        for position, rule in enumerate(self.rules):
            for term, weight in rule.keywords.items():
                index.setdefault(normalize(term), []).append((position, weight))
        self.idf = {normalize(t): v for t, v in ruleset.idf.items()}
        # One lookup per term found: (idf, [(rule position, weight), ...], rule positions).
        self.info: dict[str, tuple[float, tuple[tuple[int, float], ...], frozenset[int]]] = {
            term: (
                self.idf.get(term, 1.0),
                tuple(index.get(term, ())),
                frozenset(p for p, _ in index.get(term, ())),
            )
            for term in set(index) | set(self.idf)
        }
        self.gazetteer = Gazetteer(ruleset.places, ruleset.units)
        place_terms = {normalize(n): n for n in self.gazetteer.names}
        self._place_names = place_terms
        self.matcher = TermMatcher(set(index) | set(self.idf), places=place_terms)
        self.common = frozenset(normalize(t) for t in ruleset.common_terms)
        self.home = tuple(normalize(h) for h in ruleset.home_regions)
        self.elsewhere = elsewhere_pattern(self.home) if self.home else None
        # A learned rule untouched by the text still scores its bias (as in learning): the
        # best of those is the floor of the runner-up.
        self.biases = sorted(((rule.bias, p) for p, rule in enumerate(self.rules)), reverse=True)

    def route(
        self,
        text: str,
        *,
        title: str = "",
        place: str = "",
        lat: float | None = None,
        lng: float | None = None,
    ) -> Decision:
        body = compact(normalize(f"{title}\n{text}" if title else text))
        found = self.matcher.find(body)
        address_found = self.matcher.find(compact(normalize(place))) if place else Counter()
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
        totals = [0.0] * len(self.rules)
        # Per rule: (weight × idf × (1 + ln count), term, weight, count) of each keyword found.
        parts: list[list[tuple[float, str, float, int]]] = [[] for _ in self.rules]
        touched: set[int] = set()
        strengths: dict[str, float] = {}
        norm_sq = 0.0
        log = math.log
        for term, count in found.items():
            entry = info.get(term)
            if entry is None:
                continue  # a place name
            idf, postings, positions = entry
            strength = (1.0 + log(count)) * idf if count > 1 else idf
            strengths[term] = strength
            norm_sq += strength * strength
            for position, weight in postings:
                totals[position] += weight * strength
                parts[position].append((weight * strength, term, weight, count))
            touched |= positions
        norm = math.sqrt(norm_sq) or 1.0
        inverse = 1.0 / norm
        rules = self.rules
        ranked = sorted(((rules[p].bias + totals[p] * inverse, -p) for p in touched),
                        reverse=True)  # fmt: skip
        candidates = []
        for rank, (score, negative_position) in enumerate(ranked):
            rule = self.rules[-negative_position]
            kept: list[tuple[float, str, float, int]] = []
            evidence = 0.0
            if rank < explain:
                kept = parts[-negative_position]
                evidence = sum(c for c, _, _, _ in kept if c > 0) * inverse
            candidates.append(Candidate(rule.label, rule.category, rule.lead_unit,
                                        round(score, 4), kept, inverse, evidence))  # fmt: skip
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
        calibration = self.ruleset.calibration
        if calibration is not None:
            touched = {c.label for c in candidates}
            floor = next((b for b, p in self.biases if self.rules[p].label not in touched), None)
            rival = max(s for s in (runner_up, floor) if s is not None) if (
                runner_up is not None or floor is not None) else 0.0  # fmt: skip
            confidence = calibrated(calibration, best.score, rival)
        else:
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
        common = self._common_word_decides(best)
        if common:
            return manual(common, confidence)
        elsewhere = self._elsewhere(body, places)
        if elsewhere:
            return manual(elsewhere, confidence)
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

    def _elsewhere(self, body: str, places: list[PlaceMatch]) -> str | None:
        """Why the complaint seems to be about another province, or None."""
        if self.elsewhere is None or places or any(h in body for h in self.home):
            return None
        found = self.elsewhere.search(body)
        if found is None:
            return None
        return (f"地址在外地（“{found.group()}”），未提到本市地点，"
                "可能不属本市受理范围，请人工确认")  # fmt: skip

    def _common_word_decides(self, best: Candidate) -> str | None:
        """Why the decision rests on one everyday word alone, or None."""
        if not self.common or not best.found:
            return None
        top = best.strongest
        if top is None or top[0] <= 0 or best.evidence <= 0:
            return None
        common = self.common
        share = top[0] / best.evidence
        if top[1] in common and share > self.ruleset.common_share:
            return (f"主要依据是常用词“{top[1]}”（占 {share:.0%}），"
                    "单凭一个常用词不能确定，请人工派单")  # fmt: skip
        specific = sum(c for c, t, _, _ in best.found if c > 0 and t not in common)
        if specific * best.length_scale < self.ruleset.specific_share * best.evidence:
            return (f"依据几乎全是常用词（{top[1]}等），"
                    "没有能说明问题类别的词语，请人工派单")  # fmt: skip
        return None


def route(ruleset: Ruleset, text: str, **kwargs: Any) -> Decision:
    """One-off convenience; keep a :class:`Router` when routing more than one text."""
    return Router(ruleset).route(text, **kwargs)
