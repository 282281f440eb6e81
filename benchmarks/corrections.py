"""The correction curve, and the feed-kind thresholds, measured.

    .venv/bin/python benchmarks/corrections.py [--data ../shared/data] [--seeds 3]

1. Kinds: the inbound customer tweets of twcs/sample.csv (labels: TWCS_NEGATIVE
   in benchmarks/flags.py) flagged as a "mentions" feed and as a "support" feed:
   negative F1, and how many complaints reach the inbox (either flag).
2. Curve: a user marks 50, 200, then 500 mentions the shipped model was never
   trained on (the held-out 15% of tweet_sentiment_extraction that
   benchmarks/flags.py keeps out of training, negative vs rest), with `listen mark --negative/--not-negative`; after each
   step, negative F1 on the rest of the slice, flagged as listen would
   (listen.policy.FlagPolicy.verdict with what was learned). The marked mentions
   are drawn at random; each seed draws another order. The data is read in
   place, never copied.

Since listen.flags 2.3 the model is trained on the other 85% of that corpus: the
rows are unseen, the domain is not. No large labelled corpus of another domain
(support tweets, blog comments) is in ../shared/data; with one, point `curve` at it.
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


def shares(data: Path) -> None:
    """Why the kinds' negative thresholds differ: the best threshold depends on how many
    of a feed's messages are complaints. Held-out SemEval and Tweet Sentiment Extraction
    rows (never trained on), reweighted to each share of negatives, scored at each cut."""
    from benchmarks.flags import new_corpora
    from listen.flags import classify

    corpora = new_corpora(data)
    scored = [(classify(t).negative_score, bool(y)) for t, y in corpora["semeval"][1] + corpora["tse"][1]]
    pos = sum(y for _, y in scored)
    cuts = [c / 100 for c in range(20, 75, 5)]
    print(f"shares: {len(scored)} held-out tweets, {pos} negative, reweighted; negative F1 by threshold")
    print("  share  " + " ".join(f"{c:5.2f}" for c in cuts) + "   best")
    for share in (0.15, 0.33, 0.5, 0.65):  # a blog; general mentions; a busy brand; twcs's support mix
        w_pos, w_neg = share / (pos / len(scored)), (1 - share) / (1 - pos / len(scored))
        fs = []
        for c in cuts:
            tp = sum(w_pos for s, y in scored if y and s >= c)
            fp = sum(w_neg for s, y in scored if not y and s >= c)
            fn = sum(w_pos for s, y in scored if y and s < c)
            fs.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
        best = max(range(len(cuts)), key=lambda i: fs[i])
        print(f"  {share:5.2f}  " + " ".join(f"{f:5.3f}" for f in fs) + f"   {cuts[best]:.2f}")


def curve(data: Path, seeds: int, kind: str) -> None:
    from benchmarks.flags import new_corpora

    rows = [{"text": t, "sentiment": "negative" if y else "other"} for t, y in new_corpora(data)["tse"][1]]
    print(f"curve: {len(rows)} tweets (tweet_sentiment_extraction, the held-out 15%), "
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
    shares(data)
    for kind in args.kinds.split(","):
        curve(data, args.seeds, kind)


if __name__ == "__main__":
    main()
