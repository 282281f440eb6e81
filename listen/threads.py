"""What a batch of rows does to the stored conversations: the pure half of saving.

Storage reads the stored rows a batch touches, asks these functions what to do,
and applies the answer. Nothing here does I/O: each function takes rows (plain
mappings) and `now`, and returns intents — rows to insert or update, thread
re-roots, snoozes to wake, answered_at changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from listen.waiting import Identity, Node

AnswerRule = Callable[[Iterable[Node]], dict[str, "int | None"]]

# Columns a source provides; compared to decide whether a re-pulled item changed.
CONTENT = ("author", "author_name", "text", "created_at", "url", "in_reply_to", "title")
FLAG_COLUMNS = ("question", "negative", "addressed", "question_score", "negative_score", "reasons", "flags_version")
# What an update rewrites on a stored row.
UPDATE_COLUMNS = ("author_key", "thread_id", "ours_hint", "ours", "raw", "updated_at", *CONTENT, *FLAG_COLUMNS)

Row = Mapping[str, Any]


@dataclass
class Update:
    id: int
    values: dict[str, Any]
    replaced_text: str | None  # the text before an edit, kept in item_edits
    # False when only the flags were re-decided (a new detector version, a mark,
    # a config change): the source said nothing new, so a pull does not count it.
    changed: bool = True


@dataclass
class BatchPlan:
    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[Update] = field(default_factory=list)
    # Stored rows whose thread_id is a key here guessed wrong: give them the value.
    reroots: dict[str, str] = field(default_factory=dict)
    touched: set[str] = field(default_factory=set)  # threads whose answers may change
    parents: set[str] = field(default_factory=set)  # native ids whose threads may change answers

    @property
    def counts(self) -> tuple[int, int]:
        return len(self.inserts), sum(1 for u in self.updates if u.changed)


def fill_dates(rows: list[dict[str, Any]], existing: Mapping[str, Row], now: int) -> None:
    """An undated entry keeps the time we first saw it."""
    for r in rows:
        if r["created_at"] is None:
            old = existing.get(r["native_id"])
            r["created_at"] = old["created_at"] if old is not None else now


def parents_to_look_up(rows: list[dict[str, Any]], existing: Mapping[str, Row]) -> list[str]:
    """Parents neither in the batch nor already read: storage finds their thread ids."""
    in_batch = {r["native_id"] for r in rows}
    return sorted({p for r in rows if (p := r.get("in_reply_to")) and p not in in_batch and p not in existing})


def plan_batch(feed: str, network: str, rows: list[dict[str, Any]], existing: Mapping[str, Row],
               parent_threads: Mapping[str, str], now: int) -> BatchPlan:
    """Which rows are new, which changed, and the thread each belongs to.

    `existing` is the stored rows of this batch's native ids (with their id,
    thread_id, CONTENT and flags); `parent_threads` the thread ids of stored
    parents (parents_to_look_up). Call fill_dates first.
    """
    plan = BatchPlan()
    # One row per native id, the first: two would both be planned as new, one stored
    # and the other "updating" it on the next pull, and back on the one after.
    # (rows.valid keeps the first and says so; this holds for every caller.)
    first: dict[str, dict[str, Any]] = {}
    for r in rows:
        first.setdefault(r["native_id"], r)
    rows = sorted(first.values(), key=lambda r: r["created_at"])  # parents before replies, mostly
    thread_of: dict[str, str] = {k: r["thread_id"] for k, r in existing.items()}
    thread_of.update(parent_threads)
    for r in rows:
        key = r["native_id"]
        old = existing.get(key)
        same = old is not None and all(old[k] == r[k] for k in CONTENT) \
            and (r.get("thread_id") is None or r["thread_id"] == old["thread_id"])
        if same and old is not None and old["flags_version"] == r["flags_version"]:
            continue  # unchanged: nothing rewritten
        parent = r.get("in_reply_to")
        # Parent not seen yet: it is the best guess at the root until it arrives.
        thread = r.get("thread_id") or (thread_of.setdefault(parent, parent) if parent else None) or key
        thread_of[key] = thread
        if r["ours"] and parent:
            plan.parents.add(parent)
        values = {**r, "feed": feed, "network": network, "thread_id": thread, "updated_at": now, "first_seen": now}
        if old is None:
            plan.inserts.append(values)
        else:
            plan.updates.append(Update(old["id"], values, old["text"] if old["text"] != r["text"] else None, not same))
            plan.touched.update((old["thread_id"], thread))  # rare: recompute what it may change
    # Replies that arrived before their parent guessed the parent was their root;
    # stored rows threaded under a new item's id get its real root.
    plan.reroots = {v["native_id"]: v["thread_id"] for v in plan.inserts if v["thread_id"] != v["native_id"]}
    return plan


def snoozes_to_wake(snoozed: Iterable[Row], arrivals: Iterable[Row]) -> list[int]:
    """A new message from someone wakes what they said before in that conversation.
    `snoozed` rows carry id, native_id, thread_id and author_key."""
    said = {(v["thread_id"], v["author_key"]): v["native_id"] for v in arrivals if not v["ours"]}
    if not said:
        return []
    return [r["id"] for r in snoozed if said.get((r["thread_id"], r["author_key"]), r["native_id"]) != r["native_id"]]


def answered_changes(mentions: list[Row], our_replies: list[Row], rule: AnswerRule) -> list[tuple[int | None, int]]:
    """(answered_at, id) for each stored mention whose first answer changes.

    `mentions` are a conversation's stored mentions (id, native_id, author_key,
    created_at, in_reply_to, answered_at); `our_replies` our posts replying to them.
    """
    nodes = [Node(m["native_id"], m["author_key"], m["created_at"], m["in_reply_to"], False) for m in mentions]
    nodes += [Node(o["native_id"], o["author_key"], o["created_at"], o["in_reply_to"], True) for o in our_replies]
    answered = rule(nodes)
    return [(answered.get(m["native_id"]), m["id"]) for m in mentions
            if answered.get(m["native_id"]) != m["answered_at"]]


def ours_changes(rows: Iterable[Row], identity: Identity) -> list[Row]:
    """Stored rows whose `ours` the current identity decides otherwise."""
    return [r for r in rows if int(identity.is_ours(r["ours_hint"], r["author"], r["author_name"])) != r["ours"]]
