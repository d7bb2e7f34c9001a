"""Where a complaint is (块): gazetteer names, or coordinates, to a territorial unit.

A city's gazetteer has thousands of located places, and the nearest one is looked up for
every routed ticket that carries coordinates; located places are therefore kept in a grid of
cells of ``CELL_DEGREES``, searched ring by ring from the point's cell until no farther cell
can hold a nearer place (or one within ``NEAREST_WITHIN_KM``). The answer is the linear
scan's, place for place (a test holds them equal).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from .rules import Place, Unit

# The more specific the cell, the more it says: a grid beats its community beats its street.
KIND_RANK = {"grid": 4, "community": 3, "street": 2, "district": 1}
NEAREST_WITHIN_KM = 1.0
EARTH_RADIUS_KM = 6371.0
# About 220 m of latitude: in a dense district the nearest place is in the first ring or two.
CELL_DEGREES = 0.002
LNG_CELLS = round(360 / CELL_DEGREES)
# Lower bounds are lowered by this much, so that rounding never stops a search too early.
BOUND_SLACK_KM = 1e-9
# Within about 3° of a pole the longitude bound says little: every place is looked at.
POLAR_COS = 0.05
# A small gazetteer (the default one has 60 places) is quicker to scan than to search.
SCAN_UP_TO = 100


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
        # Each place once (aliases share it), in gazetteer order: ties go to the first.
        unique = {id(p): p for p in self.by_name.values()}
        self.located = [p for p in unique.values() if p.lat is not None and p.lng is not None]
        self._cells: dict[tuple[int, int], list[int]] = defaultdict(list)
        for index, place in enumerate(self.located):
            self._cells[_cell(place.lat, place.lng)].append(index)  # type: ignore[arg-type]
        # Per located place: its latitude in radians, its cosine, its longitude in degrees
        # (the haversine's own terms, computed once).
        self._terms = [(math.radians(p.lat), math.cos(math.radians(p.lat)), p.lng)  # type: ignore[arg-type]
                       for p in self.located]  # fmt: skip
        lats = [p.lat for p in self.located]
        self._lat_range = (min(lats), max(lats)) if lats else (0.0, 0.0)  # type: ignore[type-var]

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
        """The located place nearest to (lat, lng) within 1 km, the first of equals.

        Cells are searched ring by ring outwards from the point's own; each ring's lower
        bound on the distance (from the point to the ring's nearest edge) says when no
        farther place can be nearer than the best found, or than 1 km."""
        if not (math.isfinite(lat) and math.isfinite(lng)) or not self.located:
            return None
        reach = NEAREST_WITHIN_KM
        # Longitude gaps shrink towards the poles: bound them at the highest latitude a
        # place within reach can have; near the poles a kilometre spans every longitude.
        cos_max = math.cos(math.radians(min(abs(lat) + math.degrees(reach / EARTH_RADIUS_KM)
                                            + 2 * CELL_DEGREES, 90.0)))  # fmt: skip
        reach_degrees = math.degrees(reach / EARTH_RADIUS_KM) + CELL_DEGREES
        if not self._lat_range[0] - reach_degrees <= lat <= self._lat_range[1] + reach_degrees:
            return None  # far north or south of every place (a point outside the city)
        best: tuple[float, int] | None = None
        row0, col0 = _index(lat), _index(lng)
        ring = 0
        scan = cos_max < POLAR_COS or len(self.located) <= SCAN_UP_TO
        if scan:
            best = self._best(lat, lng, range(len(self.located)), None)
        while not scan:
            if ring:
                lat_gap = min((row0 + ring) * CELL_DEGREES - lat,
                              lat - (row0 - ring + 1) * CELL_DEGREES)  # fmt: skip
                lng_gap = min((col0 + ring) * CELL_DEGREES - lng,
                              lng - (col0 - ring + 1) * CELL_DEGREES)  # fmt: skip
                bound = min(
                    EARTH_RADIUS_KM * math.radians(lat_gap),
                    2 * EARTH_RADIUS_KM
                    * math.asin(min(cos_max * math.sin(math.radians(lng_gap) / 2), 1.0)),
                ) - BOUND_SLACK_KM  # fmt: skip
                if bound > (best[0] if best else reach):
                    break
            best = self._best(lat, lng, self._ring(row0, col0, ring), best)
            ring += 1
        if best is None:
            return None
        place = self.located[best[1]]
        return PlaceMatch(place.name, place.unit, "coordinates", round(best[0], 3))

    def _ring(self, row0: int, col0: int, ring: int) -> list[int]:
        """Indexes of the located places in the cells ``ring`` steps around (row0, col0)."""
        cells = self._cells
        found: list[int] = []
        if ring == 0:
            return list(cells.get((row0, col0 % LNG_CELLS), ()))
        for row in (row0 - ring, row0 + ring):
            for col in range(col0 - ring, col0 + ring + 1):
                found.extend(cells.get((row, col % LNG_CELLS), ()))
        for row in range(row0 - ring + 1, row0 + ring):
            for col in (col0 - ring, col0 + ring):
                found.extend(cells.get((row, col % LNG_CELLS), ()))
        return found

    def _best(self, lat: float, lng: float, candidates: Iterable[int],
              best: tuple[float, int] | None) -> tuple[float, int] | None:  # fmt: skip
        """The nearest of ``candidates`` (or ``best``), by the haversine of ``_haversine_km``
        term for term; a place whose latitude alone puts it farther is skipped."""
        p1 = math.radians(lat)
        c1 = math.cos(p1)
        terms, sin, asin, sqrt, radians = self._terms, math.sin, math.asin, math.sqrt, math.radians
        # The great-circle distance is at least R × the latitude difference.
        within = (best[0] if best else NEAREST_WITHIN_KM) / EARTH_RADIUS_KM * (1 + 1e-9)
        for index in candidates:
            p2, c2, lng2 = terms[index]
            dp = p2 - p1
            if abs(dp) > within:
                continue
            a = sin(dp / 2) ** 2 + c1 * c2 * sin(radians(lng2 - lng) / 2) ** 2
            distance = 2 * EARTH_RADIUS_KM * asin(sqrt(min(a, 1.0)))
            if distance <= NEAREST_WITHIN_KM and (best is None or (distance, index) < best):
                best = (distance, index)
                within = distance / EARTH_RADIUS_KM * (1 + 1e-9)
        return best

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


def _index(degrees: float) -> int:
    return math.floor(degrees / CELL_DEGREES)


def _cell(lat: float, lng: float) -> tuple[int, int]:
    return _index(lat), _index(lng) % LNG_CELLS


def _haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(a, 1.0)))
