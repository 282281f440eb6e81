"""Pure rules of the feedback half of the flags: learning, feed kinds, not-a-person."""

from __future__ import annotations

import pytest

from listen.flags import learn
from listen.kinds import KIND_DEFAULTS, default_kind, feed_flags
from listen.people import comment_type, not_a_person

# -- learn.features ---------------------------------------------------------

@pytest.mark.parametrize("text, present, absent", [
    ("On HOLD for an hour", ["w:hold", "b:on hold", "w:hour"], ["w:HOLD", "w:on"]),  # lower-cased; stop words only in bigrams
    ("see https://x.example/a then", ["w:see", "w:then"], ["w:https"]),  # links teach nothing about the author
    ("", [], ["w:"]),
])
def test_features(text, present, absent):
    f = learn.features(text)
    assert all(p in f for p in present) and not any(a in f for a in absent)


# -- learn.fit ----------------------------------------------------------------

def ex(text, base, label, feed="f"):
    return learn.Example(feed, text, base, label)


def test_no_corrections_change_nothing():
    adj = learn.fit([])
    assert adj.empty and adj.shift("f", ["w:anything"]) == 0.0


def test_agreeing_corrections_leave_the_model_where_it_was():
    # The shipped model was confidently right: there is nothing to learn.
    adj = learn.fit([ex("terrible service", 3.0, True), ex("lovely post", -3.0, False)] * 3)
    assert abs(adj.bias) < 0.2 and all(abs(w) < 0.2 for w in adj.weights.values())


@pytest.mark.parametrize("label, sign", [(True, +1), (False, -1)])
def test_a_feed_bias_moves_towards_the_users_answers(label, sign):
    # Ten mentions just below (or above) the threshold, all corrected the other way.
    base = -0.5 if label else 0.5
    examples = [ex(f"message number {i}", base, label, feed="support") for i in range(10)]
    adj = learn.fit(examples)
    assert sign * (adj.bias + adj.feed_bias["support"]) > 0.3
    assert all(adj.decide("support", e.text, e.base) == label for e in examples)
    # The learned threshold, on the shipped score, moves the same way.
    assert sign * (0.3 - adj.threshold("support", 0.3)) > 0


def test_a_word_is_learned_only_from_repeated_evidence():
    waits = ("ten", "twenty", "forty", "fifty", "ninety", "many", "five", "sixty", "eighty", "a hundred")
    examples = ([ex(f"still on hold after {n} minutes", -1.0, True) for n in waits]
                + [ex(f"thanks, sorted after {n} minutes", -1.0, False) for n in waits]
                + [ex("a zebra once", -1.0, True)])
    adj = learn.fit(examples)
    assert adj.weights.get("b:on hold", 0) > 0.3
    assert adj.weights.get("w:thanks", 0) < -0.1
    assert "w:zebra" not in adj.weights  # seen once: noise, not evidence
    assert adj.decide("f", "on hold again, third time", -1.0)  # a new text with the learned words
    assert not adj.decide("f", "thanks again, lovely", -1.0)
    assert not adj.decide("f", "a new text with none of them", -1.0)
    assert adj.strongest("stuck on hold", +1) == ["on hold"] or "on hold" in adj.strongest("stuck on hold", +1)


def test_feeds_learn_apart():
    examples = ([ex(f"order {i} late", -0.8, True, feed="support") for i in range(12)]
                + [ex(f"post {i} read", 0.8, False, feed="blog") for i in range(12)])
    adj = learn.fit(examples)
    assert adj.feed_bias["support"] > adj.feed_bias["blog"]


def test_adjustment_round_trips_and_a_damaged_cache_is_refused():
    adj = learn.fit([ex("on hold again", -1.0, True), ex("on hold still", -1.0, True)])
    back = learn.Adjustment.from_json(adj.to_json())
    assert back == adj and back.fingerprint() == adj.fingerprint()
    assert learn.Adjustment.from_json("{not json") is None
    assert learn.Adjustment.from_json('{"v": "0", "bias": 0}') is None  # another learner's format


@pytest.mark.parametrize("pairs, expected", [
    ([(True, True), (True, False), (False, True)], (0.5, 0.5)),
    ([(False, False)], (None, None)),
    ([(True, True)], (1.0, 1.0)),
])
def test_precision_recall(pairs, expected):
    assert learn.precision_recall(pairs) == expected


def test_cross_validation_never_scores_an_example_with_a_model_that_saw_it():
    # Each text is unique and labelled against its base: remembering would score
    # perfectly; a model fitted without it can only follow the base.
    examples = [ex(f"unique{i} unique{i}x", 1.0 if i % 2 else -1.0, i % 2 == 0) for i in range(12)]
    pairs = learn.cross_validated(examples)
    assert len(pairs) == 12
    assert learn.precision_recall(pairs)[1] == 0.0


# -- kinds ----------------------------------------------------------------------

@pytest.mark.parametrize("feed_type, kind, q, n, gq, gn, expected", [
    ("rss", None, None, None, None, None, ("blog", 0.5, KIND_DEFAULTS["blog"].negative_threshold)),
    ("mastodon", None, None, None, None, None, ("mentions", 0.5, 0.5)),
    ("jsonl", "support", None, None, None, None, ("support", 0.4, 0.3)),
    ("jsonl", "support", None, 0.45, None, None, ("support", 0.4, 0.45)),  # the feed's key wins
    ("jsonl", "support", None, None, 0.55, 0.7, ("support", 0.55, 0.7)),  # [flags] as written beats the kind
    ("rss", "mentions", 0.6, None, None, 0.8, ("mentions", 0.6, 0.8)),
])
def test_feed_flags_precedence(feed_type, kind, q, n, gq, gn, expected):
    ff = feed_flags(feed_type, kind, q, n, gq, gn)
    assert (ff.kind, ff.question_threshold, ff.negative_threshold) == expected


def test_kind_defaults_fit_the_place():
    assert default_kind("rss") == "blog" and default_kind("reddit") == "mentions"
    assert KIND_DEFAULTS["support"].negative_threshold < KIND_DEFAULTS["mentions"].negative_threshold \
        < KIND_DEFAULTS["blog"].negative_threshold


# -- people -------------------------------------------------------------------------

@pytest.mark.parametrize("network, author, name, text, kind, bots, expected", [
    ("rss", "Some Site", None, "[…] as Sarah argues in her post, response time matters […]", None, (), "pingback"),
    ("rss", "Some Site", None, "[...] as argued here [...]", None, (), "pingback"),
    ("rss", "Ann", None, "Good post […] but I disagree", None, (), None),  # a person quoting
    ("rss", "Ann", None, "[…] I think so too", None, (), None),  # one marker is not an excerpt
    ("jsonl", "Blog X", None, "any text", "trackback", (), "trackback"),
    ("github", "dependabot[bot]", None, "Bumps lodash", None, (), "bot"),
    ("reddit", "AutoModerator", None, "Please read the rules", None, (), "bot"),
    ("mastodon", "AutoModerator", None, "hi", None, (), None),  # a bot name only where it is one
    ("mastodon", "@NotifyBot", None, "build passed", None, ("notifybot",), "bot"),
    ("github", "ann", "Ann", "Is this fixed?", None, (), None),
])
def test_not_a_person(network, author, name, text, kind, bots, expected):
    got = not_a_person(network, author, name, text, kind, bots)
    assert (got is None) if expected is None else (got is not None and got.startswith(expected + ": not a person"))


@pytest.mark.parametrize("raw, expected", [
    ('{"type": "pingback", "author_name": "X"}', "pingback"),
    ('{"comment_type": "Trackback"}', "trackback"),
    ('{"type": "comment", "text": "a pingback is..."}', None),
    ('not json pingback', None),
    (None, None),
])
def test_comment_type_from_the_payload(raw, expected):
    assert comment_type(raw) == expected


def test_marks_in_one_feed_move_mostly_that_feed():
    examples = [ex(f"order {i} late", -0.8, True, feed="support") for i in range(15)]
    adj = learn.fit(examples)
    own = adj.threshold("support", 0.5)
    other = adj.threshold("blog", 0.5)
    assert own < 0.45 and abs(0.5 - other) < (0.5 - own) / 3
