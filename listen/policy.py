"""How a stored mention gets its flags: the detectors, the feed's thresholds,
what the user's corrections taught, the corrections themselves, and whether a
person wrote it at all.

    detectors (listen.flags.classify) at the feed's thresholds (listen.kinds)
      -> not a person? (listen.people): no flag, and the reason why
      -> learned adjustment (listen.flags.learn), fitted on `listen mark`s
      -> the item's own correction, which always wins ("marked by you")

A FlagPolicy is built once per command (Listener.policy) and is picklable, so
pull's worker processes flag with exactly what the main process would. Its
`version` fingerprints all of the above except the marks of single items: a
change in thresholds or in what was learned makes stored flags stale.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from listen.flags import FLAGS_VERSION, FlagSettings, Verdict, classify, learn
from listen.kinds import FeedFlags
from listen.people import comment_type, not_a_person

MARKED = "marked by you"
LEARNED = "learned from your corrections"
FLAGS = ("question", "negative")


@dataclass(frozen=True)
class Mark:
    """A user's correction of one item: True/False as marked, None where not marked."""

    question: bool | None = None
    negative: bool | None = None


@dataclass
class FlagPolicy:
    settings: FlagSettings
    feeds: dict[str, FeedFlags] = field(default_factory=dict)
    learned: dict[str, learn.Adjustment] = field(default_factory=dict)  # by flag name
    marks: dict[tuple[str, str], Mark] = field(default_factory=dict)  # by (feed, native id)
    bots: tuple[str, ...] = ()  # [identity] bots, for feeds the config does not name
    _per_feed: dict[str, FlagSettings] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.version = self._version()

    def _version(self) -> str:
        # repr, not dataclasses.astuple: astuple deep-copies, and 2,000 feeds made that
        # half a second of every pull.
        parts = [FLAGS_VERSION, repr(self.settings),
                 repr(sorted(self.feeds.items(), key=lambda kv: kv[0])), repr(self.bots)]
        parts += [f"{k}={v.fingerprint()}" for k, v in sorted(self.learned.items()) if not v.empty]
        return f"{FLAGS_VERSION}/{hashlib.sha1('|'.join(parts).encode()).hexdigest()[:8]}"

    def feed(self, name: str | None) -> FeedFlags:
        got = self.feeds.get(name or "")
        if got is None:
            return FeedFlags("mentions", self.settings.question_threshold, self.settings.negative_threshold, self.bots)
        return got

    def settings_for(self, feed: str | None) -> FlagSettings:
        key = feed or ""
        s = self._per_feed.get(key)
        if s is None:
            ff = self.feed(feed)
            s = self._per_feed[key] = dataclasses.replace(
                self.settings, question_threshold=ff.question_threshold, negative_threshold=ff.negative_threshold)
        return s

    def verdict(self, text: str, feed: str | None = None) -> Verdict:
        """The detectors at the feed's thresholds, then what corrections taught."""
        s = self.settings_for(feed)
        v = classify(text, s)
        if not self.learned:
            return v
        want: dict[str, bool] = {}
        feats: list[str] | None = None
        for flag, adj in self.learned.items():
            if adj.empty:
                continue
            score, threshold, now = ((v.question_score, s.question_threshold, v.question) if flag == "question"
                                     else (v.negative_score, s.negative_threshold, v.negative))
            if score >= 0.999 or score <= 0.0:
                continue  # a user rule (always_/never_) or no text: the user's own words win
            if feats is None:
                feats = learn.features(text)  # once for both flags
            decided = learn.base_logit(score, threshold) + adj.shift(feed, feats) >= 0
            if decided != now:
                want[flag] = decided
        if not want:
            return v
        # Re-run at thresholds that give the learned answer, so the reasons are the detectors' own.
        q_t = s.question_threshold if "question" not in want else (0.0 if want["question"] else 1.01)
        n_t = s.negative_threshold if "negative" not in want else (0.0 if want["negative"] else 1.01)
        v2 = classify(text, dataclasses.replace(s, question_threshold=q_t, negative_threshold=n_t))
        reasons = list(v2.reasons)
        for flag, on in want.items():
            if on:
                words = self.learned[flag].strongest(text, +1)
                said = f" ({', '.join(repr(w) for w in words)})" if words else ""
                reasons.insert(0, f"{flag}: {LEARNED}{said}")
        return Verdict(v2.question, v2.negative, v2.question_score, v2.negative_score, reasons[:6],
                       v2.addressed_to_us)

    def columns(self, feed: str, native_id: str | None, text: str, author: str | None = None,
                author_name: str | None = None, network: str = "", raw: str | None = None) -> dict[str, Any]:
        """The flag columns storage keeps for one mention (rows.FLAG_COLUMNS)."""
        mark = self.marks.get((feed, native_id or ""))
        person = not_a_person(network, author, author_name, text, comment_type(raw), self.feed(feed).bots)
        if person is not None and mark is None:
            return {"question": 0, "negative": 0, "addressed": 0, "question_score": 0.0, "negative_score": 0.0,
                    "reasons": json.dumps([person], ensure_ascii=False), "flags_version": self.version}
        v = self.verdict(text, feed)
        q, n, reasons, addressed = v.question, v.negative, list(v.reasons), v.addressed_to_us
        if mark is not None:
            q = q if mark.question is None else mark.question
            n = n if mark.negative is None else mark.negative
            # The detectors' reasons for a flag the user overruled no longer apply.
            reasons = [MARKED] + ([r for r in reasons if r != MARKED] if (q, n) == (v.question, v.negative) else [])
            addressed = addressed and q
        return {"question": int(q), "negative": int(n), "addressed": int(bool(addressed)),
                "question_score": round(v.question_score, 4), "negative_score": round(v.negative_score, 4),
                "reasons": json.dumps(reasons[:6], ensure_ascii=False), "flags_version": self.version}

    def examples(self, corrected: list[dict[str, Any]]) -> dict[str, list[learn.Example]]:
        """Training examples for each flag from corrected items (Store.corrections rows with text)."""
        out: dict[str, list[learn.Example]] = {f: [] for f in FLAGS}
        for c in corrected:
            if c.get("text") is None:
                continue  # a correction whose item is not stored (yet): nothing to learn from
            s = self.settings_for(c["feed"])
            v = classify(c["text"], s)
            for flag, score, t in (("question", v.question_score, s.question_threshold),
                                   ("negative", v.negative_score, s.negative_threshold)):
                label = c.get(flag)
                if label is not None:
                    out[flag].append(learn.Example(c["feed"], c["text"], learn.base_logit(score, t), bool(label)))
        return out


def plain_policy(config: Any) -> FlagPolicy:
    """The policy a config alone gives (listen.config.Config): no corrections yet."""
    return FlagPolicy(config.flags, dict(config.feed_flags), bots=config.bots)


def fingerprint(policy: FlagPolicy, corrected: list[dict[str, Any]]) -> str:
    """What a fitted adjustment depends on: the detectors, the thresholds, and the corrections."""
    h = hashlib.sha1(f"{learn.VERSION}|{policy.version}".encode())
    for c in sorted(corrected, key=lambda c: (c["feed"], c["native_id"])):
        h.update(json.dumps([c["feed"], c["native_id"], c.get("text"), c.get("question"), c.get("negative")],
                            ensure_ascii=False).encode())
    return h.hexdigest()[:16]


def learn_from(policy: FlagPolicy, corrected: list[dict[str, Any]],
               cached: tuple[str, str] | None = None) -> tuple[FlagPolicy, tuple[str, str] | None]:
    """A policy that also applies what `corrected` teaches. `cached` is (fingerprint,
    adjustments JSON) from an earlier fit; returns the policy and the cache to keep
    (None when the cache was still good)."""
    marks = {(c["feed"], c["native_id"]): Mark(_opt(c.get("question")), _opt(c.get("negative"))) for c in corrected}
    plain = FlagPolicy(policy.settings, policy.feeds, {}, marks, policy.bots)
    if not corrected:
        return plain, None
    fp = fingerprint(plain, corrected)
    learned: dict[str, learn.Adjustment] | None = None
    if cached is not None and cached[0] == fp:
        learned = _load(cached[1])
    fresh = learned is None
    if learned is None:
        learned = {flag: learn.fit(ex) for flag, ex in plain.examples(corrected).items() if ex}
    learned = {k: v for k, v in learned.items() if not v.empty}
    out = FlagPolicy(policy.settings, policy.feeds, learned, marks, policy.bots)
    return out, ((fp, json.dumps({k: v.to_json() for k, v in learned.items()})) if fresh else None)


def _opt(v: Any) -> bool | None:
    return None if v is None else bool(v)


def _load(text: str) -> dict[str, learn.Adjustment] | None:
    try:
        blob = json.loads(text)
        out = {k: learn.Adjustment.from_json(v) for k, v in blob.items()}
    except (ValueError, AttributeError):
        return None
    if any(v is None for v in out.values()):
        return None
    return {k: v for k, v in out.items() if v is not None}
