"""routing.similarity: how alike two complaints read (pure, no database)."""

from __future__ import annotations

import random

import pytest

from routing.classifier import Router
from routing.rules import Ruleset
from routing.similarity import LEARNED_VOCABULARY, Budget, Index, TextSimilarity, cosine

VENDING = "和平路菜市场门口有流动摊贩占道经营，早晚高峰行人只能走机动车道，非常危险。"
# The same complaint told again by another caller: other order, other small words.
VENDING_AGAIN = (
    "早晚高峰时段，和平路菜市场门口流动摊贩又在占道经营，行人只好走到机动车道上，太危险了"
)
# Same category, another problem: a fruit stall at a crossing elsewhere.
OTHER_VENDING = "书院路口每天傍晚有人推车卖水果占道经营，堵住了学校门口的人行横道。"

# A learned vocabulary as learn() leaves it: words with their idf (rarer words say more).
WORDS = {"和平路": 5.1, "菜市场": 3.9, "门口": 1.6, "流动摊贩": 3.2, "占道经营": 2.4,
         "早晚高峰": 4.0, "行人": 2.8, "机动车道": 4.4, "危险": 2.1, "书院": 5.3, "路口": 2.6,
         "傍晚": 3.7, "推车": 4.8, "水果": 3.9, "学校": 2.2, "人行横道": 4.6, "每天": 1.4,
         "路灯": 3.0, "不亮": 3.3, "晚上": 1.5}  # fmt: skip


@pytest.fixture
def learned() -> TextSimilarity:
    return TextSimilarity(Router(Ruleset(name="学习", rules=(), idf=WORDS)), alpha=1.0)


@pytest.fixture
def hand_written(router) -> TextSimilarity:  # the conftest's small hand-written ruleset
    return TextSimilarity(router)


def test_the_same_complaint_told_again_scores_high(learned, hand_written) -> None:
    for similarity in (learned, hand_written):
        assert similarity.score(VENDING, VENDING_AGAIN) >= 0.65
        assert similarity.score(VENDING, VENDING) == pytest.approx(1.0)


def test_another_problem_of_the_same_kind_scores_low(learned, hand_written) -> None:
    for similarity in (learned, hand_written):
        assert similarity.score(VENDING, OTHER_VENDING) < 0.5
        assert similarity.score(VENDING, OTHER_VENDING) < similarity.score(VENDING, VENDING_AGAIN)


def test_a_hand_written_ruleset_leans_on_characters_a_learned_one_on_words(router) -> None:
    assert TextSimilarity(router).alpha < 1.0
    big = {f"词{i}": 2.0 for i in range(LEARNED_VOCABULARY)}
    assert TextSimilarity(Router(Ruleset(name="学习", rules=(), idf=big))).alpha == 1.0
    with pytest.raises(ValueError):
        TextSimilarity(router, alpha=1.5)


def test_spaces_of_segmented_text_change_nothing(learned, hand_written) -> None:
    spaced = (
        "和平路 菜市场 门口 有 流动摊贩 占道经营 ， 早晚高峰 行人 只能 走 机动车道 ， 非常 危险 。"
    )
    for similarity in (learned, hand_written):
        assert similarity.profile(spaced) == pytest.approx(similarity.profile(VENDING))


def test_numbers_tell_two_lamps_apart(learned) -> None:
    assert learned.score("3号楼门口路灯不亮，晚上很黑", "5号楼门口路灯不亮，晚上很黑") < 0.8
    assert learned.score("3号楼门口路灯不亮", "3号楼门口的路灯不亮了") > 0.9


@pytest.mark.parametrize("text", ["", "   ", "12345", "ok thanks", "🙂🙂", "\u0000x", "a" * 5000])
def test_texts_without_chinese_are_safe_and_alike_to_nothing(learned, hand_written,
                                                             text) -> None:  # fmt: skip
    for similarity in (learned, hand_written):
        assert similarity.profile(text) == {}
        assert similarity.score(text, VENDING) == 0.0
        assert similarity.score(text, text) == 0.0
    assert cosine({}, {}) == 0.0


def test_the_index_finds_exactly_what_scoring_every_pair_finds(hand_written) -> None:
    rng = random.Random(3)
    parts = [VENDING, VENDING_AGAIN, OTHER_VENDING, "路灯不亮晚上很黑", "垃圾桶满溢没人清运",
             "工地夜间施工噪音扰民", "小区门口乱停车"]  # fmt: skip
    texts = ["".join(rng.sample(parts, rng.randint(1, 3))) for _ in range(120)]
    profiles = [hand_written.profile(t) for t in texts]
    index = Index(profiles[:100])
    for probe in profiles[100:]:
        for threshold in (0.3, 0.6, 0.9):
            brute = sorted(i for i, p in enumerate(profiles[:100]) if cosine(probe, p) >= threshold)
            assert sorted(n.candidate for n in index.near(probe, threshold)) == brute
        found = index.near(probe, 0.3)
        assert [n.score for n in found] == sorted((n.score for n in found), reverse=True)
        assert {n.candidate for n in index.near(probe, 0.3, among={1, 2})} <= {1, 2}


def test_the_index_bounds_its_work_on_a_campaign_of_one_message(hand_written) -> None:
    index = Index([hand_written.profile(VENDING)] * 1000)
    probe = hand_written.profile(VENDING_AGAIN)
    exact = index.near(probe, 0.5)
    assert len(exact) == 1000
    found = index.near(probe, 0.5, budget=Budget(features=4, postings=50, verify=3))
    assert len(found) == 3 and all(n.score == pytest.approx(exact[0].score) for n in found)
    assert all(n.candidate < 50 for n in found)  # the first ones given (newest first)
    assert [n.candidate for n in index.near(probe, 0.5, below=2)] == [0, 1]
