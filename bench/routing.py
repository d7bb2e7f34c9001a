"""Routing benchmark: learned rulesets against TF-IDF + LinearSVC, routing speed, memory.

Reads the labelled public messages (CSV: id, title, time, content, label) from ../shared/data,
never from the repository, and skips cleanly (exit 0) when the file is absent.

1. Quality: k-fold cross-validation (stratified, shuffled). On each split, a ruleset learned
   with routing.learn is scored by routing.learn.evaluate, and a TF-IDF + LinearSVC baseline
   (scikit-learn defaults, the same jieba tokens) by sklearn's macro-F1.
2. Speed on one core: Router.route on texts cut to 200 characters, against bare jieba.lcut.
3. Memory: peak RSS of a fresh interpreter holding a compiled Router (a web worker), and the
   same with the jieba segmenter loaded (a learning process).

    .venv/bin/python bench/routing.py --folds 5 --seed 0
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Run as `python bench/routing.py`, this file's folder comes first on sys.path and its name
# would shadow the routing package: drop that entry and look in the repository first.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or os.curdir).resolve() != _HERE]
sys.path.insert(0, str(REPO))

import jieba  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.metrics import accuracy_score, f1_score  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

from routing.classifier import Router  # noqa: E402
from routing.learn import NONE_LABEL, evaluate, learn  # noqa: E402
from routing.rules import Ruleset, load_yaml  # noqa: E402
from routing.segmenter import default_segmenter  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data" / "public_messages_495.csv"
DEFAULT_RULESET = REPO / "routing" / "data" / "default_ruleset.yaml"
TARGET_TICKETS_PER_SECOND = 5000
TARGET_JIEBA_RATIO = 2.0

# Peak RSS of a fresh interpreter; argv[1] says whether to load the jieba segmenter too.
MEMORY_PROBE = """
import json, resource, sys
from pathlib import Path
import routing.classifier
from routing.rules import load_yaml
path = Path("routing/data/default_ruleset.yaml")
router = routing.classifier.Router(load_yaml(path.read_text("utf-8")))
router.route("和平路菜市场门口有人长期占道经营，行人只能走机动车道。")
if sys.argv[1] == "segmenter":
    from routing.segmenter import default_segmenter
    default_segmenter().tokens("和平路菜市场门口有人长期占道经营，行人只能走机动车道。")
hwm = [line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:")]
print(json.dumps({
    "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    "vmhwm_kb": int(hwm[0]) if hwm else None,
    "jieba_loaded": "jieba" in sys.modules,
}))
"""
BARE_PROBE = """
import json, resource
print(json.dumps({"maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""
# Linux keeps ru_maxrss across execve: a child exec'd straight from this (large) process would
# report this process's peak. A small interpreter in between starts the probe instead.
LAUNCHER = (
    "import subprocess, sys; "
    "sys.exit(subprocess.run([sys.executable, '-c', *sys.argv[1:]]).returncode)"
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="labelled CSV messages")
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds")
    parser.add_argument("--seed", type=int, default=0, help="shuffle seed of the folds")
    parser.add_argument(
        "--chars", type=int, default=200, help="texts are cut to this length for the speed test"
    )
    parser.add_argument(
        "--min-seconds", type=float, default=2.0, help="minimum timed duration per speed figure"
    )
    parser.add_argument(
        "--skip", choices=("quality", "speed", "memory"), action="append", default=[],
        help="leave out a section (repeatable)",
    )  # fmt: skip
    args = parser.parse_args()
    if args.folds < 2 or args.chars < 1 or args.min_seconds <= 0:
        parser.error("--folds must be >= 2, --chars and --min-seconds positive")
    return args


def load_rows(path: Path) -> tuple[list[str], list[str]]:
    """(texts, labels): title + newline + content, and the label column."""
    texts: list[str] = []
    labels: list[str] = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            label = (row.get("label") or "").strip()
            text = f"{row.get('title') or ''}\n{row.get('content') or ''}"
            if label and text.strip():
                texts.append(text)
                labels.append(label)
    return texts, labels


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def keyword_count(ruleset: Ruleset) -> int:
    return sum(len(rule.keywords) for rule in ruleset.rules)


# ---------------------------------------------------------------- quality


def quality(texts: list[str], labels: list[str], folds: int, seed: int) -> None:
    print(f"\n== quality: {folds}-fold stratified cross-validation (seed {seed}) ==")
    segmenter = default_segmenter()
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    ours: dict[str, list[float]] = {
        k: [] for k in ("f1", "acc", "coverage", "conf_acc", "learn", "keywords")
    }
    base: dict[str, list[float]] = {k: [] for k in ("f1", "acc", "fit")}
    check_gap = 0.0
    for fold, (train, test) in enumerate(splitter.split(texts, labels), 1):
        train_texts = [texts[i] for i in train]
        train_labels = [labels[i] for i in train]
        test_texts = [texts[i] for i in test]
        test_labels = [labels[i] for i in test]

        started = time.perf_counter()
        ruleset = learn(train_texts, train_labels)
        learn_seconds = time.perf_counter() - started
        router = Router(ruleset)
        report = evaluate(router, test_texts, test_labels)
        # Cross-check evaluate() against sklearn on the same predictions (gold labels only).
        predicted = []
        for text in test_texts:
            decision = router.route(text)
            predicted.append(decision.candidates[0].label if decision.candidates else NONE_LABEL)
        sk_f1 = f1_score(test_labels, predicted, labels=sorted(set(test_labels)), average="macro")
        check_gap = max(check_gap, abs(sk_f1 - report.macro_f1))

        ours["f1"].append(report.macro_f1)
        ours["acc"].append(report.accuracy)
        ours["coverage"].append(report.coverage)
        ours["conf_acc"].append(report.confident_accuracy)
        ours["learn"].append(learn_seconds)
        ours["keywords"].append(keyword_count(ruleset))

        started = time.perf_counter()
        vectorizer = TfidfVectorizer(
            tokenizer=segmenter.tokens, lowercase=False, token_pattern=None, sublinear_tf=True
        )
        model = LinearSVC().fit(vectorizer.fit_transform(train_texts), train_labels)
        guessed = model.predict(vectorizer.transform(test_texts))
        base["fit"].append(time.perf_counter() - started)
        base["f1"].append(float(f1_score(test_labels, guessed, average="macro")))
        base["acc"].append(float(accuracy_score(test_labels, guessed)))

        print(
            f"fold {fold}/{folds} (train {len(train)}, test {len(test)}): "
            f"ours macro-F1 {report.macro_f1:.4f} acc {report.accuracy:.4f} "
            f"coverage {report.coverage:.1%} confident-acc {report.confident_accuracy:.4f} "
            f"keywords {keyword_count(ruleset)} learn {learn_seconds:.2f} s | "
            f"baseline macro-F1 {base['f1'][-1]:.4f} acc {base['acc'][-1]:.4f} "
            f"fit+predict {base['fit'][-1]:.2f} s"
        )

    print("\nmean ± sample std over folds")
    rows = (
        ("macro-F1", ours["f1"], base["f1"]),
        ("accuracy", ours["acc"], base["acc"]),
    )
    for name, a, b in rows:
        (ma, sa), (mb, sb) = mean_std(a), mean_std(b)
        print(
            f"  {name:<20} ours {ma:.4f} ± {sa:.4f}   baseline {mb:.4f} ± {sb:.4f}   "
            f"ours/baseline {ma / mb:.3f}"
        )
    for name, key, fmt in (
        ("coverage", "coverage", "{:.1%} ± {:.1%}"),
        ("confident accuracy", "conf_acc", "{:.4f} ± {:.4f}"),
        ("learn time (s)", "learn", "{:.2f} ± {:.2f}"),
    ):
        print(f"  {name:<20} ours " + fmt.format(*mean_std(ours[key])))
    print("  {:<20} baseline {:.2f} ± {:.2f}".format("fit+predict (s)", *mean_std(base["fit"])))
    counts = ours["keywords"]
    n_labels = len(set(labels))
    print(
        f"  {'keywords/ruleset':<20} mean {statistics.fmean(counts):.0f} "
        f"(min {min(counts):.0f}, max {max(counts):.0f}) over {n_labels} labels, "
        f"{statistics.fmean(counts) / n_labels:.0f} per label"
    )
    print(f"  check: |sklearn macro-F1 of our predictions - report.macro_f1| <= {check_gap:.4f}")


# ---------------------------------------------------------------- speed


def seconds_per_call(fn: Callable[[str], object], items: list[str], min_seconds: float) -> float:
    """Warm up with one pass, then repeat whole passes until ``min_seconds`` have run."""
    for item in items:
        fn(item)
    calls = 0
    started = time.perf_counter()
    while True:
        for item in items:
            fn(item)
        calls += len(items)
        elapsed = time.perf_counter() - started
        if elapsed >= min_seconds:
            return elapsed / calls


def pin_one_core() -> str:
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity)"
    core = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})
    return f"pinned to cpu {core}"


def speed(texts: list[str], labels: list[str], chars: int, min_seconds: float) -> None:
    short = [text[:chars] for text in texts]
    print(f"\n== speed on one core ({pin_one_core()}) ==")
    print(
        f"texts: {len(short)} messages cut to {chars} characters "
        f"(mean {statistics.fmean(len(t) for t in short):.0f}); >= {min_seconds:g} s per figure"
    )
    started = time.perf_counter()
    learned = Router(learn(texts, labels))
    print(
        f"learned ruleset on all {len(texts)} rows + Router: {time.perf_counter() - started:.2f} s"
    )
    started = time.perf_counter()
    default = Router(load_yaml(DEFAULT_RULESET.read_text("utf-8")))
    print(f"default ruleset load + Router: {time.perf_counter() - started:.3f} s")

    jieba.initialize()  # the module-level default tokenizer (the segmenter set its log level)
    tokenizer = default_segmenter().tokenizer

    route_learned = seconds_per_call(learned.route, short, min_seconds)
    route_default = seconds_per_call(default.route, short, min_seconds)
    lcut_hmm = seconds_per_call(jieba.lcut, short, min_seconds)
    lcut_plain = seconds_per_call(lambda t: tokenizer.lcut(t, HMM=False), short, min_seconds)

    print(f"  route (learned ruleset)       {1 / route_learned:10.0f} tickets/s")
    print(f"  route (default ruleset)       {1 / route_default:10.0f} tickets/s")
    print(f"  jieba.lcut (HMM=True)         {1 / lcut_hmm:10.0f} texts/s")
    print(f"  segmenter lcut (HMM=False)    {1 / lcut_plain:10.0f} texts/s")
    print(f"  route learned / jieba.lcut HMM=True     {route_learned / lcut_hmm:.2f}x")
    print(f"  route learned / segmenter HMM=False     {route_learned / lcut_plain:.2f}x")
    print(f"  route default / jieba.lcut HMM=True     {route_default / lcut_hmm:.2f}x")
    print(f"  route default / segmenter HMM=False     {route_default / lcut_plain:.2f}x")
    print(f"target: >= {TARGET_TICKETS_PER_SECOND} tickets/s on one core")
    print(f"target: routing time <= {TARGET_JIEBA_RATIO:g}x jieba.lcut time")
    for name, per_call in (("learned", route_learned), ("default", route_default)):
        met = 1 / per_call >= TARGET_TICKETS_PER_SECOND
        ratio_met = per_call / lcut_hmm <= TARGET_JIEBA_RATIO
        ratio_met_plain = per_call / lcut_plain <= TARGET_JIEBA_RATIO
        print(
            f"result ({name}): throughput target {'met' if met else 'NOT met'}; "
            f"jieba ratio target {'met' if ratio_met else 'NOT met'} (HMM=True), "
            f"{'met' if ratio_met_plain else 'NOT met'} (HMM=False)"
        )


# ---------------------------------------------------------------- memory


def probe(code: str, *argv: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", LAUNCHER, code, *argv],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def memory() -> None:
    print("\n== memory: peak RSS of a fresh interpreter (ru_maxrss) ==")
    bare = probe(BARE_PROBE)
    worker = probe(MEMORY_PROBE, "router")
    learner = probe(MEMORY_PROBE, "segmenter")
    for name, figures in (
        ("bare python (reference)", bare),
        ("(a) router, default ruleset", worker),
        ("(b) router + segmenter", learner),
    ):
        extra = ""
        if figures.get("vmhwm_kb"):
            extra += f"  (VmHWM {float(str(figures['vmhwm_kb'])) / 1024:.1f} MB"
            extra += f", jieba imported: {figures['jieba_loaded']})"
        megabytes = float(str(figures["maxrss_kb"])) / 1024
        print(f"  {name:<30} {megabytes:8.1f} MB{extra}")
    added = (float(str(learner["maxrss_kb"])) - float(str(worker["maxrss_kb"]))) / 1024
    print(f"  segmenter adds {added:.1f} MB to a worker")


def main() -> int:
    args = parse_args()
    if not args.data.exists():
        print(f"data file {args.data} not found; skipping the routing benchmark")
        return 0
    texts, labels = load_rows(args.data)
    if not texts:
        print(f"data file {args.data} has no usable rows; skipping the routing benchmark")
        return 0
    counts = {lb: labels.count(lb) for lb in sorted(set(labels), key=labels.count, reverse=True)}
    print(f"data: {len(texts)} rows from {args.data}, {len(counts)} labels: {counts}")
    print(f"environment: python {sys.version.split()[0]}, cpus {os.cpu_count()}")

    started = time.perf_counter()
    default_segmenter()
    print(f"segmenter (jieba + domain dictionary) loaded in {time.perf_counter() - started:.2f} s")

    if "quality" not in args.skip:
        quality(texts, labels, args.folds, args.seed)
    if "speed" not in args.skip:
        speed(texts, labels, args.chars, args.min_seconds)
    if "memory" not in args.skip:
        memory()
    return 0


if __name__ == "__main__":
    sys.exit(main())
