"""listen.flags: cue families, reasons, scores, rules, robustness.

Independent of the shared dev data: every example is written here.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from listen.flags import FLAGS_VERSION, FlagSettings, Verdict, classify, models
from listen.flags.text import MAX_CHARS, prepare


def q(text: str, **kw) -> Verdict:
    return classify(text, FlagSettings(**kw) if kw else None)


# ----------------------------------------------------------------- questions
@pytest.mark.parametrize(
    "text",
    [
        "anyone know how to export my data",
        "can someone call me please",
        "how do I reset my password",
        "hey all, what time does the stream start",
        "Great post. Is there a way to get the PDF version",
        "do you ship to canada",
        "where can i find the settings",
    ],
)
def test_questions_without_question_mark(text):
    v = classify(text)
    assert v.question, v
    assert any(r.startswith("asks:") or r.startswith("help request:") for r in v.reasons), v.reasons


@pytest.mark.parametrize("text", ["any solution please", "help!", "dm me the steps", "please help, my account is locked"])
def test_help_requests(text):
    v = classify(text)
    assert v.question, v
    assert any(r.startswith(("help request:", "asks:")) for r in v.reasons), v.reasons


def test_question_buried_mid_text():
    v = classify("Loved the talk yesterday, the slides were great. Btw how can I get the recording? Thanks!")
    assert v.question
    assert any("how can" in r for r in v.reasons), v.reasons


@pytest.mark.parametrize(
    "text",
    [
        "Just curious....will I get the pass the moment I reach the points? It will take a while? Thanks!",
        "Long story short, the sync stopped after the update, and the logs show nothing useful. "
        "Do you know if the old version is still around? Cheers!",
    ],
)
def test_a_question_sentence_inside_a_long_post(text):
    # A clause that opens like a question and closes with '?' is one, however
    # long and chatty the post around it.
    v = classify(text)
    assert v.question, v


def test_an_exclamation_with_a_question_mark_is_not_a_buried_question():
    assert not classify("Went to the launch party yesterday. How cool is that?! Great people.").question


@pytest.mark.parametrize(
    "text",
    ["so he walks in and I was like wtf who are you?", "my boss said, 'can you stay late?' on a friday"],
)
def test_a_reported_question_is_not_a_question(text):
    v = classify(text)
    assert not v.question, v
    assert any(r.startswith("not asking: reported") for r in v.reasons), v


def test_rhetorical_question_is_not_a_question():
    v = classify("who does that?!")
    assert not v.question, v
    assert any(r.startswith("rhetorical:") for r in v.reasons), v.reasons


def test_question_mark_in_url_is_ignored():
    v = classify("new post is up https://example.com/post?id=42&ref=feed")
    assert not v.question, v
    assert "?" not in prepare("see https://example.com/?q=1 now").text


def test_quoted_title_is_not_a_question():
    v = classify('Just finished reading "Why Do We Sleep?" on the train')
    assert not v.question, v
    assert any(r.startswith("not asking: quoted") for r in v.reasons), v.reasons


def test_statement_is_not_a_question():
    assert not classify("Thanks for the update, it works now").question


# Chat lines that look like questions to the cues but ask nothing (or the
# reverse). Cue-level, so they hold whatever the trained weights are.
def _qcues(text: str) -> list[str]:
    from listen.flags import question as qmod

    return qmod.cues(prepare(text))[0]


@pytest.mark.parametrize(
    "text, present, absent",
    [
        # an interjection before the question word still opens the clause
        ("omg which train did you take", "q:wh", ""),
        ("aww why's that", "q:wh", ""),
        ("hiya how are you today", "q:wh", ""),
        # a name can be the subject of an inverted question
        ("is @dana back yet", "q:inversion_start", ""),
        ("is user77 back yet", "q:inversion_start", ""),
        ("did 3-14-user9 leave already", "q:inversion_start", ""),
        ("is 3 enough", "", "q:inversion"),
        # "how" + one word, no '?': an exclamation
        ("how rude, pat", "q:exclamative", "q:wh"),
        ("how thoughtful user12 :)", "q:exclamative", "q:wh"),
        ("how come", "q:wh", "q:exclamative"),
        ("how bright?", "q:wh", "q:exclamative"),
        # surprise and free relatives
        ("why yes I have", "q:exclamative", "q:wh"),
        ("why thank you kindly", "q:exclamative", "q:wh"),
        ("where ever you move I will visit", "q:exclamative", "q:wh"),
        # comparisons with "anyone" ask nothing
        ("she sings better than anyone else", "", "q:ask"),
        ("I never cared what anyone else says about my garden", "", "q:ask"),
        ("anyone else been to the new bakery", "q:ask", ""),
        # a roll call is put to the room
        ("anyone from ohio", "q:ask", ""),
        ("any nurses around tonight", "q:ask", ""),
        ("any chess people online", "q:ask", ""),
        # said of someone, or an infinitive: not a request to us
        ("if you send me the photos I'll frame them", "", "q:request"),
        ("he wants to call me tonight", "", "q:request"),
        ("you need help, seriously", "", "q:request"),
        ("please send me the invoice", "q:request", ""),
        ("I need help with my bill", "q:request", ""),
        # a name given, not a call asked for; a complaint that it never came
        ("my friends call me Bee", "", "q:request"),
        ("call me whatever you like", "", "q:request"),
        ("just call me 7-2-nightowl3", "", "q:request"),
        ("call me back about the refund", "q:request", ""),
        ("call me 555-0199 after six", "q:request", ""),
        ("you never send me the receipt", "", "q:request"),
        ("they didnt send me the parcel yet", "", "q:request"),
        # after a nick, "is" / "was" has the nick as its subject
        ("gardener42 is my cousin", "", "q:inversion"),
        ("7-2-nightowl3 was my ride home", "", "q:inversion"),
        ("gardener42 did you water the basil", "q:inversion", ""),
        ("is gardener42 around", "q:inversion_start", ""),
        # a pronoun before the verb: a clause's word order, not a question's
        ("when i didnt reply she went home", "q:wh", "q:wh_aux"),
        ("where it will end up nobody can say", "q:wh", "q:wh_aux"),
        ("what time does the market open", "q:wh_aux", ""),
        ("where did you park", "q:wh_aux", ""),
        # a shrug, unless it goes on into a real question
        ("I love rainy sundays, what can i say", "q:exclamative", "q:wh"),
        ("what can I say to cheer her up", "q:wh", "q:exclamative"),
        ("what can I say?", "q:wh", "q:exclamative"),
        # a question quoted from someone else tells a story
        ("the waiter came back and I was like um what soup is this", "q:reported", ""),
        ("my nephew goes, 'why is the sky wet?' lol", "q:reported", ""),
        ("she was like, do you even knit?", "q:reported", ""),
        ("I was like totally lost at the market", "", "q:reported"),
        ("what did the teacher say about it", "", "q:reported"),
    ],
)
def test_chat_cues_that_ask_and_that_do_not(text, present, absent):
    feats = _qcues(text)
    if present:
        assert present in feats, feats
    if absent:
        assert absent not in feats, feats


def test_addressed_to_us_vs_third_party():
    assert classify("can you send me the invoice again?").addressed_to_us
    v = classify("does he still work at the bakery?")
    assert v.question and not v.addressed_to_us
    v = classify("is the new version out?", FlagSettings(our_names=("acme",)))
    assert not v.addressed_to_us
    v = classify("is acme's new version out?", FlagSettings(our_names=("acme",)))
    assert v.addressed_to_us


# ----------------------------------------------------------------- negative
@pytest.mark.parametrize(
    "text",
    [
        "still haven't heard back from your team",
        "no one is responding to my emails",
        "this is the third time I ask for a refund",
        "the export button doesn't work",
        "you cancelled my flight and nobody told me",
        "another delivery lost #fail",
    ],
)
def test_complaints_in_plain_words(text):
    v = classify(text)
    assert v.negative, v
    assert any(r.startswith("complaint:") for r in v.reasons), v.reasons


@pytest.mark.parametrize(
    "text",
    [
        "since the update the app crashes every time I open it",
        "my apps stop working without warning",
        "the new version won't let me log out",
        "tried everything, reinstalled twice",
        "I've called you 4 times this week",
        "the problem has come back again",
        # repeated attempts, missing deliveries, money back
        "I've tried the website several times today and again just now",
        "we have already tried resetting it multiple times",
        "I still haven't recd the code you promised",
        "how do I get a refund for the broken kettle",
        "done all that, still telling me there are no slots",
        "your checkout page keeps timing out",
        "the app keeps logging me out",
        "I followed the steps twice and it is still showing an error",
    ],
)
def test_problem_reports_to_support(text):
    v = classify(text)
    assert v.negative, v
    assert any(r.startswith("complaint:") for r in v.reasons), v.reasons


@pytest.mark.parametrize("text", ["you are a bunch of idiots", "this company is garbage, shame on you"])
def test_insults(text):
    v = classify(text)
    assert v.negative, v
    assert any(r.startswith("hostile:") for r in v.reasons), v.reasons


@pytest.mark.parametrize(
    "text",
    [
        "great, another outage",
        "maybe hire staff who can count?",
        "perhaps train your agents before the launch",
        "why would anyone pay for this?",
        "why should I even bother renewing",
    ],
)
def test_sarcasm(text):
    v = classify(text)
    assert v.negative, v
    assert any(r.startswith("sarcasm:") for r in v.reasons), v.reasons


@pytest.mark.parametrize(
    "text",
    [
        "I tried it 3 times and loved it",  # a count of tries is not a complaint
        "maybe hire a photographer for the wedding?",  # advice to a friend is not snide
        "tried the new recipe, so good",
        "why would I use this over a spreadsheet?",  # a prospect's fair question
        "why do we use tabs here",
    ],
)
def test_near_misses_of_complaint_cues(text):
    assert not classify(text).negative, classify(text)


@pytest.mark.parametrize(
    "text",
    [
        "this is a killer feature",
        "the new version is crazy good",
        "that was wicked fast",
        "damn good support",
        "I could not be happier with the update",
        "couldn't be more pleased with the team",
        "you are killing it!",
        "this release nailed it",
    ],
)
def test_praise_in_negative_words_is_not_negative(text):
    v = classify(text)
    assert not v.negative, v


@pytest.mark.parametrize(
    "text",
    ["the killer was never found", "I'm sick of waiting", "the app is crazy slow", "service could not be worse"],
)
def test_the_same_words_still_count_when_they_mean_it(text):
    assert classify(text).negative, classify(text)


def test_grumbling_noises_are_negative():
    v = classify("the update froze my laptop grrrrr")
    assert v.negative, v
    assert not classify("the update is out").negative


def test_no_flag_without_a_reason_the_user_can_see():
    # Words with no tone at all: whatever the n-grams say, a flag here would
    # carry no reason but "model", so it stays below the default threshold.
    for text in ("this is a , !", "the meeting is at 3pm", "ok"):
        v = classify(text)
        assert not v.negative, v
        assert v.negative_score < 0.5


def test_negation_both_ways():
    assert classify("I am not happy with this update").negative
    assert not classify("not bad at all").negative
    assert classify("not bad at all").negative_score < classify("bad").negative_score
    assert any(r.startswith(("negated:", "complaint:")) for r in classify("not happy").reasons)


def test_emoji_and_emoticons():
    assert classify("the update deleted my notes 😡😡").negative
    assert classify("my order arrived broken :(").negative
    assert not classify("my order arrived 😍").negative
    v = classify("waited an hour for this :(")
    assert any(r.startswith(("emoticon:", "complaint:")) for r in v.reasons), v.reasons


def test_elongation_and_caps():
    plain = classify("the app is slow today").negative_score
    assert classify("the app is sooo slow today").negative_score > plain
    v = classify("WORST app I have used")
    assert v.negative and any(r.startswith("shouting:") for r in v.reasons), v.reasons
    v = classify("this is sooo baaad")
    assert any(r.startswith("stretched:") for r in v.reasons), v.reasons


def test_positive_text_is_not_negative():
    for text in ("love the new feature, thank you!", "Brilliant thanks 😊", "great talk, learned a lot"):
        assert not classify(text).negative, text


@pytest.mark.parametrize(
    "text",
    [
        "hey, how do I export my data",
        "How do you measure response time across channels when half of them have no API?",
        "Is there a way to change my username?",
        "can I pay by invoice?",
        "what time does the store open tomorrow?",
        "why is the sky blue?",
        "do you have any plans for a linux version",
    ],
)
def test_a_neutral_question_is_not_a_complaint(text):
    v = classify(text)
    assert v.question, v
    assert not v.negative, v
    assert not any(r.startswith(("negative tone", "negative word:")) for r in v.reasons), v.reasons


@pytest.mark.parametrize(
    "text",
    [
        "I updated the app yesterday.",
        "We are launching a new plan next week",
        "The meeting moved to 3pm, no changes otherwise",
        "Shipping to the EU takes five days",
    ],
)
def test_ordinary_statements_are_neither(text):
    v = classify(text)
    assert not v.negative, v
    assert not v.question, v


@pytest.mark.parametrize(
    "text",
    [
        "why does nobody answer my emails?",
        "why is your app so terrible??",
        "still no response, what is going on?",
        "is anyone going to fix this garbage?",
    ],
)
def test_a_complaining_question_is_both(text):
    v = classify(text)
    assert v.question and v.negative, v


def test_no_as_a_determiner_is_not_negative_but_no_reply_is():
    v = classify("we have no plans for friday")
    assert not v.negative and not any(r.startswith("negative word: 'no'") for r in v.reasons), v
    assert classify("no reply from support after a week").negative


# ----------------------------------------------------------------- rules
def test_user_rules_never_negative():
    text = "this is a killer feature, sick!"
    v = q(text, never_negative=("killer feature", "sick"))
    assert not v.negative, v
    assert any(r.startswith("rule: never negative") for r in v.reasons), v.reasons
    # other complaints in the same text still count
    v = q("sick, but checkout still doesn't work", never_negative=("sick",))
    assert v.negative


def test_user_rules_always():
    v = q("we switched to the competitor", always_negative=("competitor",))
    assert v.negative and v.negative_score == 1.0
    assert "rule: always negative 'competitor'" in v.reasons
    v = q("pricing page", always_question=("pricing",))
    assert v.question and any(r.startswith("rule: always question") for r in v.reasons)
    v = q("how do you do", never_question=("how do you do",))
    assert not v.question and any(r.startswith("rule: never question") for r in v.reasons)


# ----------------------------------------------------------------- contract
SAMPLES = [
    "anyone know how to export my data",
    "still haven't heard back",
    "who does that?!",
    "you are useless",
    "great, another outage",
    "WORST app",
    "thanks!",
    "",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_scores_in_range_and_reasons_for_every_flag(text):
    v = classify(text)
    assert 0.0 <= v.question_score <= 1.0 and 0.0 <= v.negative_score <= 1.0
    for r in v.reasons:
        assert 0 < len(r) < 60, r
    if v.question:
        assert any(r.startswith(("asks:", "help request:", "reads as a question", "rule:")) for r in v.reasons)
    if v.negative:
        assert any(r.startswith(("negative tone", "rule:")) for r in v.reasons)
    assert v.flags == [n for n, on in (("question", v.question), ("negative", v.negative)) if on]


def test_thresholds_honoured():
    text = "the app is a bit slow today"
    v = classify(text)
    hi = classify(text, FlagSettings(question_threshold=1.01, negative_threshold=1.01))
    lo = classify(text, FlagSettings(question_threshold=0.0, negative_threshold=0.0))
    assert not hi.question and not hi.negative
    assert lo.question and lo.negative
    assert (v.question_score, v.negative_score) == (hi.question_score, hi.negative_score)


def test_trained_models_load_and_behave():
    qm, nm = models()
    assert qm.trained and nm.trained
    assert len(qm.weights) > 100 and len(nm.weights) > 100
    assert qm.prob(["q:ends?", "q:wh_start"]) > qm.prob([])
    assert nm.prob(["n:complaint", "n:compound<=-0.5"]) > nm.prob(["n:compound>=0.5"])
    assert FLAGS_VERSION


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "\x00\x01\x02\x1b[31m",
        "?" * 10000,
        "😡" * 3000,
        "a" * 2_000_000,
        "@" * 5000 + "http://" * 1000,
        "((((:" * 2000,
        "\ud800 lone surrogate",
        "ÀÉÎ ÕÜ ß ẞ ﬁ",
        "#" * 3000,
    ],
)
def test_hostile_input_never_crashes(text):
    v = classify(text)
    assert isinstance(v, Verdict)
    assert 0.0 <= v.question_score <= 1.0


def test_work_is_capped_and_deterministic():
    long = "is this ok? " + "blah " * 1_000_000
    assert len(prepare(long).text) <= MAX_CHARS
    assert classify(long) == classify(long)
    assert classify("not happy :(") == classify("not happy :(")


def test_non_str_input_is_tolerated():
    assert isinstance(classify(None), Verdict)  # type: ignore[arg-type]


def test_import_is_light():
    # Start-up speed is measured in benchmarks/flags.py; here only that no
    # numeric or deep-learning library is pulled in, even by a classify().
    code = (
        "import sys; import listen.flags as f; f.classify('why is this so slow?'); "
        "print([m for m in ('numpy', 'sklearn', 'scipy', 'torch', 'vaderSentiment') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_lazy_pattern_compiles_once_and_behaves_like_re():
    from listen.flags.lazy import LazyPattern

    rx = LazyPattern(r"a(b+)")
    assert rx.search("xabb").group(1) == "bb"
    first = rx.search
    assert rx.search is first  # compiled methods are kept, not looked up again
    assert rx.findall("ab abbb") == ["b", "bbb"] and rx.sub("-", "xab") == "x-"


def test_a_model_only_flag_names_the_words_it_weighed(monkeypatch):
    import listen.flags as flags
    from listen.flags.linear import LinearModel

    qm = models()[0]
    nm = LinearModel("negative_model", -1.0, {"w:widget": 5.0, "w:my": 3.0, "b:the widget": 0.1})
    monkeypatch.setattr(flags, "models", lambda: (qm, nm))
    v = classify("my widget arrived on monday")
    assert v.negative, v
    # 'widget' carried the score; 'my' weighed too, but says nothing to a person.
    assert "words: 'widget'" in v.reasons, v.reasons
    # With a cue, the cue is the reason and no word list is added.
    v = classify("my widget arrived broken, unacceptable")
    assert not any(r.startswith("words:") for r in v.reasons), v.reasons


# ------------------------------------------------ situational complaints (issue 11)
# Invented complaints to a brand with no insult and no strongly negative word:
# only what the wait or the runaround cost. Each was scored below the
# threshold, with no complaint reason, before the situational cue existed.
@pytest.mark.parametrize(
    "text",
    [
        "been on hold since 9:15am with your billing team",
        "in the queue for over an hour at the returns desk",
        "your agent promised to call me back on monday",
        "was told someone would call back within 24 hours",
        "ordered on the 2nd, three weeks later and still no parcel",
        "two weeks since I returned the jacket, no money yet",
        "by the time your app loaded the tickets had sold out",
        "your chat agent sent me around in circles for an hour",
        "support got me nowhere, same canned reply each time",
        "90 minutes in line at the counter to pick up one parcel",
        "the engineer was meant to come on tuesday",
        "five working days late and the tracking page says nothing",
        "sat at the gate with a 3 hour delay and counting",
        "our train was delayed by over 40 minutes this morning",
        "nobody at the desk to explain what happened to the bags",
    ],
)
def test_situational_complaints(text):
    from listen.flags import negative as neg

    assert neg._SITUATION.search(prepare(text).lower), text
    v = classify(text)
    assert v.negative, v
    assert any(r.startswith("complaint:") for r in v.reasons), v.reasons


@pytest.mark.parametrize(
    "text",
    [
        "the hold music playlist is actually a banger",
        "I waited in line for a moment and got my coffee",
        "three days later we were on the beach in Portugal",
        "she promised to bring cake tomorrow",
        "by the time we got there the sun was setting",
        "we drove around in circles looking at the lights, so fun",
        "my order arrived two days early, great job",
        "we sold out in two hours, thank you all!",
        "the release was delayed so we could fix the last bugs, thanks for waiting",
        "no one here to judge, come as you are",
    ],
)
def test_near_misses_of_situational_cues(text):
    from listen.flags import negative as neg

    assert not neg._SITUATION.search(prepare(text).lower), text
    assert not classify(text).negative


# ------------------------------------------------ warm blog comments, pingbacks
@pytest.mark.parametrize(
    "text",
    [
        "Great post, I love how you name the habits that undermine you.",
        "Lovely read. I struggled with this for years and your tips really helped, thank you!",
        "Such a helpful write-up, the bit about stress at work is brilliant.",
        "Wonderful piece! The chapter on doubt made me smile, so true.",
    ],
)
def test_a_warm_comment_with_one_mild_word_is_not_negative(text):
    from listen.flags import negative as neg

    feats = neg.cues(prepare(text))[0]
    assert "n:lone_mild" in feats
    assert not classify(text).negative


@pytest.mark.parametrize(
    "text",
    [
        "I hate how you keep changing the layout.",  # not mild
        "Nice idea, but the app is slow and the sync is broken.",  # two negative words, and a 'but'
        "ugh",  # not warm
    ],
)
def test_lone_mild_needs_warmth_and_a_single_mild_word(text):
    from listen.flags import negative as neg

    assert "n:lone_mild" not in neg.cues(prepare(text))[0]


def test_a_lone_mild_word_caps_the_score_only_without_other_evidence():
    from listen.flags import scoring

    assert scoring.negative(0.7, ["n:lone_mild"]) == scoring.LONE_MILD_CAP
    assert scoring.negative(0.3, ["n:lone_mild"]) == 0.3
    assert scoring.negative(0.75, ["n:lone_mild", "n:complaint"]) == 0.75
    assert scoring.negative(0.7, []) == 0.7


@pytest.mark.parametrize(
    "p, feats, question, expected",
    [
        # The warm cap holds a middling score and yields to a confident
        # model (2.5): capping every score cost general-tweet F1.
        (0.45, ["n:lone_mild"], False, 0.4),
        (0.79, ["n:lone_mild"], False, 0.4),
        (0.8, ["n:lone_mild"], False, 0.8),
        (0.95, ["n:lone_mild"], False, 0.95),
        (0.79, ["n:litotes"], False, 0.4),
        (0.85, ["n:litotes"], False, 0.85),
        # An excerpt stays capped, and a question still needs 0.9.
        (0.95, ["n:lone_mild", "n:excerpt"], False, 0.4),
        (0.85, ["n:lone_mild"], True, 0.4),
    ],
)
def test_the_warm_cap_yields_only_to_a_confident_model(p, feats, question, expected):
    from listen.flags import scoring

    assert scoring.negative(p, feats, question) == expected


@pytest.mark.parametrize(
    "text",
    [
        "[…] which is why the author argues that what we measure is what we get […]",
        "[...] where she explains how the habits that undermine you start small [...]",
        "[…] the worst advice I ever took was to answer every email at once […]",
    ],
)
def test_a_pingback_excerpt_is_neither_question_nor_complaint(text):
    v = classify(text)
    assert not v.question, v
    assert not v.negative, v
    # The same words with a '?' of their own still count.
    assert classify(text.rstrip("[]….") + "?").question


def test_a_comment_cut_short_by_its_feed_is_still_read():
    # Only the closing '[…]': the feed truncated a real comment.
    v = classify("Your checkout has been broken for three days and support never called back […]")
    assert v.negative, v


@pytest.mark.parametrize(
    "text",
    ["your app keeps texting me the same code, why?", "they keep billing me for a plan I cancelled"],
)
def test_a_recurring_nuisance_is_a_complaint(text):
    v = classify(text)
    assert v.negative, v
    assert any(r.startswith("complaint:") for r in v.reasons), v.reasons


@pytest.mark.parametrize(
    "p, feats, expected",
    [
        # "anyone ..." / "can you ..." alone no longer lifts a low score:
        # in chat it opens statements too ("anyone can learn this").
        (0.3, ["q:ask"], 0.3),
        # a help request and a clause closed by '?' still do
        (0.3, ["q:request"], 0.7),
        (0.3, ["q:ask", "q:clause?"], 0.7),
        (0.3, ["q:wh_aux"], 0.6),
        (0.9, ["q:ask", "q:rhetorical"], 0.2),
    ],
)
def test_question_cue_floors(p, feats, expected):
    from listen.flags import scoring

    assert scoring.question(p, feats) == pytest.approx(expected)


def test_a_word_already_quoted_by_a_reason_is_not_named_again():
    v = classify("great, another outage. third one this month #fail")
    assert "complaint: '#fail'" in v.reasons, v.reasons
    assert "negative word: '#fail'" not in v.reasons, v.reasons
    assert "negative word: 'terrible'" in classify("this is terrible").reasons
