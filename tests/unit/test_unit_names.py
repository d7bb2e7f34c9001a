"""Unit names as call centres write them."""

from __future__ import annotations

from hotline.domain.unit_names import UnitName, UnitNames

NAMES = UnitNames([
    UnitName("dept-cgj", "示范市城市管理局", "department", aliases=("城管局", "市城管局")),
    UnitName("dept-jj", "示范市公安局交通警察支队", "department", aliases=("交警支队",)),
    UnitName("dist", "文明区", "district"),
    UnitName("st-heping", "和平街道", "street", "dist"),
    UnitName("st-xinhua", "新华街道", "street", "dist"),
    UnitName("cm-a", "东门社区", "community", "st-heping"),
    UnitName("cm-b", "东门社区", "community", "st-xinhua"),  # the same name in two streets
])  # fmt: skip


def test_codes_names_aliases_and_the_parts_people_leave_out() -> None:
    assert NAMES.resolve("示范市城市管理局") == "dept-cgj"
    assert NAMES.resolve("城市管理局") == "dept-cgj"  # without the city
    assert NAMES.resolve("市城管局") == NAMES.resolve(" 城管局 ") == "dept-cgj"
    assert NAMES.resolve("dept-jj") == "dept-jj"
    assert NAMES.resolve("和平街道办事处") == "st-heping"
    assert NAMES.resolve("文明区和平街道") == "st-heping"
    assert NAMES.resolve("环保局") is None


def test_ambiguous_names_resolve_only_within_their_street() -> None:
    assert NAMES.resolve("东门社区") is None  # two of them: a person decides
    assert NAMES.resolve("东门社区居委会", within="st-xinhua") == "cm-b"
    assert NAMES.resolve("东门社区", kinds=("street",)) is None
