"""`listen stats`: every figure against hand-computed values, and against brute force."""

from __future__ import annotations

import random
import statistics
from datetime import date, datetime, timedelta, timezone

import pytest
from rich.console import Console

from listen import stats_view
from listen.flags import FlagSettings
from listen.models import RawItem
from listen.rows import to_row
from listen.storage import open_store
from listen.storage.stats import compute
from listen.waiting import Identity, answered_times

UTC = timezone.utc
H = 3600
D = 86400
NOW = int(datetime(2025, 1, 8, 12, 0, tzinfo=UTC).timestamp())  # a Wednesday, ISO 2025-W02
SINCE = 21 * D  # from Wednesday 2024-12-18 12:00 (2024-W51)
IDENTITY = Identity(["acme"])

QUESTION = "How do I reset my password?"
NEGATIVE = "This update is awful, everything is broken."
PLAIN = "Nice post, thanks for sharing."
OURS = "Thanks for asking, here is how."
EVIL = "[bold]mallory\x1b[31m"


def ts(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> int:
    return int(datetime(y, mo, d, h, mi, tzinfo=UTC).timestamp())


def raw(nid: str, author: str, text: str, at: int, reply_to: str | None = None) -> RawItem:
    return RawItem(native_id=nid, author=author, text=text, created_at=datetime.fromtimestamp(at, UTC),
                   in_reply_to=reply_to)


def save(store, feed: str, items: list[RawItem]) -> None:
    rows = [to_row(i, IDENTITY, FlagSettings(), NOW) for i in items]
    store.save_batch(feed, "jsonl", rows, None, answered_times, NOW)


def ids(store, feed: str) -> dict[str, int]:
    return {r[0]: r[1] for r in store.conn.execute("SELECT native_id, id FROM items WHERE feed = ?", (feed,))}


# `store` (conftest) runs each test on SQLite and on PostgreSQL.


@pytest.fixture
def history(store):
    """Two feeds with known response times (see the expected values in the tests)."""
    blog = [
        raw("u1", "ursula", PLAIN, NOW - SINCE),  # exactly at the start of the period: counted
        raw("q1", "alice", QUESTION, ts(2024, 12, 19, 10)),
        raw("r1", "acme", OURS, ts(2024, 12, 19, 10, 30), "q1"),  # 30 min
        raw("s1", EVIL, QUESTION, ts(2024, 12, 20, 9)),  # snoozed: still waiting for the stats
        raw("q2", "bob", QUESTION, ts(2024, 12, 24, 10)),
        raw("r2", "acme", OURS, ts(2024, 12, 24, 12), "q2"),  # 2 h
        raw("d1", "dave", QUESTION, ts(2024, 12, 27, 10)),  # marked done
        raw("i1", "ivan", QUESTION, ts(2024, 12, 28, 10)),  # ignored
        raw("q3", "carol", QUESTION, ts(2024, 12, 31, 10)),
        raw("r3", "acme", OURS, ts(2024, 12, 31, 15), "q3"),  # 5 h
        raw("q4", "dora", QUESTION, ts(2025, 1, 2, 10)),
        raw("r4", "acme", OURS, ts(2025, 1, 2, 20), "q4"),  # 10 h
        raw("n1", "frank", NEGATIVE, ts(2025, 1, 3, 8)),  # waiting
        raw("b1", "acme", "We just shipped v2!", ts(2025, 1, 5, 9)),  # broadcast
        raw("q5", "erin", QUESTION, ts(2025, 1, 6, 10)),
        raw("r5", "acme", OURS, ts(2025, 1, 7, 16), "q5"),  # 30 h
        # outside the period
        raw("old", "oscar", QUESTION, ts(2024, 12, 1)),
        raw("rold", "acme", OURS, ts(2024, 12, 20), "old"),  # a reply of the period to an older mention
        raw("bold", "acme", "An old announcement", ts(2024, 12, 2)),
        raw("future", "fred", QUESTION, NOW + 60),
    ]
    forum = [
        raw("f1", "gina", QUESTION, ts(2024, 12, 19)),
        raw("rf1", "acme", OURS, ts(2025, 1, 8), "f1"),  # 20 days: after it had left the inbox
        raw("f4", "hank", QUESTION, ts(2025, 1, 1, 10)),
        raw("f5", "hank", PLAIN, ts(2025, 1, 1, 11), "f4"),  # same person, later message
        raw("rf5", "acme", OURS, ts(2025, 1, 1, 13), "f5"),  # answers f5 (2 h) and f4 (3 h)
        raw("f3", "jane", PLAIN, ts(2025, 1, 4)),
        raw("f2", "kim", QUESTION, ts(2025, 1, 7, 12)),  # waiting
    ]
    save(store, "blog", blog)
    save(store, "forum", forum)
    b = ids(store, "blog")
    store.set_state([str(b["d1"])], "done", NOW)
    store.set_state([str(b["i1"])], "ignored", NOW)
    store.set_state([str(b["s1"])], "open", NOW, snoozed_until=NOW + 3 * D)

    # The fixture is only worth its hand-computed figures if the real rules saw it as intended.
    flags = {r[0]: (r[1], r[2]) for r in store.conn.execute("SELECT native_id, question, negative FROM items")}
    for nid in ("q1", "q2", "q3", "q4", "q5", "s1", "d1", "i1", "f1", "f2", "f4"):
        assert flags[nid][0] == 1, nid
    assert flags["n1"][1] == 1
    for nid in ("u1", "f3", "f5"):
        assert flags[nid] == (0, 0), nid
    for nid in ("r1", "r2", "r3", "r4", "r5", "b1", "rf1", "rf5"):
        assert flags[nid] == (0, 0), nid
    return store


def first_response(s: dict) -> dict | None:
    return s["first_response_seconds"]


def test_answered_at_comes_from_the_real_rules(history):
    got = {r[0]: r[1] - r[2] for r in history.conn.execute(
        "SELECT native_id, answered_at, created_at FROM items WHERE answered_at IS NOT NULL")}
    assert got == {"q1": 30 * 60, "q2": 2 * H, "q3": 5 * H, "q4": 10 * H, "q5": 30 * H, "old": 19 * D,
                   "f1": 20 * D, "f4": 3 * H, "f5": 2 * H}


def test_blog_figures(history):
    s = compute(history.conn, now=NOW, since=SINCE)
    assert s["since"] == "2024-12-18T12:00:00+00:00"
    assert s["until"] == "2025-01-08T12:00:00+00:00"
    blog = s["feeds"]["blog"]
    assert blog == {
        "mentions": 10,  # q1-q5, u1, s1, d1, i1, n1 (not old, not future)
        "flagged": 9,
        "answered": 5,
        "waiting": 2,  # n1 and the snoozed s1; not d1 (done) nor i1 (ignored)
        "first_response_seconds": {"median": 5 * H, "p90": 30 * H},
        "response_buckets": {"<1h": 1, "1-4h": 1, "4-8h": 1, "8-24h": 1, ">24h": 1},
        "our_posts": {"broadcasts": 1, "replies": 6},  # r1-r5 and rold
        "answered_within_target": 0.8,
        "reply_within_seconds": 86400,
        "answered_late": 0,
        "oldest_waiting": {"id": str(ids(history, "blog")["s1"]), "author": EVIL, "feed": "blog",
                           "waiting_seconds": NOW - ts(2024, 12, 20, 9)},
        "talk_listen_ratio": round(1 / 6, 4),
    }


def test_forum_figures(history):
    forum = compute(history.conn, now=NOW, since=SINCE)["feeds"]["forum"]
    assert forum == {
        "mentions": 5,
        "flagged": 3,
        "answered": 3,  # f1, f4 (through hank's later f5), f5
        "waiting": 1,
        "first_response_seconds": {"median": 3 * H, "p90": 20 * D},
        "response_buckets": {"<1h": 0, "1-4h": 2, "4-8h": 0, "8-24h": 0, ">24h": 1},
        "our_posts": {"broadcasts": 0, "replies": 2},
        "answered_within_target": 0.6667,
        "reply_within_seconds": 86400,
        "answered_late": 1,  # f1, answered 20 days on: after 14 days out of the inbox
        "oldest_waiting": {"id": str(ids(history, "forum")["f2"]), "author": "kim", "feed": "forum",
                           "waiting_seconds": D},
        "talk_listen_ratio": 0.0,  # replies, no broadcasts
    }


def test_overall_figures(history):
    s = compute(history.conn, now=NOW, since=SINCE)
    o = s["overall"]
    # response times: 30m 2h 2h 3h 5h 10h 30h 20d
    assert o["mentions"] == 15 and o["flagged"] == 12 and o["answered"] == 8 and o["waiting"] == 3
    assert first_response(o) == {"median": 4 * H, "p90": 20 * D}  # (3h + 5h) / 2; rank ceil(7.2) = 8
    assert o["response_buckets"] == {"<1h": 1, "1-4h": 3, "4-8h": 1, "8-24h": 1, ">24h": 2}
    assert o["our_posts"] == {"broadcasts": 1, "replies": 8}
    assert o["answered_within_target"] == 0.75
    assert o["answered_late"] == 1
    assert o["talk_listen_ratio"] == 0.125
    assert o["oldest_waiting"]["author"] == EVIL
    assert list(s["feeds"]) == ["blog", "forum"]
    assert s["reply_within_seconds"] == 86400 and s["max_age_seconds"] == 14 * D


def test_weeks_across_the_year_boundary(history):
    weeks = compute(history.conn, now=NOW, since=SINCE)["weeks"]
    assert weeks == [
        {"week": "2024-W51", "mentions": 4, "answered": 2, "median_first_response_seconds": (30 * 60 + 20 * D) // 2,
         "answered_within_target": 0.5},
        {"week": "2024-W52", "mentions": 3, "answered": 1, "median_first_response_seconds": 2 * H,
         "answered_within_target": 1.0},
        # Tuesday 2024-12-31 belongs to ISO week 1 of 2025; 2h 3h 5h 10h -> (3h + 5h) / 2
        {"week": "2025-W01", "mentions": 6, "answered": 4, "median_first_response_seconds": 4 * H,
         "answered_within_target": 1.0},
        {"week": "2025-W02", "mentions": 2, "answered": 1, "median_first_response_seconds": 30 * H,
         "answered_within_target": 0.0},
    ]


def test_feed_filter(history):
    s = compute(history.conn, now=NOW, since=SINCE, feeds=["forum", "nosuch"])
    assert list(s["feeds"]) == ["forum", "nosuch"]
    forum = compute(history.conn, now=NOW, since=SINCE)["feeds"]["forum"]
    assert s["feeds"]["forum"] == forum
    assert s["overall"] == forum  # only forum has anything
    empty = s["feeds"]["nosuch"]
    assert empty["mentions"] == 0 and empty["first_response_seconds"] is None and empty["oldest_waiting"] is None
    assert s["weeks"] == [
        {"week": "2024-W51", "mentions": 1, "answered": 1, "median_first_response_seconds": 20 * D,
         "answered_within_target": 0.0},
        {"week": "2024-W52", "mentions": 0, "answered": 0, "median_first_response_seconds": None,
         "answered_within_target": None},
        {"week": "2025-W01", "mentions": 3, "answered": 2, "median_first_response_seconds": round(2.5 * H),
         "answered_within_target": 1.0},
        {"week": "2025-W02", "mentions": 1, "answered": 0, "median_first_response_seconds": None,
         "answered_within_target": None},
    ]


def test_reply_within_and_max_age_are_parameters(history):
    o = compute(history.conn, now=NOW, since=SINCE, reply_within=2 * H, max_age=D)["overall"]
    assert o["answered_within_target"] == 0.375  # 30m, 2h, 2h (2 h itself is within)
    assert o["reply_within_seconds"] == 2 * H
    assert o["answered_late"] == 2  # 30 h and 20 d


def test_each_feed_is_held_to_its_own_reply_target(history):
    s = compute(history.conn, now=NOW, since=SINCE, reply_targets={"blog": 4 * H, "forum": D})
    blog, forum = s["feeds"]["blog"], s["feeds"]["forum"]
    assert (blog["reply_within_seconds"], blog["answered_within_target"]) == (4 * H, 0.4)  # 30m 2h | 5h 10h 30h
    assert (forum["reply_within_seconds"], forum["answered_within_target"]) == (D, round(2 / 3, 4))  # 2h 3h | 20d
    assert s["overall"]["answered_within_target"] == 0.5  # 4 of 8, each against its own feed's target
    assert [w["answered_within_target"] for w in s["weeks"]] == [0.5, 1.0, 0.5, 0.0]
    # a target equal to the default changes nothing
    same = compute(history.conn, now=NOW, since=SINCE, reply_targets={"blog": D, "forum": D})
    assert same == compute(history.conn, now=NOW, since=SINCE)


def test_short_period(history):
    s = compute(history.conn, now=NOW, since=2 * D)  # from 2025-01-06 12:00: f2 only (q5 is 10:00)
    assert s["overall"]["mentions"] == 1 and s["overall"]["answered"] == 0
    assert s["overall"]["our_posts"] == {"broadcasts": 0, "replies": 2}  # r5 and rf1
    assert s["overall"]["talk_listen_ratio"] == 0.0
    assert [w["week"] for w in s["weeks"]] == ["2025-W02"]


def test_empty_database(store):
    s = compute(store.conn, now=NOW, since=30 * D)
    zero = {
        "mentions": 0, "flagged": 0, "answered": 0, "waiting": 0, "first_response_seconds": None,
        "response_buckets": {"<1h": 0, "1-4h": 0, "4-8h": 0, "8-24h": 0, ">24h": 0},
        "our_posts": {"broadcasts": 0, "replies": 0}, "answered_within_target": None,
        "reply_within_seconds": 86400, "answered_late": 0, "oldest_waiting": None, "talk_listen_ratio": None,
    }
    assert s["overall"] == zero
    assert s["feeds"] == {}
    # from Monday 2024-12-09 12:00 to Wednesday 2025-01-08
    assert [w["week"] for w in s["weeks"]] == ["2024-W50", "2024-W51", "2024-W52", "2025-W01", "2025-W02"]
    assert all(w["mentions"] == 0 and w["median_first_response_seconds"] is None for w in s["weeks"])
    assert compute(store.conn, now=NOW, since=30 * D, feeds=["blog"])["feeds"] == {"blog": zero}


def test_iso_week_53(store):
    now = ts(2021, 1, 6, 12)
    assert [w["week"] for w in compute(store.conn, now=now, since=14 * D)["weeks"]] == \
        ["2020-W52", "2020-W53", "2021-W01"]


def test_negative_since_is_refused(store):
    with pytest.raises(ValueError):
        compute(store.conn, now=NOW, since=-1)


def test_queries_use_the_created_index(history):
    if history.dialect.name != "sqlite":
        pytest.skip("SQLite's query planner; PostgreSQL plans by its own statistics")
    seen: list[str] = []
    history.conn.set_trace_callback(seen.append)
    try:
        compute(history.conn, now=NOW, since=SINCE)
        compute(history.conn, now=NOW, since=SINCE, feeds=["blog"])
    finally:
        history.conn.set_trace_callback(None)
    selects = [q for q in seen if "FROM items" in q]
    assert len(selects) >= 8
    for q in selects:
        plan = " | ".join(r[3] for r in history.conn.execute("EXPLAIN QUERY PLAN " + q))
        # items_unanswered is items_created cut to the open, unanswered mentions (the
        # waiting predicate's own terms): just as ordered, and smaller.
        assert "USING INDEX items_created" in plan or "USING INDEX items_unanswered" in plan, (q, plan)


# -- rendering ---------------------------------------------------------------


def text_of(renderable) -> str:
    console = Console(record=True, width=100, color_system=None)
    console.print(renderable)
    return console.export_text()


def test_render_report(history):
    out = text_of(stats_view.render(compute(history.conn, now=NOW, since=SINCE)))
    flat = " ".join(out.split())
    assert "2024-12-18 → 2025-01-08" in flat
    assert "15 mentions, 12 flagged, 8 answered, 3 waiting" in flat
    assert "median 4h, p90 2w" in flat  # 20 days humanised
    assert "75% within 1d" in flat
    # the stranger's name arrives as plain, inert text: markup not applied, escape shown
    assert "[bold]mallory^[[31m" in out
    assert "\x1b" not in out
    for word in ("blog", "forum", "all feeds", "<1h", "1-4h", ">24h", "2024-W51", "2025-W02", "0.2:1"):
        assert word in out, word
    assert any(ch in out for ch in stats_view.SPARKS)
    blog_line = next(line for line in out.splitlines() if line.lstrip().startswith("blog"))
    assert blog_line.split()[1:9] == ["10", "9", "5", "2", "5h", "1d", "6h", "80%"]


def test_render_empty(store):
    out = text_of(stats_view.render(compute(store.conn, now=NOW, since=7 * D)))
    assert "0 mentions" in out and "Oldest waiting" not in out


def test_render_markup_in_feed_name(store):
    s = compute(store.conn, now=NOW, since=7 * D, feeds=["[red]x"])
    assert "[red]x" in text_of(stats_view.render(s))


def test_sparkline():
    assert stats_view.sparkline([0, 4, 8, None]) == "▁▅█ "
    assert stats_view.sparkline([0, 0]) == "▁▁"
    assert stats_view.sparkline([]) == ""


# -- a generated history, checked by brute force --------------------------------


def brute(rows: list[dict], *, now: int, since: int, feeds: list[str] | None, reply_within: int,
          max_age: int) -> dict:
    """The definitions, written the slow and obvious way."""
    start = now - since
    period = [r for r in rows if start <= r["created_at"] <= now and (not feeds or r["feed"] in feeds)]

    def block(items: list[dict]) -> dict:
        mentions = [r for r in items if not r["ours"]]
        answered = [r for r in mentions if r["answered_at"] is not None]
        times = sorted(max(0, r["answered_at"] - r["created_at"]) for r in answered)
        waiting = sorted((r for r in mentions if (r["question"] or r["negative"]) and r["answered_at"] is None
                          and r["state"] not in ("done", "ignored")), key=lambda r: (r["created_at"], r["id"]))
        ours = [r for r in items if r["ours"]]
        broadcasts = sum(1 for r in ours if r["in_reply_to"] is None)
        replies = len(ours) - broadcasts
        edges = [0, H, 4 * H, 8 * H, 24 * H, float("inf")]
        names = ["<1h", "1-4h", "4-8h", "8-24h", ">24h"]
        return {
            "mentions": len(mentions),
            "flagged": sum(1 for r in mentions if r["question"] or r["negative"]),
            "answered": len(answered),
            "waiting": len(waiting),
            "first_response_seconds": None if not times else {
                "median": round(statistics.median(times)), "p90": times[-(-9 * len(times) // 10) - 1]},
            "response_buckets": {n: sum(1 for t in times if lo <= t < hi)
                                 for n, lo, hi in zip(names, edges, edges[1:], strict=False)},
            "our_posts": {"broadcasts": broadcasts, "replies": replies},
            "answered_within_target": round(sum(t <= reply_within for t in times) / len(times), 4) if times else None,
            "reply_within_seconds": reply_within,
            "answered_late": sum(t > max_age for t in times),
            "oldest_waiting": None if not waiting else {
                "id": str(waiting[0]["id"]), "author": waiting[0]["author"], "feed": waiting[0]["feed"],
                "waiting_seconds": now - waiting[0]["created_at"]},
            "talk_listen_ratio": round(broadcasts / replies, 4) if replies else None,
        }

    def label(t: int | date) -> str:
        y, w, _ = (datetime.fromtimestamp(t, UTC) if isinstance(t, int) else t).isocalendar()
        return f"{y}-W{w:02d}"

    labels, day, last = [], datetime.fromtimestamp(start, UTC).date(), datetime.fromtimestamp(now, UTC).date()
    while day <= last:
        if label(day) not in labels:
            labels.append(label(day))
        day += timedelta(days=1)
    by_week: dict[str, list[dict]] = {lab: [] for lab in labels}
    for r in period:
        if not r["ours"]:
            by_week[label(r["created_at"])].append(r)
    weeks = []
    for lab, ms in by_week.items():
        times = [max(0, r["answered_at"] - r["created_at"]) for r in ms if r["answered_at"] is not None]
        weeks.append({"week": lab, "mentions": len(ms), "answered": len(times),
                      "median_first_response_seconds": round(statistics.median(times)) if times else None,
                      "answered_within_target": round(sum(t <= reply_within for t in times) / len(times), 4)
                      if times else None})
    names = sorted({r["feed"] for r in period} | set(feeds or ()))
    return {"overall": block(period), "feeds": {n: block([r for r in period if r["feed"] == n]) for n in names},
            "weeks": weeks}


def generate(conn, n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    feeds = ["blog", "forum", "fediverse"]
    start = NOW - 400 * D
    rows = []
    # Pulls store items roughly in the order they were posted.
    for i, created in enumerate(sorted(rng.randrange(start, NOW + D) for _ in range(n))):
        ours = rng.random() < 0.2
        answered = None
        if not ours and rng.random() < 0.6:
            answered = created + int(rng.expovariate(1 / (6 * H))) if rng.random() < 0.9 \
                else created + rng.randrange(20 * D)
        rows.append((rng.choice(feeds), "jsonl", f"n{i}", f"user{rng.randrange(5000)}", f"user{i % 5000}", "…",
                     created, f"t{i}", int(ours), int(not ours and rng.random() < 0.4),
                     int(not ours and rng.random() < 0.15), answered,
                     rng.choice(["open"] * 8 + ["done", "ignored"]),
                     f"n{rng.randrange(n)}" if ours and rng.random() < 0.7 else None, NOW, NOW))
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO items (feed, network, native_id, author, author_key, text, created_at, thread_id, ours,"
        " question, negative, answered_at, state, in_reply_to, first_seen, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.execute("COMMIT")


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    store = open_store(tmp_path_factory.mktemp("gen") / "gen.db")
    generate(store.conn, 100_000)
    rows = [dict(r) for r in store.conn.execute(
        "SELECT id, feed, author, created_at, ours, question, negative, answered_at, state, in_reply_to FROM items")]
    yield store, rows
    store.close()


@pytest.mark.parametrize("since, feeds, reply_within, max_age", [
    (90 * D, None, 86400, 14 * D),
    (365 * D, ["forum", "fediverse"], 4 * H, 7 * D),
    (3 * D, ["blog"], 86400, 14 * D),
])
def test_generated_history_matches_brute_force(generated, since, feeds, reply_within, max_age):
    store, rows = generated
    # Speed is measured in benchmarks/, not asserted here.
    got = compute(store.conn, now=NOW, since=since, feeds=feeds, reply_within=reply_within, max_age=max_age)
    want = brute(rows, now=NOW, since=since, feeds=feeds, reply_within=reply_within, max_age=max_age)
    assert got["overall"] == want["overall"]
    assert got["feeds"] == want["feeds"]
    assert got["weeks"] == want["weeks"]
    assert text_of(stats_view.render(got))
