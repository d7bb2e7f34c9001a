"""A gazetteer file imported as a new draft ruleset version: the active one untouched until
an admin activates the draft, then routing finds the new places; merge, dry run, refusals."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, func, select

from hotline.errors import ValidationFailed
from hotline.models import AuditEvent, RulesetRecord
from hotline.services.actors import Actor
from hotline.services.router_cache import RouterCache
from hotline.services.rulesets import activate, find_ruleset, import_places, places_rows
from tests.helpers import restore_seeded_ruleset

NOW = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)
ADMIN = Actor(None, "测试管理员")
HEADER = ["地名", "别名", "单位代码", "纬度", "经度"]
TEXT = "银杏苑小区门口流动摊贩占道经营，行人只能走机动车道。"


def rows(*lines: list[str]) -> list[tuple[int, list[str]]]:
    return [(number, cells) for number, cells in enumerate(lines, start=2)]


NEW_PLACES = rows(
    ["银杏苑小区", "银杏苑、银杏苑社区", "grid-zhenxing-gongren-02", "30.2611", "120.1702"],
    ["梧桐里", "", "cm-xinhua-li", "", ""],
)


@pytest.fixture
def restore_active(db):
    yield
    with db.transaction() as session:
        restore_seeded_ruleset(session)
        session.execute(delete(AuditEvent))
        session.execute(delete(RulesetRecord).where(RulesetRecord.source == "places"))


def _count(session) -> int:
    return session.scalar(select(func.count()).select_from(RulesetRecord))


def test_an_import_is_a_new_draft_and_routes_once_activated(db, restore_active) -> None:
    cache = RouterCache(refresh_seconds=0)
    with db.transaction() as session:
        active = find_ruleset(session, None)
        active_id, active_places = active.id, len(active.data["places"])
        # Drafts other tests left (learned ones) may hold the next numbers.
        newest = session.scalar(select(func.max(RulesetRecord.version))
                                .where(RulesetRecord.name == active.name))  # fmt: skip
        result = import_places(session, HEADER, NEW_PLACES, now=NOW, actor=ADMIN,
                               filename="places.csv")  # fmt: skip
        record = result.record
        assert record.status == "draft" and record.source == "places"
        assert (record.name, record.version) == (active.name, newest + 1)
        assert [p["name"] for p in record.data["places"]] == ["银杏苑小区", "梧桐里"]
        assert record.data["rules"] == active.data["rules"]  # the base's rules, unchanged
        assert (result.rows, result.total, result.located) == (2, 2, 1)
        assert "places.csv" in record.notes
        draft_id = record.id
        # Routing still uses the active version: the new place is unknown to it.
        decision = cache.active(session).router.route(TEXT)
        assert decision.territorial_unit != "grid-zhenxing-gongren-02"
        assert len(find_ruleset(session, None).data["places"]) == active_places
        assert find_ruleset(session, None).id == active_id
    with db.transaction() as session:
        activate(session, session.get(RulesetRecord, draft_id), now=NOW, actor=ADMIN)
    with db.transaction() as session:
        cache.forget_active()
        router = cache.active(session).router
        assert router.route(TEXT).territorial_unit == "grid-zhenxing-gongren-02"
        assert router.route("梧桐里垃圾没人清运", place="梧桐里 3 号").territorial_unit == (
            "cm-xinhua-li")  # fmt: skip
        near = router.route("有人占道经营", lat=30.2612, lng=120.1701)
        assert near.places[0].name == "银杏苑小区" and near.places[0].source == "coordinates"


def test_merge_keeps_the_old_places_and_replaces_same_names(db, restore_active) -> None:
    with db.transaction() as session:
        base = find_ruleset(session, None)
        old = {p["name"]: p for p in base.data["places"]}
        assert "幸福家园小区" in old
        result = import_places(session, HEADER, rows(
            ["幸福家园小区", "幸福家园、幸福小区", "grid-heping-xincun-02", "", ""],
            *(cells for _, cells in NEW_PLACES),
        ), now=NOW, actor=ADMIN, merge=True)  # fmt: skip
        places = {p["name"]: p for p in result.record.data["places"]}
    assert set(old) <= set(places) and {"银杏苑小区", "梧桐里"} <= set(places)
    assert len(places) == len(old) + 2 and result.replaced == 1
    assert places["幸福家园小区"]["unit"] == "grid-heping-xincun-02"
    assert places["幸福家园小区"]["aliases"] == ["幸福家园", "幸福小区"]
    assert "lat" not in places["幸福家园小区"]  # the file's row, as written


def test_a_dry_run_writes_nothing(db, restore_active) -> None:
    with db.transaction() as session:
        before = _count(session)
        result = import_places(session, HEADER, NEW_PLACES, now=NOW, actor=ADMIN, dry_run=True)
        assert result.record is None and result.total == 2
    with db.transaction() as session:
        assert _count(session) == before
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_a_bad_file_saves_nothing_and_names_its_lines(db, restore_active) -> None:
    with db.transaction() as session:
        before = _count(session)
    bad = rows(
        ["银杏苑小区", "", "grid-zhenxing-gongren-02", "", ""],
        ["梧桐里", "", "no-unit", "", ""],
        ["银杏苑小区", "", "cm-xinhua-li", "", ""],
    )
    with pytest.raises(ValidationFailed) as info, db.transaction() as session:
        import_places(session, HEADER, bad, now=NOW, actor=ADMIN)
    assert info.value.errors["places"] == [
        "第 3 行：未知的单位代码：no-unit",
        "第 4 行：“银杏苑小区”与第 2 行的地名或别名重复",
    ]
    assert "第 3 行" in info.value.detail
    with db.transaction() as session:
        assert _count(session) == before


def test_a_chosen_base_and_the_export_reads_back(db, restore_active) -> None:
    with db.transaction() as session:
        first = import_places(session, HEADER, NEW_PLACES, now=NOW, actor=ADMIN).record
        exported = list(places_rows(first))
        assert exported[0] == HEADER
        again = import_places(session, exported[0], rows(*exported[1:]), now=NOW, actor=ADMIN,
                              ref=str(first.id))  # fmt: skip
        assert again.base.id == first.id
        assert again.record.data["places"] == first.data["places"]
        assert again.record.version == first.version + 1


def test_ten_thousand_places_compile_quickly(db, restore_active) -> None:
    many = rows(*[[f"测试路{n:05d}号院", "", "cm-xinhua-li", f"{30.2 + n * 1e-5:.5f}", "120.15"]
                  for n in range(10_000)])  # fmt: skip
    with db.transaction() as session:
        record = import_places(session, HEADER, many, now=NOW, actor=ADMIN).record
        assert len(record.data["places"]) == 10_000
        compiled = RouterCache(refresh_seconds=0).compiled(session, record)
    decision = compiled.router.route("测试路01234号院门口占道经营")
    assert decision.places[0].name == "测试路01234号院"
