"""A gazetteer file's rows → places: Chinese or English headers, aliases however they are
separated, every problem with its line, nothing half-read."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from hotline.importers.reader import open_table
from routing.gazetteer_file import (
    GazetteerFileError,
    export_rows,
    map_header,
    merge_places,
    read_places,
)
from routing.rules import Place, Unit

UNITS = {
    "st-heping": Unit("st-heping", "和平街道办事处", "street"),
    "cm-heping-xincun": Unit("cm-heping-xincun", "和平新村社区居委会", "community"),
}


def rows(*lines: list[str]) -> list[tuple[int, list[str]]]:
    return [(number, cells) for number, cells in enumerate(lines, start=2)]


def problems(exc: pytest.ExceptionInfo[GazetteerFileError]) -> list[str]:
    return exc.value.lines()


def test_chinese_headers_and_every_alias_separator() -> None:
    header = ["地名", "别名", "属地单位", "纬度", "经度"]
    aliases = "银杏大道、银杏街，老银杏路, 银杏巷;银杏弄；银杏道 银杏里\u3000银杏坊"
    found = read_places(header, rows(
        ["银杏路", aliases, "st-heping", "30.27", "120.15"],
        ["春晖小区", "", "cm-heping-xincun", "", ""],
    ), units=UNITS)  # fmt: skip
    first, second = (row.place for row in found)
    assert first.aliases == ("银杏大道", "银杏街", "老银杏路", "银杏巷", "银杏弄", "银杏道",
                             "银杏里", "银杏坊")  # fmt: skip
    assert (first.lat, first.lng) == (30.27, 120.15)
    assert second == Place("春晖小区", "cm-heping-xincun")
    assert [row.line for row in found] == [2, 3]


@pytest.mark.parametrize("header", [
    ["name", "aliases", "unit", "lat", "lng"],
    ["名称", "别名", "单位代码", "纬度", "经度"],
    ["Name", "Alias", "Unit Code", "Latitude", "Longitude"],
    ["\ufeff地名", "属地单位"],
])  # fmt: skip
def test_header_spellings(header: list[str]) -> None:
    columns = map_header(header)
    assert columns["name"] == 0 and "unit" in columns


def test_a_unit_may_be_named_instead_of_coded() -> None:
    found = read_places(["地名", "属地单位"], rows(["春晖小区", "和平街道办事处"]), units=UNITS)
    assert found[0].place.unit == "st-heping"


def test_missing_columns_are_named() -> None:
    with pytest.raises(GazetteerFileError) as info:
        map_header(["地址", "备注"])
    assert "缺少列：地名、单位代码" in problems(info)[0] and "现有：地址、备注" in problems(info)[0]
    with pytest.raises(GazetteerFileError) as info:
        map_header(["地名", "单位代码", "纬度"])
    assert "纬度、经度两列需同时提供" in problems(info)[0]


def test_bad_rows_each_with_its_line_and_reason() -> None:
    header = ["地名", "别名", "单位代码", "纬度", "经度"]
    with pytest.raises(GazetteerFileError) as info:
        read_places(header, rows(
            ["银杏路", "银杏街", "st-heping", "30.2", "120.1"],  # 2: fine
            ["", "", "st-heping", "", ""],  # 3
            ["春晖小区", "", "", "", ""],  # 4
            ["秋实小区", "", "no-such-unit", "", ""],  # 5
            ["银杏街", "", "st-heping", "", ""],  # 6: an alias of line 2
            ["冬青小区", "银杏路", "st-heping", "", ""],  # 7: the name of line 2
            ["夏荷小区", "", "st-heping", "95", "120"],  # 8
            ["夏荷二区", "", "st-heping", "30", "200"],  # 9
            ["夏荷三区", "", "st-heping", "30", ""],  # 10
            ["夏荷四区", "", "st-heping", "北纬30", "120"],  # 11
            ["路", "", "st-heping", "", ""],  # 12: one character matches everywhere
        ), units=UNITS)  # fmt: skip
    assert problems(info) == [
        "第 3 行：缺少地名",
        "第 4 行：地名“春晖小区”缺少单位代码",
        "第 5 行：未知的单位代码：no-such-unit",
        "第 6 行：“银杏街”与第 2 行的地名或别名重复",
        "第 7 行：“银杏路”与第 2 行的地名或别名重复",
        "第 8 行：纬度 95 超出范围（-90 到 90）",
        "第 9 行：经度 200 超出范围（-180 到 180）",
        "第 10 行：纬度和经度需同时填写（或都不填）",
        "第 11 行：纬度“北纬30”不是数字",
        "第 12 行：“路”太短：地名和别名至少 2 个字，否则会在任何诉求中误认",
    ]


def test_duplicates_are_found_across_spellings() -> None:
    with pytest.raises(GazetteerFileError) as info:
        read_places(["name", "unit"], rows(["和平廣場", "st-heping"], ["和平广场", "st-heping"]))
    assert problems(info) == ["第 3 行：“和平广场”与第 2 行的地名或别名重复（“和平廣場”）"]


def test_an_alias_that_only_repeats_the_name_is_dropped() -> None:
    aliases = "和平廣場、和平广场、东广场、东广场"
    found = read_places(["name", "aliases", "unit"], rows(["和平广场", aliases, "st-heping"]))
    assert found[0].place.aliases == ("东广场",)


def test_empty_file_and_too_many_rows() -> None:
    with pytest.raises(GazetteerFileError) as info:
        read_places(["地名", "单位代码"], [])
    assert problems(info) == ["文件中没有地名数据行"]
    many = ((n, [f"地点{n:06d}", "st-heping"]) for n in range(2, 10**9))  # never read to the end
    with pytest.raises(GazetteerFileError) as info:
        read_places(["地名", "单位代码"], many, max_rows=1000)
    assert "地名不能超过 1,000 行" in problems(info)[0]


def test_a_long_list_of_problems_is_cut_and_counted() -> None:
    bad = rows(*[[f"地点{n}", "no-such"] for n in range(250)])
    with pytest.raises(GazetteerFileError) as info:
        read_places(["地名", "单位代码"], bad, units=UNITS)
    assert len(info.value.problems) == 200 and problems(info)[-1] == "另有 50 处问题未列出"


def test_merge_replaces_by_name_and_refuses_clashes() -> None:
    existing = [Place("银杏路", "st-heping", ("银杏街",)), Place("春晖小区", "st-heping")]
    imported = read_places(["地名", "单位代码"], rows(["春晖小区", "cm-heping-xincun"],
                                                     ["秋实小区", "st-heping"]))  # fmt: skip
    merged, replaced = merge_places(existing, imported)
    assert [(p.name, p.unit) for p in merged] == [
        ("银杏路", "st-heping"),
        ("春晖小区", "cm-heping-xincun"),
        ("秋实小区", "st-heping"),
    ]
    assert replaced == 1
    clash = read_places(["地名", "单位代码"], rows(["银杏街", "st-heping"]))
    with pytest.raises(GazetteerFileError) as info:
        merge_places(existing, clash)
    assert problems(info) == ["第 2 行：“银杏街”已是现有地名“银杏路”的名称或别名"]


def _write(path: Path, lines: list[list[str]], encoding: str) -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows(lines)
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_files_in_the_encodings_offices_use(tmp_path: Path, encoding: str) -> None:
    path = _write(tmp_path / "places.csv", [
        ["地名", "别名", "单位代码", "纬度", "经度"],
        ["银杏路", "银杏街、银杏巷", "st-heping", "30.27", "120.15"],
        ["", "", "", "", ""],
        ["春晖小区", "", "cm-heping-xincun", "", ""],
    ], encoding)  # fmt: skip
    with open_table(path) as table:
        found = read_places(table.header, table.rows, units=UNITS)
    assert [(r.line, r.place.name, r.place.aliases) for r in found] == [
        (2, "银杏路", ("银杏街", "银杏巷")),
        (4, "春晖小区", ()),
    ]


def test_an_export_reads_back(tmp_path: Path) -> None:
    places = [Place("银杏路", "st-heping", ("银杏街", "银杏巷"), 30.271234, 120.15),
              Place("=春晖小区", "cm-heping-xincun")]  # fmt: skip
    exported = list(export_rows(places))
    found = read_places(exported[0], rows(*exported[1:]), units=UNITS)
    assert [row.place for row in found] == places
