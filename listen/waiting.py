"""Who is waiting: the pure rules. Functions of items and `now`, no I/O.

The contract (../shared/CONTRACT.md, "Who is waiting") in code:
- an item is ours when its author matches [identity] names (or the source knows);
- a mention is answered when we posted after it in the same conversation, in reply
  to it or to a later message there from the same person;
- it is waiting when unanswered, open, not snoozed, within max_age, and flagged.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable

from listen.text import normalise_name


class Identity:
    """Our names, compared exactly after folding case, spaces and a leading @."""

    def __init__(self, names: Iterable[str]):
        self.names = frozenset(n for n in (normalise_name(x) for x in names) if n)

    def matches(self, author: str | None, author_name: str | None = None) -> bool:
        return bool(self.names) and (
            normalise_name(author) in self.names or normalise_name(author_name) in self.names
        )

    def is_ours(self, hint: bool | None, author: str | None, author_name: str | None) -> bool:
        # A source that knows the account (a token) may say "ours"; names add to it.
        return bool(hint) or self.matches(author, author_name)

    def fingerprint(self) -> str:
        return "\n".join(sorted(self.names))


@dataclass(frozen=True)
class Node:
    """The little of an item the answered rule needs."""

    key: str  # native id
    author: str  # normalised author: "the same person"
    created_at: int  # unix seconds
    in_reply_to: str | None
    ours: bool


def answered_times(nodes: Iterable[Node]) -> dict[str, int | None]:
    """For every mention among `nodes`, when we first answered it (or None).

    `nodes` holds a conversation's mentions and every post of ours that replies
    to one of them. A reply of ours to a later message from the same person
    answers the earlier ones too: they were one person's one request, and we
    answered it. A post of ours that replies to nobody answers nobody.
    """
    nodes = list(nodes)
    first_reply: dict[str, int] = {}
    for n in nodes:
        if n.ours and n.in_reply_to:
            prev = first_reply.get(n.in_reply_to)
            first_reply[n.in_reply_to] = n.created_at if prev is None else min(prev, n.created_at)

    by_author: dict[str, list[Node]] = defaultdict(list)
    for n in nodes:
        if not n.ours:
            by_author[n.author].append(n)

    out: dict[str, int | None] = {}
    for msgs in by_author.values():
        msgs.sort(key=lambda n: (n.created_at, n.key))
        best: int | None = None  # earliest answer to this message or a later one by the same person
        for n in reversed(msgs):
            r = first_reply.get(n.key)
            if r is not None:
                # in_reply_to proves the answer came after the message, whatever the clocks say.
                r = max(r, n.created_at)
                best = r if best is None else min(best, r)
            out[n.key] = best
    return out


# Why this order: a negative remark said in public gets worse by the hour and is
# read by others, so it counts double; a question put to us directly is owed an
# answer more than a question to the room. Within that, whoever has waited
# longest comes first. A weight on waiting time rather than strict tiers keeps a
# question ignored for four days above a complaint made ten minutes ago.
NEGATIVE_WEIGHT = 2.0
ADDRESSED_WEIGHT = 1.5


def urgency(waiting_seconds: int, question: bool, negative: bool, addressed: bool = False) -> float:
    w = 1.0
    if negative:
        w *= NEGATIVE_WEIGHT
    if question and addressed:
        w *= ADDRESSED_WEIGHT
    return waiting_seconds * w
