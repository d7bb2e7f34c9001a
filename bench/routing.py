"""Routing benchmark: learned rulesets against TF-IDF + LinearSVC, trust, speed, memory.

Reads the labelled messages from ../shared/data (never from the repository) and skips
cleanly (exit 0) when they are absent: history_7845.jsonl (word-segmented by its publishers:
the spaces are taken out, as nothing may depend on them) and public_messages_495.csv (raw
title + content), 8,340 rows in all.

1. Quality on the same splits for both: 5-fold stratified cross-validation over the 8,340
   rows, and learning on the history / testing on the 495 raw public messages. Ours: a
   ruleset learned with routing.learn, scored through Router.route (the production path);
   baseline: TF-IDF (jieba tokens, sublinear tf) + LinearSVC, scikit-learn defaults.
2. Trust: share of test rows routed without a person (coverage) and share of those right
   (precision), with the threshold and calibration chosen by learning on held-out folds of
   the training rows only; the reliability table over all test rows (confidence bin →
   observed accuracy).
3. Out of scope and everyday words: bench/data/out_of_scope.yaml (written for this project):
   how many were dispatched confidently, where, and on which keywords.
4. Speed on one core: learning all 8,340 rows; Router.route at 200 characters.
5. Memory: peak RSS of a fresh interpreter holding a compiled Router (a web worker), with the
   default and with the learned ruleset, and whether numpy or jieba got loaded.

    .venv/bin/python bench/routing.py --folds 5 --seed 0
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Run as `python bench/routing.py`, this file's folder comes first on sys.path and its name
# would shadow the routing package: drop that entry and look in the repository first.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or os.curdir).resolve() != _HERE]
sys.path.insert(0, str(REPO))

import yaml  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.metrics import accuracy_score, f1_score  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

from routing.classifier import Router  # noqa: E402
from routing.learn import Target, evaluate, learn_with_report  # noqa: E402
from routing.rules import Ruleset, load_yaml  # noqa: E402
from routing.segmenter import default_scanner, default_segmenter  # noqa: E402
from routing.text import compact  # noqa: E402

DATA = REPO.parent / "shared" / "data"
DEFAULT_RULESET = REPO / "routing" / "data" / "default_ruleset.yaml"
OUT_OF_SCOPE = REPO / "bench" / "data" / "out_of_scope.yaml"
TARGET_TICKETS_PER_SECOND = 5000
TARGET_LEARN_SECONDS = 15.0
TARGET_PRECISION = 0.97
TARGET_COVERAGE = 0.80
# The data's own province and city are anonymised as 西地省 and A市.
HOME_REGIONS = ("西地省", "A市")
BINS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 1.0001)

# Peak RSS of a fresh interpreter; argv[1] says whether to load the jieba segmenter too.
MEMORY_PROBE = """
import json, resource, sys
from pathlib import Path
import routing.classifier
from routing.rules import from_dict, load_yaml
path = Path(sys.argv[2] if len(sys.argv) > 2 else "routing/data/default_ruleset.yaml")
if path.suffix == ".json":  # as a worker reads the stored ruleset (JSON from the database)
    ruleset = from_dict(json.loads(path.read_text("utf-8")))
else:
    ruleset = load_yaml(path.read_text("utf-8"))
router = routing.classifier.Router(ruleset)
router.route("和平路菜市场门口有人长期占道经营，行人只能走机动车道。")
if sys.argv[1] == "segmenter":
    from routing.segmenter import default_segmenter
    default_segmenter().tokens("和平路菜市场门口有人长期占道经营，行人只能走机动车道。")
hwm = [line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:")]
print(json.dumps({
    "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    "vmhwm_kb": int(hwm[0]) if hwm else None,
    "jieba_loaded": "jieba" in sys.modules,
    "numpy_loaded": "numpy" in sys.modules,
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
    parser.add_argument("--data", type=Path, default=DATA, help="folder of the labelled data")
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds")
    parser.add_argument("--seed", type=int, default=0, help="shuffle seed of the folds")
    parser.add_argument("--chars", type=int, default=200, help="text length for the speed test")
    parser.add_argument("--min-seconds", type=float, default=2.0,
                        help="minimum timed duration per speed figure")  # fmt: skip
    parser.add_argument(
        "--skip", choices=("quality", "scope", "speed", "memory"), action="append", default=[],
        help="leave out a section (repeatable)",
    )  # fmt: skip
    args = parser.parse_args()
    if args.folds < 2 or args.chars < 1 or args.min_seconds <= 0:
        parser.error("--folds must be >= 2, --chars and --min-seconds positive")
    return args


def load_rows(folder: Path) -> tuple[list[str], list[str], list[str]]:
    """(texts, labels, sources): the history (spaces taken out) then the public messages."""
    texts: list[str] = []
    labels: list[str] = []
    sources: list[str] = []
    history = folder / "history_7845.jsonl"
    if history.exists():
        with history.open(encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                if row.get("label") and row.get("text"):
                    texts.append(compact(row["text"]))
                    labels.append(row["label"].strip())
                    sources.append("history")
    public = folder / "public_messages_495.csv"
    if public.exists():
        with public.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                label = (row.get("label") or "").strip()
                text = f"{row.get('title') or ''}\n{row.get('content') or ''}"
                if label and text.strip():
                    texts.append(text)
                    labels.append(label)
                    sources.append("public")
    return texts, labels, sources


# What learning takes from the active ruleset: here only the home regions.
HOME = Ruleset(name="base", rules=(), home_regions=HOME_REGIONS)


def targets(labels: list[str]) -> dict[str, Target]:
    """Each label a unit of its own, so that confident decisions are dispatched."""
    return {label: Target(lead_unit=f"unit-{label}") for label in set(labels)}


def mean_std(values: list[float]) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.4f} ± {sd:.4f}"


def met(ok: bool) -> str:
    return "met" if ok else "NOT met"


# ---------------------------------------------------------------- quality and trust


def baseline(train_texts: list[str], train_labels: list[str], test_texts: list[str]) -> list[str]:
    segmenter = default_segmenter()
    vectorizer = TfidfVectorizer(
        tokenizer=segmenter.tokens, lowercase=False, token_pattern=None, sublinear_tf=True
    )
    model = LinearSVC().fit(vectorizer.fit_transform(train_texts), train_labels)
    return list(model.predict(vectorizer.transform(test_texts)))


def one_split(name: str, texts: list[str], labels: list[str], train: list[int],
              test: list[int], bins: Counter, hits: Counter) -> dict[str, float]:  # fmt: skip
    train_texts = [texts[i] for i in train]
    train_labels = [labels[i] for i in train]
    test_texts = [texts[i] for i in test]
    test_labels = [labels[i] for i in test]
    started = time.perf_counter()
    ruleset, learned = learn_with_report(train_texts, train_labels, targets=targets(labels),
                                         base=HOME)  # fmt: skip
    learn_seconds = time.perf_counter() - started
    router = Router(ruleset)
    report = evaluate(router, test_texts, test_labels)
    for text, gold in zip(test_texts, test_labels, strict=True):
        decision = router.route(text)
        best = decision.candidates[0].label if decision.candidates else None
        low = max(b for b in BINS if b <= decision.confidence)
        bins[low] += 1
        hits[low] += best == gold
    started = time.perf_counter()
    guessed = baseline(train_texts, train_labels, test_texts)
    base_seconds = time.perf_counter() - started
    figures = {
        "f1": report.macro_f1, "acc": report.accuracy, "coverage": report.coverage,
        "precision": report.confident_accuracy,
        "base_f1": float(f1_score(test_labels, guessed, average="macro")),
        "base_acc": float(accuracy_score(test_labels, guessed)),
        "held_coverage": learned.coverage, "held_precision": learned.precision,
    }  # fmt: skip
    print(
        f"{name} (train {len(train)}, test {len(test)}): ours macro-F1 {report.macro_f1:.4f} "
        f"acc {report.accuracy:.4f} | automatic {report.coverage:.1%} right "
        f"{report.confident_accuracy:.2%} (threshold {ruleset.threshold:.3f} from held-out "
        f"folds: {learned.coverage:.1%} at {learned.precision:.2%}) | keywords "
        f"{sum(len(r.keywords) for r in ruleset.rules)} learn {learn_seconds:.1f} s | baseline "
        f"macro-F1 {figures['base_f1']:.4f} acc {figures['base_acc']:.4f} "
        f"({base_seconds:.1f} s)",
        flush=True,
    )
    return figures


def quality(texts: list[str], labels: list[str], sources: list[str], folds: int,
            seed: int) -> None:  # fmt: skip
    print(f"\n== quality and trust: {folds}-fold stratified cross-validation (seed {seed}) "
          "and history → public ==")  # fmt: skip
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    bins: Counter = Counter()
    hits: Counter = Counter()
    results = []
    for fold, (train, test) in enumerate(splitter.split(texts, labels), 1):
        results.append(one_split(f"fold {fold}/{folds}", texts, labels, list(train),
                                 list(test), bins, hits))  # fmt: skip
    print(f"\nmean ± sample std over the {folds} folds")
    for key, name in (("f1", "macro-F1"), ("acc", "accuracy")):
        ours = [r[key] for r in results]
        base = [r["base_" + key] for r in results]
        ratio = statistics.fmean(ours) / statistics.fmean(base)
        print(f"  {name:<11} ours {mean_std(ours)}   baseline {mean_std(base)}   "
              f"ours/baseline {ratio:.4f}")  # fmt: skip
    coverage = statistics.fmean(r["coverage"] for r in results)
    precision = statistics.fmean(r["precision"] for r in results)
    print(f"  automatic   {mean_std([r['coverage'] for r in results])} of the test rows, "
          f"right {mean_std([r['precision'] for r in results])}")  # fmt: skip
    f1_ok = statistics.fmean(r["f1"] for r in results) >= statistics.fmean(
        r["base_f1"] for r in results)  # fmt: skip
    print(f"target: macro-F1 >= baseline's: {met(f1_ok)}")
    print(f"target: precision >= {TARGET_PRECISION:.0%} at coverage >= {TARGET_COVERAGE:.0%}: "
          f"{met(precision >= TARGET_PRECISION and coverage >= TARGET_COVERAGE)} "
          f"({precision:.2%} at {coverage:.1%})")  # fmt: skip
    print("\nreliability on the cross-validation test rows (never seen by the rules or the "
          "calibration):")  # fmt: skip
    print("  confidence     rows   observed accuracy")
    uppers = dict(itertools.pairwise(BINS))
    for low in sorted(bins):
        print(f"  [{low:.2f}, {min(uppers[low], 1.0):.2f})  {bins[low]:6d}   "
              f"{hits[low] / bins[low]:.4f}")  # fmt: skip

    history = [i for i, s in enumerate(sources) if s == "history"]
    public = [i for i, s in enumerate(sources) if s == "public"]
    if history and public:
        print()
        split = one_split("history → public", texts, labels, history, public, Counter(),
                          Counter())  # fmt: skip
        print(f"target: macro-F1 >= baseline's: {met(split['f1'] >= split['base_f1'])}; "
              f"precision {split['precision']:.2%} at coverage {split['coverage']:.1%} "
              "(the raw public messages are harder for both models)")  # fmt: skip


# ---------------------------------------------------------------- out of scope


def scope(ruleset: Ruleset) -> None:
    print("\n== out-of-scope complaints and everyday words (bench/data/out_of_scope.yaml) ==")
    checks = yaml.safe_load(OUT_OF_SCOPE.read_text("utf-8"))
    router = Router(ruleset)
    probes = checks.pop("generic_probes")
    groups = dict(checks)
    groups["everyday words"] = [t.format(term=term) for term in probes["terms"]
                                for t in probes["templates"]]  # fmt: skip
    total = confident_total = 0
    for group, texts in groups.items():
        confident = []
        for text in texts:
            decision = router.route(text)
            if decision.confident:
                top = decision.candidates[0].matches[:3]
                words = "、".join(f"{m.term}{m.contribution:+.2f}" for m in top)
                confident.append(f"{decision.label} {decision.confidence:.2f} [{words}] "
                                 f"{text[:24]}…")  # fmt: skip
        total += len(texts)
        confident_total += len(confident)
        print(f"  {group:<15} {len(confident):2d} of {len(texts):2d} dispatched confidently")
        for line in confident:
            print(f"      → {line}")
    everyday = groups["everyday words"]
    alone = sum(Router(ruleset).route(t).confident for t in everyday)
    print(f"target: no everyday word decides alone: {met(alone == 0)} ({alone} confident)")
    print(f"in all {confident_total} of {total} out-of-scope texts were dispatched confidently "
          "(telecom and e-commerce disputes go to 商贸旅游 in this board's own history: a unit "
          "whose rule covers them)")  # fmt: skip


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


def speed(texts: list[str], labels: list[str], chars: int, min_seconds: float) -> Ruleset:
    print(f"\n== speed on one core ({pin_one_core()}; BLAS threads: "
          f"{os.environ.get('OPENBLAS_NUM_THREADS', 'default')}) ==")  # fmt: skip
    started = time.perf_counter()
    ruleset, report = learn_with_report(texts, labels, targets=targets(labels), base=HOME)
    seconds = time.perf_counter() - started
    stages = ", ".join(f"{k} {v:.1f} s" for k, v in report.seconds.items())
    print(f"learning {len(texts)} rows: {seconds:.1f} s ({stages}; the dictionary is loaded "
          f"once per process) — target <= {TARGET_LEARN_SECONDS:g} s: "
          f"{met(seconds <= TARGET_LEARN_SECONDS)}")  # fmt: skip
    print(f"  held-out (cross-fitted) figures of that ruleset: threshold {report.threshold:.3f}, "
          f"automatic {report.coverage:.1%}, right {report.precision:.2%}, first choice right "
          f"{report.accuracy:.2%}; {report.vocabulary} terms, "
          f"{sum(len(r.keywords) for r in ruleset.rules)} keywords")  # fmt: skip
    short = [text[:chars] for text in texts]
    learned = Router(ruleset)
    default = Router(load_yaml(DEFAULT_RULESET.read_text("utf-8")))
    route_learned = seconds_per_call(learned.route, short, min_seconds)
    route_default = seconds_per_call(default.route, short, min_seconds)
    print(f"  route (learned ruleset)   {1 / route_learned:8.0f} tickets/s at {chars} characters "
          f"— target >= {TARGET_TICKETS_PER_SECOND}: "
          f"{met(1 / route_learned >= TARGET_TICKETS_PER_SECOND)}")  # fmt: skip
    explained = seconds_per_call(lambda t: learned.route(t).to_dict(), short, min_seconds)
    print(f"  route + explanation       {1 / explained:8.0f} tickets/s (the decision as intake "
          "stores it: to_dict with the matched keywords)")  # fmt: skip
    print(f"  route (default ruleset)   {1 / route_default:8.0f} tickets/s (reference)")
    return ruleset


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


def memory(ruleset: Ruleset | None) -> None:
    print("\n== memory: peak RSS of a fresh interpreter (ru_maxrss) ==")
    rows = [("bare python (reference)", probe(BARE_PROBE)),
            ("router, default ruleset", probe(MEMORY_PROBE, "router"))]  # fmt: skip
    if ruleset is not None:
        with tempfile.NamedTemporaryFile("w", suffix=".json", encoding="utf-8",
                                         delete=False) as handle:  # fmt: skip
            json.dump(ruleset.to_dict(), handle, ensure_ascii=False)
        try:
            rows.append(("router, learned ruleset", probe(MEMORY_PROBE, "router", handle.name)))
        finally:
            os.unlink(handle.name)
    rows.append(("router + jieba segmenter", probe(MEMORY_PROBE, "segmenter")))
    for name, figures in rows:
        megabytes = float(str(figures["maxrss_kb"])) / 1024
        loaded = ""
        if "jieba_loaded" in figures:
            loaded = (f"  jieba loaded: {figures['jieba_loaded']}, "
                      f"numpy loaded: {figures['numpy_loaded']}")  # fmt: skip
        print(f"  {name:<28} {megabytes:8.1f} MB{loaded}")


def main() -> int:
    args = parse_args()
    texts, labels, sources = load_rows(args.data)
    if not texts:
        print(f"no labelled data in {args.data}; skipping the routing benchmark")
        return 0
    counts = Counter(labels)
    print(f"data: {len(texts)} rows from {args.data} ({Counter(sources)}), {len(counts)} "
          f"labels: {dict(counts.most_common())}")  # fmt: skip
    print(f"environment: python {sys.version.split()[0]}, cpus {os.cpu_count()}")
    started = time.perf_counter()
    default_scanner()
    print(f"word scanner (jieba's dictionary + ours) loaded in "
          f"{time.perf_counter() - started:.2f} s")  # fmt: skip
    if "quality" not in args.skip:
        quality(texts, labels, sources, args.folds, args.seed)
    ruleset = None
    if "speed" not in args.skip:
        ruleset = speed(texts, labels, args.chars, args.min_seconds)
    if "scope" not in args.skip:
        scope(ruleset or learn_with_report(texts, labels, targets=targets(labels), base=HOME)[0])
    if "memory" not in args.skip:
        memory(ruleset)
    return 0


if __name__ == "__main__":
    sys.exit(main())
