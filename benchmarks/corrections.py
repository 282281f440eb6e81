"""The correction curve, and the feed-kind thresholds, measured.

    .venv/bin/python benchmarks/corrections.py [--data ../shared/data] [--seeds 3]
        [--kinds mentions,blog,support] [--curves seen,unseen | --unseen]
        [--unseen-cache FILE]

1. Kinds: the inbound customer tweets of twcs/sample.csv (labels: TWCS_NEGATIVE
   in benchmarks/flags.py) flagged as a "mentions" feed and as a "support" feed:
   negative F1, and how many complaints reach the inbox (either flag).
2. Curve: a user marks 50, 200, then 500 tweets of the held-out 15% of
   tweet_sentiment_extraction (negative vs rest) with `listen mark
   --negative/--not-negative`; after each step, negative F1 on the rest of the
   slice, flagged as listen would (listen.policy.learn_from, then
   FlagPolicy.verdict with what was learned). The marked tweets are drawn at
   random; each seed draws another order. It starts from each feed kind's
   thresholds (listen/kinds.py) and runs twice, on the same rows in the same orders:
   - seen domain: the shipped negative model. It was trained on the other 85%
     of this corpus, so the rows are unseen but the domain is not.
   - unseen domain: a negative model fitted here, in memory, exactly as
     benchmarks/train_flags.py fits the shipped one (train_flags.fit_negative:
     same features, C, weight floor, threshold choice, extra corpora and
     weights) but with ALL of tweet_sentiment_extraction left out of
     training: 2009 tweets from another source (Figure Eight), @-mentions
     stripped, labelled by other people. It takes the shipped model's place
     in listen.flags.classify, and so in the policy, for the curve.
   Besides F1 it prints, per step, the feed's learned negative threshold
   (learn.Adjustment.threshold: the kind's threshold moved by the learned
   biases, words aside), how many word weights were learned, and how long
   learn_from took; and, for reference, the best single threshold chosen on
   the rows themselves (a ceiling for corrections that only move the
   threshold); then a summary table of both curves.
   --unseen runs the unseen-domain curve alone (no kinds/shares, no seen curve).
   The unseen fit costs about a CPU minute; --unseen-cache FILE keeps the fitted
   model in FILE and reuses it on the next run. --l2-word X fits the
   corrections with word penalty X instead of listen.flags.learn.L2_WORD.
The data is read in place, never copied.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from listen.flags import FlagSettings, classify  # noqa: E402
from listen.flags.linear import LinearModel  # noqa: E402
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


@contextmanager
def negative_model(model: LinearModel | None) -> Iterator[None]:
    """classify() -- and so FlagPolicy.verdict and learn_from, which call it --
    with `model` in place of the shipped negative model (None: as shipped)."""
    import listen.flags as flags

    if model is None:
        yield
        return
    shipped = flags.models
    qmodel = shipped()[0]
    flags.models = lambda: (qmodel, model)
    try:
        yield
    finally:
        flags.models = shipped


@contextmanager
def word_penalty(l2_word: float | None) -> Iterator[None]:
    """learn_from fitting with this word penalty instead of learn.L2_WORD (None: as shipped).
    learn_from passes no penalty, so fit's defaults are what it uses."""
    from listen.flags import learn

    if l2_word is None:
        yield
        return
    saved = learn.fit.__defaults__, learn._fit.__defaults__
    learn.fit.__defaults__ = (saved[0][0], l2_word, *saved[0][2:])
    learn._fit.__defaults__ = (saved[1][0], l2_word, *saved[1][2:])
    try:
        yield
    finally:
        learn.fit.__defaults__, learn._fit.__defaults__ = saved


def unseen_model(data: Path, cache: Path | None = None) -> tuple[LinearModel, float]:
    """The negative model fitted exactly as benchmarks/train_flags.py fits the
    shipped one (train_flags.fit_negative: same features, C, floor, threshold
    choice, extra corpora and weights), but with all of Tweet Sentiment
    Extraction left out of training. Returns it and the CPU seconds the fit took
    (0 when read from `cache`, a JSON file this writes on the first run)."""
    if cache is not None and cache.is_file():
        blob = json.loads(cache.read_text("utf-8"))
        return LinearModel("negative_model", float(blob["bias"]), blob["weights"], blob.get("meta")), 0.0
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import train_flags

    t0 = time.process_time()
    got = train_flags.fit_negative(data, train_flags.EXTRA_WEIGHTS, exclude=("tse",))
    cpu = time.process_time() - t0
    meta = {"threshold": round(got["threshold"], 2), "corpora": got["corpora"], "extra_weights": got["extra_weights"],
            "fit_cpu_s": round(cpu, 1)}
    if cache is not None:
        cache.write_text(json.dumps({"bias": got["bias"], "weights": got["weights"], "meta": meta}), "utf-8")
    return LinearModel("negative_model", got["bias"], got["weights"], meta), cpu


@dataclass
class Step:
    marks: int
    p: list[float] = field(default_factory=list)
    r: list[float] = field(default_factory=list)
    f: list[float] = field(default_factory=list)
    threshold: list[float] = field(default_factory=list)  # the feed's learned negative threshold
    words: list[int] = field(default_factory=list)  # word weights learned
    fit_wall: list[float] = field(default_factory=list)
    fit_cpu: list[float] = field(default_factory=list)

    @staticmethod
    def mean(xs: list[float]) -> float:
        return sum(xs) / len(xs) if xs else 0.0


def threshold_ceiling(rows: list[dict[str, str]], kind: str) -> tuple[float, float]:
    """(F1, threshold) of the best single negative threshold on `rows`, chosen on
    those rows themselves: an optimistic ceiling for corrections that only move
    the feed's threshold. What lies above it needs the words ranked differently."""
    s = policy_for(kind).settings_for("feed")
    scored = [(classify(r["text"], s).negative_score, r["sentiment"] == "negative") for r in rows]
    best = (0.0, 0.5)
    for cut in (c / 100 for c in range(5, 96)):
        tp = sum(1 for p, y in scored if y and p >= cut)
        fp = sum(1 for p, y in scored if not y and p >= cut)
        fn = sum(1 for p, y in scored if y and p < cut)
        f = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        if f > best[0]:
            best = (f, cut)
    return best


def curve(data: Path, seeds: int, kind: str, model: LinearModel | None = None,
          label: str = "seen domain") -> list[Step]:
    """Negative F1 on the held-out 15% of Tweet Sentiment Extraction after 0, 50,
    200, 500 marks, with `model` as the negative model (None: the shipped one).
    The rows and the orders the marks are drawn in are the same for every model."""
    from benchmarks.flags import new_corpora

    rows = [{"text": t, "sentiment": "negative" if y else "other"} for t, y in new_corpora(data)["tse"][1]]
    base_t = KIND_DEFAULTS[kind].negative_threshold
    print(f"curve ({label}): {len(rows)} tweets (tweet_sentiment_extraction, the held-out 15%), "
          f"{sum(r['sentiment'] == 'negative' for r in rows)} negative; a '{kind}' feed "
          f"(negative threshold {base_t})")
    steps = [Step(k) for k in STEPS]
    with negative_model(model):
        best_f, best_cut = threshold_ceiling(rows, kind)
        print(f"  the best single threshold, chosen on all {len(rows)} rows (what moving the threshold alone "
              f"could reach): {best_cut:.2f}, F1 {best_f:.3f}")
        for seed in range(seeds):
            rng = random.Random(seed)
            order = rows[:]
            rng.shuffle(order)
            pool, rest = order[:max(STEPS)], order[max(STEPS):]
            for st in steps:
                k = st.marks
                marked = [{"feed": "feed", "native_id": str(i), "text": r["text"], "question": None,
                           "negative": int(r["sentiment"] == "negative")} for i, r in enumerate(pool[:k])]
                t0, c0 = time.perf_counter(), time.process_time()
                policy, _ = learn_from(policy_for(kind), marked)
                st.fit_wall.append(time.perf_counter() - t0)
                st.fit_cpu.append(time.process_time() - c0)
                adj = policy.learned.get("negative")
                st.threshold.append(adj.threshold("feed", base_t) if adj else base_t)
                st.words.append(len(adj.weights) if adj else 0)
                pairs = [(policy.verdict(r["text"], "feed").negative, r["sentiment"] == "negative") for r in rest]
                prec, rec, f = f1(pairs)
                st.p.append(prec)
                st.r.append(rec)
                st.f.append(f)
                print(f"  seed {seed}: {k:3} marked -> negative P {prec:.3f} R {rec:.3f} F1 {f:.3f} on {len(rest)}"
                      f"; threshold {st.threshold[-1]:.3f}, {st.words[-1]} words"
                      f" (fit {st.fit_wall[-1]:.2f}s, {st.fit_cpu[-1]:.2f} CPU s)")
    m = Step.mean
    for st in steps:
        print(f"  mean over {len(st.f)} seeds: {st.marks:3} marked -> P {m(st.p):.3f} R {m(st.r):.3f} "
              f"F1 {m(st.f):.3f}; threshold {m(st.threshold):.3f}, {m(st.words):.0f} words; "
              f"learn_from {m(st.fit_wall):.2f}s ({m(st.fit_cpu):.2f} CPU s)")
    return steps


def summary(results: dict[str, dict[str, list[Step]]]) -> None:
    """Seen against unseen domain, per starting kind: the table docs/flags-model.md keeps."""
    m = Step.mean
    print("summary: negative F1 on the rest of the held-out Tweet Sentiment Extraction slice, mean over seeds")
    print("  kind      model          " + " ".join(f"{k:>6}" for k in STEPS)
          + "   P/R at 0      P/R at 500    threshold 0 -> 500   learn_from(500)")
    for kind, by_model in results.items():
        for label, steps in by_model.items():
            first, last = steps[0], steps[-1]
            print(f"  {kind:9} {label:14} " + " ".join(f"{m(s.f):6.3f}" for s in steps)
                  + f"   {m(first.p):.3f}/{m(first.r):.3f}   {m(last.p):.3f}/{m(last.r):.3f}"
                  + f"   {m(first.threshold):.3f} -> {m(last.threshold):.3f}"
                  + f"     {m(last.fit_wall):.2f}s ({m(last.fit_cpu):.2f} CPU s)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/work/shared/data" if Path("/work/shared/data").is_dir() else str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--kinds", default="mentions,blog,support",
                    help="feed kinds to start from: their thresholds are the prior the corrections move")
    ap.add_argument("--curves", default="seen,unseen",
                    help="seen: the shipped model; unseen: one fitted without Tweet Sentiment Extraction")
    ap.add_argument("--unseen", action="store_true", help="the unseen-domain curve alone (--curves unseen)")
    ap.add_argument("--l2-word", type=float, default=None,
                    help="fit the corrections with this word penalty instead of listen.flags.learn.L2_WORD")
    ap.add_argument("--unseen-cache", type=Path, default=None,
                    help="keep the unseen-domain model in this JSON file and reuse it (default: refit in memory)")
    args = ap.parse_args()
    data = Path(args.data)
    which = ["unseen"] if args.unseen else args.curves.split(",")
    if not args.unseen:
        kinds(data)
        shares(data)
    models: dict[str, LinearModel | None] = {}
    if "seen" in which:
        models["seen domain"] = None
    if "unseen" in which:
        model, cpu = unseen_model(data, args.unseen_cache)
        print(f"unseen-domain negative model: {len(model.weights)} weights, threshold "
              f"{model.meta.get('threshold')}, trained on {', '.join(model.meta.get('corpora', []))} and "
              f"{', '.join(model.meta.get('extra_weights', {}))}; fitted in {cpu:.0f} CPU s"
              + (" (read from the cache)" if not cpu else ""))
        models["unseen domain"] = model
    results: dict[str, dict[str, list[Step]]] = {}
    with word_penalty(args.l2_word):
        for kind in args.kinds.split(","):
            for label, model in models.items():
                results.setdefault(kind, {})[label] = curve(data, args.seeds, kind, model, label)
    summary(results)


if __name__ == "__main__":
    main()
