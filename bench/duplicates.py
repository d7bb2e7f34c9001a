"""Duplicate detection benchmark: precision and recall of routing.similarity on near-duplicate
pairs found in the history data, and its speed.

Reads ../shared/data/history_7845.jsonl ({"id", "text", "label"}) from outside the repository
and skips cleanly (exit 0) when it is absent. The spaces of the segmented texts are removed
first: real tickets arrive raw.

Vocabulary: as a learned ruleset's (routing.learn does the same): jieba tokens of the rows,
document frequency ≥ 2, at most 50,000 words, idf = ln((1 + n) / (1 + df)) + 1 as the router
scans them; a Router over a ruleset holding only that idf table gives the production profiles.

Labelled pairs:
- positives: the same complaint posted twice, by a strict criterion independent of any
  weighting: Jaccard of the texts' character 5-shingle sets ≥ 0.5 (exact copies counted
  apart). A sample is printed to check by eye.
- hard negatives: pairs with the same label that share phrases (≥ 3 rare 5-shingles in
  common) yet are not duplicates (5-shingle Jaccard < 0.15): the case a place + category
  filter leaves to the text;
- random negatives: random pairs with the same label.
Pairs between the two thresholds (0.15–0.5) are left out as undecided.

    .venv/bin/python bench/duplicates.py
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Run as `python bench/duplicates.py`, this file's folder would come first on sys.path.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or os.curdir).resolve() != _HERE]
sys.path.insert(0, str(REPO))

DATA = REPO.parent / "shared" / "data" / "history_7845.jsonl"
SHINGLE = 5
POSITIVE_JACCARD = 0.5
NEGATIVE_JACCARD = 0.15
RARE_SHINGLE_DF = 30  # shingles in more documents than this are boilerplate, not evidence
ALPHAS = (1.0, 0.8, 0.6, 0.4, 0.0)
SWEEP = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)


def shingles(text: str) -> set[str]:
    return {text[i : i + SHINGLE] for i in range(max(0, len(text) - SHINGLE + 1))}


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def vocabulary_router(texts: list[str]):  # type: ignore[no-untyped-def]
    from routing.classifier import Router
    from routing.matcher import TermMatcher
    from routing.rules import Ruleset
    from routing.segmenter import default_segmenter
    from routing.text import normalize

    segmenter = default_segmenter()
    bodies = [normalize(t) for t in texts]
    df: Counter[str] = Counter()
    for body in bodies:
        df.update(set(segmenter.tokens(body, normalized=True)))
    words = [t for t, n in df.most_common(50_000) if n >= 2]
    matcher = TermMatcher(words)
    seen: Counter[str] = Counter()
    for body in bodies:
        seen.update(matcher.find(body).keys())
    n = len(bodies)
    idf = {t: math.log((1 + n) / (1 + seen[t])) + 1.0 for t in words if seen[t] >= 2}
    return Router(Ruleset(name="bench", rules=(), idf=idf))


def hand_written_router():  # type: ignore[no-untyped-def]
    from importlib.resources import files

    from routing.classifier import Router
    from routing.rules import load_yaml

    text = (files("routing") / "data" / "default_ruleset.yaml").read_text("utf-8")
    return Router(load_yaml(text))


def label_pairs(texts: list[str], labels: list[str], rng: random.Random):  # type: ignore[no-untyped-def]
    sets = [shingles(t) for t in texts]
    postings: dict[str, list[int]] = {}
    for i, s in enumerate(sets):
        for g in s:
            postings.setdefault(g, []).append(i)
    positives, exact, hard = [], [], []
    for i, s in enumerate(sets):
        shared: Counter[int] = Counter()
        for g in s:
            docs = postings[g]
            if len(docs) <= RARE_SHINGLE_DF:
                shared.update(j for j in docs if j > i)
        for j, count in shared.items():
            if count < 3:
                continue
            similarity = jaccard(s, sets[j])
            if texts[i] == texts[j]:
                exact.append((i, j))
            elif similarity >= POSITIVE_JACCARD:
                positives.append((i, j))
            elif similarity < NEGATIVE_JACCARD and labels[i] == labels[j]:
                hard.append((i, j))
    by_label: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        by_label.setdefault(label, []).append(i)
    randoms = set()
    wanted = 5 * (len(positives) + len(exact))
    while len(randoms) < wanted:
        label = labels[rng.randrange(len(labels))]
        i, j = rng.sample(by_label[label], 2)
        if texts[i] != texts[j] and jaccard(sets[i], sets[j]) < NEGATIVE_JACCARD:
            randoms.add((min(i, j), max(i, j)))
    return positives, exact, hard, sorted(randoms)


def prf(pos: list[float], neg: list[float], t: float) -> tuple[float, float, float]:
    tp = sum(s >= t for s in pos)
    fp = sum(s >= t for s in neg)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / len(pos) if pos else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--suggest", type=float, default=None, help="threshold to report")
    parser.add_argument("--samples", type=int, default=4, help="positive pairs to print")
    args = parser.parse_args()
    if not DATA.exists():
        print(f"skipped: {DATA.name} not found in ../shared/data")
        return 0

    from hotline.services import duplicates
    from routing.similarity import ALPHA, TextSimilarity, cosine

    rows = [json.loads(line) for line in DATA.read_text("utf-8").splitlines() if line.strip()]
    texts = ["".join(r["text"].split()) for r in rows]
    labels = [r["label"] for r in rows]
    rng = random.Random(args.seed)
    started = time.perf_counter()
    router = vocabulary_router(texts)
    print(f"rows {len(texts)}, vocabulary {len(router.idf):,} words "
          f"({time.perf_counter() - started:.1f} s, jieba, df ≥ 2)")  # fmt: skip
    positives, exact, hard, randoms = label_pairs(texts, labels, rng)
    print(f"criterion: character {SHINGLE}-shingle Jaccard ≥ {POSITIVE_JACCARD} = duplicate, "
          f"< {NEGATIVE_JACCARD} = not (undecided between)")  # fmt: skip
    print(
        f"pairs: {len(positives)} near-duplicates + {len(exact)} exact copies; negatives "
        f"(same label): {len(hard)} hard (≥ 3 rare shingles shared), {len(randoms)} random"
    )
    for i, j in rng.sample(positives, min(args.samples, len(positives))):
        print(f"  e.g. {rows[i]['id']} / {rows[j]['id']}: {texts[i][:46]}… | {texts[j][:46]}…")

    suggest = args.suggest if args.suggest is not None else duplicates.SUGGEST
    mark, link = duplicates.MARK, duplicates.LINK
    learned_alpha = TextSimilarity(router).alpha
    print(f"\nscore = α · term cosine (ruleset idf) + (1 − α) · bigram cosine; production α = "
          f"{learned_alpha} with a learned vocabulary, {ALPHA} with a hand-written ruleset; "
          f"listed ≥ {suggest}, 可能重复 mark ≥ {mark}, import link ≥ {link}")  # fmt: skip
    print(
        "(the bigram half sees what the shingle criterion sees: α = 1 is the figure "
        "independent of how positives were chosen)"
    )
    header = "  t     " + " ".join(f"{t:>5}" for t in SWEEP)
    hand = hand_written_router()
    for name, alpha, base in [
        *(("learned vocabulary", a, router) for a in ALPHAS),
        ("hand-written default ruleset", ALPHA, hand),
        ("hand-written default ruleset, terms only", 1.0, hand),
    ]:
        sim = TextSimilarity(base, alpha=alpha)
        profiles: dict[int, dict[str, float]] = {}

        def score(pair: tuple[int, int], sim=sim, profiles=profiles) -> float:
            for k in pair:
                if k not in profiles:
                    profiles[k] = sim.profile(texts[k])
            return cosine(profiles[pair[0]], profiles[pair[1]])

        pos = [score(p) for p in positives]
        neg = [score(p) for p in hard + randoms]
        hard_scores = [score(p) for p in hard]
        production = (base is router and alpha == learned_alpha) or (
            base is hand and alpha == ALPHA
        )
        print(f"\n{name}, α = {alpha}{'  (production)' if production else ''}")
        print(header)
        for name, index in (("P", 0), ("R", 1), ("F1", 2)):
            cells = " ".join(f"{prf(pos, neg, t)[index]:5.3f}" for t in SWEEP)
            print(f"  {name:<5} {cells}")
        for t, what in ((suggest, "listed"), (mark, "可能重复"), (link, "import link")):
            p, r, f = prf(pos, neg, t)
            fp_hard = sum(s >= t for s in hard_scores) / len(hard_scores) if hard else 0.0
            print(f"  at {t} ({what}): precision {p:.3f}, recall {r:.3f}, F1 {f:.3f}; "
                  f"hard negatives above it {fp_hard:.1%}")  # fmt: skip
        exact_scores = [score(p) for p in exact]
        if exact_scores:
            print(f"  exact copies ≥ {suggest}: {sum(s >= suggest for s in exact_scores)}"
                  f"/{len(exact_scores)}")  # fmt: skip

    # Speed: profiles per second, and an import chunk's search — 1,000 work orders against
    # 1,000 open tickets and themselves — exact (prefix filtering) and within the import's
    # budget, with what the budget misses.
    from routing.similarity import Index

    sample = [texts[i % len(texts)][:500] for i in range(6000)]
    started = time.perf_counter()
    for t in sample[:2000]:
        router.route(t)
    route_rate = 2000 / (time.perf_counter() - started)
    for name, sim in (("hand-written", TextSimilarity(hand)), ("learned", TextSimilarity(router))):
        started = time.perf_counter()
        for t in sample:
            sim.profile(t)
        elapsed = time.perf_counter() - started
        print(f"\nspeed ({name}, α = {sim.alpha}): {len(sample) / elapsed:,.0f} profiles/s "
              f"(≤ 500 characters; Router.route on the same texts, for scale: "
              f"{route_rate:,.0f}/s)")  # fmt: skip
        # Texts near each other in the file are the ones that repeat: take a stretch of it.
        chunk = [sim.profile(t) for t in texts[2000:4000]]
        started = time.perf_counter()
        index = Index(chunk)
        built = time.perf_counter() - started
        probes = range(1000, 2000)
        results = {}
        for label, budget in (("exact", None), ("budget", duplicates.BUDGET)):
            started = time.perf_counter()
            results[label] = [
                {n.candidate for n in index.near(chunk[k], link, below=k, budget=budget)}
                for k in probes
            ]
            results[label + "_s"] = time.perf_counter() - started
        exact = sum(len(r) for r in results["exact"])
        kept = sum(len(a & b) for a, b in zip(results["exact"], results["budget"], strict=True))
        wrong = sum(len(b - a) for a, b in zip(results["exact"], results["budget"], strict=True))
        print(f"  chunk search at ≥ {link}: index of 2,000 built in {built * 1000:.0f} ms; "
              f"1,000 probes exact {results['exact_s'] * 1000:.0f} ms, within budget "
              f"{results['budget_s'] * 1000:.0f} ms; budget finds {kept}/{exact} of the exact "
              f"pairs, {wrong} wrong")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
