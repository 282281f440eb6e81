"""Learning from the user's corrections (`listen mark`): a small adjustment on top
of the shipped model, fitted in pure Python.

For one flag, each corrected mention gives an example: its feed, its words, the
shipped model's logit measured against the feed's threshold (`base`, so that 0
is "on the threshold") and the label the user gave. The adjustment adds

    z = base + bias + feed_bias[feed] + sum(weights[f] for f in features(text))

and flags when z >= 0. It is fitted by L2-regularised logistic regression
whose zero point is the shipped model: with no corrections, or corrections the
model already agrees with, nothing moves; a few corrections move the per-feed
bias (a threshold) before they move any word; many corrections teach words
(e.g. "on hold", "call back" in a support inbox).

No I/O here: the caller gives examples and keeps the result.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from itertools import repeat

VERSION = "3"

# Regularisation, in units of the summed log-loss. A bias is cheap to move (one
# number carries the evidence of every example of its feed); a word needs
# several examples that agree before it weighs as much as the shipped model.
# Chosen on benchmarks/corrections.py (3 seeds, tweet_sentiment_extraction):
# with L2_WORD 1 or 2, 500 general-tweet marks cost a point of F1 where the
# threshold was already right (words learned from a few hundred tweets are
# mostly noise next to a model trained on tens of thousands); at 5 they cost
# nothing and a wrong threshold is still recovered (support kind: 0.580 -> 0.641).
L2_BIAS = 5.0
L2_WORD = 5.0
# The bias every feed shares moves four times less easily than a feed's own:
# marks in a support inbox must not lower a blog's threshold much.
GLOBAL_FACTOR = 4.0
ITERATIONS = 30
# A feed's cut is tuned for F1 from this many corrections on, and trusted n/(n + CUT_PRIOR).
MIN_FOR_CUT = 30
CUT_PRIOR = 50
SMOOTH = 3  # neighbours on each side (0.1 logit apart) that judge a cut with it
MAX_BASE = 8.0  # a floored/capped cue score of 0 or 1 must not become an infinite logit

_TOKEN = re.compile(r"[a-z0-9][a-z0-9'’]*")
# Too common to teach anything about one user's feed on a few hundred examples.
_STOP = frozenset("a an the to of and in on is it i for this that be at with".split())


def features(text: str) -> list[str]:
    """Word unigrams and bigrams, lower-cased: what the adjustment may weigh."""
    words = [w for w in _TOKEN.findall(text.lower()) if not w.startswith("http")][:80]
    out = {f"w:{w}" for w in words if w not in _STOP}
    out.update(f"b:{a} {b}" for a, b in zip(words, words[1:]))
    return list(out)


def logit(p: float) -> float:
    p = min(1 - 1e-4, max(1e-4, p))
    return math.log(p / (1 - p))


def sigmoid(z: float) -> float:
    if z < -30:
        return 0.0
    if z > 30:
        return 1.0
    return 1.0 / (1.0 + math.exp(-z))


def base_logit(score: float, threshold: float) -> float:
    """The shipped score, measured from the feed's threshold (0 = on it)."""
    return max(-MAX_BASE, min(MAX_BASE, logit(score) - logit(threshold)))


@dataclass(frozen=True)
class Example:
    feed: str
    text: str
    base: float  # base_logit(shipped score, feed threshold)
    label: bool


@dataclass
class Adjustment:
    bias: float = 0.0
    feed_bias: dict[str, float] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)
    examples: int = 0

    @property
    def empty(self) -> bool:
        return self.examples == 0

    def shift(self, feed: str | None, feats: list[str]) -> float:
        w = self.weights
        return self.bias + self.feed_bias.get(feed or "", 0.0) + sum(map(w.get, feats, repeat(0.0)))

    def decide(self, feed: str | None, text: str, base: float) -> bool:
        return base + self.shift(feed, features(text) if self.weights else []) >= 0

    def threshold(self, feed: str | None, threshold: float) -> float:
        """The feed's threshold on the shipped score once the learned biases apply (words aside)."""
        return round(sigmoid(logit(threshold) - self.bias - self.feed_bias.get(feed or "", 0.0)), 3)

    def strongest(self, text: str, sign: int, n: int = 2) -> list[str]:
        """The words that moved this text most in direction `sign`, for a reason line."""
        scored = sorted(((sign * self.weights.get(f, 0.0), f) for f in features(text)), reverse=True)
        return [f.split(":", 1)[1] for s, f in scored[:n] if s > 0.15]

    def to_json(self) -> str:
        return json.dumps({"v": VERSION, "bias": self.bias, "feed_bias": self.feed_bias,
                           "weights": self.weights, "examples": self.examples}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Adjustment | None:
        try:
            blob = json.loads(text)
            if blob.get("v") != VERSION:
                return None
            return cls(float(blob["bias"]), {str(k): float(v) for k, v in blob["feed_bias"].items()},
                       {str(k): float(v) for k, v in blob["weights"].items()}, int(blob["examples"]))
        except (ValueError, TypeError, KeyError, AttributeError):
            return None  # a damaged cache is refitted, not trusted

    def fingerprint(self) -> str:
        return hashlib.sha1(self.to_json().encode()).hexdigest()[:8]


def fit(examples: list[Example], l2_bias: float = L2_BIAS, l2_word: float = L2_WORD,
        iterations: int = ITERATIONS) -> Adjustment:
    """The adjustment for `examples`: word weights and biases by penalised logistic
    regression (_fit), then each feed's threshold moved to where it would have
    caught the corrections best.

    Log-loss calibrates; it does not maximise F1. When one answer is rarer (few
    complaints on a blog, few compliments in a support inbox) the calibrated
    cut is too cautious. So for a feed with enough corrections, the cut is
    chosen for F1 on scores each correction got from a model fitted without it
    (5-fold), and moved only part of the way, more as corrections accumulate.
    """
    adj = _fit(examples, l2_bias, l2_word, iterations)
    by_feed: dict[str, list[int]] = {}
    for i, e in enumerate(examples):
        by_feed.setdefault(e.feed, []).append(i)
    if not any(len(ix) >= MIN_FOR_CUT for ix in by_feed.values()):
        return adj
    k = 5
    margins = [0.0] * len(examples)
    for fold in range(k):
        held = [i for i in range(len(examples)) if i % k == fold]
        m = _fit([e for i, e in enumerate(examples) if i % k != fold], l2_bias, l2_word, iterations)
        for i in held:
            e = examples[i]
            margins[i] = e.base + m.shift(e.feed, features(e.text))
    for feed, ix in by_feed.items():
        total = adj.bias + adj.feed_bias.get(feed, 0.0)
        if len(ix) < MIN_FOR_CUT or not any(examples[i].label for i in ix):
            continue
        # F1 over cuts is ragged on a few hundred examples: each cut is judged by
        # the mean F1 of its neighbourhood (+-SMOOTH logits), ties going to the smaller move.
        cuts = [step / 10 for step in range(-30, 31)]
        f1s = [_f1([(margins[i] + cut >= 0, examples[i].label) for i in ix]) for cut in cuts]
        w = SMOOTH
        smooth = [sum(f1s[max(0, j - w):j + w + 1]) / len(f1s[max(0, j - w):j + w + 1]) for j in range(len(cuts))]
        best = cuts[min(range(len(cuts)), key=lambda j: (-round(smooth[j], 9), abs(cuts[j])))]
        # The feed's whole offset from the shipped threshold, shrunk towards it:
        # with few corrections the user's threshold stays close to the kind's.
        trust = len(ix) / (len(ix) + CUT_PRIOR)
        adj.feed_bias[feed] = round(trust * (total + best) - adj.bias, 4)
    return adj


def _f1(pairs: list[tuple[bool, bool]]) -> float:
    p, r = precision_recall(pairs)
    return 0.0 if not p or not r else 2 * p * r / (p + r)


def _fit(examples: list[Example], l2_bias: float = L2_BIAS, l2_word: float = L2_WORD,
        iterations: int = ITERATIONS) -> Adjustment:
    """Fit the adjustment by cyclic coordinate descent on the penalised log-loss.

    One parameter at a time takes a Newton step (its gradient over its
    curvature, capped at 1 logit) and the margins of the examples it touches
    move at once, so correlated parameters (a feed's bias and the words common
    in that feed) never overshoot together. A few dozen passes converge on a
    few hundred examples in well under a second.
    """
    if not examples:
        return Adjustment()
    feats = [features(e.text) for e in examples]
    counts: dict[str, int] = {}
    for fs in feats:
        for f in fs:
            counts[f] = counts.get(f, 0) + 1
    # Parameters: "" is the global bias, "\x00feed" a feed's bias, the rest words.
    # A word seen once cannot be told from noise: only those seen twice are weighed.
    touches: dict[str, list[int]] = {"": list(range(len(examples)))}
    for i, (e, fs) in enumerate(zip(examples, feats)):
        touches.setdefault("\x00" + e.feed, []).append(i)
        for f in fs:
            if counts[f] >= 2:
                touches.setdefault(f, []).append(i)
    theta = dict.fromkeys(touches, 0.0)
    z = [e.base for e in examples]
    y = [1.0 if e.label else 0.0 for e in examples]
    order = sorted(touches, key=lambda k: (not k.startswith("\x00") and k != "", k))
    for _ in range(iterations):
        biggest = 0.0
        for k in order:
            lam = l2_bias * GLOBAL_FACTOR if k == "" else l2_bias if k.startswith("\x00") else l2_word
            g = lam * theta[k]
            h = lam
            for i in touches[k]:
                p = sigmoid(z[i])
                g += p - y[i]
                h += p * (1 - p)
            step = max(-1.0, min(1.0, -g / h))
            if step:
                theta[k] += step
                for i in touches[k]:
                    z[i] += step
                biggest = max(biggest, abs(step))
        if biggest < 1e-3:
            break
    feed_bias = {k[1:]: round(v, 4) for k, v in theta.items() if k.startswith("\x00")}
    weights = {k: round(v, 4) for k, v in theta.items() if k and not k.startswith("\x00") and abs(v) >= 0.01}
    return Adjustment(round(theta[""], 4), feed_bias, weights, len(examples))


def precision_recall(pairs: list[tuple[bool, bool]]) -> tuple[float | None, float | None]:
    """(precision, recall) of (predicted, actual) pairs; None where undefined."""
    tp = sum(1 for p, a in pairs if p and a)
    pp = sum(1 for p, _ in pairs if p)
    ap = sum(1 for _, a in pairs if a)
    return (tp / pp if pp else None, tp / ap if ap else None)


def cross_validated(examples: list[Example], folds: int = 5) -> list[tuple[bool, bool]]:
    """(predicted, actual) for each example, predicted by an adjustment fitted
    without it: leave-one-out under `folds` examples, else k-fold."""
    k = min(folds, len(examples)) if len(examples) >= folds * 2 else len(examples)
    out: list[tuple[bool, bool]] = []
    for i in range(k):
        held = examples[i::k]
        model = fit([e for j, e in enumerate(examples) if j % k != i])
        out += [(model.decide(e.feed, e.text, e.base), e.label) for e in held]
    return out
