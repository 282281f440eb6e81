"""Leave-one-session-out figures and errors of the question model.

    .venv/bin/python benchmarks/question_cv.py [--data ../shared/data] [--errors FILE]

1. The figure question cues are judged by: F1 over the 7 training chat
   sessions, each predicted by a model fitted on the other 6 exactly as
   shipped (C and threshold chosen by CV on the raw scores, weights pruned,
   the bias shifted, the cue floors of scoring.question), as train_flags.py
   computes it. Per session too.
2. The same over all 10 sessions, for error analysis only (the held-out 3
   are then scored by models fitted on the other 9: never on themselves).
   --errors FILE writes every false positive and false negative there, with
   the cue features that fired, grouped by kind. The file holds NPS text:
   keep it out of the repository (the data is read in place, never copied).
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

import numpy as np
from sklearn.feature_extraction import DictVectorizer
from sklearn.model_selection import GroupKFold

sys.path.insert(0, str(Path(__file__).resolve().parent))
import flags as bench  # noqa: E402
import train_flags as tf  # noqa: E402

from listen.flags import scoring  # noqa: E402


def choose(fd, y, folds):
    """(C, threshold, raw CV F1) as train_question chooses them."""
    vec = DictVectorizer()
    X = vec.fit_transform(fd)
    best = None
    for C in tf.CS:
        t, f = tf.best_threshold(y, tf.cv_probs(X, y, C, folds))
        if best is None or f > best[2]:
            best = (C, t, f)
    return best


def loso(rows, C, t, combine=scoring.question):
    """Per-row predictions, each session by a model fitted on the others as shipped."""
    fd = [tf.qfeats(x) for x, _, _ in rows]
    y = np.array([l for _, l, _ in rows])
    groups = [s for _, _, s in rows]
    folds = list(GroupKFold(n_splits=len(set(groups))).split(fd, y, groups))
    pred = np.zeros(len(y), dtype=int)
    for tr, te in folds:
        vec = DictVectorizer()
        X = vec.fit_transform([fd[i] for i in tr])
        bias, weights = tf.to_weights("q:", vec, tf.fit(X, y[tr], C), X, t)
        pred[te] = tf.predict(bias, weights, [fd[i] for i in te], combine)
    return fd, y, pred


def report(rows, y, pred, label):
    P, R, F = bench.prf(list(y), list(pred))
    print(f"{label}: P {P:.3f} R {R:.3f} F1 {F:.3f} (n {len(y)})")
    for s in sorted({r[2] for r in rows}):
        idx = [i for i, r in enumerate(rows) if r[2] == s]
        p, r, f = bench.prf([int(y[i]) for i in idx], [int(pred[i]) for i in idx])
        print(f"  {s:14s} P {p:.3f} R {r:.3f} F1 {f:.3f}")
    return F


def kind(text: str, feats: dict) -> str:
    """A rough kind for an error, to count them by."""
    if "?" not in text:
        return "no '?'"
    if "q:wh" in feats or "q:inversion" in feats:
        return "'?' + wh/inversion"
    if len(text.split()) <= 2:
        return "'?' short (<=2 words)"
    return "'?' other"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(bench.default_data()))
    ap.add_argument("--errors", help="write false positives/negatives of the 10-session CV here")
    a = ap.parse_args()
    rows = bench.load_nps(Path(a.data))
    train = [r for r in rows if r[2] not in bench.NPS_HELDOUT]
    fd = [tf.qfeats(x) for x, _, _ in train]
    y = np.array([l for _, l, _ in train])
    groups = [s for _, _, s in train]
    folds = list(GroupKFold(n_splits=7).split(fd, y, groups))
    C, t, f = choose(fd, y, folds)
    print(f"chosen C={C} t={t:.2f} (raw CV F1 {f:.3f})")
    _, y7, p7 = loso(train, C, t)
    report(train, y7, p7, "LOSO as shipped, 7 training sessions")
    fd10, y10, p10 = loso(rows, C, t)
    report(rows, y10, p10, "LOSO as shipped, all 10 sessions (analysis only)")
    if a.errors:
        groups_out: dict[str, list[str]] = collections.defaultdict(list)
        for (text, _, s), feats, g, p in zip(rows, fd10, y10, p10):
            if g != p:
                cues = " ".join(sorted(k for k in feats if k.startswith("q:") and not k.startswith("q:len")))
                groups_out[("FP " if p else "FN ") + kind(text, feats)].append(f"{s}\t{text!r}\t{cues}")
        with open(a.errors, "w", encoding="utf-8") as fh:
            for k in sorted(groups_out, key=lambda k: -len(groups_out[k])):
                fh.write(f"## {k}: {len(groups_out[k])}\n" + "\n".join(groups_out[k]) + "\n\n")
        for k in sorted(groups_out, key=lambda k: -len(groups_out[k])):
            print(f"  {k}: {len(groups_out[k])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
