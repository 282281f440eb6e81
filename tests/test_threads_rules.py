"""listen.threads and listen.waiting's predicate: the deciding half of storage, with no database."""

import pytest

from listen import threads, waiting
from listen.storage import schema
from listen.waiting import answered_times

NOW = 1_770_000_000
D = 86400


def row(nid, t=NOW - 100, reply=None, thread=None, ours=0, text="hi?", author="ann", fv="v1"):
    return {"native_id": nid, "author": author, "author_name": None, "author_key": author, "text": text,
            "created_at": t, "url": None, "in_reply_to": reply, "thread_id": thread, "title": None,
            "ours_hint": None, "ours": ours, "raw": None, "question": 1, "negative": 0, "addressed": 0,
            "question_score": 0.9, "negative_score": 0.0, "reasons": "[]", "flags_version": fv}


def stored(nid, id_, thread, **kw):
    return {**row(nid, **kw), "id": id_, "thread_id": thread}


@pytest.mark.parametrize("rows, existing, parents, inserts, updates, threads_of, reroots", [
    # a lone mention is its own thread
    ([row("a")], {}, {}, 1, 0, {"a": "a"}, {}),
    # a reply joins its stored parent's thread
    ([row("b", reply="a")], {}, {"a": "root"}, 1, 0, {"b": "root"}, {"b": "root"}),
    # a reply whose parent is unknown guesses the parent is the root
    ([row("c", reply="x")], {}, {}, 1, 0, {"c": "x"}, {"c": "x"}),
    # a parent and its reply in one batch, out of order: one thread
    ([row("r", t=NOW - 5, reply="p"), row("p", t=NOW - 9)], {}, {}, 2, 0, {"p": "p", "r": "p"}, {"r": "p"}),
    # a source's own thread id wins
    ([row("d", reply="a", thread="T")], {}, {"a": "root"}, 1, 0, {"d": "T"}, {"d": "T"}),
    # re-pulled unchanged: nothing written
    ([row("a")], {"a": stored("a", 1, "a")}, {}, 0, 0, {}, {}),
    # re-pulled edited: one update
    ([row("a", text="edited")], {"a": stored("a", 1, "a")}, {}, 0, 1, {"a": "a"}, {}),
    # re-flagged by a newer detector: one update, no edit
    ([row("a", fv="v2")], {"a": stored("a", 1, "a")}, {}, 0, 1, {"a": "a"}, {}),
])
def test_plan_batch(rows, existing, parents, inserts, updates, threads_of, reroots):
    threads.fill_dates(rows, existing, NOW)
    plan = threads.plan_batch("f", "jsonl", rows, existing, parents, NOW)
    assert (len(plan.inserts), len(plan.updates)) == (inserts, updates)
    got = {v["native_id"]: v["thread_id"] for v in plan.inserts}
    got.update({u.values["native_id"]: u.values["thread_id"] for u in plan.updates})
    assert got == threads_of
    assert plan.reroots == reroots


def test_an_edit_keeps_the_old_text_and_a_reflag_does_not():
    existing = {"a": stored("a", 7, "a")}
    edit = threads.plan_batch("f", "jsonl", [row("a", text="new")], existing, {}, NOW).updates[0]
    assert (edit.id, edit.replaced_text) == (7, "hi?")
    reflagged = threads.plan_batch("f", "jsonl", [row("a", fv="v2")], existing, {}, NOW)
    reflag = reflagged.updates[0]
    assert reflag.replaced_text is None
    # Only the edit is news from the source: a pull counts it as updated, not the re-flag.
    assert edit.changed and not reflag.changed
    assert reflagged.counts == (0, 0)
    moved = threads.plan_batch("f", "jsonl", [row("a", thread="T")], existing, {}, NOW)
    assert moved.counts == (0, 1)


def test_undated_rows_keep_the_first_seen_time():
    rows = [row("a", t=None), row("b", t=None)]
    threads.fill_dates(rows, {"a": stored("a", 1, "a", t=NOW - 500)}, NOW)
    assert [r["created_at"] for r in rows] == [NOW - 500, NOW]


def test_our_reply_asks_for_its_parents_thread():
    plan = threads.plan_batch("f", "jsonl", [row("r", reply="q", ours=1)], {}, {"q": "q"}, NOW)
    assert plan.parents == {"q"}
    assert threads.parents_to_look_up([row("r", reply="q"), row("s", reply="r")], {}) == ["q"]


@pytest.mark.parametrize("snoozed, arrivals, woken", [
    # ann writes again in the same thread: her snoozed message wakes
    ([{"id": 1, "native_id": "a", "thread_id": "T", "author_key": "ann"}],
     [{"native_id": "b", "thread_id": "T", "author_key": "ann", "ours": 0}], [1]),
    # someone else writing does not wake it
    ([{"id": 1, "native_id": "a", "thread_id": "T", "author_key": "ann"}],
     [{"native_id": "b", "thread_id": "T", "author_key": "bob", "ours": 0}], []),
    # ann in another thread does not either
    ([{"id": 1, "native_id": "a", "thread_id": "T", "author_key": "ann"}],
     [{"native_id": "b", "thread_id": "U", "author_key": "ann", "ours": 0}], []),
    # the snoozed message itself, re-pulled, does not wake itself
    ([{"id": 1, "native_id": "a", "thread_id": "T", "author_key": "ann"}],
     [{"native_id": "a", "thread_id": "T", "author_key": "ann", "ours": 0}], []),
])
def test_snoozes_to_wake(snoozed, arrivals, woken):
    assert threads.snoozes_to_wake(snoozed, arrivals) == woken


def test_answered_changes_only_lists_what_changes():
    mentions = [{"id": 1, "native_id": "q", "author_key": "ann", "created_at": 0, "in_reply_to": None, "answered_at": None},
                {"id": 2, "native_id": "z", "author_key": "bob", "created_at": 0, "in_reply_to": None, "answered_at": None}]
    replies = [{"native_id": "r", "author_key": "us", "created_at": 50, "in_reply_to": "q"}]
    assert threads.answered_changes(mentions, replies, answered_times) == [(50, 1)]
    mentions[0]["answered_at"] = 50
    assert threads.answered_changes(mentions, replies, answered_times) == []


def m(**kw):
    base = {"ours": 0, "answered_at": None, "state": "open", "created_at": NOW - 3600, "snoozed_until": None,
            "question": 1, "negative": 0, "addressed": 0}
    return {**base, **kw}


@pytest.mark.parametrize("r, unflagged, expected", [
    (m(), False, True),
    (m(ours=1), False, False),
    (m(answered_at=NOW - 10), False, False),
    (m(state="done"), False, False),
    (m(state="ignored"), False, False),
    (m(snoozed_until=NOW + 60), False, False),
    (m(snoozed_until=NOW), False, True),  # the snooze is over at its own second
    (m(created_at=NOW - 14 * D), False, True),  # max_age is inclusive
    (m(created_at=NOW - 14 * D - 1), False, False),
    (m(question=0), False, False),
    (m(question=0), True, True),
    (m(question=0, negative=1), False, True),
])
def test_the_waiting_predicate(r, unflagged, expected):
    assert waiting.is_waiting(r, NOW, include_unflagged=unflagged) is expected


def test_since_narrows_the_window_never_widens_it():
    assert waiting.inbox_env(NOW, max_age=D, since=3600)["cutoff"] == NOW - 3600
    assert waiting.inbox_env(NOW, max_age=D, since=30 * D)["cutoff"] == NOW - D


@pytest.mark.parametrize("r, seconds", [
    (m(), 3600.0),
    (m(negative=1), 7200.0),
    (m(addressed=1), 5400.0),  # a question put to us directly
    (m(question=0, addressed=1), 3600.0),  # addressed but no question: no weight
    (m(negative=1, addressed=1), 10800.0),
])
def test_urgency(r, seconds):
    assert waiting.urgency_of(r, NOW) == seconds


def test_the_partial_index_is_the_predicates_own_terms():
    # SQLite uses a partial index only when a query repeats its WHERE terms: the
    # index in the schema must say exactly what listen.waiting generates.
    assert f"WHERE {waiting.to_sql(waiting.UNANSWERED_OPEN)[0]};" in " ".join(schema.CURRENT.split())


def test_sql_of_the_predicate_has_its_parameters_in_order():
    sql, params = waiting.to_sql(waiting.inbox_terms(), waiting.inbox_env(NOW, max_age=D))
    assert sql.count("?") == len(params) == 2
    assert params == [NOW - D, NOW]
    assert "state = 'open'" in sql
