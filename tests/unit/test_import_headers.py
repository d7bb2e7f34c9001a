"""Real 12345 export headers: prefixes, spaces, full-width brackets, traditional characters,
two columns that could be one field, 工单类型 (the kind of order) apart from 诉求类型 (the
subject), and the handling-result columns named as such."""

from __future__ import annotations

from hotline.domain.call_records import CallRecord
from hotline.importers.mapping import PRESETS, bind, fold
from hotline.importers.records import RowReader


def test_the_12345_prefixed_layout_binds_and_says_which_column_went_where() -> None:
    header = ["12345工单编号", "12345受理时间", "12345内容描述", "12345诉求类型", "12345工单类型"]
    binding = bind(PRESETS["auto"], header)
    assert binding.positions == {"external_ref": (0,), "reported_at": (1,), "description": (2,),
                                 "category": (3,), "order_kind": (4,)}  # fmt: skip
    assert binding.unknown == ()
    note = binding.notes()[-1]
    assert note.startswith("列的对应：")
    assert "12345工单编号 → 工单编号" in note and "12345内容描述 → 诉求内容" in note
    assert "12345工单类型 → 工单性质" in note and "12345诉求类型 → 诉求类型" in note


def test_full_width_brackets_spaces_and_traditional_characters_fold() -> None:
    assert fold("【工单編號】") == fold("工单编号") == fold("工 单　编 号") == "工单编号"
    assert fold("［12345］受理时间：") == "受理时间"
    header = ["受理編號", "诉求 内容", "（来电时间）", "所属街道：", "联系　电话"]
    binding = bind(PRESETS["auto"], header)
    assert binding.positions == {"external_ref": (0,), "description": (1,), "reported_at": (2,),
                                 "street": (3,), "phone": (4,)}  # fmt: skip


def test_a_preset_still_finds_a_tolerant_spelling_of_its_own_names() -> None:
    binding = bind(PRESETS["12345"], ["工单编号 ", "【诉求内容】", "诉求類型"])
    assert binding.positions == {"external_ref": (0,), "description": (1,), "category": (2,)}


def test_two_candidate_columns_for_one_field_take_the_exact_one_and_say_so() -> None:
    header = ["12345工单编号", "工单号", "诉求内容", "来电号码", "联系电话"]
    binding = bind(PRESETS["auto"], header)
    assert binding.positions["external_ref"] == (1,)  # exact beats tolerant
    assert binding.positions["phone"] == (3,)  # both exact: the better-known name
    conflicts = [n for n in binding.notes() if "都可作为" in n]
    assert conflicts == ["列“工单号”与“12345工单编号”都可作为工单编号，已采用“工单号”",
                         "列“来电号码”与“联系电话”都可作为来电号码，已采用“来电号码”"]  # fmt: skip
    assert binding.unknown == ()  # seen and named, not "unrecognised"
    # Two spellings of one text column are not joined into the text twice.
    twice = bind(PRESETS["auto"], ["工单编号", "诉求内容", "12345诉求内容"])
    assert twice.positions["description"] == (1,)
    assert any("“12345诉求内容”都可作为诉求内容" in n for n in twice.notes())


def test_order_kind_and_subject_stay_apart() -> None:
    header = ["工单编号", "诉求内容", "工单类型", "诉求类型"]
    reader = RowReader(bind(PRESETS["auto"], header), "Asia/Shanghai")
    record = reader.read(["GD1", "门口有人占道摆卖", "求助", "城乡建设-占道摆卖"])
    assert isinstance(record, CallRecord)
    assert (record.order_kind, record.category) == ("求助", "城乡建设-占道摆卖")
    # Without a 诉求类型, 工单类型 is still the kind of order, never the subject.
    alone = RowReader(bind(PRESETS["auto"], header[:3]), "Asia/Shanghai")
    record = alone.read(["GD2", "咨询办证", "咨询"])
    assert (record.order_kind, record.category) == ("咨询", None)
    refused = alone.read(["GD3", "x", "很长" * 11])
    assert [p.column for p in refused] == ["工单类型"]


def test_result_columns_are_named_as_such_not_unrecognised() -> None:
    header = ["工单编号", "诉求内容", "答复意见", "答复时间", "办结时间", "回访满意度",
              "【回访结果】", "备注"]  # fmt: skip
    binding = bind(PRESETS["auto"], header)
    assert binding.results() == ["答复意见", "办结时间", "回访满意度"]
    assert binding.unknown == ("【回访结果】", "备注")
    notes = binding.notes()
    assert "办理结果列（仅历史导入读取，本次未导入）：答复意见、办结时间、回访满意度" in notes
    assert "列“办结时间”与“答复时间”都可作为办结时间，已采用“办结时间”" in notes
    assert not any("答复意见 →" in note for note in notes)  # a live import does not take it
    assert any("答复意见 → 答复意见" in note for note in binding.notes(history=True))
