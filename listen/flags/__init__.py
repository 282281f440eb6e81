"""Question and negative-remark detection.

Public API (kept stable for the rest of `listen`):

    classify(text, settings=None) -> Verdict
    FLAGS_VERSION: str   # bump when results may change; stored items are re-flagged

Design: hand-written cues (question.py, negative.py, lexicon.py) find the
evidence and phrase the reasons; two small linear models trained on public
dev data (model.py, data/*.json) weigh that evidence with word n-grams into
a 0..1 score. Cue evidence then bounds the score (scoring.py): a matched
complaint sets a floor, and a question with no negative cue is not a
complaint. User rules from FlagSettings apply last and say so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from . import negative as _neg
from . import question as _q
from . import scoring as _scoring
from .linear import LinearModel
from .text import prepare, snippet

FLAGS_VERSION = "2.6"


@dataclass(frozen=True)
class FlagSettings:
    """User-tunable knobs, read from the `[flags]` config section."""

    question_threshold: float = 0.5
    negative_threshold: float = 0.5
    # Phrases that are never (or always) a negative remark for this user,
    # e.g. "killer feature", "sick".
    never_negative: tuple[str, ...] = ()
    always_negative: tuple[str, ...] = ()
    never_question: tuple[str, ...] = ()
    always_question: tuple[str, ...] = ()
    # Our own names/handles: a question naming us is addressed to us.
    our_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verdict:
    question: bool
    negative: bool
    question_score: float
    negative_score: float
    reasons: list[str] = field(default_factory=list)
    # True when the question is put to us (second person, our name), not to a third party.
    addressed_to_us: bool = False

    @property
    def flags(self) -> list[str]:
        return [name for name, on in (("question", self.question), ("negative", self.negative)) if on]



@lru_cache(maxsize=None)
def models() -> tuple[LinearModel, LinearModel]:
    """(question, negative) models, loaded on first use so `import` stays fast."""
    return LinearModel.load("question_model"), LinearModel.load("negative_model")

_DEFAULT = FlagSettings()

# Without trained weights the cue features alone decide, with these logits.
_CUE_ONLY = {
    "q:ends?": 2.5, "q:has?": 1.2, "q:wh_start": 1.5, "q:inversion_start": 1.5,
    "q:ask": 2.0, "q:request": 2.0, "q:rhetorical": -2.5, "q:quoted": -1.5,
    "q:exclamative": -1.0, "n:complaint": 2.5, "n:insult": 2.0, "n:sarcasm": 1.8,
    "n:hashtag": 2.0, "n:emoticon": 1.5, "n:compound-4": 2.5, "n:compound-3": 2.0,
    "n:compound-2": 1.2, "n:compound-1": 0.5, "n:compound2": -0.8,
    "n:compound3": -1.5, "n:compound4": -2.0,
}


@lru_cache(maxsize=256)
def _phrase_rx(phrases: tuple[str, ...]) -> re.Pattern[str] | None:
    parts = [re.escape(p.strip().lower()) for p in phrases if p and p.strip()]
    if not parts:
        return None
    parts.sort(key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", re.I)


def _mask(phrases: tuple[str, ...] | list[str], text: str) -> str:
    """`text` with every one of `phrases` blanked out."""
    rx = _phrase_rx(tuple(phrases))
    return text if rx is None else rx.sub(" ", text)


def _rule(phrases: tuple[str, ...], text: str) -> str | None:
    if not phrases:
        return None
    rx = _phrase_rx(tuple(phrases))
    if rx is None:
        return None
    m = rx.search(text)
    return m.group(0) if m else None


def _score(model: LinearModel, feats: list[str]) -> float:
    if model.trained:
        return float(model.prob(feats))
    z = -2.0 + sum(_CUE_ONLY.get(f, 0.0) for f in set(feats))
    return 1.0 / (1.0 + float(2.718281828 ** (-max(-30.0, min(30.0, z)))))  # float(): float ** float is typed Any


# Words that carry weight in the model only through the tweets it learned
# from ("my", "oh"): true, but no explanation to a person.
_PLAIN = frozenset(
    "a an the i me my mine you your u ur we our us he she it its they them their this that these those "
    "is am are was were be been being do does did have has had will would can could should may might "
    "not no oh ah lol like just so and or but if of to in on at for with from by as up out about "
    "what when where who how why all any some there here then than too very really get got go going "
    "@user <s>".split()
)


def _telling(feature: str) -> bool:
    body = feature.split(":", 1)[1]
    return any(w.isalpha() and w.lower() not in _PLAIN for w in body.replace("NOT_", "").split())


def _said(feature: str) -> str:
    """'w:NOT_happy' -> 'not happy', 'b:<s> ugh' -> 'ugh': a model feature as the user wrote it."""
    body = feature.split(":", 1)[1].replace("<s> ", "")
    return body.replace("NOT_", "not ") if body.startswith("NOT_") else body


def _clamp(x: float) -> float:
    return 0.0 if x != x else min(1.0, max(0.0, x))  # NaN-proof


def classify(text: str, settings: FlagSettings | None = None) -> Verdict:
    s = settings or _DEFAULT
    doc = prepare(text)
    capped = doc.text

    rule_reasons: list[str] = []
    never_q = _rule(s.never_question, capped)
    always_q = _rule(s.always_question, capped)
    never_n = _rule(s.never_negative, capped)
    always_n = _rule(s.always_negative, capped)

    qdoc = doc
    if never_q:
        qdoc = prepare(_mask(s.never_question, capped))
    qfeats, qreasons = _q.cues(qdoc)
    qmodel, nmodel = models()
    qscore = _scoring.question(_score(qmodel, qfeats + _q.ngram_features(qdoc)), qfeats)
    asks = qscore >= s.question_threshold and not never_q

    ndoc = doc
    if never_n:
        # Mask the phrase so "sick" in "sick feature" stops counting, while
        # any other complaint in the same text still does.
        ndoc = prepare(_mask(s.never_negative, capped))
    nfeats, nreasons, _compound = _neg.cues(ndoc)
    ngrams = _neg.ngram_features(ndoc)
    nscore = _scoring.negative(_score(nmodel, nfeats + ngrams), nfeats, asks)

    if always_q:
        qscore = 1.0
        rule_reasons.append(f"rule: always question '{snippet(always_q, 24)}'")
    elif never_q:
        rule_reasons.append(f"rule: never question '{snippet(never_q, 24)}'")
    if always_n:
        nscore = 1.0
        rule_reasons.append(f"rule: always negative '{snippet(always_n, 24)}'")
    elif never_n:
        rule_reasons.append(f"rule: never negative '{snippet(never_n, 24)}'")

    qscore, nscore = _clamp(qscore), _clamp(nscore)
    is_q = qscore >= s.question_threshold
    is_n = nscore >= s.negative_threshold

    reasons: list[str] = []
    addressed = False
    if is_q:
        addressed = _q.addressed_to_us(qdoc)
        if not always_q:
            reasons.append(f"reads as a question ({qscore:.2f})")
        reasons.extend(r for r in qreasons if not r.startswith(("not asking", "rhetorical")))
        if s.our_names and _rule(s.our_names, capped):
            addressed = True
    elif "?" in capped:
        # Explain why a '?' did not make it a question.
        reasons.extend(r for r in qreasons if r.startswith(("not asking", "rhetorical")))
    if is_n:
        if not always_n:
            reasons.append(f"negative tone ({nscore:.2f})")
            if not nreasons and nmodel.trained:
                # No cue fired: name the words that weighed most, so even a
                # model-only flag says what it saw.
                said = [_said(f) for f in nmodel.strongest([g for g in ngrams if _telling(g)], ("w:", "b:"))]
                if said:
                    reasons.append("words: " + ", ".join(f"'{snippet(x, 20)}'" for x in said))
        reasons.extend(nreasons)
    reasons.extend(rule_reasons)
    # Keep the reason list short and de-duplicated for a terminal: a negative
    # word already quoted by another reason ("complaint: '#fail'") is not named twice.
    quoted = " ".join(r for r in reasons if not r.startswith("negative word:"))
    reasons = [r for r in dict.fromkeys(reasons)
               if not (r.startswith("negative word: '") and r[len("negative word: "):] in quoted)][:6]
    return Verdict(is_q, is_n, round(qscore, 4), round(nscore, 4), reasons, bool(is_q and addressed))
