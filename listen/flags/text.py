"""Turn raw social text into tokens both detectors share.

Text comes from strangers, so everything here is bounded: only the first
MAX_CHARS characters are looked at, and every regex is linear.
"""

from __future__ import annotations

import re

from .lazy import LazyPattern
from dataclasses import dataclass

# Long posts are rare and their opening carries the ask or the complaint;
# capping keeps one hostile megabyte from stalling a whole batch.
MAX_CHARS = 5000
# n-gram features look at the opening words only; cues still see the rest.
MAX_NGRAM_TOKENS = 80

# URLs and domains are removed before anything else so their '?' and words
# ("fail.com/?q=") cannot look like a question or a complaint.
_URL = LazyPattern(
    r"(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|io|co|ly|me|gl|be|dev|app|social)/\S*",
    re.I,
)
# A pingback or a quotation: "[...] an excerpt of another page [...]",
# someone else's words quoted back, not a remark put to us. Both ends are
# required: a feed that cuts a long comment short adds only the last one.
EXCERPT = LazyPattern(r"^\s*\[(?:\.{3}|…)\](?s:.*)\[(?:\.{3}|…)\]\s*$")
_MENTION = LazyPattern(r"(?<![\w@])@[\w.]+(?:@[\w.-]+)?")
_CONTROL = LazyPattern(r"[\x00-\x08\x0b-\x1f\x7f]")

_EMOTICON = (
    r"(?:<3|</3|"
    r"[:;=8][\-o'^]?[()\[\]dDpP/\\|*3@oO]+|"  # :) :-( :'( :/ :D ;P
    r"[)(\]\[/\\][\-o'^]?[:;=])"  # ):  (:
)
_EMOJI = r"[\u2600-\u27bf\U0001f000-\U0001faff]"
_TOKEN = LazyPattern(
    _EMOTICON + r"(?![\w])|"
    r"[#@]?[^\W_]+(?:['’][^\W\d_]+)*|"  # words, hashtags, don't / can’t
    r"[?!]+|\.{2,}|[.,;:]|" + _EMOJI
)
_ELONG = LazyPattern(r"([^\W\d_])\1{2,}")
_REPEAT = LazyPattern(r"([^\W\d_])\1+")


@dataclass(slots=True)
class Token:
    norm: str  # lower case, elongation squeezed to two letters
    raw: str
    caps: bool  # shouted: all caps, 3+ letters, in a text that is not all caps
    elongated: bool


@dataclass(slots=True)
class Doc:
    text: str  # capped, URLs/mentions neutralised
    lower: str
    tokens: list[Token]
    words: frozenset[str]  # token norms, to skip regexes whose trigger words are absent
    bigrams: list[str]  # "b:prev word" features, shared by both models
    mentions: int
    leading_mention: bool
    had_url: bool
    shouted: int = 0  # tokens with caps set
    stretched: bool = False  # any token elongated


def squeeze(word: str) -> str:
    """'soooo' -> 'so': the single-letter form used for lexicon fallback."""
    return str(_REPEAT.sub(r"\1", word))  # str(): LazyPattern's methods are typed Any


def prepare(text: str) -> Doc:
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    text = _CONTROL.sub(" ", text[:MAX_CHARS]).replace("’", "'")
    stripped = text.lstrip()
    leading_mention = stripped.startswith("@")
    nurl = nment = 0
    # Cheap guards first: most posts have neither a link nor a mention.
    if "/" in text or "www." in text:
        text, nurl = _URL.subn(" ", text)
    if "@" in text:
        text, nment = _MENTION.subn(" @user ", text)
    # Shouting only means something against a lower-case background.
    all_caps = text.isupper()
    tokens: list[Token] = []
    # One scan of the whole text tells whether any word is stretched, so the
    # per-token squeeze runs only for the few posts that need it.
    stretched = _ELONG.search(text) is not None
    shouted, any_elong = 0, False
    append = tokens.append
    for raw in _TOKEN.findall(text):
        low = raw.lower()
        c = low[0]
        if c.isalpha() or c == "#":
            if stretched:
                norm, n = _ELONG.subn(r"\1\1", low)
                elong = n > 0
            else:
                norm, elong = low, False
            caps = (not all_caps) and len(raw) >= 3 and raw.isupper() and raw.isalpha()
            if caps:
                shouted += 1
            if elong:
                any_elong = True
            append(Token(norm, raw, caps, elong))
        else:
            append(Token(low, raw, False, False))
    norms = [t.norm for t in tokens]
    words = frozenset(norms)
    head = norms[:MAX_NGRAM_TOKENS]
    bigrams = ["b:" + a + " " + b for a, b in zip(["<s>"] + head, head)]
    return Doc(text, text.lower(), tokens, words, bigrams, nment, leading_mention, nurl > 0, shouted, any_elong)


def snippet(text: str, limit: int = 28) -> str:
    """A few words of the text for a reason line, never longer than `limit`."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] or text[:limit]
    return cut + "…"
