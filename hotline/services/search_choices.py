"""What the search form offers to choose from: units, streets, categories (by code)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain.states import UnitKind
from ..models import Category, Unit

KIND_ORDER = (UnitKind.DEPARTMENT, UnitKind.DISTRICT, UnitKind.STREET, UnitKind.COMMUNITY,
              UnitKind.GRID)  # fmt: skip


@dataclass(frozen=True)
class Choice:
    code: str
    name: str


@dataclass(frozen=True)
class SearchChoices:
    units: dict[UnitKind, list[Choice]]  # lead units by kind (a unit user: their own subtree)
    streets: list[Choice]  # districts and streets: where it happened
    categories: list[Choice]

    def unit_codes(self) -> set[str]:
        return {choice.code for group in self.units.values() for choice in group}


def search_choices(session: Session, scope: set[int] | None) -> SearchChoices:
    """Choices for a viewer who sees the tickets of ``scope`` (None: all)."""
    units: dict[UnitKind, list[Choice]] = {kind: [] for kind in KIND_ORDER}
    streets = []
    for unit in session.scalars(select(Unit).order_by(Unit.name)):
        kind = UnitKind(unit.kind)
        if scope is None or unit.id in scope:
            units[kind].append(Choice(unit.code, unit.name))
        if kind in (UnitKind.DISTRICT, UnitKind.STREET):  # the dashboard's district links too
            streets.append(Choice(unit.code, unit.name))
    categories = [
        Choice(c.code, c.name)
        for c in session.scalars(select(Category).order_by(Category.sort_order, Category.name))
    ]
    return SearchChoices({k: v for k, v in units.items() if v}, streets, categories)
