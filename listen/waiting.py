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
from typing import Any, Iterable, Mapping

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
    return urgency_of({"created_at": 0, "question": question, "negative": negative, "addressed": addressed},
                      waiting_seconds)


# -- The defaults, once -------------------------------------------------

DEFAULT_MAX_AGE = 14 * 86400  # [inbox] max_age: older unanswered mentions drop out
DEFAULT_REPLY_WITHIN = 86400  # [inbox] reply_within: the response-time target
URGENCY_FACTORS: tuple[tuple[tuple[str, ...], float], ...] = (
    (("negative",), NEGATIVE_WEIGHT),
    (("question", "addressed"), ADDRESSED_WEIGHT),
)


# -- The waiting predicate, as data ---------------------------------------
#
# Written once, as a few terms over a stored row. Python evaluates them
# (`Cond.test`) and storage turns the same terms into SQL (`Cond.sql`): the
# inbox query, the stats counts, the export's waiting_seconds and the partial
# index all come from here, and a test checks both readings agree.


@dataclass(frozen=True)
class Cond:
    """One term: `column op value`, where value is a constant (rendered inline,
    so a partial index on it matches) or the name of a parameter (a `?`)."""

    column: str
    op: str  # "=", "IS NULL", ">=", "<=", "ANY" (one of the columns is true)
    value: object = None
    param: str | None = None
    columns: tuple[str, ...] = ()

    def sql(self) -> tuple[str, list[str]]:
        if self.op == "IS NULL":
            return f"{self.column} IS NULL", []
        if self.op == "ANY":
            return "(" + " OR ".join(f"{c} = 1" for c in self.columns) + ")", []
        if self.param is not None:
            return f"{self.column} {self.op} ?", [self.param]
        v = self.value
        lit = f"'{v}'" if isinstance(v, str) else str(int(v) if isinstance(v, bool) else v)
        return f"{self.column} {self.op} {lit}", []

    def test(self, row: Mapping[str, Any], env: Mapping[str, Any]) -> bool:
        if self.op == "IS NULL":
            return row[self.column] is None
        if self.op == "ANY":
            return any(bool(row[c]) for c in self.columns)
        v = env[self.param] if self.param is not None else self.value
        got = row[self.column]
        if self.op == "=":
            return bool(got == v)
        if self.op == ">=":
            return bool(got >= v)
        if self.op == "<=":
            return bool(got <= v)
        raise ValueError(self.op)


@dataclass(frozen=True)
class NotSnoozed:
    """Not snoozed, or the snooze is over by `now`."""

    column: str = "snoozed_until"

    def sql(self) -> tuple[str, list[str]]:
        return f"({self.column} IS NULL OR {self.column} <= ?)", ["now"]

    def test(self, row: Mapping[str, Any], env: Mapping[str, Any]) -> bool:
        return row[self.column] is None or bool(row[self.column] <= env["now"])


Term = Cond | NotSnoozed

# A mention nobody has answered or closed. Stats' `waiting` is this and flagged:
# the contract counts a snoozed or old mention as still waiting there, since
# snoozing hides a mention, it does not answer it.
UNANSWERED_OPEN: tuple[Term, ...] = (Cond("ours", "=", 0), Cond("answered_at", "IS NULL"), Cond("state", "=", "open"))
FLAGGED: tuple[Term, ...] = (Cond("", "ANY", columns=("question", "negative")),)
# The inbox: also within the window (env "cutoff") and not snoozed at env "now".
IN_WINDOW: tuple[Term, ...] = (Cond("created_at", ">=", param="cutoff"), NotSnoozed())


def inbox_terms(include_unflagged: bool = False) -> tuple[Term, ...]:
    return UNANSWERED_OPEN + IN_WINDOW + (() if include_unflagged else FLAGGED)


def inbox_env(now: int, max_age: int = DEFAULT_MAX_AGE, since: int | None = None) -> dict[str, int]:
    """The parameters of inbox_terms: `since` narrows the window, never widens it."""
    cutoff = now - max_age
    if since is not None:
        cutoff = max(cutoff, now - since)
    return {"now": now, "cutoff": cutoff}


def to_sql(terms: tuple[Term, ...], env: Mapping[str, Any] | None = None) -> tuple[str, list[Any]]:
    """The terms as one SQL condition with `?` placeholders, and their values from `env`."""
    parts, params = [], []
    for t in terms:
        s, names = t.sql()
        parts.append(s)
        params += [(env or {})[n] for n in names]
    return " AND ".join(parts), params


def holds(terms: tuple[Term, ...], row: Mapping[str, Any], env: Mapping[str, Any] | None = None) -> bool:
    return all(t.test(row, env or {}) for t in terms)


def is_waiting(row: Mapping[str, Any], now: int, max_age: int = DEFAULT_MAX_AGE,
               include_unflagged: bool = False, since: int | None = None) -> bool:
    """The inbox's rule for one stored row."""
    return holds(inbox_terms(include_unflagged), row, inbox_env(now, max_age, since))


def urgency_of(row: Mapping[str, Any], now: int) -> float:
    """urgency() of a stored row: the inbox sorts by this, descending, then by id."""
    w = float(now - row["created_at"])
    for columns, weight in URGENCY_FACTORS:
        if all(row[c] for c in columns):
            w *= weight
    return w


def urgency_sql() -> str:
    """urgency_of() in SQL, taking `now` as its one `?`."""
    factors = "".join(f" * (CASE WHEN {' AND '.join(f'{c} = 1' for c in cols)} THEN {weight!r} ELSE 1.0 END)"
                      for cols, weight in URGENCY_FACTORS)
    return f"CAST((? - created_at) AS DOUBLE PRECISION){factors}"
