"""Evaluating a ruleset on labelled texts: the one use case behind the API, the admin page
and ``hotline routing evaluate``."""

from __future__ import annotations

from collections.abc import Callable, Sequence

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
