"""Learning a draft ruleset from labelled history and operators' corrections: the one use
case behind ``hotline routing learn`` and the admin's routing page.

Learning cuts words with jieba and trains for seconds, so it is three steps: gather the
rows and what their labels mean (a short read), learn (no session: on SQLite an open
transaction holds the write lock), save the draft (a short write).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from routing.learn import Target, learn
from routing.rules import Ruleset

from ..errors import ValidationFailed
from ..models import RoutingCorrection, RulesetRecord, Unit
from .actors import Actor
from .router_cache import CityModel
from .rulesets import create_ruleset


def resolve_label(label: str, city: CityModel) -> Target | None:
    """A training label names a category or a unit, by code or by name."""
    for info in city.categories.values():
        if label in (info.code, info.name):
            return Target(info.code, info.default_unit, info.territorial)
    for unit in city.units.values():
        if label in (unit.code, unit.name):
            return Target(lead_unit=unit.code)
    return None


def unit_code_for_label(label: str) -> str:
    """The code of the department ``--create-units`` makes for an unknown label."""
    return "unit-" + hashlib.sha1(label.encode()).hexdigest()[:8]  # noqa: S324 - a name, not security


def create_unit_for_label(session: Session, label: str, *, now: datetime) -> str:
    """``--create-units``: a department named after an unknown label."""
    code = unit_code_for_label(label)
    if session.scalar(select(Unit.id).where(Unit.code == code)) is None:
        session.add(Unit(code=code, name=label[:100], kind="department", created_at=now))
        session.flush()
    return code


def corrections(session: Session) -> list[tuple[str, str | None, str]]:
    """Operators' re-dispatches as (text, category code, lead unit code), oldest first."""
    rows = session.execute(
        select(RoutingCorrection.text, RoutingCorrection.category, RoutingCorrection.lead_unit)
        .order_by(RoutingCorrection.id)
    )  # fmt: skip
    return [(text, category, unit) for text, category, unit in rows if text and text.strip()]


def count_corrections(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(RoutingCorrection)) or 0


@dataclass(frozen=True)
class TrainingSet:
    """Rows to learn from, and what each label means for dispatch."""

    texts: list[str]
    labels: list[str]
    targets: dict[str, Target]
    unknown: list[str]  # labels no category or unit answers: their tickets go to the queue
    new_units: list[str]  # unknown labels that get a department of their own (create_units)
    base: Ruleset | None  # lends its places and units (the active ruleset)
    from_file: int
    from_corrections: int


def _key(target: Target) -> tuple[str, str | None]:
    return ("category", target.category) if target.category else ("unit", target.lead_unit)


def training_set(session: Session, texts: Sequence[str], labels: Sequence[str], *,
                 base: Ruleset | None, with_corrections: bool = False,
                 create_units: bool = False) -> TrainingSet:  # fmt: skip
    """The labelled rows (and, if asked, operators' corrections) with their targets.

    A correction names a category or unit by code; it joins the file's label for the same
    target when there is one (so 占道经营 and street-vending stay one rule), else it is
    labelled with the category's or unit's Chinese name."""
    city = CityModel.load(session)
    texts, labels = list(texts), list(labels)
    from_file = len(texts)
    targets: dict[str, Target] = {}
    for label in sorted(set(labels)):
        target = resolve_label(label, city)
        if target is not None:
            targets[label] = target
    label_of = {_key(t): label for label, t in sorted(targets.items(), reverse=True)}
    added = 0
    if with_corrections:
        for text, category, unit in corrections(session):
            target = Target(category=category) if category in city.categories else None
            target = target or (Target(lead_unit=unit) if unit in city.units else None)
            if target is None:
                continue  # the category or unit is gone
            label = label_of.get(_key(target))
            if label is None:
                label = (city.categories[category].name if target.category
                         else city.units[unit].name)  # fmt: skip
                targets[label] = resolve_label(label, city) or target
                label_of[_key(target)] = label
            texts.append(text)
            labels.append(label)
            added += 1
    if len(set(labels)) < 2:
        raise ValidationFailed({"labels": ["至少需要两个不同的标签"]},
                               detail="无法学习：至少需要两个不同的标签")  # fmt: skip
    unknown = sorted(set(labels) - set(targets))
    new_units: list[str] = []
    if create_units:
        for label in unknown:
            targets[label] = Target(lead_unit=unit_code_for_label(label))
        new_units, unknown = unknown, []
    return TrainingSet(texts, labels, targets, unknown, new_units, base, from_file, added)


def learn_draft(training: TrainingSet, *, name: str,
                progress: Callable[[str, int, int], None] | None = None) -> Ruleset:  # fmt: skip
    """The slow step (cutting words, then fitting), outside any transaction."""
    return learn(training.texts, training.labels, name=name, targets=training.targets,
                 base=training.base, progress=progress)  # fmt: skip


def save_draft(session: Session, training: TrainingSet, ruleset: Ruleset, *, actor: Actor,
               now: datetime) -> RulesetRecord:  # fmt: skip
    """Store the learned ruleset as a new draft version (after making the departments
    ``create_units`` asked for); checked against the city like any other draft."""
    for label in training.new_units:
        create_unit_for_label(session, label, now=now)
    notes = f"学习自 {training.from_file} 行带标签的样本"
    if training.from_corrections:
        notes += f"和 {training.from_corrections} 条话务员改派记录"
    return create_ruleset(session, ruleset.to_dict(), source="learn", now=now, actor=actor,
                          notes=notes)  # fmt: skip
