"""Segmentation with the domain dictionary, and learning → evaluation on a small fixture."""

from __future__ import annotations

import pytest

from routing.classifier import Router
from routing.learn import LearnOptions, Target, evaluate, learn
from routing.segmenter import default_segmenter


@pytest.mark.parametrize("term", ["占道经营", "飞线充电", "牛皮癣", "乱停乱放", "噪音扰民",
                                  "违章搭建", "共享单车", "窨井盖"])  # fmt: skip
def test_domain_terms_are_never_split(term: str) -> None:
    tokens = default_segmenter().tokens(f"我们小区附近{term}的问题很严重")
    assert term in tokens


def test_stop_words_and_noise_are_dropped() -> None:
    tokens = default_segmenter().tokens("您好，请问 2024 年我们的问题 ABC 能否尽快处理？谢谢！")
    assert not {"您好", "请问", "我们", "谢谢", "2024", "abc"} & set(tokens)


def test_traditional_text_is_segmented_as_simplified() -> None:
    assert "占道经营" in default_segmenter().tokens("門口有人佔道經營")


# A labelled history we wrote for this test: three units, eight letters each.
HISTORY = {
    "城管": ["小区门口有人摆摊卖水果", "夜市摊贩占道经营堵路", "流动摊贩在人行道摆摊",
             "店铺出店经营占用人行道", "路口有人摆地摊卖菜", "小贩推车占道叫卖",
             "早市摊位摆到马路中间", "烧烤摊占道经营到深夜"],
    "交警": ["小区门口车辆乱停乱放", "人行道上停满了汽车", "路口经常有车辆违停",
             "消防通道被车辆堵住", "汽车逆行很危险", "电动车闯红灯没人管",
             "学校门口接孩子车辆乱停", "货车违停占用车道"],
    "人社": ["公司拖欠工资三个月", "老板不发工资", "工地欠薪农民工讨薪",
             "单位不交社保", "离职后工资一直不结", "加班费拖欠不给",
             "社保断缴怎么办", "工资被克扣讨不回"],
}  # fmt: skip


def _rows() -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for label, letters in HISTORY.items():
        texts += letters
        labels += [label] * len(letters)
    return texts, labels


def test_learn_writes_readable_rules_and_routes_unseen_text() -> None:
    texts, labels = _rows()
    ruleset = learn(
        texts, labels, name="学习测试",
        targets={"城管": Target(lead_unit="dept-cgj")},
        options=LearnOptions(min_df=1),
    )  # fmt: skip
    assert {r.label for r in ruleset.rules} == set(HISTORY)
    by_label = {r.label: r for r in ruleset.rules}
    assert by_label["城管"].lead_unit == "dept-cgj" and by_label["交警"].lead_unit is None
    top = max(by_label["人社"].keywords, key=by_label["人社"].keywords.get)
    assert top in {"工资", "拖欠", "社保", "欠薪"}
    router = Router(ruleset)
    assert router.route("我们公司已经两个月没发工资了").candidates[0].label == "人社"
    assert router.route("门口天天有人摆摊").candidates[0].label == "城管"


def test_evaluate_reports_the_figures() -> None:
    texts, labels = _rows()
    router = Router(learn(texts, labels, options=LearnOptions(min_df=1)))
    report = evaluate(router, [*texts, "今天天气很好"], [*labels, "交警"])
    data = report.to_dict()
    assert set(data) >= {"accuracy", "macro_f1", "per_label", "confusion", "n",
                         "tickets_per_second"}  # fmt: skip
    assert data["n"] == 25
    assert 0.8 < data["accuracy"] < 1.0  # the last row cannot be right
    assert data["confusion"]["交警"]["（未识别）"] == 1
    assert data["per_label"]["人社"]["recall"] == 1.0


def test_learn_refuses_mismatched_lengths() -> None:
    with pytest.raises(ValueError):
        learn(["a"], ["x", "y"])
