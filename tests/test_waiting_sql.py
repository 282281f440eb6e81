"""The SQL storage generates from listen.waiting answers as the Python rules do, on both backends."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from listen import waiting

NOW = 1_770_000_000
D = 86400

rows_strategy = st.lists(st.fixed_dictionaries({
    "ours": st.sampled_from([0, 0, 0, 1]),
    "answered": st.sampled_from([None, None, NOW - 60]),
    "state": st.sampled_from(["open", "open", "open", "done", "ignored"]),
    "age": st.integers(min_value=-3600, max_value=20 * D),
    "snoozed": st.sampled_from([None, None, NOW - 1, NOW, NOW + 1, NOW + D]),
    "question": st.integers(0, 1),
    "negative": st.integers(0, 1),
    "addressed": st.integers(0, 1),
}), max_size=30)


def insert(store, rows):
    store.conn.execute("DELETE FROM items")
    for i, r in enumerate(rows):
        store.conn.execute(
            "INSERT INTO items (feed, network, native_id, author, author_key, text, created_at, thread_id, ours,"
            " question, negative, addressed, answered_at, state, snoozed_until, first_seen, updated_at)"
            " VALUES ('f', 'jsonl', ?, 'a', 'a', 't', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (f"n{i}", NOW - r["age"], f"n{i}", r["ours"], r["question"], r["negative"], r["addressed"],
             r["answered"], r["state"], r["snoozed"], NOW, NOW))
    return {r["native_id"]: dict(r) for r in store.conn.execute(
        "SELECT id, native_id, ours, answered_at, state, created_at, snoozed_until, question, negative, addressed"
        " FROM items")}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=rows_strategy, unflagged=st.booleans(), max_age=st.sampled_from([D, 14 * D]),
       since=st.sampled_from([None, 3600, 30 * D]))
def test_inbox_sql_agrees_with_the_python_rules(store, rows, unflagged, max_age, since):
    stored = insert(store, rows)
    got = [i.native_id for i in store.inbox(NOW, max_age=max_age, include_unflagged=unflagged, since=since)]
    want = sorted((r for r in stored.values()
                   if waiting.is_waiting(r, NOW, max_age=max_age, include_unflagged=unflagged, since=since)),
                  key=lambda r: (-waiting.urgency_of(r, NOW), r["id"]))
    assert got == [r["native_id"] for r in want]
    summary = store.inbox_summary(NOW, max_age=max_age, include_unflagged=unflagged, since=since)
    assert summary["items"] == len(want)
    assert summary["negative"] == sum(r["negative"] for r in want)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=rows_strategy)
def test_stats_waiting_and_export_agree_with_the_python_rules(store, rows):
    stored = insert(store, rows)
    figures = store.stats(NOW, since=30 * D)
    terms = waiting.UNANSWERED_OPEN + waiting.FLAGGED
    in_period = [r for r in stored.values() if NOW - 30 * D <= r["created_at"] <= NOW]
    assert figures["overall"]["waiting"] == sum(waiting.holds(terms, r) for r in in_period)
    from listen.export import records

    exported = {e["native_id"]: e["waiting_seconds"] for e in records(store.iter_items(), now=NOW)}
    assert {k for k, v in exported.items() if v is not None} == \
        {k for k, r in stored.items() if waiting.holds(waiting.UNANSWERED_OPEN, r)}
