"""`listen stats` after the speed-up: the corners the faster queries could get wrong, against brute force.

The figures now come from a sorted list of response times (bisected in
Python) and from a walk of the period in (created_at, id) order that stops
early; these tests aim at exactly those: values on the bucket and target
edges, ties, negative response times, and a feed whose only waiting mention
comes last.
"""

from __future__ import annotations

import random

import pytest

from listen.storage import open_store, stats
from tests.test_stats import NOW, brute

H = 3600
D = 86400
COLUMNS = ("feed", "network", "native_id", "author", "author_key", "text", "created_at", "thread_id", "ours",
           "question", "negative", "answered_at", "state", "in_reply_to", "first_seen", "updated_at")


@pytest.fixture
def store(tmp_path):
    s = open_store(tmp_path / "eq.db")
    yield s
    s.close()


def insert(store, rows: list[dict]) -> list[dict]:
    """Store rows (dicts of the columns brute() reads); returns them as stored, with ids."""
    values = [(r["feed"], "jsonl", f"n{i}", r.get("author", f"user{i}"), r.get("author", f"user{i}"), "…",
               r["created_at"], f"t{i}", r.get("ours", 0), r.get("question", 0), r.get("negative", 0),
               r.get("answered_at"), r.get("state", "open"), r.get("in_reply_to"), NOW, NOW)
              for i, r in enumerate(rows)]
    store.conn.execute("BEGIN")
    store.conn.executemany(f"INSERT INTO items ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                           values)
    store.conn.execute("COMMIT")
    return [dict(r) for r in store.conn.execute(
        "SELECT id, feed, author, created_at, ours, question, negative, answered_at, state, in_reply_to FROM items")]


def same(store, rows, **kw) -> None:
    kw = {"feeds": None, "reply_within": 86400, "max_age": 14 * D, **kw}
    got = stats.compute(store.conn, now=NOW, **kw)
    want = brute(rows, now=NOW, **kw)
    assert got["overall"] == want["overall"]
    assert got["feeds"] == want["feeds"]
    assert got["weeks"] == want["weeks"]


EDGES = [0, 1, H - 1, H, H + 1, 4 * H - 1, 4 * H, 8 * H - 1, 8 * H, 24 * H - 1, 24 * H, 24 * H + 1,
         14 * D - 1, 14 * D, 14 * D + 1, 30 * D]


def test_response_times_on_every_edge(store):
    rows = []
    for i, rt in enumerate(EDGES * 3):  # three of each: ties at every rank
        created = NOW - 20 * D + i * 600
        rows.append({"feed": ("a", "b")[i % 2], "created_at": created, "question": 1, "answered_at": created + rt})
    # answered before it was posted (clocks disagree): counts as 0 s
    rows.append({"feed": "a", "created_at": NOW - 2 * D, "question": 1, "answered_at": NOW - 3 * D})
    rows = insert(store, rows)
    for reply_within in (H, 24 * H, 24 * H - 1, 0):
        for max_age in (14 * D, 14 * D - 1, 24 * H, 1):
            same(store, rows, since=30 * D, reply_within=reply_within, max_age=max_age)
    same(store, rows, since=30 * D, feeds=["b"])
    same(store, rows, since=10 * D)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 9, 10, 11])
def test_median_and_p90_of_small_counts(store, n):
    rows = insert(store, [{"feed": "a", "created_at": NOW - D - i, "answered_at": NOW - D - i + (i * 7919) % 5000}
                          for i in range(n)])
    same(store, rows, since=3 * D)


def test_the_only_waiting_mention_of_a_feed_comes_last(store):
    """The oldest-waiting walk stops once every feed is found: a late one must still be reached."""
    rows = [{"feed": "busy", "created_at": NOW - 10 * D + i * 60, "question": 1} for i in range(3000)]
    rows += [{"feed": "quiet", "created_at": NOW - 10 * D + i * 600, "question": 1, "answered_at": NOW - D}
             for i in range(100)]
    rows.append({"feed": "quiet", "created_at": NOW - 60, "negative": 1})  # its only waiting one, at the very end
    rows.append({"feed": "done", "created_at": NOW - 9 * D, "question": 1, "state": "done"})  # never waiting
    rows = insert(store, rows)
    same(store, rows, since=30 * D)
    same(store, rows, since=30 * D, feeds=["quiet", "done"])
    got = stats.compute(store.conn, now=NOW, since=30 * D)
    assert got["feeds"]["quiet"]["oldest_waiting"]["waiting_seconds"] == 60
    assert got["feeds"]["done"]["oldest_waiting"] is None


def test_oldest_waiting_ties_go_to_the_lower_id(store):
    t = NOW - 5 * D
    rows = insert(store, [
        {"feed": "b", "created_at": t, "question": 1, "author": "first-b"},
        {"feed": "a", "created_at": t, "question": 1, "author": "second-a"},
        {"feed": "a", "created_at": t, "negative": 1, "author": "third-a"},
        {"feed": "a", "created_at": t - 1, "question": 1, "ours": 1},  # ours: never waiting
        {"feed": "b", "created_at": t - 1, "question": 1, "state": "ignored"},
    ])
    same(store, rows, since=30 * D)
    got = stats.compute(store.conn, now=NOW, since=30 * D)
    assert got["overall"]["oldest_waiting"]["author"] == "first-b"
    assert got["feeds"]["a"]["oldest_waiting"]["author"] == "second-a"


@pytest.mark.parametrize("seed", range(6))
def test_random_histories_with_many_ties(store, seed):
    """Few distinct times and response times: ties everywhere, across weeks, feeds and the period's ends."""
    rng = random.Random(seed)
    rows = []
    for _ in range(rng.randrange(50, 400)):
        created = NOW - rng.randrange(0, 40) * D // 2 + rng.choice([0, 1, -1])
        ours = rng.random() < 0.25
        answered = None
        if not ours and rng.random() < 0.6:
            answered = created + rng.choice(EDGES + [-5, -D])
        rows.append({"feed": rng.choice(["x", "y", "z"]), "created_at": created, "ours": int(ours),
                     "question": int(rng.random() < 0.5), "negative": int(rng.random() < 0.2),
                     "answered_at": answered, "state": rng.choice(["open"] * 6 + ["done", "ignored"]),
                     "in_reply_to": "p" if ours and rng.random() < 0.6 else None})
    rows = insert(store, rows)
    for since, feeds in ((20 * D, None), (7 * D, ["y"]), (0, None), (19 * D + 43200, ["z", "x", "none"])):
        same(store, rows, since=since, feeds=feeds, reply_within=rng.choice([H, D, 4 * H]),
             max_age=rng.choice([D, 14 * D]))


def test_weeks_of_a_period_reaching_back_before_1970(store):
    """Mentions per week are counted week by week, except when the period starts before the first
    week SQL's integer division keys like Python's: then by one GROUP BY. Both give the same weeks."""
    rows = insert(store, [{"feed": "a", "created_at": NOW - i * 5 * D, "question": 1,
                           "answered_at": NOW - i * 5 * D + i * H if i % 3 else None} for i in range(40)])
    same(store, rows, since=NOW + 10 * D)  # from 1969-12-22: the GROUP BY
    same(store, rows, since=NOW)  # from 1970-01-01: week by week
    assert stats.compute(store.conn, now=NOW, since=NOW + 10 * D)["weeks"][-30:] == \
        stats.compute(store.conn, now=NOW, since=NOW)["weeks"][-30:]
