"""Learning a readable ruleset from labelled history, and measuring a ruleset on labelled rows.

Features are what the router computes: the vocabulary's terms found in the text (the longest
at each place), idf × (1 + ln count), L2-normalised. Per label, two linear models are fitted
on them (scikit-learn's liblinear) and averaged: a linear SVM, and the same SVM over features
scaled by each term's log-count ratio between the label and the rest (NB-SVM, Wang & Manning
2012), which weighs words that are typical of a label. The average is again one weight per
term and label: the rules' keywords, cut to the strongest per label, which a person can read,
edit and re-weigh.

Confidence is calibrated by cross-fitting: the rows are split in folds, each fold is scored
by rules learned without it, and a logistic curve over (best score, lead over the runner-up)
is fitted on those held-out scores; the threshold is the lowest confidence at which the
held-out decisions were right often enough (``target_precision``). The reliability table of
the held-out rows travels with the ruleset.

numpy, scipy and scikit-learn are imported inside the functions that fit: a web worker that
only routes never loads them.
"""

from __future__ import annotations

import itertools
import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .classifier import Router
from .matcher import TermMatcher
from .rules import MAX_WEIGHT, Calibration, Rule, Ruleset
from .segmenter import WordScanner, default_scanner
from .text import compact, normalize

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Target:
    """What a label means for dispatch: a category and/or a lead unit."""

    category: str | None = None
    lead_unit: str | None = None
    territorial: bool = False


@dataclass(frozen=True)
class LearnOptions:
    keywords_per_label: int = 2500  # strongest positive keywords kept per label
    negatives_per_label: int = 500
    min_df: int = 2
    max_vocabulary: int = 60_000
    c: float = 1.0  # the plain SVM's regularisation
    c_nb: float = 0.5  # the NB-SVM's
    nb_alpha: float = 1.0  # smoothing of the log-count ratios
    folds: int = 5  # cross-fitting folds for the calibration
    target_precision: float = 0.971  # held-out share right among automatic decisions
    threshold: float | None = None  # a fixed threshold instead of the one the target gives
    common_words: int = 5000  # everyday words: the most frequent of jieba's general corpus
    common_share: float = 0.8
    specific_share: float = 0.05  # the least share of the evidence from other words
    seed: int = 0


@dataclass
class LearnReport:
    """What learning measured on held-out rows (the cross-fitting folds)."""

    rows: int
    labels: int
    vocabulary: int
    held_out: int
    threshold: float
    coverage: float  # held-out share above the threshold
    precision: float  # share right among those
    accuracy: float  # of the first choice, all held-out rows
    reliability: list[tuple[float, float, int, float]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def _bodies(texts: Sequence[str]) -> list[str]:
    return [compact(normalize(t)) for t in texts]


def _design(found: list[Counter[str]], term_ids: dict[str, int], idf: Any) -> Any:
    """The router's features as a sparse matrix: idf × (1 + ln count), rows L2-normalised."""
    import numpy as np
    from scipy import sparse

    rows, cols, values = [], [], []
    for row, counts in enumerate(found):
        for term, count in counts.items():
            column = term_ids.get(term)
            if column is not None:
                rows.append(row)
                cols.append(column)
                values.append(1.0 + math.log(count))
    matrix = sparse.csr_matrix(
        (np.asarray(values) * idf[np.asarray(cols, dtype=np.int64)], (rows, cols)),
        shape=(len(found), len(term_ids)),
    )
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.diags(1.0 / norms) @ matrix


def _fit(x: Any, y: Any, classes: Any, options: LearnOptions) -> tuple[Any, Any]:
    """Weights (labels × terms) and biases: SVM and NB-SVM averaged, each scaled so that its
    scores are of the same size, then cut to the strongest keywords per label."""
    import numpy as np
    from scipy import sparse
    from sklearn.svm import LinearSVC

    svm = LinearSVC(C=options.c, random_state=options.seed).fit(x, y)
    plain_w, plain_b = svm.coef_, svm.intercept_
    if len(svm.classes_) == 2:  # liblinear answers one model for two labels
        plain_w = np.vstack([-plain_w[0], plain_w[0]])
        plain_b = np.array([-plain_b[0], plain_b[0]])
    # In our label order (sklearn sorts them); a label absent from a fold keeps no weights.
    position = {label: k for k, label in enumerate(svm.classes_)}
    plain_w = np.vstack([plain_w[position[c]] if c in position else np.zeros(x.shape[1])
                         for c in classes])  # fmt: skip
    plain_b = np.array([plain_b[position[c]] if c in position else -1.0 for c in classes])
    present = x.copy()
    present.data[:] = 1.0
    nb_w = np.zeros_like(plain_w)
    nb_b = np.zeros(len(classes))
    for k, label in enumerate(classes):
        mine = y == label
        p = options.nb_alpha + np.asarray(present[mine].sum(axis=0)).ravel()
        q = options.nb_alpha + np.asarray(present[~mine].sum(axis=0)).ravel()
        ratio = np.log((p / p.sum()) / (q / q.sum()))
        model = LinearSVC(C=options.c_nb, random_state=options.seed).fit(
            x @ sparse.diags(ratio), mine.astype(int)
        )
        nb_w[k] = model.coef_[0] * ratio
        nb_b[k] = model.intercept_[0]

    def scaled(w: Any, b: Any) -> tuple[Any, Any]:
        size = float(np.abs(x @ w.T + b).mean()) or 1.0
        return w / size, b / size

    (w1, b1), (w2, b2) = scaled(plain_w, plain_b), scaled(nb_w, nb_b)
    weights, biases = (w1 + w2) / 2, (b1 + b2) / 2
    weights = np.clip(weights, -MAX_WEIGHT, MAX_WEIGHT)
    for k in range(len(classes)):
        row = weights[k]
        keep = np.zeros(row.shape, dtype=bool)
        order = np.argsort(row)
        keep[order[::-1][: options.keywords_per_label]] = True
        keep[order[: options.negatives_per_label]] = True
        keep &= np.abs(row) >= 5e-4  # what rounds to 0 in the ruleset
        row[~keep] = 0.0
    return weights, np.clip(biases, -MAX_WEIGHT, MAX_WEIGHT)


def _scores(x: Any, weights: Any, biases: Any) -> tuple[Any, Any, Any]:
    """Per row: the best label's index, its score, and the runner-up's score."""
    import numpy as np

    scores = x @ weights.T + biases
    order = np.argsort(-scores, axis=1)
    rows = np.arange(scores.shape[0])
    runner = scores[rows, order[:, 1]] if scores.shape[1] > 1 else np.zeros(len(rows))
    return order[:, 0], scores[rows, order[:, 0]], runner


def _common_decides(x: Any, weights: Any, best: Any, common: Any, share: float,
                    specific: float) -> Any:  # fmt: skip
    """Rows whose winning label rests on everyday words (as Router._common_word_decides): one
    carries more than ``share`` of the evidence, or all together leave less than ``specific``
    to the other words."""
    import numpy as np

    x = x.tocsr()
    flags = np.zeros(x.shape[0], dtype=bool)
    for i in range(x.shape[0]):
        start, end = x.indptr[i], x.indptr[i + 1]
        columns = x.indices[start:end]
        contributions = x.data[start:end] * weights[best[i], columns]
        positive = contributions > 0
        if not positive.any():
            continue
        top = int(np.argmax(contributions))
        total = contributions[positive].sum()
        rest = contributions[positive & ~common[columns]].sum()
        flags[i] = (bool(common[columns[top]]) and contributions[top] / total > share) or (
            rest / total < specific
        )
    return flags


def _threshold(confidence: Any, right: Any, allowed: Any, target: float) -> float:
    """The lowest confidence whose automatic decisions (allowed ones above it) were right at
    least ``target`` of the time on the held-out rows; 1.0 when none are."""
    import numpy as np

    order = np.argsort(-confidence, kind="stable")
    kept = allowed[order]
    hits = np.cumsum(right[order] & kept)
    taken = np.cumsum(kept)
    precision = np.where(taken > 0, hits / np.maximum(taken, 1), 1.0)
    good = np.nonzero((precision >= target) & kept)[0]
    if len(good) == 0:
        return 1.0
    return float(confidence[order][good.max()])


def _reliability(confidence: Any, right: Any) -> list[tuple[float, float, int, float]]:
    table = []
    edges = [0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 1.0001]
    for low, high in itertools.pairwise(edges):
        inside = (confidence >= low) & (confidence < high)
        if inside.any():
            table.append((low, min(high, 1.0), int(inside.sum()),
                          round(float(right[inside].mean()), 4)))  # fmt: skip
    return table


def learn(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    name: str = "学习所得规则",
    targets: dict[str, Target] | None = None,
    options: LearnOptions = LearnOptions(),
    segmenter: WordScanner | Any | None = None,
    base: Ruleset | None = None,
    progress: Progress | None = None,
) -> Ruleset:
    """A draft ruleset of weighted keywords per label. ``base`` lends its places and units."""
    return learn_with_report(texts, labels, name=name, targets=targets, options=options,
                             segmenter=segmenter, base=base, progress=progress)[0]  # fmt: skip


def learn_with_report(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    name: str = "学习所得规则",
    targets: dict[str, Target] | None = None,
    options: LearnOptions = LearnOptions(),
    segmenter: WordScanner | Any | None = None,
    base: Ruleset | None = None,
    progress: Progress | None = None,
) -> tuple[Ruleset, LearnReport]:
    """The draft and what cross-fitting measured. ``segmenter`` is anything with
    ``tokens(text, normalized=True)`` (the WordScanner by default, or jieba's Segmenter)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    if len(texts) != len(labels):
        raise ValueError("texts and labels differ in length")
    if len(set(labels)) < 2:
        raise ValueError("at least two different labels are needed")
    tell = progress or (lambda stage, done, total: None)
    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    scanner = segmenter or default_scanner()
    seconds["dictionary"] = time.perf_counter() - clock

    clock = time.perf_counter()
    bodies = _bodies(texts)
    n = len(bodies)
    df: Counter[str] = Counter()
    step = max(1, n // 100)
    for i, body in enumerate(bodies):
        df.update(set(scanner.tokens(body, normalized=True)))
        if i % step == 0:
            tell("切词", i, n)
    tell("切词", n, n)
    vocabulary = [t for t, c in df.most_common(options.max_vocabulary) if c >= options.min_df]
    matcher = TermMatcher(vocabulary)
    found = []
    for i, body in enumerate(bodies):
        found.append(matcher.find(body))
        if i % step == 0:
            tell("匹配关键词", i, n)
    tell("匹配关键词", n, n)
    # Document frequency as the router sees it (longest matches), not as the cutter does.
    seen: Counter[str] = Counter()
    for counts in found:
        seen.update(counts.keys())
    vocabulary = [t for t in vocabulary if seen[t] >= options.min_df]
    term_ids = {t: i for i, t in enumerate(vocabulary)}
    idf = np.array([math.log((1 + n) / (1 + seen[t])) + 1.0 for t in vocabulary])
    x = _design(found, term_ids, idf)
    y = np.asarray(labels, dtype=object)
    sizes = Counter(labels)
    classes = np.array(sorted(sizes, key=lambda lb: (-sizes[lb], lb)), dtype=object)
    everyday = scanner.common_words(options.common_words) if hasattr(
        scanner, "common_words") else frozenset()  # fmt: skip
    common = np.array([t in everyday for t in vocabulary], dtype=bool)
    seconds["features"] = time.perf_counter() - clock

    # Cross-fitting: every row is scored by rules that never saw it.
    clock = time.perf_counter()
    smallest = min(sizes.values())
    folds = min(options.folds, smallest)
    held_best = np.zeros(n)
    held_runner = np.zeros(n)
    held_right = np.zeros(n, dtype=bool)
    held_common = np.zeros(n, dtype=bool)
    held_out = 0
    if folds >= 2:
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=options.seed)
        for fold, (train, test) in enumerate(splitter.split(np.zeros(n), y), 1):
            tell("交叉校准", fold - 1, folds + 1)
            weights, biases = _fit(x[train], y[train], classes, options)
            index, best, runner = _scores(x[test], weights, biases)
            held_best[test], held_runner[test] = best, runner
            held_right[test] = classes[index] == y[test]
            held_common[test] = _common_decides(x[test], weights, index, common,
                                                options.common_share,
                                                options.specific_share)  # fmt: skip
        held_out = n
    seconds["cross_fitting"] = time.perf_counter() - clock

    clock = time.perf_counter()
    tell("交叉校准", folds, folds + 1)
    weights, biases = _fit(x, y, classes, options)
    tell("交叉校准", folds + 1, folds + 1)
    seconds["fit"] = time.perf_counter() - clock

    calibration: Calibration | None = None
    threshold = options.threshold if options.threshold is not None else 0.6
    report = LearnReport(rows=n, labels=len(classes), vocabulary=len(vocabulary),
                         held_out=held_out, threshold=threshold, coverage=0.0, precision=0.0,
                         accuracy=float(held_right.mean()) if held_out else 0.0,
                         seconds=seconds)  # fmt: skip
    if held_out:
        features = np.column_stack([held_best, held_best - held_runner])
        # One pseudo-row of each outcome at the two ends: the curve exists even when every
        # held-out row was right, and stays below certainty.
        ends = np.array([features.min(axis=0), features.max(axis=0)])
        curve = LogisticRegression(C=100.0).fit(
            np.vstack([features, ends, ends]),
            np.concatenate([held_right, [True, True, False, False]]),
        )
        confidence = curve.predict_proba(features)[:, 1]
        if options.threshold is None:
            threshold = min(_threshold(confidence, held_right, ~held_common,
                                       options.target_precision), 0.999)  # fmt: skip
        automatic = (confidence >= threshold) & ~held_common
        report.threshold = threshold
        report.coverage = float(automatic.mean())
        report.precision = float(held_right[automatic].mean()) if automatic.any() else 0.0
        report.reliability = _reliability(confidence, held_right)
        calibration = Calibration(
            best=round(float(curve.coef_[0][0]), 4),
            margin=round(float(curve.coef_[0][1]), 4),
            intercept=round(float(curve.intercept_[0]), 4),
            held_out=held_out,
            reliability=tuple(report.reliability),
        )

    targets = targets or {}
    rules = []
    keyword_terms: set[str] = set()
    for k, label in enumerate(classes):
        row = weights[k]
        chosen = np.nonzero(row)[0]
        ranked = sorted(chosen, key=lambda j: -row[j])
        keywords = {vocabulary[j]: round(float(row[j]), 3) for j in ranked
                    if round(float(row[j]), 3)}  # fmt: skip
        keyword_terms.update(keywords)
        target = targets.get(label, Target())
        rules.append(
            Rule(
                label=label,
                keywords=keywords,
                category=target.category,
                lead_unit=target.lead_unit,
                territorial=target.territorial,
                bias=round(float(biases[k]), 3),
            )
        )
    ruleset = Ruleset(
        name=name,
        rules=tuple(rules),
        places=base.places if base else (),
        home_regions=base.home_regions if base else (),
        threshold=round(threshold, 4),
        idf={t: round(float(idf[i]), 4) for i, t in enumerate(vocabulary)},
        units=base.units if base else {},
        calibration=calibration,
        common_terms=frozenset(t for t in keyword_terms if t in everyday),
        common_share=options.common_share,
        specific_share=options.specific_share,
    )
    return ruleset, report


# ---------------------------------------------------------------- evaluation


@dataclass
class Report:
    n: int
    accuracy: float
    macro_f1: float
    per_label: dict[str, dict[str, float]]
    confusion: dict[str, dict[str, int]]
    coverage: float  # share routed automatically (a confident decision with a lead unit)
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
        if decision.confident:  # what would be dispatched without a person
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
