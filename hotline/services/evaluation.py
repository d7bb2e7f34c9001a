"""Evaluating a ruleset on labelled texts: the one use case behind the API, the admin page
and ``hotline routing evaluate``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from routing.learn import Report, evaluate
from routing.rules import Ruleset

from .router_cache import CityModel, Compiled
from .training import resolve_label


def label_matcher(ruleset: Ruleset, city: CityModel) -> Callable[[str, str], bool]:
    """Whether a predicted rule label answers a gold label given as a label, code or name."""
    by_label = {rule.label: rule for rule in ruleset.rules}

    def same(predicted: str, gold: str) -> bool:
        if predicted == gold:
            return True
        rule = by_label.get(predicted)
        if rule is None:
            return False
        target = resolve_label(gold, city)
        if target is None:
            return False
        if target.category:
            return rule.category == target.category
        return rule.category is None and rule.lead_unit == target.lead_unit

    return same


def evaluate_ruleset(compiled: Compiled, rows: Sequence[tuple[str, str]]) -> Report:
    """Accuracy, macro-F1, per-label scores, confusion, coverage and speed of ``compiled``
    on (text, label) rows. Takes the compiled ruleset, not a session: the command line
    evaluates after its transaction has ended (on SQLite a transaction holds the write lock)."""
    texts = [text for text, _ in rows]
    labels = [label for _, label in rows]
    matches = label_matcher(compiled.router.ruleset, compiled.city)
    return evaluate(compiled.router, texts, labels, matches=matches)


@dataclass(frozen=True)
class LabelChange:
    """One gold label's scores under the active ruleset and under the candidate."""

    label: str
    name: str  # the category's (or unit's) Chinese name when the label names one
    support: int
    before: dict[str, float] | None  # precision, recall, f1 under the active ruleset
    after: dict[str, float]

    @property
    def delta(self) -> float | None:
        return None if self.before is None else round(self.after["f1"] - self.before["f1"], 4)


@dataclass(frozen=True)
class Comparison:
    """A candidate ruleset next to the active one on the same labelled rows."""

    candidate: Report
    active: Report | None  # None: nothing active, or the candidate is the active one
    changes: list[LabelChange]  # biggest drops in F1 first, then the gains


def label_name(label: str, city: CityModel) -> str:
    """What people call a gold label: the category's or unit's Chinese name."""
    target = resolve_label(label, city)
    if target is None:
        return label
    if target.category:
        return city.categories[target.category].name
    return city.unit_name(target.lead_unit) or label


def compare_rulesets(candidate: Compiled, active: Compiled | None,
                     rows: Sequence[tuple[str, str]]) -> Comparison:  # fmt: skip
    """Evaluate both on ``rows`` (no session needed, like :func:`evaluate_ruleset`)."""
    after = evaluate_ruleset(candidate, rows)
    same = active is None or active.record_id == candidate.record_id
    before = None if same else evaluate_ruleset(active, rows)
    changes = [
        LabelChange(
            label,
            label_name(label, candidate.city),
            int(scores["support"]),
            before.per_label.get(label) if before else None,
            scores,
        )
        for label, scores in after.per_label.items()
    ]
    changes.sort(key=lambda c: (c.delta if c.delta is not None else 0.0, -c.support))
    return Comparison(after, before, changes)
