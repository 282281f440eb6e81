"""How the negative flag holds up on tweets from a later year, against a reference model.

    .venv/bin/python benchmarks/time_shift.py [--data ../shared/data]

The issue's general-tweet target is measured on TweetEval's test split
(SemEval-2017's test tweets), which is not here. Its tweets are from a later
period than any training tweet, and a third of them are negative. The random
held-out rows that train_flags.py scores come from the same years as the
training rows, so they flatter any model that learns topics.

This script rebuilds that shift from what is here:
  - train: everything train_flags.py trains on, but with SemEval's 2016 test
    file (20,000 tweets collected after the rest) taken out of SemEval's part;
  - score: that 2016 file, never trained on, F1 of negative vs rest at its
    own share of negatives and reweighted to one in three (TweetEval test's share).

Two models are scored the same way:
  - listen: fitted by train_flags.fit_negative (same features, C, threshold
    choice, extra corpora), run through classify() with every cue floor and cap;
  - reference: the plain TF-IDF (word 1-2 and character 2-5 grams) + logistic
    regression that ../shared/data/SOURCES.md reports at about 0.65 on
    TweetEval's test split, fitted on the same sentiment rows, with the best
    threshold chosen on the scored rows themselves (which flatters it).

The reference's known test figure turns the gap between the two into a rough
projection for TweetEval test: listen's figure minus what the time shift
costs the reference here relative to its published one. It is a projection
from one reference point, not a measurement.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import flags as bench  # noqa: E402
import train_flags  # noqa: E402

LATER = "twitter-2016test-A.tsv"
REFERENCE_ON_TEST = 0.65  # SOURCES.md: the plain TF-IDF model on TweetEval's test split


def split_by_year(data: Path) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """SemEval as (text, is_negative): (the files before 2016's test, 2016's test file).

    A tweet in both goes to the earlier side; near-copies (same letters
    without handles and links) of an earlier tweet or a TweetEval val tweet
    are dropped from the later side."""
    labels = {"negative": 0, "neutral": 1, "positive": 2}
    earlier: dict[str, tuple[str, int]] = {}
    later: dict[str, tuple[str, int]] = {}
    for f in sorted((data / "semeval_sentiment").glob("*.tsv")):
        side = later if f.name == LATER else earlier
        for line in f.read_text("utf-8", errors="replace").splitlines():
            parts = line.split("\t")
            if len(parts) < 3 or parts[1] not in labels:
                continue
            text = bench._UESC.sub(lambda m: chr(int(m.group(1), 16)), parts[2]).strip()
            side.setdefault(parts[0], (text, int(parts[1] == "negative")))
    val = {bench._overlap_key(t) for t, _ in bench.load_tweeteval(data)}
    early = [r for r in earlier.values() if bench._overlap_key(r[0]) not in val]
    seen = val | {bench._overlap_key(t) for t, _ in early}
    late = [r for k, r in later.items() if k not in earlier and bench._overlap_key(r[0]) not in seen]
    return early, late


def scores(gold: list[int], pred: list[int]) -> tuple[float, float]:
    return bench.f1_at_share(gold, pred), bench.f1_at_share(gold, pred, 1 / 3)


def reference(train: list[tuple[str, int]], test: list[tuple[str, int]]) -> tuple[float, float, float]:
    """The SOURCES.md reference: (F1 at own share, F1 at 1/3, threshold), best mean of the two."""
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    texts = [t for t, _ in train]
    words = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=3, sublinear_tf=True, max_features=300_000)
    X = hstack([words.fit_transform(texts), chars.fit_transform(texts)]).tocsr()
    m = LogisticRegression(C=1.0, max_iter=3000).fit(X, [y for _, y in train])
    T = hstack([words.transform([t for t, _ in test]), chars.transform([t for t, _ in test])]).tocsr()
    p = m.predict_proba(T)[:, 1]
    gold = [y for _, y in test]
    best = max((float(np.mean(scores(gold, list(p >= t)))), float(t)) for t in np.arange(0.05, 0.9, 0.01))
    own, third = scores(gold, [int(x) for x in p >= best[1]])
    return own, third, best[1]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(bench.default_data()))
    a = ap.parse_args()
    data = Path(a.data)
    early, late = split_by_year(data)
    share = sum(y for _, y in late) / len(late)
    print(f"SemEval before 2016's test: {len(early)} tweets; 2016 test, scored: {len(late)} ({share:.1%} negative)")

    from listen.flags.linear import LinearModel

    t0 = time.process_time()
    got = train_flags.fit_negative(data, train_flags.EXTRA_WEIGHTS, semeval=early)
    run = train_flags.patched_classify(got["qmodel"], LinearModel("negative_model", got["bias"], got["weights"]))
    gold = [y for _, y in late]
    own, third = scores(gold, [int(run(t).negative) for t, _ in late])
    print(f"listen, as shipped (threshold {got['threshold']:.2f} chosen in training): "
          f"F1 {own:.3f}, at one in three {third:.3f}  ({time.process_time() - t0:.0f} CPU s)")

    tse_train = bench.new_corpora(data)["tse"][0]
    te_train = bench.split([(t, int(y == 0)) for t, y in bench.load_tweeteval(data)])[0]
    r_own, r_third, r_t = reference(early + tse_train + te_train, late)
    print(f"reference TF-IDF + LR (threshold {r_t:.2f} chosen on these rows): F1 {r_own:.3f}, at one in three {r_third:.3f}")
    print(f"projection for TweetEval test (reference {REFERENCE_ON_TEST} there): "
          f"{third - (r_third - REFERENCE_ON_TEST):.3f}  (listen at 1/3 {third:.3f} - reference's drop {r_third - REFERENCE_ON_TEST:+.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
