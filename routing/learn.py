"""Learning a readable ruleset from labelled history, and measuring a ruleset on labelled rows.

The learner is a linear support-vector machine (L2-regularised squared hinge, one label
against the rest, solved by dual coordinate descent as in liblinear) over the same features
the router computes: the ruleset's terms found in the text, scaled by idf and length. Its
weights are then cut down to the strongest keywords per label (and the strongest negative
ones) and written out as ordinary rules a person can read, edit and re-weigh; the idf table
and a confidence scale fitted on the training rows travel with the ruleset.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .classifier import Router, confidence_of
from .matcher import TermMatcher
from .rules import MAX_WEIGHT, Rule, Ruleset
from .segmenter import Segmenter, default_segmenter
from .text import normalize


@dataclass(frozen=True)
class Target:
    """What a label means for dispatch: a category and/or a lead unit."""

    category: str | None = None
    lead_unit: str | None = None
    territorial: bool = False


@dataclass(frozen=True)
class LearnOptions:
    keywords_per_label: int = 150
    negatives_per_label: int = 30
    min_df: int = 2
    max_vocabulary: int = 50_000
    c: float = 1.0
    epochs: int = 30
    threshold: float = 0.6
    seed: int = 0


Vector = list[tuple[int, float]]


def _features(found: Counter[str], term_ids: dict[str, int], idf: list[float]) -> Vector:
    """The router's view of a text: idf × (1 + ln count), L2-normalised."""
    vector = []
    for term, count in found.items():
        index = term_ids.get(term)
        if index is not None:
            vector.append((index, idf[index] * (1.0 + math.log(count))))
    norm = math.sqrt(sum(v * v for _, v in vector)) or 1.0
    return [(i, v / norm) for i, v in vector]


def _train_binary(
    data: list[Vector], signs: list[int], dims: int, c: float, epochs: int, rng: random.Random
) -> tuple[list[float], float]:
    """Dual coordinate descent for the L2-loss linear SVM; the bias is a constant feature 1."""
    w = [0.0] * dims
    bias = 0.0
    alpha = [0.0] * len(data)
    diag = 0.5 / c
    q = [sum(v * v for _, v in x) + 1.0 + diag for x in data]
    order = list(range(len(data)))
    for _ in range(epochs):
        rng.shuffle(order)
        largest = 0.0
        for i in order:
            x, y = data[i], signs[i]
            gradient = y * (sum(w[j] * v for j, v in x) + bias) - 1.0 + diag * alpha[i]
            projected = min(gradient, 0.0) if alpha[i] == 0.0 else gradient
            if abs(projected) < 1e-12:
                continue
            largest = max(largest, abs(projected))
            old = alpha[i]
            alpha[i] = max(old - gradient / q[i], 0.0)
            step = (alpha[i] - old) * y
            for j, v in x:
                w[j] += step * v
            bias += step
        if largest < 1e-3:
            break
    return w, bias


def learn(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    name: str = "学习所得规则",
    targets: dict[str, Target] | None = None,
    options: LearnOptions = LearnOptions(),
    segmenter: Segmenter | None = None,
    base: Ruleset | None = None,
) -> Ruleset:
    """A draft ruleset of weighted keywords per label. ``base`` lends its places and units."""
    if len(texts) != len(labels):
        raise ValueError("texts and labels differ in length")
    segmenter = segmenter or default_segmenter()
    rng = random.Random(options.seed)
    bodies = [normalize(t) for t in texts]
    df: Counter[str] = Counter()
    for body in bodies:
        df.update(set(segmenter.tokens(body, normalized=True)))
    vocabulary = [t for t, n in df.most_common(options.max_vocabulary) if n >= options.min_df]
    matcher = TermMatcher(vocabulary)
    found = [matcher.find(body) for body in bodies]
    # Document frequency as the router will see it (whole-word matches, not jieba tokens).
    seen: Counter[str] = Counter()
    for counts in found:
        seen.update(counts.keys())
    vocabulary = [t for t in vocabulary if seen[t] >= options.min_df]
    term_ids = {t: i for i, t in enumerate(vocabulary)}
    n = len(bodies)
    idf = [math.log((1 + n) / (1 + seen[t])) + 1.0 for t in vocabulary]
    data = [_features(counts, term_ids, idf) for counts in found]

    label_names = sorted(set(labels), key=lambda lb: (-labels.count(lb), lb))
    models: dict[str, tuple[list[float], float]] = {}
    for label in label_names:
        signs = [1 if y == label else -1 for y in labels]
        models[label] = _train_binary(data, signs, len(vocabulary), options.c, options.epochs, rng)

    scale = _calibrate(data, labels, models)
    targets = targets or {}
    rules = []
    for label in label_names:
        w, bias = models[label]
        # The SVM's own weights (idf stays in the ruleset's table, the calibration in its
        # scale), kept within the range a ruleset allows.
        folded = [
            (vocabulary[j], max(-MAX_WEIGHT, min(MAX_WEIGHT, w[j])))
            for j in range(len(vocabulary))
            if w[j]
        ]
        positive = sorted((p for p in folded if p[1] > 0), key=lambda p: -p[1])
        negative = sorted((p for p in folded if p[1] < 0), key=lambda p: p[1])
        keep = positive[: options.keywords_per_label] + negative[: options.negatives_per_label]
        target = targets.get(label, Target())
        rules.append(
            Rule(
                label=label,
                keywords={term: round(weight, 3) for term, weight in keep if round(weight, 3)},
                category=target.category,
                lead_unit=target.lead_unit,
                territorial=target.territorial,
                bias=round(max(-MAX_WEIGHT, min(MAX_WEIGHT, bias)), 3),
            )
        )
    return Ruleset(
        name=name,
        rules=tuple(rules),
        places=base.places if base else (),
        threshold=options.threshold,
        scale=scale,
        idf={t: round(idf[i], 4) for i, t in enumerate(vocabulary)},
        units=base.units if base else {},
    )


def _calibrate(
    data: list[Vector], labels: Sequence[str], models: dict[str, tuple[list[float], float]]
) -> float:
    """The factor that makes the router's confidence best predict whether its first choice is
    right (least log-loss on the training rows); SVM margins alone are on no scale."""
    outcomes = []
    for x, gold in zip(data, labels, strict=True):
        scores = sorted(
            ((b + sum(w[j] * v for j, v in x), label) for label, (w, b) in models.items()),
            reverse=True,
        )
        runner_up = scores[1][0] if len(scores) > 1 else None
        outcomes.append((scores[0][0], runner_up, scores[0][1] == gold))

    def loss(scale: float) -> float:
        total = 0.0
        for best, runner_up, right in outcomes:
            p = min(max(confidence_of(best, runner_up, scale), 1e-9), 1 - 1e-9)
            total -= math.log(p if right else 1.0 - p)
        return total

    return min((0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 15.0), key=loss)


# ---------------------------------------------------------------- evaluation


@dataclass
class Report:
    n: int
    accuracy: float
    macro_f1: float
    per_label: dict[str, dict[str, float]]
    confusion: dict[str, dict[str, int]]
    coverage: float  # share routed automatically (confidence over the threshold)
    confident_accuracy: float  # accuracy among those
    tickets_per_second: float
    labels: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "n": self.n,
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "per_label": self.per_label,
            "confusion": self.confusion,
            "coverage": round(self.coverage, 4),
            "confident_accuracy": round(self.confident_accuracy, 4),
            "tickets_per_second": round(self.tickets_per_second, 1),
        }


NONE_LABEL = "（未识别）"


def evaluate(
    router: Router,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    matches: Callable[[str, str], bool] | None = None,
) -> Report:
    """Route every text and compare the best candidate with the gold label.

    ``matches(predicted_label, gold)`` decides equality (gold labels may be codes or names);
    by default the labels must be equal.
    """
    same = matches or (lambda predicted, gold: predicted == gold)
    started = time.perf_counter()
    decisions = [router.route(text) for text in texts]
    elapsed = time.perf_counter() - started
    predicted: list[str] = []
    confident_total = confident_right = 0
    for decision, gold in zip(decisions, labels, strict=True):
        best = decision.candidates[0].label if decision.candidates else NONE_LABEL
        label = gold if same(best, gold) else best
        predicted.append(label)
        if decision.candidates and decision.confidence >= router.ruleset.threshold:
            confident_total += 1
            confident_right += label == gold
    gold_labels = sorted(set(labels))
    confusion: dict[str, dict[str, int]] = {g: {} for g in gold_labels}
    for gold, guess in zip(labels, predicted, strict=True):
        confusion[gold][guess] = confusion[gold].get(guess, 0) + 1
    per_label: dict[str, dict[str, float]] = {}
    for label in gold_labels:
        tp = confusion[label].get(label, 0)
        fp = sum(row.get(label, 0) for g, row in confusion.items() if g != label)
        fn = sum(confusion[label].values()) - tp
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_label[label] = {
            "precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "support": tp + fn,
        }  # fmt: skip
    n = len(labels)
    right = sum(1 for g, p in zip(labels, predicted, strict=True) if g == p)
    return Report(
        n=n,
        accuracy=right / n if n else 0.0,
        macro_f1=sum(v["f1"] for v in per_label.values()) / len(per_label) if per_label else 0.0,
        per_label=per_label,
        confusion=confusion,
        coverage=confident_total / n if n else 0.0,
        confident_accuracy=confident_right / confident_total if confident_total else 0.0,
        tickets_per_second=n / elapsed if elapsed > 0 else 0.0,
        labels=gold_labels,
    )
