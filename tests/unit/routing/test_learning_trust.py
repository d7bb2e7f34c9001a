"""Learning at a city's scale: confidence calibrated on held-out rows, everyday words that
never decide alone, and rulesets that carry both."""

from __future__ import annotations

import random

import pytest

from routing.classifier import Router
from routing.learn import LearnOptions, Target, learn_with_report
from routing.rules import csv_rows, dump_yaml, load_csv, load_yaml
from routing.segmenter import default_scanner

# Word pools we wrote for these tests: each label's own words, and words every letter uses.
POOLS = {
    "劳动": ["工资", "拖欠", "社保", "加班费", "劳动合同", "辞退", "欠薪", "养老保险", "工伤",
             "讨薪"],
    "城建": ["物业", "电梯", "漏水", "违章建筑", "小区", "路灯", "井盖", "房屋", "拆迁", "施工"],
    "教育": ["学校", "老师", "学生", "补课", "学费", "幼儿园", "课程", "教材", "招生", "校车"],
}  # fmt: skip
TARGETS = {label: Target(lead_unit=f"unit-{i}") for i, label in enumerate(POOLS)}
FILLER = ["希望", "领导", "尽快", "解决", "反映", "多次", "没有", "结果", "严重", "影响",
          "生活", "部门", "相关", "调查", "处理"]  # fmt: skip


def _rare_words(n: int, seed: int) -> list[str]:
    """Dictionary words of four characters: one per letter lets the weights learn every
    training letter by heart, as thousands of real words do."""
    words = sorted(w for w in default_scanner().frequency if len(w) == 4 and w[0] >= "\u4e00")
    return random.Random(seed).sample(words, n)


def _letters(n: int, noise: float, seed: int, rare: bool = True) -> tuple[list[str], list[str]]:
    """Letters of a few topical words among filler and one rare word of their own;
    ``noise`` of the labels are wrong."""
    rng = random.Random(seed)
    labels = sorted(POOLS)
    own = _rare_words(n, seed) if rare else [""] * n
    texts, gold = [], []
    for i in range(n):
        label = labels[i % len(labels)]
        words = rng.sample(POOLS[label], 2) + rng.sample(FILLER, 6) + [own[i]]
        rng.shuffle(words)
        texts.append("，".join(words) + "。")
        gold.append(rng.choice([x for x in labels if x != label]) if rng.random() < noise
                    else label)  # fmt: skip
    return texts, gold


def test_confidence_is_calibrated_on_held_out_rows_not_on_training_rows() -> None:
    # A fifth of the labels are wrong: the weights fit the training rows almost perfectly,
    # yet only ~80% of decisions on unseen letters can be right. Confidence must say 80%.
    texts, labels = _letters(600, noise=0.2, seed=1)
    ruleset, report = learn_with_report(texts, labels, options=LearnOptions(min_df=1))
    router = Router(ruleset)
    decisions = [router.route(text) for text in texts]
    training_accuracy = sum(
        d.candidates[0].label == gold for d, gold in zip(decisions, labels, strict=True)
    ) / len(texts)
    mean_confidence = sum(d.confidence for d in decisions) / len(decisions)
    assert report.held_out == len(texts) and ruleset.calibration is not None
    assert ruleset.calibration.held_out == len(texts)
    assert training_accuracy > 0.9  # what a calibration on training rows would promise
    assert report.accuracy == pytest.approx(0.8, abs=0.05)
    assert mean_confidence == pytest.approx(report.accuracy, abs=0.06)
    assert mean_confidence < training_accuracy - 0.08
    # The reliability table covers every held-out row, and its bins say what they saw.
    assert sum(rows for _, _, rows, _ in report.reliability) == len(texts)


def test_threshold_keeps_automatic_decisions_right_at_the_target() -> None:
    texts, labels = _letters(600, noise=0.02, seed=2, rare=False)
    options = LearnOptions(target_precision=0.97)
    ruleset, report = learn_with_report(texts, labels, options=options, targets=TARGETS)
    assert report.precision >= 0.97 and report.coverage > 0.5
    assert ruleset.threshold == pytest.approx(report.threshold, abs=1e-4)
    fresh, gold = _letters(300, noise=0.02, seed=3, rare=False)
    router = Router(ruleset)
    confident = [(router.route(t), g) for t, g in zip(fresh, gold, strict=True)]
    confident = [(d, g) for d, g in confident if d.confident]
    right = sum(d.label == g for d, g in confident) / len(confident)
    assert right >= 0.95  # 2% of the fresh labels are wrong whatever the rules say


COMMON_RULESET = """
name: 常用词测试
threshold: 0.5
calibration: {best: 1.0, margin: 3.0, intercept: -1.0}
common_terms: [员工]
common_share: 0.7
rules:
  - label: 劳动
    lead_unit: dept-rs
    keywords: {员工: 3.0, 工资: 2.0, 拖欠: 2.0}
  - label: 城建
    lead_unit: dept-zj
    keywords: {物业: 2.0, 电梯: 2.0}
"""


def test_an_everyday_word_alone_does_not_make_a_ticket_confident() -> None:
    router = Router(load_yaml(COMMON_RULESET))
    alone = router.route("请问员工方面有没有什么新的规定，我想了解一下。")
    assert not alone.confident and alone.label is None
    assert "员工" in alone.reason and "常用词" in alone.reason
    assert alone.candidates[0].label == "劳动"  # still shown as the operator's suggestion
    backed = router.route("公司拖欠员工三个月工资，多次讨要无果。")
    assert backed.confident and backed.label == "劳动"


def test_without_common_terms_the_same_word_decides() -> None:
    # The control: the guard, not the weights, keeps the first letter above from the unit.
    data = COMMON_RULESET.replace("common_terms: [员工]\n", "")
    decision = Router(load_yaml(data)).route("请问员工方面有没有什么新的规定，我想了解一下。")
    assert decision.confident and decision.label == "劳动"


def test_everyday_words_learned_from_the_general_corpus_never_decide_alone() -> None:
    texts, labels = _letters(300, noise=0.0, seed=4)
    texts += [f"单位的员工反映{w}的问题" for w in ("工资", "社保", "加班费")] * 10
    labels += ["劳动"] * 30
    ruleset, _ = learn_with_report(texts, labels, options=LearnOptions(min_df=1), targets=TARGETS)
    assert "员工" in ruleset.common_terms and "欠薪" not in ruleset.common_terms
    router = Router(ruleset)
    assert not router.route("我昨天打了三次电话都没人接，想问一下员工的事情到底找谁。").confident
    assert router.route("公司拖欠工资三个月，社保也停缴了，讨薪无门。").confident


def test_calibration_and_common_terms_survive_yaml_and_csv() -> None:
    texts, labels = _letters(150, noise=0.0, seed=5)
    ruleset, _ = learn_with_report(texts, labels, options=LearnOptions(min_df=1))
    again = load_yaml(dump_yaml(ruleset))
    assert again.calibration is not None
    assert again.calibration == ruleset.calibration
    assert again.common_terms == ruleset.common_terms and again.threshold == ruleset.threshold
    import csv
    import io

    buffer = io.StringIO()
    csv.writer(buffer).writerows(csv_rows(ruleset))
    from_csv = load_csv(buffer.getvalue())
    assert from_csv.calibration is not None
    assert from_csv.calibration.margin == ruleset.calibration.margin
    assert from_csv.common_terms == ruleset.common_terms
    text = texts[0]
    assert Router(from_csv).route(text).confidence == Router(ruleset).route(text).confidence


def test_texts_with_spaces_between_words_route_as_without() -> None:
    router = Router(load_yaml(COMMON_RULESET))
    spaced = router.route("公司 拖欠 员工 三个月 工 资")
    plain = router.route("公司拖欠员工三个月工资")
    assert spaced.confidence == plain.confidence and spaced.label == plain.label


EVERYDAY_ONLY = """
name: 常用词测试二
threshold: 0.5
calibration: {best: 1.0, margin: 3.0, intercept: -1.0}
common_terms: [开通, 电话, 到底]
common_share: 0.7
specific_share: 0.05
rules:
  - label: 城建
    lead_unit: dept-zj
    keywords: {开通: 1.5, 电话: 1.5, 到底: 1.5, 电梯: 2.0}
  - label: 劳动
    lead_unit: dept-rs
    keywords: {工资: 2.0}
"""


def test_everyday_words_together_do_not_decide_either() -> None:
    router = Router(load_yaml(EVERYDAY_ONLY))
    vague = router.route("打了三次电话，想问开通的事到底找谁。")
    assert not vague.confident and "常用词" in vague.reason
    assert router.route("电梯坏了一个月，打电话到底没人管。").confident
    control = Router(load_yaml(EVERYDAY_ONLY.replace("specific_share: 0.05", "specific_share: 0")))
    assert control.route("打了三次电话，想问开通的事到底找谁。").confident


def test_an_address_in_another_province_goes_to_a_person() -> None:
    data = COMMON_RULESET.replace(
        "common_share: 0.7\n", "common_share: 0.7\nhome_regions: [浙江, 杭州]\n"
    )
    router = Router(load_yaml(data))
    far = router.route("我在广东省东莞市一家厂打工，公司拖欠工资三个月。")
    assert not far.confident and "广东省东莞市" in far.reason
    assert far.candidates[0].label == "劳动"
    # The home province, or a mention of home beside the other one, is no reason to stop.
    assert router.route("浙江省温州市的公司拖欠工资三个月。").confident
    assert router.route("老板从北京市朝阳区回来了，可杭州的公司还拖欠工资三个月。").confident
    # Without home regions the check is off (hand-written rulesets keep their behaviour).
    assert (
        Router(load_yaml(COMMON_RULESET))
        .route("我在广东省东莞市一家厂打工，公司拖欠工资三个月。")
        .confident
    )
