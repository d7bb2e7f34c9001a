"""Rows of call-centre exports: dates, phones, urgency, lengths, short rows — each refusal says
which column and why."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hotline.importers.mapping import PRESETS, MappingError, bind, mapping_from_file_data
from hotline.importers.records import CallRecord, RowReader

HEADER = ["工单编号", "诉求内容", "来电时间", "来电号码", "紧急程度", "办理时限", "协办单位",
          "工单标题", "备注", "工单状态"]  # fmt: skip


def reader() -> RowReader:
    return RowReader(bind(PRESETS["auto"], HEADER), "Asia/Shanghai")


def row(**cells: str) -> list[str]:
    names = {"ref": "工单编号", "text": "诉求内容", "at": "来电时间", "phone": "来电号码",
             "urgency": "紧急程度", "deadline": "办理时限", "co": "协办单位",
             "title": "工单标题"}  # fmt: skip
    values = {"ref": "GD1", "text": "路灯不亮"} | cells
    return [values.get(next((k for k, v in names.items() if v == h), ""), "") for h in HEADER]


@pytest.mark.parametrize(
    "raw",
    ["2026-11-20 09:30", "2026-11-20 09:30:00", "2026/11/20 09:30", "2026/11/20 9:30:00",
     "2026年11月20日 09:30", "2026年11月20日 09时30分", "20261120093000", "2026.11.20 09:30",
     "2026-11-20T09:30:00+08:00", "46346.395833333336"],
)  # fmt: skip
def test_dates_in_the_usual_spellings(raw: str) -> None:
    record = reader().read(row(at=raw))
    assert isinstance(record, CallRecord), record
    assert record.reported_at == datetime(2026, 11, 20, 1, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [("2026-02-30", "日期不存在"), ("2026/13/01 10:00", "日期不存在"),
     ("昨天下午", "无法识别的日期"), ("1899-01-01", "日期超出合理范围")],
)  # fmt: skip
def test_impossible_or_unreadable_dates_are_refused(raw: str, reason: str) -> None:
    (problem,) = reader().read(row(at=raw))
    assert problem.column == "来电时间" and problem.reason.startswith(reason)


@pytest.mark.parametrize("raw", ["138 1234 1234", "138-1234-1234", "+86 138 1234 1234",
                                 "0086-13812341234", "（138）12341234"])  # fmt: skip
def test_phones_with_spaces_dashes_and_country_code(raw: str) -> None:
    assert reader().read(row(phone=raw)).phone == "13812341234"


def test_landlines_keep_their_area_code_and_bad_numbers_are_refused() -> None:
    assert reader().read(row(phone="0571-8800 1234")).phone == "057188001234"
    (problem,) = reader().read(row(phone="12345"))
    assert problem.column == "来电号码" and "电话号码无效" in problem.reason


def test_urgency_words_and_unknown_ones() -> None:
    assert reader().read(row(urgency="特急")).priority == "emergency"
    assert reader().read(row(urgency="一般")).priority == "normal"
    assert reader().read(row()).priority is None  # the category's default applies
    (problem,) = reader().read(row(urgency="火速"))
    assert problem.column == "紧急程度" and "火速" in problem.reason


def test_cells_over_the_limits_and_every_problem_of_a_row_at_once() -> None:
    problems = reader().read(row(text="很" * 20_001, ref="X" * 65, phone="1"))
    assert {p.column for p in problems} == {"诉求内容", "工单编号", "来电号码"}
    assert any("超过 20000 个字（实有 20001 个字）" in p.reason for p in problems)


def test_empty_description_falls_back_to_the_title_else_is_refused() -> None:
    assert reader().read(row(text="", title="井盖缺失")).description == "井盖缺失"
    (problem,) = reader().read(row(text=""))
    assert problem.column == "诉求内容" and problem.reason == "诉求内容为空"
    (problem,) = reader().read(row(ref=""))
    assert problem.reason == "工单编号为空"


def test_a_pushed_call_is_checked_by_field_without_a_file() -> None:
    from zoneinfo import ZoneInfo

    from hotline.importers.records import check_fields

    tz = ZoneInfo("Asia/Shanghai")
    record = check_fields({"external_ref": "P1", "description": "井盖缺失", "urgency": "紧急",
                           "reported_at": "2026-11-20 09:30"}, tz=tz)  # fmt: skip
    assert isinstance(record, CallRecord) and record.priority == "urgent"
    assert record.reported_at == datetime(2026, 11, 20, 1, 30, tzinfo=UTC)
    problems = check_fields({"external_ref": "P2", "description": "", "phone": "12",
                             "deadline": "2026-02-30"}, tz=tz)  # fmt: skip
    assert [field for field, _ in problems] == ["description", "phone", "deadline"]


def test_a_short_row_is_a_cut_off_file() -> None:
    (problem,) = reader().read(["GD1", "路灯不亮"])
    assert "只有 2 列" in problem.reason and "不完整" in problem.reason


def test_co_units_split_on_any_separator() -> None:
    record = reader().read(row(co="市场监管局、交警支队，供电公司;  燃气公司"))
    assert record.co_units == ("市场监管局", "交警支队", "供电公司", "燃气公司")


def test_header_binding_reports_unknown_and_our_own_columns() -> None:
    binding = bind(PRESETS["auto"], HEADER)
    assert binding.unknown == ("备注",) and binding.results() == ["工单状态"]
    assert "备注" in binding.notes()[0]
    with pytest.raises(MappingError, match="缺少必需的列：诉求内容"):
        bind(PRESETS["auto"], ["工单编号", "来电时间"])
    with pytest.raises(MappingError, match="缺少必需的列"):
        bind(PRESETS["12345-v2"], HEADER)  # that layout calls it 问题描述
    with pytest.raises(MappingError, match="表头为空"):
        bind(PRESETS["auto"], ["", ""])


def test_mapping_files_with_fixed_values_and_date_formats() -> None:
    mapping = mapping_from_file_data({
        "columns": {"external_ref": "单号", "description": ["诉求描述", "补充说明"],
                    "reported_at": "日期"},
        "fixed": {"street": "和平街道", "urgency": "一般"},
        "date_formats": ["%d.%m.%Y %H:%M"],
    })  # fmt: skip
    binding = bind(mapping, ["单号", "诉求描述", "补充说明", "日期"])
    record = RowReader(binding, "Asia/Shanghai").read(
        ["A1", "路灯坏了", "已三天", "20.11.2026 09:30"]
    )
    assert record.description == "路灯坏了\n已三天" and record.street == "和平街道"
    assert record.reported_at == datetime(2026, 11, 20, 1, 30, tzinfo=UTC)
    with pytest.raises(MappingError) as error:
        mapping_from_file_data({"columns": {"colour": "颜色"}, "fixed": {"external_ref": "1"}})
    assert "未知字段 colour" in str(error.value) and "不能设固定值" in str(error.value)
    assert "缺少必需字段 external_ref" in str(error.value)
