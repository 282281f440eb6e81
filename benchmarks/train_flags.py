"""Train the two linear models shipped in listen/flags/data/.

    .venv/bin/python benchmarks/train_flags.py [--data ../shared/data]

Needs scikit-learn (training only; listen itself never imports it). Features
come from listen.flags itself, so training and inference cannot drift apart.
Model choice (C, threshold) uses cross-validation inside the training part;
the held-out part is scored once, through classify() itself, and recorded in
the model's "meta". The question model is then refitted on all chat
sessions with the chosen C. The negative model is shipped as measured: the
held-out parts of its corpora are never trained on, so benchmarks/flags.py
scores the shipped file on them. Seeds are fixed: a rerun writes the same files.

    --permissive-only   fit the negative model on the MIT / CC BY corpora alone
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, StratifiedKFold

sys.path.insert(0, str(Path(__file__).resolve().parent))
import flags as bench  # noqa: E402  (the benchmark's loaders)

from listen.flags import negative as neg  # noqa: E402
from listen.flags import question as q  # noqa: E402
from listen.flags import scoring  # noqa: E402
from listen.flags.text import prepare  # noqa: E402

OUT = bench.ROOT / "listen" / "flags" / "data"
CS = (0.1, 0.2, 0.4, 0.8)


def qfeats(text: str) -> dict[str, int]:
    d = prepare(text)
    return dict.fromkeys(q.cues(d)[0] + q.ngram_features(d), 1)


def nfeats(text: str) -> dict[str, int]:
    d = prepare(text)
    return dict.fromkeys(neg.cues(d)[0] + neg.ngram_features(d), 1)


def best_threshold(y, p, shares=(None,)) -> tuple[float, float]:
    """The threshold with the best mean F1 over the given class shares."""
    best = (0.5, 0.0)
    for t in np.arange(0.15, 0.8, 0.01):
        f = float(np.mean([bench.f1_at_share(list(y), list(p >= t), s) for s in shares]))
        if f > best[1]:
            best = (float(t), f)
    return best


# How common negative remarks are depends on the account: 15.6% of the
# TweetEval dev tweets, 65% of the customer tweets in twcs. A threshold tuned
# to the dev corpus alone is tuned to its 15.6%, and F1 then falls on any
# inbox with more complaints in it; the negative threshold is chosen for
# the best mean F1 at the dev share and at one in three instead.
NEGATIVE_SHARES = (None, 1 / 3)


def fit(X, y, C, w=None):
    m = LogisticRegression(C=C, max_iter=3000, solver="lbfgs")
    m.fit(X, y, sample_weight=w)
    return m


def cv_probs(X, y, C, folds, w=None):
    p = np.zeros(len(y))
    for tr, te in folds:
        m = fit(X[tr], y[tr], C, None if w is None else w[tr])
        p[te] = m.predict_proba(X[te])[:, 1]
    return p


def to_weights(prefix, vec, model, X, threshold, floor=0.05):
    """Sparse dict weights as shipped, with the cue priors applied."""
    # Drop weights of features seen once or barely used: keeps the file small
    # and stops one-off words from deciding anything.
    counts = np.asarray(X.sum(axis=0)).ravel()
    coef = model.coef_[0]
    names = vec.get_feature_names_out()
    weights = {
        n: round(float(c), 3)
        for n, c, k in zip(names, coef, counts)
        if abs(c) >= floor and (k >= 3 or not n.startswith(("w:", "b:", "s:", "f:", "f2:", "l:")))
    }
    # Shift the bias so that the CV-chosen threshold lands on 0.5, the default
    # in FlagSettings: users then tune around a calibrated midpoint.
    bias = float(model.intercept_[0]) - math.log(threshold / (1 - threshold))
    return round(bias, 4), weights


def predict(bias, weights, featdicts, combine):
    """Exactly what classify() does with a model: logistic, then cue floors."""
    out = []
    for d in featdicts:
        z = bias + sum(weights.get(f, 0.0) for f in d)
        p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
        out.append(int(combine(p, list(d)) >= 0.5))
    return out


def export(name, bias, weights, meta):
    blob = {"bias": bias, "weights": dict(sorted(weights.items())), "meta": meta}
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(blob, ensure_ascii=False, separators=(",", ":")), "utf-8")
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB, {len(weights)} weights)")


def cv_as_shipped(rows, C, t, folds) -> float:
    """F1 over the training sessions, each predicted by a model fitted on the
    others exactly as shipped: weights pruned, the bias shifted to `t`, then
    the cue floors and caps of scoring.question. This is the figure question
    cues are judged by; the held-out sessions are scored only once, after."""
    fd = [qfeats(x) for x, _, _ in rows]
    y = np.array([l for _, l, _ in rows])
    pred = np.zeros(len(y), dtype=int)
    for tr, te in folds:
        vec = DictVectorizer()
        X = vec.fit_transform([fd[i] for i in tr])
        bias, weights = to_weights("q:", vec, fit(X, y[tr], C), X, t)
        pred[te] = predict(bias, weights, [fd[i] for i in te], scoring.question)
    return bench.prf(list(y), list(pred))[2]


def train_question(data: Path):
    rows = bench.load_nps(data)
    train = [r for r in rows if r[2] not in bench.NPS_HELDOUT]
    held = [r for r in rows if r[2] in bench.NPS_HELDOUT]
    vec = DictVectorizer()
    X = vec.fit_transform([qfeats(t) for t, _, _ in train])
    y = np.array([l for _, l, _ in train])
    groups = [s for _, _, s in train]
    folds = list(GroupKFold(n_splits=7).split(X, y, groups))
    best = None
    for C in CS:
        t, f = best_threshold(y, cv_probs(X, y, C, folds))
        print(f"question C={C} cv F1 {f:.3f} at t={t:.2f}")
        if best is None or f > best[2]:
            best = (C, t, f)
    C, t, f = best
    cv_shipped = cv_as_shipped(train, C, t, folds)
    print(f"question leave-one-session-out F1 as shipped (pruned weights, cue floors): {cv_shipped:.3f}")
    m = fit(X, y, C)
    bias, weights = to_weights("q:", vec, m, X, t)
    yh = [l for _, l, _ in held]
    P, R, F = bench.prf(yh, predict(bias, weights, [qfeats(x) for x, _, _ in held], scoring.question))
    print(f"question held-out sessions: P {P:.3f} R {R:.3f} F1 {F:.3f}")
    meta = {"C": C, "threshold": round(t, 2), "cv_f1": round(f, 4), "cv_f1_as_shipped": round(cv_shipped, 4),
            "heldout": {"nps_chat (3 sessions)": {"P": P, "R": R, "F1": F}}}
    vec = DictVectorizer()
    X = vec.fit_transform([qfeats(x) for x, _, _ in rows])
    y = np.array([l for _, l, _ in rows])
    export("question_model", *to_weights("q:", vec, fit(X, y, C), X, t), meta)


# Extra, weaker training signal for the negative model. The sentiment
# corpora (TweetEval sentiment, SemEval, Tweet Sentiment Extraction: about
# 65,000 training tweets) are labelled like an inbox: negative / neutral /
# positive. The others are related tasks whose labels only approximate
# "negative remark", so each is weighted down; the weights were chosen by
# cross-validation on the TweetEval training part, when it was the only one.
#   vader:   tweets rated by people; mean <= -0.5 counts as negative (a milder
#            cut labels wistful and merely factual tweets negative).
#   emotion: anger/sadness vs joy/optimism (no neutral class).
#   npsq:    chat questions, as not negative: the sentiment corpora have few
#            neutral questions, and without them the model learned that
#            asking is complaining.
#   offensive: TweetEval offensive-language tweets (13,000) as negative, the
#            rest as not. Offence is not the same as a negative remark, so
#            the weight is low; it still taught the model insults and
#            hostile words that the 1,400 sentiment tweets never show
#            (cross-validated F1 +0.003 to +0.009; hate and irony at any
#            weight made it worse, so they are left out).
EXTRA_WEIGHTS = {"vader": 0.3, "emotion": 0.3, "npsq": 0.3, "offensive": 0.1}
# Tried on the negative model and not kept (5-fold CV F1 on TweetEval, same
# folds; the shipped features score about 0.59-0.60):
#   - stacking: models trained on emotion, offensive, hate and irony, their
#     scores fed as features: 0.579-0.585, worse than adding the rows.
#   - self-training on the 14,000 unlabelled hate/irony tweets (confident
#     pseudo-labels at weight 0.2-0.3, per fold): 0.585-0.594, no gain.
#   - character 4-grams inside words: 0.595, no gain over word stems.
#   - three classes (negative/neutral/positive, the extra corpora mapped to
#     them), P(negative) as the score: 0.594 against 0.598 for the binary model.
#   - C from 0.1 to 1.6: flat within 0.01.
# The linear model had reached what 2,000 labelled tweets can teach it;
# TweetEval's own figures put TF-IDF + logistic regression with VADER at
# 0.60 on its test split and a retrained RoBERTa at 0.75.
#
# With SemEval 2013-16 and Tweet Sentiment Extraction added (issue 11),
# measured on their held-out 15% and TweetEval's held-out 30%, F1 at the
# best threshold for each:
#   - the new corpora lift general tweets most: SemEval held-out at one
#     negative in three 0.667 -> 0.716 (TweetEval held-out 0.595 -> 0.663);
#     SemEval alone gives most of it, Tweet Sentiment Extraction alone
#     little on general tweets but most on its own split (0.736).
#   - permissive corpora alone (Tweet Sentiment Extraction + VADER): 0.652 on
#     SemEval at one in three, 0.577 on TweetEval: five to seven points lower.
#   - the extra weak corpora (emotion, offensive, VADER, NPS questions) on
#     top of the three sentiment corpora: within 0.01 either way; kept, as
#     they teach insults and neutral questions that the held-out sets rarely test.
#   - character 3-4 grams inside words (about 100 more features per tweet):
#     0.709 against 0.723, no gain, and slower.
#   - NB-SVM (features scaled by their log-count ratio, the product shipped
#     as the weight, so still one lookup each): 0.726-0.729 against 0.726.
#   - word trigrams on top of the bigrams: 0.728 against 0.726, and 0.727
#     against 0.734 on Tweet Sentiment Extraction: no gain.
#   - C 0.15 / 0.2 / 0.4 / 1.0: within 0.02, 0.15-0.2 best.
# On the question model (NPS chat, 3 held-out sessions, 0.883 before): chat
# nicks skipped at clause starts and more exclamations ("how horrible")
# 0.888, kept; a greeting feature ("what's up") 0.890 and an invitation
# feature ("wanna chat? pm me") 0.888, not kept: NPS labels those posts as
# questions in some sessions and not in others; the opening word crossed
# with "has a '?'" 0.883, not kept.
# 2.4, judged by leave-one-session-out CV over the 7 training sessions as
# shipped (cv_as_shipped; 0.904 before): interjections opening a clause, a
# nick as an inverted subject, bare "how X" / "why yes" / "where ever" as
# not asking, comparisons and said-of-someone phrases not asks or requests
# 0.911; no floor for "q:ask" 0.916, kept (twcs and blog rows unchanged);
# roll calls ("anyone from ohio", "any nurses around") as asks 0.917, kept.
# Not kept: dropping the wh_aux floor too (0.918) fails support-style
# questions without '?' ("hey all, what time does the stream start");
# dropping every floor (0.921) loses a quarter of the twcs questions (help
# requests); applying floors only when the model gives p >= 0.05 or 0.1
# (twcs 0.923 -> 0.833); choosing the threshold on the floored scores
# rather than the raw ones (the same t); "can you believe" not an ask
# (0.917, no change). Held-out: 0.885 -> 0.889.
# 2.5 (issue 11, target 0.90 on chat sessions we do not have), judged the
# same way; benchmarks/question_cv.py prints it per session and writes the
# errors of a 10-session CV for reading. Most remaining errors are labels
# NPS gives both ways (a counter-question tacked on an answer, "nope, u?",
# is an answer in one session and a question in another; so are a "wanna
# chat? pm me" call to the room and "whats up"), so the gains are small:
#   kept: after a nick, "is/was/has/does" has the nick as subject ("pat42
#   is my cousin"); wh-word + pronoun + verb is a clause's order, not an
#   interrogative one ("when i didnt reply", no q:wh_aux and its floor);
#   "call me Jo" / "call me whatever" / "some call me" and "didnt send
#   me" are no requests; "what can I say" closing a clause is a shrug:
#   0.917 -> 0.921 (4 posts right, none wrong). A question quoted from
#   someone else ("I was like wtf who are you", "goes, 'why is it wet?'")
#   capped like a rhetorical one: 0.923 (P 0.905 R 0.941). Held-out 3
#   sessions, scored once: 0.889 -> 0.900 (P 0.879 R 0.922).
#   not kept (CV F1 as shipped, 0.917 or 0.921 before):
#   - every chat nick as one word "<nick>" in the n-grams, its leading
#     numbers dropped or kept: 0.916 / 0.919; dropped again on 0.921: 0.919.
#   - "first word" (q:wh_start, q:inversion_start) counted after greetings,
#     fillers and nicks ("hey pat, how are you"): 0.917 (more recall, as
#     much less precision; greetings such as "hiya pat how r u" are labelled
#     Greet as often as questions).
#   - a preposition before the question word ("at what time"): 0.923, no change.
#   - "ya" not an auxiliary ("ya i dunno"): no change.
#   - learners and regularisation on the same features, raw CV F1 at the
#     best threshold (0.925 shipped): C up to 3.2, class weights 1:2 or
#     balanced, a linear SVM, L1, NB-weighted features: 0.919-0.926.
#     Character 2-4 / 1-5 grams: 0.900-0.905. Cue features less
#     regularised (scaled x2, x3): 0.921-0.926. Dropping the bigrams, the
#     last word, the first two words: 0.924-0.926. Cue features crossed
#     with "has '?'", length crossed with it, the first word of posts
#     without '?': 0.914-0.918 as shipped. The model is at what these
#     labels let it learn.
#   - the cue floors cost chat 0.003 (0.9235 without any), in 4 posts; they
#     stay, as twcs help requests need them (see 2.4 above).
#
# Negative model, 2.5 (issue 11's general-tweet target, TweetEval test split
# >= 0.68). The weights and the threshold are 2.4's; one cap changed.
# Variants were compared on the held-out TweetEval and SemEval rows at the
# one threshold best for the mean F1 of both at their own share and at one
# in three (a fair comparison between variants, not a figure to ship); the
# 2.4 model retrained scores 0.6727 there (shipped file 0.6769: rounding).
# Not kept:
#   - negation marked up to the next punctuation instead of 3 words: 0.6685.
#   - character 2-5 grams across word boundaries (min count 3, pruned at
#     NEGATIVE_FLOOR like the rest): 0.6394; training 3x slower.
#   - Tweet Sentiment Extraction's selected_text spans of its negative
#     training tweets as 5,600 extra negative rows at weight 0.5: 0.6707.
#   - word clusters: 300 k-means clusters of PPMI + SVD co-occurrence
#     vectors of 15,700 words from 100,000 training and unlabelled (hate,
#     irony) tweets, one feature per word's cluster: 0.6704.
#   - Tweet Sentiment Extraction at weight 0.5: 0.6733. TweetEval at weight
#     3: 0.6774, all of it on TweetEval at its own share (the held-out rows
#     come from the same val split as its training rows), SemEval unchanged.
#   - the threshold chosen on the flags as shipped (as_shipped below: bias
#     shifted, then scoring.negative's floors and caps) rather than on the
#     raw scores. Out of fold on the general training tweets the floors and
#     caps cost 0.02 (mean over shares 0.658 raw, 0.638 as shipped), and
#     the as-shipped choice is t=0.16 instead of 0.18. Held out: TweetEval
#     0.642 -> 0.645 (0.760 -> 0.769 at one in three), SemEval 0.563 ->
#     0.564 (0.698 -> 0.706), Tweet Sentiment Extraction 0.699 -> 0.691; but
#     a warm blog comment then reaches the blog kind's 0.6 (a false alarm)
#     and toneless texts ("this is a , !", "we have no plans for friday")
#     rise from 0.53 to 0.56, above the toneless cap's 0.55, flagged with no
#     reason the user can see. Counting warmth (n:lone_mild) from a compound
#     of 0.15 fixed the blog alarm; widening the toneless cap to 0.65 fixed
#     the toneless texts but gave back the gain (held out TweetEval 0.654 /
#     0.763, SemEval 0.563 / 0.697, support kind on twcs 0.892 -> 0.868);
#     widening it to 0.6 moved the chosen threshold to 0.13 and the toneless
#     texts to 0.62: the cap and the threshold chase each other.
#   - the caps, ablated one at a time out of fold (as shipped 0.6380): each
#     floor 0.6383-0.6390 without it, no warm cap 0.6445, no question cap
#     0.6474, no toneless cap 0.6392. The question cap only for questions
#     with no negative word worth 1 (n:negsum1 or more): out of fold 0.6463
#     with the warm cap change below; held out SemEval 0.569 / 0.710 but
#     TweetEval 0.633 / 0.756 and 12.7% of held-out chat questions flagged
#     negative (9.8%): not kept. Below 0.7 instead of 0.9 for every question:
#     SemEval 0.716 at one in three, but the blog's polite "would this work
#     for people who do shift work?" and 13.5% of chat questions flagged.
# Kept: the warm cap (n:lone_mild, n:litotes) yields to a model at 0.8 or
# more (scoring.LONE_MILD_CONFIDENT): out of fold 0.6376 -> 0.6411 at the
# shipped threshold; held out SemEval 0.563 -> 0.564 (0.698 -> 0.701 at one
# in three), Tweet Sentiment Extraction 0.699 -> 0.706, VADER 0.870 ->
# 0.868; TweetEval, twcs, the blog set and chat questions unchanged.
# The linear model over these features has reached what this data teaches
# it; the rest is in the texts the caps hold back, which they hold back for
# reasons the held-out tweets do not test (warm blog comments, polite
# questions, flags with no visible reason).
#
# 2.6: no model change; tried against a time shift. benchmarks/time_shift.py
# trains without SemEval's 2016 test file (the tweets collected last) and
# scores on it, with the reference TF-IDF + LR of SOURCES.md (0.65 on
# TweetEval test) scored the same way. As shipped, listen scores 0.695 at one
# negative in three there and the reference 0.692 (its threshold chosen on
# the scored rows): on tweets from a later period the cues and caps buy
# nothing over plain n-grams, and the projection for TweetEval test is about
# 0.65, not the 0.68-0.69 that the random held-out rows suggested.
# Not kept: a second, letter-level view (grams of 2-4 letters inside each
# token, counts scaled by 1/sqrt(grams), C=4, its logit blended 0.4 with the
# word model's, threshold chosen on the blend; a token's share cached, so it
# cost about 15 us a text). Raw scores at the best threshold on the 2016
# file: 0.700 -> 0.720 at one in three (0.549 -> 0.553 at its own share);
# TweetEval held-out flat; through classify() with the caps: TweetEval
# held-out 0.639 -> 0.648, SemEval 0.564 -> 0.573, VADER 0.868 -> 0.846.
# It fails people: letters know no negation ("not bad at all" 0.86;
# negated words spelt apart as their own grams fixed that) and no slang
# praise ("that was wicked fast", "a killer feature", "you are killing
# it!" all flagged, with no reason a person could read). A lexicon-free
# view of letters is exactly what a warm blog comment must not meet.


def extra_rows(data: Path, nps_sessions=None) -> dict[str, list[tuple[str, int]]]:
    vader = []
    for line in (data / "vader" / "tweets_GroundTruth.txt").read_text("utf-8", errors="replace").splitlines():
        parts = line.split("\t", 2)
        if len(parts) == 3:
            vader.append((parts[2], int(float(parts[1]) <= -0.5)))
    emotion = [(t, int(lab in (0, 3))) for sp in ("train", "val") for t, lab in bench.load_tweeteval(data, "emotion", sp)]
    npsq = [(t, 0) for t, y, s in bench.load_nps(data) if y and (nps_sessions is None or s in nps_sessions)]
    offensive = [(t, lab) for sp in ("train", "val") for t, lab in bench.load_tweeteval(data, "offensive", sp)]
    return {"vader": vader, "emotion": emotion, "npsq": npsq, "offensive": offensive}


def patched_classify(qmodel, nmodel):
    """classify() as shipped, but with these in-memory models: the held-out
    figures then measure exactly what users get, cue floors and caps included."""
    import listen.flags as flags

    flags.models = lambda: (qmodel, nmodel)
    return flags.classify


# Regularisation of the negative model. With 70,000 labelled tweets the
# held-out F1 is flat from C=0.15 to 1.0 (within 0.02), so C is fixed rather
# than searched: each fit takes about a minute.
NEGATIVE_C = 0.2
# Weights smaller than this are dropped from the shipped negative model:
# at 0.05 it kept 48,600 weights (920 KiB) and classify() ran 14% slower,
# the larger dict costing cache misses on every lookup; at 0.1 it keeps
# about 22,000, and held-out F1 moved by 0.01 or less on every corpus.
NEGATIVE_FLOOR = 0.1
# Corpora whose licence allows any use (SOURCES.md); --permissive-only
# trains on these alone, to measure what the others add.
PERMISSIVE = ("tse", "vader")


def _ship_inputs(texts, qmodel):
    """(negative cue features, flagged as a question) per text, as classify() sees them."""
    out = []
    for x in texts:
        d = prepare(x)
        qf = q.cues(d)[0]
        asks = scoring.question(qmodel.prob(qf + q.ngram_features(d)), qf) >= 0.5
        out.append((neg.cues(d)[0], asks))
    return out


def as_shipped(p, t, inputs):
    """Flags from out-of-fold probabilities `p` with the bias shifted so that
    `t` lands on 0.5, then the cue floors and caps of scoring.negative:
    what classify() would answer with a model shipped at threshold t.
    `inputs` is _ship_inputs() of the same texts."""
    shift = math.log(t / (1 - t))
    z = np.log(np.clip(p, 1e-12, 1 - 1e-12) / np.clip(1 - p, 1e-12, 1)) - shift
    ps = 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))
    return [int(scoring.negative(float(pi), cues, asks) >= 0.5) for pi, (cues, asks) in zip(ps, inputs)]


def fit_negative(data: Path, weights: dict[str, float], permissive_only: bool = False,
                 exclude: tuple[str, ...] = (), semeval: list[tuple[str, int]] | None = None) -> dict:
    """The negative model as train_negative fits it, in memory: TweetEval (its
    training part), SemEval and Tweet Sentiment Extraction (all but their
    held-out parts) and the weaker extra corpora, minus any corpus named in
    `exclude` (left out of training altogether, e.g. "tse" for
    benchmarks/corrections.py's unseen-domain curve).

    Returns the fitted bias and weights with what train_negative records."""
    from listen.flags import models

    qmodel = models()[0]
    te = [(t, int(y == 0)) for t, y in bench.load_tweeteval(data)]
    te_train, te_held = bench.split(te)
    new = bench.new_corpora(data)
    vader_train_texts = {t for t, _ in bench.split(bench.load_vader_tweets(data))[0]}
    train_sessions = {s for _, _, s in bench.load_nps(data)} - set(bench.NPS_HELDOUT)
    extra = extra_rows(data, train_sessions)
    extra["vader"] = [r for r in extra["vader"] if r[0] in vader_train_texts]
    # `semeval` replaces SemEval's training part (benchmarks/time_shift.py trains on the years before 2016).
    main_rows = {"tweeteval": te_train, "semeval": new["semeval"][0] if semeval is None else semeval,
                 "tse": new["tse"][0]}
    if permissive_only:
        main_rows = {k: v for k, v in main_rows.items() if k in PERMISSIVE}
        weights = {k: v for k, v in weights.items() if k in PERMISSIVE}
    if exclude:
        main_rows = {k: v for k, v in main_rows.items() if k not in exclude}
        weights = {k: v for k, v in weights.items() if k not in exclude}
    labelled = [(t, y, 1.0, k) for k, rows in main_rows.items() for t, y in rows]
    allrows = labelled + [(t, y, weights[k], k) for k, rows in extra.items() if weights.get(k) for t, y in rows]
    vec = DictVectorizer()
    X = vec.fit_transform([nfeats(t) for t, _, _, _ in allrows])
    y = np.array([l for _, l, _, _ in allrows])
    w = np.array([x for _, _, x, _ in allrows])
    n_lab = len(labelled)
    # The threshold: out-of-fold scores on the labelled rows (the extra rows
    # are always trained on), judged on the general-tweet corpora only, as
    # the mean F1 at their own share of negatives and at one in three.
    folds = []
    for tr, ts in StratifiedKFold(3, shuffle=True, random_state=bench.SEED).split(X[:n_lab], y[:n_lab]):
        folds.append((np.concatenate([tr, np.arange(n_lab, len(y))]), ts))
    p = cv_probs(X, y, NEGATIVE_C, folds, w)[:n_lab]
    general = np.array([k in ("tweeteval", "semeval") for *_, k in labelled])
    if not general.any():
        general[:] = True
    t, f = best_threshold(y[:n_lab][general], p[general], NEGATIVE_SHARES)
    own = bench.f1_at_share(list(y[:n_lab][general]), list(p[general] >= t))
    print(f"negative C={NEGATIVE_C} cv F1 (general tweets) {own:.3f} as is, {f:.3f} mean over shares, at t={t:.2f}")
    # The same out-of-fold scores through scoring.negative's floors and caps
    # (see the note on 2.5 above: they cost about 0.02 here).
    inputs = _ship_inputs([x for (x, *_), g in zip(labelled, general) if g], qmodel)
    shipped = as_shipped(p[general], t, inputs)
    fs = float(np.mean([bench.f1_at_share(list(y[:n_lab][general]), shipped, s) for s in NEGATIVE_SHARES]))
    print(f"negative cv F1 (general tweets) as shipped, cue floors and caps applied: {fs:.3f} mean over shares")
    m = fit(X, y, NEGATIVE_C, w)
    bias, weights_out = to_weights("n:", vec, m, X, t, NEGATIVE_FLOOR)
    return {"bias": bias, "weights": weights_out, "threshold": t, "cv_f1": own, "cv_f1_mean_over_shares": f,
            "corpora": sorted(main_rows), "extra_weights": weights, "qmodel": qmodel, "te_held": te_held,
            "new": new}


def train_negative(data: Path, weights: dict[str, float], permissive_only: bool = False):
    """Fit (fit_negative), score the held-out parts through classify() and write the model.

    The shipped model is the one measured: it is never refitted on the
    held-out parts, so benchmarks/flags.py can score it on them honestly."""
    from listen.flags.linear import LinearModel

    got = fit_negative(data, weights, permissive_only)
    qmodel, bias, weights_out, t = got["qmodel"], got["bias"], got["weights"], got["threshold"]
    te_held, new, own, f = got["te_held"], got["new"], got["cv_f1"], got["cv_f1_mean_over_shares"]
    main_rows, weights = got["corpora"], got["extra_weights"]
    run = patched_classify(qmodel, LinearModel("negative_model", bias, weights_out))
    heldout = {}
    sets = {
        "tweeteval": te_held,
        "semeval": new["semeval"][1],
        "tse": new["tse"][1],
        "vader": bench.split(bench.load_vader_tweets(data))[1],
        "twcs": bench.load_twcs(data),
    }
    for k, held in sets.items():
        gold, pred = [l for _, l in held], [int(run(x).negative) for x, _ in held]
        P, R, F = bench.prf(gold, pred)
        heldout[f"{k} held-out"] = {"P": P, "R": R, "F1": F}
        line = f"negative {k} held-out: P {P:.3f} R {R:.3f} F1 {F:.3f}"
        if k in ("tweeteval", "semeval"):
            F3 = bench.f1_at_share(gold, pred, 1 / 3)
            heldout[f"{k} held-out"]["F1 at 1/3 negative"] = F3
            line += f"; reweighted to 1/3 negative: F1 {F3:.3f}"
        print(line)
    nps = bench.load_nps(data)
    qs = [x for x, yq, s in nps if yq and s in bench.NPS_HELDOUT]
    rate = sum(run(x).negative for x in qs) / len(qs)
    heldout["nps questions held-out"] = {"flagged negative": rate}
    print(f"negative: {rate:.1%} of {len(qs)} held-out chat questions flagged negative")
    meta = {"C": NEGATIVE_C, "threshold": round(t, 2), "cv_f1": round(own, 4), "cv_f1_mean_over_shares": round(f, 4),
            "corpora": sorted(main_rows), "extra_weights": weights, "heldout": heldout}
    export("negative_model", bias, weights_out, meta)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(bench.default_data()))
    ap.add_argument("--only", choices=("question", "negative"))
    ap.add_argument("--permissive-only", action="store_true",
                    help="fit the negative model on the MIT / CC BY corpora alone (it is written too)")
    a = ap.parse_args()
    data = Path(a.data)
    if a.only != "negative":
        train_question(data)
    if a.only != "question":
        train_negative(data, EXTRA_WEIGHTS, a.permissive_only)


if __name__ == "__main__":
    main()
