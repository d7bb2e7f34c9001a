"""Shadow evaluation: what a learned draft would have decided, next to what the active
ruleset decides, on the city's own tickets, and the draft's readable changes.

Two sets (``relearn`` reads them):

- ``recent``: tickets of the last 30 days that settled with the unit they were dispatched
  to and were never returned; right = their category (and lead unit, when it is not the
  category's own) as dispatched. The draft did not learn from these tickets.
- ``corrections``: operators' re-dispatches (the latest per ticket, unless that unit
  returned it); right = the correction's target. The draft learned from them: this set
  shows that it took them in, not how it does on new tickets.

Per set and side: n, accuracy (the best rule is the right one), coverage (share confident
enough to dispatch without a person), precision (right among those), and how many decisions
change (right→wrong, wrong→right). A decision is compared by category and lead unit, never
by label: the two rulesets may name their rules differently.

Routing runs outside any transaction: the sets are read as plain values first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from routing.classifier import Decision, Router
from routing.diff import STATUS_ORDER, ruleset_changes
from routing.learn import Target
from routing.rules import Ruleset

from .relearn import (
    WINDOW_DAYS,
    LabelledText,
    effective_corrections,
    settled_tickets,
    target_name,
)
from .router_cache import CityModel

EVAL_CAP = 5_000  # rows per set at most (the newest): routing both rulesets stays a few seconds
EXAMPLES_PER_RULE = 5
EXAMPLES = 20
SHORT_TEXT = 80
SET_NAMES = {"recent": f"近 {WINDOW_DAYS} 天已派出且未退单的工单", "corrections": "话务员改派记录"}


@dataclass(frozen=True)
class ShadowSets:
    recent: list[LabelledText]
    corrections: list[LabelledText]


def shadow_sets(session: Session, city: CityModel, *, now: datetime,
                window_days: int = WINDOW_DAYS, cap: int = EVAL_CAP) -> ShadowSets:  # fmt: skip
    """The two evaluation sets, read as plain values (a short read)."""
    since = now - timedelta(days=window_days)
    recent = [row for row, _ in settled_tickets(session, city, since=since, limit=cap,
                                                never_returned=True)]  # fmt: skip
    corrections = [row for _, row in effective_corrections(session, city, limit=cap)]
    return ShadowSets(recent, corrections)


@dataclass(frozen=True)
class Guess:
    """Where a decision points: the rule it dispatched to, or, when it was not sure enough,
    the best candidate an operator would see first."""

    label: str | None
    category: str | None
    lead_unit: str | None
    confident: bool


def best_guess(decision: Decision) -> Guess:
    if decision.label is not None:
        return Guess(decision.label, decision.category, decision.lead_unit, decision.confident)
    if decision.candidates:
        top = decision.candidates[0]
        return Guess(top.label, top.category, top.lead_unit, False)
    return Guess(None, None, None, False)


def is_right(decision: Decision, target: Target) -> bool:
    """The decision's best rule goes where the ticket belongs (category, and the lead unit
    when the target names one; a unit target: the lead unit)."""
    guess = best_guess(decision)
    if guess.label is None:
        return False
    if target.category and guess.category != target.category:
        return False
    return not target.lead_unit or guess.lead_unit == target.lead_unit


def decision_name(decision: Decision | None, city: CityModel) -> str:
    guess = best_guess(decision) if decision is not None else Guess(None, None, None, False)
    if guess.label is None:
        return "无匹配，转人工"
    info = city.categories.get(guess.category or "")
    name = info.name if info else (city.unit_name(guess.lead_unit) or guess.label)
    if info and guess.lead_unit and guess.lead_unit != info.default_unit:
        name += f"（{city.unit_name(guess.lead_unit) or guess.lead_unit}）"
    return name if guess.confident else f"{name}（不够确定，转人工）"


def target_label(target: Target, city: CityModel) -> str:
    return target_name(target, city)


def _figures(decisions: Sequence[Decision], rights: Sequence[bool]) -> dict[str, Any]:
    n = len(decisions)
    confident = sum(1 for d in decisions if d.confident)
    right = sum(rights)
    right_confident = sum(1 for d, r in zip(decisions, rights, strict=True) if d.confident and r)
    return {"n": n, "right": right, "confident": confident, "right_confident": right_confident,
            "accuracy": round(right / n, 4) if n else None,
            "coverage": round(confident / n, 4) if n else None,
            "precision": round(right_confident / confident, 4) if confident else None}  # fmt: skip


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SHORT_TEXT else flat[: SHORT_TEXT - 1] + "…"


def _target_rule_key(target: Target, rules: dict[str, Any]) -> str | None:
    """The diff entry a ticket's right answer belongs to, if any rule has that target."""
    for key, item in rules.items():
        if target.category and item["category"] == target.category:
            if not target.lead_unit or item["lead_unit"] == target.lead_unit:
                return key
        elif not target.category and item["category"] is None and \
                item["lead_unit"] == target.lead_unit:  # fmt: skip
            return key
    return None


Rows = list[dict[str, Any]]


def evaluate_sets(
    draft: Router, active: Router | None, sets: ShadowSets, city: CityModel
) -> tuple[Rows, Rows]:
    """Per set: the figures of both sides and the changes; and every changed decision as an
    example (right ones first)."""
    results, examples = [], []
    for key, rows in (("recent", sets.recent), ("corrections", sets.corrections)):
        drafted = [draft.route(row.text) for row in rows]
        draft_right = [is_right(d, row.target) for d, row in zip(drafted, rows, strict=True)]
        entry: dict[str, Any] = {"key": key, "name": SET_NAMES[key],
                                 "draft": _figures(drafted, draft_right), "active": None,
                                 "changes": None}  # fmt: skip
        if active is not None:
            actual = [active.route(row.text) for row in rows]
            active_right = [is_right(d, row.target) for d, row in zip(actual, rows, strict=True)]
            entry["active"] = _figures(actual, active_right)
            changes = {"changed": 0, "right_to_wrong": 0, "wrong_to_right": 0}
            for row, before, after, was, now_right in zip(rows, actual, drafted, active_right,
                                                          draft_right, strict=True):  # fmt: skip
                a, b = best_guess(before), best_guess(after)
                same_place = (a.category, a.lead_unit, a.confident) == (
                    b.category,
                    b.lead_unit,
                    b.confident,
                )
                if same_place and was == now_right:
                    continue
                changes["changed"] += 1
                if was and not now_right:
                    changes["right_to_wrong"] += 1
                elif now_right and not was:
                    changes["wrong_to_right"] += 1
                right = (
                    "draft"
                    if now_right and not was
                    else ("active" if was and not now_right else ("both" if was else "neither"))
                )
                examples.append({
                    "set": key, "number": row.number, "text": _short(row.text),
                    "right_answer": target_label(row.target, city),
                    "active": decision_name(before, city), "draft": decision_name(after, city),
                    "right": right, "_target": row.target,
                })  # fmt: skip
            entry["changes"] = changes
        results.append(entry)
    order = {"draft": 0, "active": 1, "neither": 2, "both": 3}
    examples.sort(key=lambda e: (order[e["right"]], e["set"] != "recent"))
    return results, examples


def readable_changes(draft: Ruleset, active: Ruleset | None, examples: list[dict[str, Any]],
                     city: CityModel) -> dict[str, Any]:  # fmt: skip
    """The diff per rule (with the names people use) and, under each, the tickets of that
    category whose decision would change."""
    diff = ruleset_changes(active, draft)
    by_key = {item["key"]: item for item in diff["rules"]}
    for item in diff["rules"]:
        info = city.categories.get(item["category"] or "")
        name = info.name if info else (city.unit_name(item["lead_unit"]) or item["label"])
        if info and item["lead_unit"] and item["lead_unit"] != info.default_unit:
            name += f"（{city.unit_name(item['lead_unit']) or item['lead_unit']}）"
        item["name"] = name
        item["examples"] = []
    unplaced = []
    for example in examples:
        key = _target_rule_key(example["_target"], by_key)
        entry = by_key.get(key or "")
        if entry is not None and len(entry["examples"]) < EXAMPLES_PER_RULE:
            entry["examples"].append(example)
        elif entry is None:
            unplaced.append(example)
    diff["unplaced_examples"] = unplaced[:EXAMPLES_PER_RULE]
    # Within the same kind of change, the rules whose tickets would be routed differently
    # come first: that is what a person checks before activating.
    diff["rules"].sort(key=lambda item: (STATUS_ORDER[item["status"]], not item["examples"],
                                         -item["magnitude"]))  # fmt: skip
    return diff


def shadow_evaluation(draft: Ruleset, active: Ruleset | None, sets: ShadowSets,
                      city: CityModel) -> tuple[list[dict[str, Any]], dict[str, Any],
                                                list[dict[str, Any]]]:  # fmt: skip
    """(sets' figures, readable changes, examples): the slow part, outside any transaction.
    ``draft`` and ``active`` are rulesets checked against the city (``build_ruleset``), so
    that category rules carry their lead units."""
    draft_router = Router(draft)
    active_router = Router(active) if active is not None else None
    figures, examples = evaluate_sets(draft_router, active_router, sets, city)
    changes = readable_changes(draft, active, examples, city)
    for example in examples:
        example.pop("_target", None)
    return figures, changes, examples[:EXAMPLES]
