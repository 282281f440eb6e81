"""Turn model probability plus cue evidence into the final 0..1 score.

The models learn from chat and general tweets, where help requests, brand
complaints and sarcasm are rare, so they under-weigh those cues. The issue
asks for them explicitly, so a matched cue sets a floor (or, for rhetorical
questions, a ceiling) on the score. Kept apart from the models so that the
training script measures exactly what classify() ships.
"""

from __future__ import annotations

# Floors sit just above the default 0.5 threshold: a cue alone flags the
# text, and the model's own confidence still shows when it is higher.
_Q_FLOOR = {"q:request": 0.7, "q:ask": 0.7, "q:wh_aux": 0.6}
_N_FLOOR = {"n:complaint": 0.7, "n:hashtag": 0.65, "n:sarcasm": 0.6}
# Hostile words and sad faces also appear in friendly banter ("fucking
# awesome", "miss you :("): they only set a floor when the tone is not positive.
_N_FLOOR_UNLESS_POSITIVE = {"n:insult": 0.6, "n:emoticon": 0.55}


def question(p: float, feats: list[str]) -> float:
    fs = set(feats)
    if "q:rhetorical" in fs:
        return min(p, 0.2)
    for f, floor in _Q_FLOOR.items():
        if f in fs and p < floor:
            p = floor
    return p


# A question is not a complaint: "how do you measure response time when
# half of them have no API?" must not look negative because questions are
# common in the negative training tweets. Without one of these cues, a
# question's negative score stays below the default threshold.
_NEG_EVIDENCE = frozenset(
    "n:complaint n:insult n:sarcasm n:hashtag n:emoticon n:compound<=-0.5 n:caps_neg n:elong_neg".split()
)
NEUTRAL_QUESTION_CAP = 0.4


def negative(p: float, feats: list[str], question: bool = False) -> float:
    fs = set(feats)
    if question and p > NEUTRAL_QUESTION_CAP and not (fs & _NEG_EVIDENCE):
        return NEUTRAL_QUESTION_CAP
    for f, floor in _N_FLOOR.items():
        if f in fs and p < floor:
            p = floor
    if "n:compound>=0.05" not in fs:
        for f, floor in _N_FLOOR_UNLESS_POSITIVE.items():
            if f in fs and p < floor:
                p = floor
    return p
