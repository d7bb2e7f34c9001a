"""Where a complaint is (块): gazetteer names, or coordinates, to a territorial unit."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from .rules import Place, Unit

# The more specific the cell, the more it says: a grid beats its community beats its street.
KIND_RANK = {"grid": 4, "community": 3, "street": 2, "district": 1}
NEAREST_WITHIN_KM = 1.0


@dataclass(frozen=True)
class PlaceMatch:
    name: str
    unit: str
    source: str  # "address", "text" or "coordinates"
    distance_km: float | None = None


class Gazetteer:
    def __init__(self, places: Iterable[Place], units: dict[str, Unit]) -> None:
        self.units = units
        self.by_name: dict[str, Place] = {}
        for place in places:
            for name in (place.name, *place.aliases):
                self.by_name[name] = place
        self.located = [p for p in self.by_name.values() if p.lat is not None]

    @property
    def names(self) -> list[str]:
        return list(self.by_name)

    def _rank(self, unit: str) -> int:
        kind = self.units[unit].kind if unit in self.units else ""
        return KIND_RANK.get(kind, 0)

    def resolve(
        self,
        address_names: Iterable[str],
        text_names: Iterable[str],
        lat: float | None = None,
        lng: float | None = None,
    ) -> list[PlaceMatch]:
        """Candidates, best first: most specific unit, then the address field over the
        description, then the longer name. Coordinates are used only when no name matched."""
        found = [PlaceMatch(n, self.by_name[n].unit, "address") for n in address_names]
        found += [PlaceMatch(n, self.by_name[n].unit, "text") for n in text_names]
        if not found and lat is not None and lng is not None:
            nearest = self._nearest(lat, lng)
            if nearest:
                found.append(nearest)
        found.sort(
            key=lambda m: (-self._rank(m.unit), m.source != "address", -len(m.name)),
        )
        return found

    def _nearest(self, lat: float, lng: float) -> PlaceMatch | None:
        best: tuple[float, Place] | None = None
        for place in self.located:
            distance = _haversine_km(lat, lng, place.lat, place.lng)  # type: ignore[arg-type]
            if distance <= NEAREST_WITHIN_KM and (best is None or distance < best[0]):
                best = (distance, place)
        if best is None:
            return None
        return PlaceMatch(best[1].name, best[1].unit, "coordinates", round(best[0], 3))

    def path(self, unit: str) -> tuple[str, ...]:
        """From the district down to ``unit``: the chain of territorial units."""
        chain: list[str] = []
        seen: set[str] = set()
        current: str | None = unit
        while current and current in self.units and current not in seen:
            seen.add(current)
            if self.units[current].kind in KIND_RANK:
                chain.append(current)
            current = self.units[current].parent
        return tuple(reversed(chain)) or (unit,)


def _haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))
