"""The nearest place through the grid index is the linear scan's, place for place, at a
city's size and at the awkward spots (cell edges, the date line, near the poles)."""

from __future__ import annotations

import random
import time

import pytest

from routing import places as places_mod
from routing.places import NEAREST_WITHIN_KM, Gazetteer, PlaceMatch, _haversine_km
from routing.rules import Place, Unit

UNITS = {"grid-a": Unit("grid-a", "甲网格", "grid"), "st-b": Unit("st-b", "乙街道", "street")}


@pytest.fixture(autouse=True)
def always_the_index(monkeypatch):
    """Small gazetteers are scanned; here every one goes through the grid index."""
    monkeypatch.setattr(places_mod, "SCAN_UP_TO", 0)


def linear(gazetteer: Gazetteer, lat: float, lng: float) -> PlaceMatch | None:
    """The reference: every located place, the first of the nearest within 1 km."""
    best: tuple[float, Place] | None = None
    for place in gazetteer.located:
        distance = _haversine_km(lat, lng, place.lat, place.lng)
        if distance <= NEAREST_WITHIN_KM and (best is None or distance < best[0]):
            best = (distance, place)
    if best is None:
        return None
    return PlaceMatch(best[1].name, best[1].unit, "coordinates", round(best[0], 3))


def city(count: int, seed: int, lat: float = 30.27, lng: float = 120.15,
         spread: float = 0.25) -> list[Place]:  # fmt: skip
    rng = random.Random(seed)
    return [
        Place(f"地点{n}", "grid-a" if n % 2 else "st-b", (f"别名{n}",) if n % 7 == 0 else (),
              round(lat + rng.uniform(-spread, spread), 4),
              round(lng + rng.uniform(-spread, spread), 4))
        for n in range(count)
    ]  # fmt: skip


def test_ten_thousand_places_random_points() -> None:
    gazetteer = Gazetteer(city(10_000, seed=1), UNITS)
    rng = random.Random(2)
    hits = 0
    for _ in range(200):
        lat, lng = 30.27 + rng.uniform(-0.3, 0.3), 120.15 + rng.uniform(-0.3, 0.3)
        expected = linear(gazetteer, lat, lng)
        assert gazetteer._nearest(lat, lng) == expected, (lat, lng)
        hits += expected is not None
    assert hits > 100  # most points have a place within 1 km: the index is really used


def test_ties_go_to_the_first_place_as_in_the_scan() -> None:
    places = [Place("先到", "grid-a", (), 30.0, 120.0), Place("后到", "st-b", (), 30.0, 120.0)]
    assert Gazetteer(places, UNITS)._nearest(30.001, 120.001).name == "先到"


@pytest.mark.parametrize(("lat", "lng"), [
    (30.0, 120.0), (30.00999, 120.00999), (-33.86, 151.21), (0.0, 0.0),
    (10.0, 179.999), (10.0, -179.999), (64.1, -21.9), (89.995, 10.0), (-89.999, 0.0),
])  # fmt: skip
def test_awkward_spots(lat: float, lng: float) -> None:
    rng = random.Random(f"{lat},{lng}")
    places = []
    for n in range(400):  # scattered up to ~2 km around the spot, across cell edges
        plat = max(-90.0, min(90.0, lat + rng.uniform(-0.02, 0.02)))
        plng = (lng + rng.uniform(-0.03, 0.03) + 180.0) % 360.0 - 180.0
        places.append(Place(f"点{n}", "grid-a", (), plat, plng))
    gazetteer = Gazetteer(places, UNITS)
    for _ in range(300):
        qlat = max(-90.0, min(90.0, lat + rng.uniform(-0.02, 0.02)))
        qlng = (lng + rng.uniform(-0.03, 0.03) + 180.0) % 360.0 - 180.0
        assert gazetteer._nearest(qlat, qlng) == linear(gazetteer, qlat, qlng), (qlat, qlng)


def test_resolve_keeps_its_ranking_and_places_without_coordinates() -> None:
    places = [Place("甲地", "grid-a", ("甲处",), 30.0, 120.0), Place("乙地", "st-b")]
    gazetteer = Gazetteer(places, UNITS)
    assert [p.name for p in gazetteer.located] == ["甲地"]  # once, despite its alias
    found = gazetteer.resolve(["乙地"], ["甲处"], 30.0, 120.0)
    assert [(m.name, m.source) for m in found] == [("甲处", "text"), ("乙地", "address")]
    assert gazetteer.resolve([], [], 30.0001, 120.0)[0].source == "coordinates"
    assert gazetteer.resolve([], [], float("nan"), 120.0) == []
    assert gazetteer.resolve([], [], float("inf"), 120.0) == []


def test_the_index_is_much_faster_than_the_scan() -> None:
    gazetteer = Gazetteer(city(10_000, seed=3), UNITS)
    rng = random.Random(4)
    points = [(30.27 + rng.uniform(-0.25, 0.25), 120.15 + rng.uniform(-0.25, 0.25))
              for _ in range(60)]  # fmt: skip
    started = time.perf_counter()
    for lat, lng in points:
        linear(gazetteer, lat, lng)
    scan = time.perf_counter() - started
    started = time.perf_counter()
    for lat, lng in points:
        gazetteer._nearest(lat, lng)
    indexed = time.perf_counter() - started
    assert indexed * 20 < scan, (indexed, scan)  # measured ~500× here; loose on purpose


def test_places_and_points_on_cell_edges() -> None:
    edges = [round(30.0 + n * 0.001, 3) for n in range(-12, 13)]
    places = [Place(f"格{i}-{j}", "grid-a", (), lat, round(120.0 + (lat - 30.0) * 1.3, 4))
              for i, lat in enumerate(edges) for j in range(1)]  # fmt: skip
    places += [Place(f"经{n}", "st-b", (), 30.0, round(120.0 + n * 0.002, 3)) for n in range(-6, 7)]
    gazetteer = Gazetteer(places, UNITS)
    for lat in edges:
        for lng in (119.99, 119.998, 120.0, 120.002, 120.0041, 120.01):
            assert gazetteer._nearest(lat, lng) == linear(gazetteer, lat, lng), (lat, lng)
