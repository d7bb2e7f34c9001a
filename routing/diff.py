"""What changed between two rulesets, in terms a person checks: per rule (matched by its
category, else its lead unit, else its label), keywords added, removed and reweighted, and
the threshold and confidence scale. Pure: two rulesets in, plain JSON-ready values out."""

from __future__ import annotations

from typing import Any

from .rules import Rule, Ruleset

LIMIT = 15  # terms listed per kind of change and rule (the counts say how many in all)
MIN_REWEIGHT = 0.05  # smaller moves are the learner's noise between two runs
# Rules the draft adds or changes first, then the ones it drops, the unchanged last.
STATUS_ORDER = {"added": 0, "changed": 0, "removed": 1, "same": 2}


def rule_key(rule: Rule) -> str:
    """One rule's identity across rulesets: labels differ (names, codes), targets do not."""
    if rule.category:
        return f"category:{rule.category}:{rule.lead_unit or ''}"
    if rule.lead_unit:
        return f"unit:{rule.lead_unit}"
    return f"label:{rule.label}"


def _terms(items: list[tuple[str, float]], limit: int) -> list[dict[str, Any]]:
    """The strongest first: keywords for the rule, then those against it (negative)."""
    ranked = sorted(items, key=lambda item: (item[1] < 0, -abs(item[1]), item[0]))
    return [{"term": term, "weight": round(weight, 3)} for term, weight in ranked[:limit]]


def rule_changes(before: Rule | None, after: Rule | None, *, limit: int = LIMIT,
                 min_reweight: float = MIN_REWEIGHT) -> dict[str, Any]:  # fmt: skip
    """One rule's changes; ``before`` None: a new rule, ``after`` None: a rule dropped."""
    rule = after or before
    assert rule is not None
    old = dict(before.keywords) if before else {}
    new = dict(after.keywords) if after else {}
    added = [(t, w) for t, w in new.items() if t not in old]
    removed = [(t, w) for t, w in old.items() if t not in new]
    moved = [(t, old[t], new[t]) for t in new.keys() & old.keys()
             if abs(new[t] - old[t]) >= min_reweight]  # fmt: skip
    moved.sort(key=lambda item: (-abs(item[2] - item[1]), item[0]))
    status = "added" if before is None else "removed" if after is None else "changed"
    if status == "changed" and not (added or removed or moved):
        status = "same"
    bias = None
    if before and after and abs(before.bias - after.bias) >= min_reweight:
        bias = {"before": round(before.bias, 3), "after": round(after.bias, 3)}
    return {
        "key": rule_key(rule), "label": rule.label, "category": rule.category,
        "lead_unit": rule.lead_unit, "status": status,
        "before_label": before.label if before else None,
        "counts": {"added": len(added), "removed": len(removed), "reweighted": len(moved),
                   "before": len(old), "after": len(new)},
        "added": _terms(added, limit),
        "removed": _terms(removed, limit),
        "reweighted": [{"term": t, "before": round(a, 3), "after": round(b, 3)}
                       for t, a, b in moved[:limit]],
        "bias": bias,
        # How much this rule moved: sorts the rules, biggest change first.
        "magnitude": round(sum(abs(w) for _, w in added) + sum(abs(w) for _, w in removed)
                           + sum(abs(b - a) for _, a, b in moved), 3),
    }  # fmt: skip


def ruleset_changes(before: Ruleset | None, after: Ruleset, *, limit: int = LIMIT,
                    min_reweight: float = MIN_REWEIGHT) -> dict[str, Any]:  # fmt: skip
    """``after`` (a draft) against ``before`` (the active ruleset, or None): the threshold
    and scale if they moved, and every rule's changes, the most changed first."""
    old = {rule_key(r): r for r in (before.rules if before else ())}
    new = {rule_key(r): r for r in after.rules}
    keys = list(new) + [k for k in old if k not in new]
    rules = [rule_changes(old.get(k), new.get(k), limit=limit, min_reweight=min_reweight)
             for k in keys]  # fmt: skip
    rules.sort(key=lambda item: (STATUS_ORDER[item["status"]], -item["magnitude"], item["label"]))

    def moved(name: str) -> dict[str, float] | None:
        if before is None:
            return None
        a, b = float(getattr(before, name)), float(getattr(after, name))
        return {"before": round(a, 3), "after": round(b, 3)} if abs(a - b) > 1e-9 else None

    return {
        "threshold": moved("threshold"),
        "scale": moved("scale"),
        "rules": rules,
        "counts": {status: sum(1 for r in rules if r["status"] == status)
                   for status in ("added", "removed", "changed", "same")},
    }  # fmt: skip
