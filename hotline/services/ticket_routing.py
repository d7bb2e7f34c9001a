"""Routing a new ticket: the compiled router's decision, and what it means for the ticket,
handed back as plain values a new-ticket plan takes (no ORM objects)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from routing.classifier import Decision

from .new_ticket import Handover, RoutingNote, UnitRef
from .router_cache import CategoryInfo, CityModel, Compiled


def decision_record(compiled: Compiled, decision: Decision) -> dict[str, Any]:
    """What is stored on the ticket and shown to operators."""
    data = decision.to_dict()
    data["ruleset_id"] = compiled.record_id
    data["ruleset_version"] = compiled.version
    data["lead_unit_name"] = compiled.city.unit_name(decision.lead_unit)
    data["territorial_unit_name"] = compiled.city.unit_name(decision.territorial_unit)
    return data


@dataclass(frozen=True)
class Routed:
    """What routing decided for a new ticket."""

    ruleset_id: int
    decision: Decision
    record: dict[str, Any]  # stored on the ticket and shown to operators
    reason: str
    event_data: dict[str, Any]  # the "routed" event's data
    territorial: UnitRef | None
    lead: UnitRef | None = None  # set when it is confident enough to dispatch
    co_units: tuple[UnitRef, ...] = ()
    category: CategoryInfo | None = None  # routing's category, when nobody chose one

    def note(self) -> RoutingNote:
        return RoutingNote(self.ruleset_id, self.record, self.reason, self.event_data)

    def handover(self) -> Handover | None:
        """The automatic dispatch, when routing is confident enough."""
        if self.lead is None:
            return None
        return Handover(self.lead, self.co_units, data={"automatic": True})


def _unit(city: CityModel, code: str | None) -> UnitRef | None:
    if code not in city.unit_ids:
        return None
    return UnitRef(city.unit_ids[code], code, city.units[code].name)


def route_new_ticket(compiled: Compiled, *, text: str, title: str | None, place: str | None,
                     lat: float | None = None, lng: float | None = None,
                     chosen_category: str | None) -> Routed:  # fmt: skip
    """Route a new ticket's text. A category someone chose is a hint, not an order: if
    routing confidently says something else, an operator decides."""
    decision = compiled.router.route(text, title=title or "", place=place or "", lat=lat, lng=lng)
    city = compiled.city
    record = decision_record(compiled, decision)
    dispatch, reason = decision.confident, decision.reason
    if dispatch and chosen_category and decision.category and chosen_category != decision.category:
        dispatch = False
        reason = f"市民所选类别与自动识别（{decision.label}）不一致，请人工判断"
        record.update(reason=reason, confident=False)
    data = {"ruleset_id": compiled.record_id, "ruleset_version": compiled.version,
            "label": decision.label, "confidence": decision.confidence,
            "dispatched": dispatch}  # fmt: skip
    territorial = _unit(city, decision.territorial_unit)
    lead = _unit(city, decision.lead_unit)
    if not dispatch or lead is None:
        return Routed(compiled.record_id, decision, record, reason, {**data, "dispatched": False},
                      territorial)  # fmt: skip
    co_units = tuple(unit for code in decision.co_units if (unit := _unit(city, code)))
    category = None if chosen_category else city.categories.get(decision.category or "")
    return Routed(compiled.record_id, decision, record, reason, data, territorial, lead, co_units,
                  category)  # fmt: skip
