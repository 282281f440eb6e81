"""Word valence: a lexicon plus the few rules that change a word's weight.

Word scores (-4..+4) come from the VADER lexicon (MIT, see NOTICE); the
rules below are this package's own: negation flips and damps, shouting and
stretching intensify, a 'but' shifts weight to what follows it.
"""

from __future__ import annotations

import os
from functools import lru_cache

from .text import Token, squeeze

NEGATORS = frozenset(
    "not no never none nobody nothing neither nor cannot without "
    "dont don't doesnt doesn't didnt didn't isnt isn't wasnt wasn't arent aren't "
    "werent weren't cant can't couldnt couldn't wont won't wouldnt wouldn't "
    "shouldnt shouldn't havent haven't hasnt hasn't hadnt hadn't aint ain't "
    "neva nah nope".split()
)
BOOSTERS = frozenset(
    "very so soo really extremely totally absolutely completely utterly "
    "super incredibly seriously truly fucking freaking damn most such".split()
)
DAMPENERS = frozenset("kinda kind sorta slightly somewhat bit little barely hardly".split())
_BREAK = frozenset("? ! . .. ... , but".split())

# Emoji carry a lot of tone on social media and VADER's word list has few of
# them; these scores are this package's own judgement on the -4..+4 scale.
_EMOJI = {
    "😡": -3.0, "😠": -2.5, "🤬": -3.2, "😤": -2.0, "😒": -1.8, "🙄": -1.8,
    "👎": -2.2, "😞": -2.0, "😔": -1.6, "😢": -2.0, "😭": -1.2, "😩": -2.0,
    "😫": -2.0, "😖": -2.0, "😣": -1.6, "😑": -1.0, "😐": -0.6, "😕": -1.2,
    "🙁": -1.5, "☹": -1.8, "💩": -2.0, "🤮": -2.8, "🤢": -2.2, "😓": -1.2,
    "😰": -1.6, "😱": -1.0, "💔": -2.2, "🖕": -3.0, "😾": -2.0, "🤦": -1.8,
    "😂": 1.2, "🤣": 1.4, "😀": 2.0, "😃": 2.0, "😄": 2.2, "😁": 2.0,
    "😊": 2.2, "🙂": 1.2, "😍": 2.8, "🥰": 2.8, "😘": 2.2, "❤": 2.6,
    "💕": 2.4, "💖": 2.4, "💙": 2.2, "💯": 1.8, "👍": 1.8, "👏": 1.8,
    "🙌": 2.0, "🎉": 2.4, "✨": 1.2, "🔥": 1.2, "😎": 1.6, "🥳": 2.6,
    "🙏": 1.0, "😇": 1.8, "😉": 1.2, "💪": 1.6, "⭐": 1.2, "🌟": 1.6,
}

# Brand-directed complaint words VADER rates mildly or not at all.
_EXTRA = {
    "outage": -2.0, "refund": -1.2, "unacceptable": -2.8, "incompetent": -2.8,
    "ripoff": -2.6, "scammers": -3.0, "overcharged": -2.2, "delayed": -1.6,
    "glitch": -1.4, "glitchy": -1.8, "laggy": -1.8, "buggy": -2.0, "crashes": -2.0,
    "crashing": -2.0, "unusable": -2.6, "unresponsive": -2.0, "rude": -2.2,
    "#fail": -2.5, "#epicfail": -2.8, "wtf": -2.2, "smh": -1.6, "ugh": -1.8,
    "fml": -2.2, "meh": -0.8, "grr": -2.0, "argh": -1.8, "arg": -1.2, "slow": -1.2, "slower": -1.2,
    "freezes": -1.6, "frozen": -1.0, "unreachable": -1.6, "nightmare": -2.6, "cancelled": -1.4, "canceled": -1.4,
}


# Praise in words the lexicon rates negative. Social text is full of them,
# and each one read literally is a false alarm on a happy customer.
#   "crazy good", "wicked fast", "damn good": before a word that carries tone
#   or a quality, these intensify it and carry no tone of their own.
SLANG_INTENSIFIERS = frozenset(
    "crazy insanely insane ridiculously stupidly stupid wicked damn damned freaking "
    "frickin hella mad scary terribly awfully dangerously sick".split()
)
_QUALITIES = frozenset(
    "fast quick quickly easy simple smooth cheap useful reliable powerful accurate "
    "responsive helpful clean light lightweight handy intuitive stable affordable "
    "cool cute slick snappy".split()
)
#   "killer feature", "killer app".
_KILLER_OF = frozenset(
    "feature features app apps deal deals combo price prices update release tool tools "
    "product products track song album idea design demo setup workflow lineup".split()
)
#   "killing it", "nailed it".
_PRAISE_IT = frozenset("killing kills nailed crushing crushed smashed slayed slaying slays rocks rocked".split())
#   "couldn't be happier", "could not be more pleased": negated, yet praise.
_COULD = frozenset("could couldn't couldnt".split())


def _praise(tokens: list[Token], i: int, lex: dict[str, float]) -> float | None:
    """A positive score when tokens[i] is praise in negative words, 0.0 when it
    only intensifies the next word, None when it means what it says."""
    norm = tokens[i].norm
    nxt = tokens[i + 1].norm if i + 1 < len(tokens) else ""
    if norm == "killer" and nxt in _KILLER_OF:
        return 2.0
    if norm in _PRAISE_IT and nxt == "it":
        return 2.0
    if norm in SLANG_INTENSIFIERS and nxt[:1].isalpha() and (nxt in _QUALITIES or lex.get(nxt)):
        return 0.0
    return None


@lru_cache(maxsize=None)
def lexicon() -> dict[str, float]:
    """Loaded on first use, not at import."""
    lex: dict[str, float] = {}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "vader_lexicon.tsv")
    with open(path, encoding="utf-8") as fh:
        data = fh.read()
    for line in data.splitlines():
        word, _, score = line.partition("\t")
        if score:
            lex[word] = float(score)
    lex.update(_EXTRA)
    lex.update(_EMOJI)
    return lex


def word_score(tok: Token, lex: dict[str, float] | None = None) -> float:
    lex = lex or lexicon()
    s = lex.get(tok.norm)
    if s is None:
        s = lex.get(tok.raw)  # emoticons such as ':D' are case-sensitive
    if s is None and tok.elongated:
        s = lex.get(squeeze(tok.norm))
    if s is None and tok.norm.startswith("#"):
        s = lex.get(tok.norm[1:])
    return s or 0.0


def valence(tokens: list[Token]) -> list[tuple[int, float, bool]]:
    """(token index, adjusted score, negated) for each token that carries tone."""
    out: list[tuple[int, float, bool]] = []
    but_at = -1
    boost_at = -1
    lex = lexicon()
    get = lex.get
    for i, tok in enumerate(tokens):
        norm = tok.norm
        if norm == "but":
            but_at = i
        # The common case inline (one lookup); word_score() tries the rest.
        s = get(norm)
        if s is None:
            if not (tok.elongated or norm[0] == "#" or tok.raw != norm):
                continue
            s = word_score(tok, lex)
        if not s:
            continue
        if s < 0:
            praise = _praise(tokens, i, lex)
            if praise is not None:
                if praise:
                    out.append((i, praise, False))
                else:
                    boost_at = i + 1
                continue
        if tok.norm == "no" and i + 1 < len(tokens) and tokens[i + 1].norm[0].isalpha():
            # "have no API", "no idea": a determiner, not a refusal. The
            # complaints it does carry ("no reply") are phrase cues.
            continue
        negated = False
        # Look back up to three words, never across a clause break.
        for j in range(i - 1, max(-1, i - 4), -1):
            w = tokens[j].norm
            if w in _BREAK:
                break
            if w in NEGATORS or w.endswith("n't"):
                negated = True
                break
        if negated and (tokens[j].norm in _COULD or (j and tokens[j - 1].norm in _COULD)) and (
            norm.endswith("er") or norm == "worse" or tokens[i - 1].norm == "more"
        ):
            negated = False  # "couldn't be happier", "couldn't be worse": a comparative at its limit
        if i == boost_at or (i and tokens[i - 1].norm in BOOSTERS):
            s *= 1.25
        elif i and tokens[i - 1].norm in DAMPENERS:
            s *= 0.75
        if tok.caps:
            s *= 1.3
        if tok.elongated:
            s *= 1.15
        if negated:
            # "not bad" is mildly good, "not happy" clearly bad: flip and damp.
            s *= -0.55 if s < 0 else -0.75
        out.append((i, s, negated))
    if but_at >= 0:
        out = [(i, s * (0.5 if i < but_at else 1.4), n) for i, s, n in out]
    return out
