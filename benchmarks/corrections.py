"""The correction curve, and the feed-kind thresholds, measured.

    .venv/bin/python benchmarks/corrections.py [--data ../shared/data] [--seeds 3]

1. Kinds: the inbound customer tweets of twcs/sample.csv (labels: TWCS_NEGATIVE
   in benchmarks/flags.py) flagged as a "mentions" feed and as a "support" feed:
   negative F1, and how many complaints reach the inbox (either flag).
2. Curve: a user marks 50, 200, then 500 mentions of a domain the shipped model
   was not trained on (the kfold == 0 slice of tweet_sentiment_extraction,
   negative vs rest), with `listen mark --negative/--not-negative`; after each
   step, negative F1 on the rest of the slice, flagged as listen would
   (listen.policy.FlagPolicy.verdict with what was learned). The marked mentions
   are drawn at random; each seed draws another order. The data is read in
   place, never copied.

If the shipped model is ever trained on tweet_sentiment_extraction, keep its
kfold == 0 rows out of training, or this curve measures memory.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from listen.flags import FlagSettings  # noqa: E402
from listen.kinds import KIND_DEFAULTS, FeedFlags  # noqa: E402
from listen.policy import FlagPolicy, learn_from  # noqa: E402

STEPS = (0, 50, 200, 500)


def f1(pairs: list[tuple[bool, bool]]) -> tuple[float, float, float]:
    tp = sum(p and a for p, a in pairs)
    pp = sum(p for p, _ in pairs)
    ap = sum(a for _, a in pairs)
    prec = tp / pp if pp else 0.0
    rec = tp / ap if ap else 0.0
    return prec, rec, (2 * prec * rec / (prec + rec) if prec + rec else 0.0)


def policy_for(kind: str) -> FlagPolicy:
    d = KIND_DEFAULTS[kind]
    return FlagPolicy(FlagSettings(), {"feed": FeedFlags(kind, d.question_threshold, d.negative_threshold)})


def kinds(data: Path) -> None:
    from benchmarks.flags import TWCS_NEGATIVE

    rows = [r for r in csv.DictReader(open(data / "twcs" / "sample.csv", encoding="utf-8"))
            if r["inbound"] == "True" and int(r["tweet_id"]) in TWCS_NEGATIVE]
    print(f"kinds: {len(rows)} inbound customer tweets of twcs/sample.csv, "
          f"{sum(TWCS_NEGATIVE[int(r['tweet_id'])] for r in rows)} complaints")
    for kind in ("mentions", "support", "blog"):
        p = policy_for(kind)
        pairs, reach = [], []
        for r in rows:
            v = p.verdict(r["text"], "feed")
            label = bool(TWCS_NEGATIVE[int(r["tweet_id"])])
            pairs.append((v.negative, label))
            if label:
                reach.append(v.negative or v.question)
        prec, rec, f = f1(pairs)
        d = KIND_DEFAULTS[kind]
        print(f"  {kind:9} q>={d.question_threshold:.2f} n>={d.negative_threshold:.2f}: negative P {prec:.3f} "
              f"R {rec:.3f} F1 {f:.3f}; complaints reaching the inbox {sum(reach)}/{len(reach)}")


def curve(data: Path, seeds: int, kind: str) -> None:
    rows = [r for r in csv.DictReader(open(data / "tweet_sentiment_extraction" / "train_10fold.csv", encoding="utf-8"))
            if r["kfold"] == "0" and r["text"].strip()]
    print(f"curve: {len(rows)} tweets (tweet_sentiment_extraction, kfold 0), "
          f"{sum(r['sentiment'] == 'negative' for r in rows)} negative; a '{kind}' feed "
          f"(negative threshold {KIND_DEFAULTS[kind].negative_threshold})")
    results: dict[int, list[float]] = {k: [] for k in STEPS}
    for seed in range(seeds):
        rng = random.Random(seed)
        order = rows[:]
        rng.shuffle(order)
        pool, rest = order[:max(STEPS)], order[max(STEPS):]
        for k in STEPS:
            marked = [{"feed": "feed", "native_id": str(i), "text": r["text"], "question": None,
                       "negative": int(r["sentiment"] == "negative")} for i, r in enumerate(pool[:k])]
            t0 = time.perf_counter()
            policy, _ = learn_from(policy_for(kind), marked)
            fit_s = time.perf_counter() - t0
            pairs = [(policy.verdict(r["text"], "feed").negative, r["sentiment"] == "negative") for r in rest]
            prec, rec, f = f1(pairs)
            results[k].append(f)
            print(f"  seed {seed}: {k:3} marked -> negative P {prec:.3f} R {rec:.3f} F1 {f:.3f} on {len(rest)}"
                  f" (fit {fit_s:.2f}s)")
    for k in STEPS:
        fs = results[k]
        print(f"  mean over {len(fs)} seeds: {k:3} marked -> F1 {sum(fs) / len(fs):.3f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/work/shared/data" if Path("/work/shared/data").is_dir() else str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--kinds", default="mentions,blog,support",
                    help="feed kinds to start from: their thresholds are the prior the corrections move")
    args = ap.parse_args()
    data = Path(args.data)
    kinds(data)
    for kind in args.kinds.split(","):
        curve(data, args.seeds, kind)


if __name__ == "__main__":
    main()
