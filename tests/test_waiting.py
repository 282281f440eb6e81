"""The contract's "who is waiting" rules, case by case, as pure functions."""

from listen.waiting import Identity, Node, answered_times, urgency

H = 3600


def n(key, author, t, reply=None, ours=False):
    return Node(key, author, t, reply, ours)


def test_identity_is_exact_case_insensitive_and_ignores_leading_at():
    me = Identity(["Sarah Dopp", "@acme@mastodon.social", "acme.bsky.social"])
    assert me.matches("sarah dopp")
    assert me.matches("SARAH  DOPP")
    assert me.matches("acme@mastodon.social")
    assert me.matches("@acme.bsky.social")
    assert me.matches("someone", author_name="Sarah Dopp")
    assert not me.matches("Sarah Dopp re social media expertise")
    assert not me.matches("acme")
    assert not Identity([]).matches("anyone")


def test_source_hint_makes_ours():
    assert Identity([]).is_ours(True, "x", None)
    assert not Identity([]).is_ours(None, "x", None)


def test_direct_reply_answers():
    got = answered_times([n("q", "ann", 0), n("r", "us", 2 * H, "q", ours=True)])
    assert got == {"q": 2 * H}


def test_unanswered_without_reply():
    assert answered_times([n("q", "ann", 0)]) == {"q": None}


def test_broadcast_in_same_conversation_answers_nobody():
    # A flat feed: our later post replies to nobody in particular.
    got = answered_times([n("q", "ann", 0), n("b", "us", H, None, ours=True)])
    assert got == {"q": None}


def test_reply_to_a_later_message_from_the_same_person_answers_the_earlier():
    got = answered_times([
        n("q1", "ann", 0), n("q2", "ann", H, "q1"), n("r", "us", 2 * H, "q2", ours=True),
    ])
    assert got == {"q1": 2 * H, "q2": 2 * H}


def test_reply_to_someone_else_does_not_answer():
    got = answered_times([n("q", "ann", 0), n("x", "bob", H), n("r", "us", 2 * H, "x", ours=True)])
    assert got["q"] is None and got["x"] == 2 * H


def test_reply_to_an_earlier_message_does_not_answer_a_later_one():
    got = answered_times([n("q1", "ann", 0), n("q2", "ann", 3 * H), n("r", "us", H, "q1", ours=True)])
    assert got == {"q1": H, "q2": None}


def test_first_answer_counts():
    got = answered_times([n("q", "ann", 0), n("r2", "us", 5 * H, "q", ours=True), n("r1", "us", H, "q", ours=True)])
    assert got["q"] == H


def test_reply_with_skewed_clock_still_answers_but_not_before_the_question():
    got = answered_times([n("q", "ann", 10 * H), n("r", "us", 9 * H, "q", ours=True)])
    assert got["q"] == 10 * H


def test_urgency_weights_negative_and_direct_questions():
    assert urgency(100, False, True) == 2 * urgency(100, True, False)
    assert urgency(100, True, False, addressed=True) == 1.5 * urgency(100, True, False)
    # a question ignored four days outranks a complaint of ten minutes
    assert urgency(4 * 86400, True, False) > urgency(600, False, True)
