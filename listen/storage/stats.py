"""The figures of `listen stats`, computed by SQLite (storage is where SQL lives).

`compute()` answers with the object `listen stats --json` prints (CONTRACT.md,
"`listen stats --json`"); `listen.stats_view.render()` turns it into a terminal report.

Every query finds the period's rows through the `items_created` index, and
each reads them once at most:
- counts are SQL aggregates per feed and per week;
- response times (answered mentions only) come out of SQLite sorted, as bare
  numbers, and Python bisects them into buckets, targets, medians and 90th
  percentiles, overall, per feed and per week. Ranking them in SQL with window
  functions took six sorts and read every answered mention through a chain of
  co-routines: three times as long. The price is memory, one int per answered
  mention of the period (about 10 MB for 175,000);
- the oldest waiting mention of each feed is the first one met walking the
  index in (created_at, id) order, which stops as soon as every feed that has
  one has been seen.

Definitions (beyond the contract's):
- the period is `[now - since, now]`, both ends included;
- a response time is `answered_at - created_at` (never below 0);
- buckets are half-open: `<1h` is under 3600 s, `1-4h` is 3600 s up to (not
  including) 4 h, and so on; `>24h` starts at exactly 24 h;
- the median of an even count is the mean of the middle two, rounded to an
  int (Python's `round`); p90 is the nearest rank, ceil(0.9 n);
- `answered_within_target` is the share of answered mentions answered within
  `reply_within` seconds (included); `answered_late` counts those answered
  more than `max_age` seconds after they were posted, i.e. after they had
  dropped out of the inbox;
- weeks are ISO weeks (Monday to Sunday) of `created_at` in UTC;
- with `reply_targets` ({feed: seconds}, a feed's own `reply_within`), each
  mention is held to its feed's target: a feed's block says its target in
  `reply_within_seconds`, and the overall and weekly `answered_within_target`
  count each answer against its own feed's target.
"""

from __future__ import annotations

import sqlite3
from bisect import bisect_left, bisect_right
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from listen.waiting import DEFAULT_MAX_AGE, DEFAULT_REPLY_WITHIN, FLAGGED, UNANSWERED_OPEN, to_sql

if TYPE_CHECKING:
    from listen.storage.sqlite import Dialect

BUCKETS: tuple[tuple[str, int | None, int | None], ...] = (
    ("<1h", None, 3600),
    ("1-4h", 3600, 4 * 3600),
    ("4-8h", 4 * 3600, 8 * 3600),
    ("8-24h", 8 * 3600, 24 * 3600),
    (">24h", 24 * 3600, None),
)
WEEK = 7 * 86400
# 1970-01-01 was a Thursday: shifting by 3 days makes integer weeks start on Mondays.
_WEEK_SHIFT = 3 * 86400
_FLAGGED = to_sql(FLAGGED)[0]
# listen.waiting's terms, without the inbox's window or snoozes: the contract's
# stats `waiting` counts what is still unanswered and open, hidden or not.
_WAITING = "(" + to_sql(UNANSWERED_OPEN + FLAGGED)[0] + ")"


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat()


def _week_key(ts: int) -> int:
    """Same as the SQL `(created_at + _WEEK_SHIFT) / WEEK` for non-negative times."""
    return (ts + _WEEK_SHIFT) // WEEK


def _week_label(key: int) -> str:
    monday = date(1970, 1, 1) + timedelta(seconds=key * WEEK - _WEEK_SHIFT)
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


class _Period:
    """The WHERE clause shared by every query: the period (by index) and the feeds."""

    def __init__(self, now: int, since: int, feeds: list[str] | None, dialect: Dialect):
        self.d = dialect
        self.start, self.end = now - since, now
        # `+feed` keeps SQLite's planner on items_created rather than the (feed, native_id) index.
        self.feed_sql = f" AND {dialect.unindexed}feed IN ({','.join('?' * len(feeds))})" if feeds else ""
        self.feed_params: list[Any] = list(feeds or ())
        self.sql = "created_at BETWEEN ? AND ?" + self.feed_sql
        self.params: list[Any] = [self.start, self.end, *self.feed_params]


def _pick(ts: list[int]) -> dict[str, int]:
    """Median and nearest-rank p90 of sorted response times (ranks are 1-based, as ROW_NUMBER's)."""
    n = len(ts)
    median = ts[(n + 1) // 2 - 1] if n % 2 else round((ts[n // 2 - 1] + ts[n // 2]) / 2)
    return {"median": median, "p90": ts[(9 * n + 9) // 10 - 1]}


def _response_times(conn: sqlite3.Connection, period: _Period) -> dict[tuple[str, Any], list[int]]:
    """The period's response times, sorted, overall and per feed and per week:
    {("all", None): [...], ("feed", name): [...], ("week", key): [...]}.

    One scan, one sort (by t, so every list comes out sorted). Only answered
    mentions leave SQLite, as bare numbers: ranking them with window functions
    instead cost six sorts through chained co-routines, three times this.
    """
    sql = f"""
        SELECT feed, (created_at + {_WEEK_SHIFT}) / {WEEK}, {period.d.greatest}(answered_at - created_at, 0) AS t FROM items
        WHERE {period.sql} AND ours = 0 AND answered_at IS NOT NULL
        ORDER BY t
    """
    everything: list[int] = []
    by_feed: dict[str, list[int]] = defaultdict(list)
    by_week: dict[int, list[int]] = defaultdict(list)
    by_feed_week: dict[tuple[str, int], list[int]] = defaultdict(list)
    for feed, week, t in conn.execute(sql, period.params):
        everything.append(t)
        by_feed[feed].append(t)
        by_week[week].append(t)
        by_feed_week[(feed, week)].append(t)
    out: dict[tuple[str, Any], list[int]] = {("all", None): everything}
    out.update((("feed", k), v) for k, v in by_feed.items())
    out.update((("week", k), v) for k, v in by_week.items())
    out.update((("feed-week", k), v) for k, v in by_feed_week.items())  # for per-feed reply targets
    return out


def _within(times: dict[tuple[str, Any], list[int]], kind: str, key: Any, target: Any) -> int:
    """Answers within target: against one target, or each feed's answers against its own (`target(feed)`)."""
    if not callable(target):
        return bisect_right(times.get((kind, key), []), target)
    if kind == "all":
        return sum(bisect_right(ts, target(k)) for (kd, k), ts in times.items() if kd == "feed")
    return sum(bisect_right(ts, target(k[0])) for (kd, k), ts in times.items() if kd == "feed-week" and k[1] == key)


def _answers(ts: list[int], reply_within: int, max_age: int) -> dict[str, Any]:
    """What the sorted response times `ts` say: counts by bucket and against the targets, by bisection."""
    n = len(ts)
    below = [0 if lo is None else bisect_left(ts, lo) for _, lo, _ in BUCKETS] + [n]
    return {
        "answered": n,
        "buckets": {name: below[i + 1] - below[i] for i, (name, _, _) in enumerate(BUCKETS)},
        "within": bisect_right(ts, reply_within),  # t <= reply_within
        "late": n - bisect_right(ts, max_age),  # t > max_age
        "pct": _pick(ts) if n else None,
    }


def _oldest_waiting(conn: sqlite3.Connection, period: _Period, now: int, feeds: set[str]
                    ) -> dict[str, dict[str, Any]]:
    """The first waiting mention, by (created_at, id), of each of `feeds` (those with any waiting).

    The walk follows items_created, whose order is (created_at, rowid): nothing
    is sorted, and it stops as soon as every feed has its first, usually after
    a handful of rows, where ranking every waiting mention per feed read them all.
    At worst (one feed's only waiting mention comes last) it reads the period once.
    """
    if not feeds:
        return {}
    sql = f"SELECT feed, id, author, created_at FROM items WHERE {period.sql} AND {_WAITING} ORDER BY created_at, id"
    found: dict[str, dict[str, Any]] = {}
    cur = conn.execute(sql, period.params)
    for feed, rid, author, created_at in cur:
        if feed not in found:
            found[feed] = {"id": str(rid), "author": author, "feed": feed,
                           "waiting_seconds": max(0, now - created_at), "_key": (created_at, rid)}
            if len(found) == len(feeds):
                break
    cur.close()  # ends the walk left half-way
    return found


_COUNT_KEYS = ("mentions", "flagged", "waiting", "broadcasts", "replies")


def _counts(conn: sqlite3.Connection, period: _Period) -> dict[str, dict[str, int]]:
    """Per feed, the figures that need every row of the period (response times come from _response_times)."""
    def count(cond: str) -> str:
        # CASE WHEN stops at the first false term; a bare boolean evaluates them all (measured: ~10% of the query).
        return f"SUM(CASE WHEN {cond} THEN 1 ELSE 0 END)"

    sql = f"""
        SELECT feed,
            {count("ours = 0")} AS mentions,
            {count(f"ours = 0 AND {_FLAGGED}")} AS flagged,
            {count(_WAITING)} AS waiting,
            {count("ours = 1 AND in_reply_to IS NULL")} AS broadcasts,
            {count("ours = 1 AND in_reply_to IS NOT NULL")} AS replies
        FROM items
        WHERE {period.sql}
        GROUP BY feed
    """
    return {r[0]: {k: int(v or 0) for k, v in zip(_COUNT_KEYS, r[1:])}
            for r in conn.execute(sql, period.params)}


def _block(c: dict[str, int], times: list[int], oldest: dict[str, Any] | None,
           reply_within: int, max_age: int, within: int | None = None) -> dict[str, Any]:
    a = _answers(times, reply_within, max_age)
    answered = a["answered"]
    if within is not None:
        a["within"] = within
    return {
        "mentions": c["mentions"],
        "flagged": c["flagged"],
        "answered": answered,
        "waiting": c["waiting"],
        "first_response_seconds": a["pct"],
        "response_buckets": a["buckets"],
        "our_posts": {"broadcasts": c["broadcasts"], "replies": c["replies"]},
        "answered_within_target": round(a["within"] / answered, 4) if answered else None,
        "reply_within_seconds": reply_within,
        "answered_late": a["late"],
        "oldest_waiting": None if oldest is None else {k: v for k, v in oldest.items() if not k.startswith("_")},
        "talk_listen_ratio": round(c["broadcasts"] / c["replies"], 4) if c["replies"] else None,
    }


def _mentions_per_week(conn: sqlite3.Connection, period: _Period) -> dict[Any, int]:
    """Mentions per week key, the key being SQL's `(created_at + _WEEK_SHIFT) / WEEK`.

    One COUNT per week over that week's stretch of items_created: the index
    hands each week's rows over together, so nothing is sorted (GROUP BY on the
    week sorted the whole period first: about a third of the query's time).
    """
    wk = f"(created_at + {_WEEK_SHIFT}) / {WEEK}"
    if period.start < -_WEEK_SHIFT:
        # Before 1969-12-29 SQL's integer division truncates where a week's range floors: keep SQL's own keys.
        return {r[0]: int(r[1]) for r in conn.execute(
            f"SELECT {wk}, COUNT(*) FROM items WHERE {period.sql} AND ours = 0 GROUP BY 1", period.params)}
    # `{wk} = k` only drops what the range alone would let in: a created_at with a fraction, which has no week.
    sql = f"""
        WITH RECURSIVE weeks(k) AS (SELECT CAST(? AS BIGINT) UNION ALL SELECT k + 1 FROM weeks WHERE k < ?)
        SELECT k, (SELECT COUNT(*) FROM items
                   WHERE created_at BETWEEN {period.d.greatest}(?, k * {WEEK} - {_WEEK_SHIFT})
                   AND {period.d.least}(?, (k + 1) * {WEEK} - {_WEEK_SHIFT} - 1)
                   AND ours = 0 AND {wk} = k{period.feed_sql})
        FROM weeks
    """
    params = [_week_key(period.start), _week_key(period.end), period.start, period.end, *period.feed_params]
    return {int(k): int(n) for k, n in conn.execute(sql, params) if n}


def _weeks(conn: sqlite3.Connection, period: _Period, times: dict[tuple[str, Any], list[int]],
           target: Any = 86400) -> list[dict[str, Any]]:
    mentions = _mentions_per_week(conn, period)
    out = []
    for key in range(_week_key(period.start), _week_key(period.end) + 1):
        ts = times.get(("week", key), [])
        out.append({"week": _week_label(key), "mentions": mentions.get(key, 0), "answered": len(ts),
                    "median_first_response_seconds": _pick(ts)["median"] if ts else None,
                    "answered_within_target": round(_within(times, "week", key, target) / len(ts), 4) if ts else None})
    return out


def compute(conn: sqlite3.Connection, *, now: int, since: int, feeds: list[str] | None = None,
            reply_within: int = DEFAULT_REPLY_WITHIN, max_age: int = DEFAULT_MAX_AGE,
            dialect: Dialect | None = None, reply_targets: dict[str, int] | None = None) -> dict[str, Any]:
    """The `listen stats --json` object for mentions created in `[now - since, now]`.

    `feeds` limits every figure to those feeds; each one named appears under
    "feeds" even when it has nothing in the period. Without it, "feeds" holds
    the feeds that have items in the period.
    """
    if since < 0:
        raise ValueError("since must be a number of seconds, 0 or more")
    if dialect is None:
        from listen.storage.sqlite import SQLITE

        dialect = getattr(conn, "dialect", SQLITE)
    period = _Period(now, since, feeds, dialect)
    counts = _counts(conn, period)
    for name in feeds or ():
        counts.setdefault(name, dict.fromkeys(_COUNT_KEYS, 0))
    times = _response_times(conn, period)
    oldest = _oldest_waiting(conn, period, now, {name for name, c in counts.items() if c["waiting"]})

    total = {k: sum(c[k] for c in counts.values()) for k in _COUNT_KEYS}
    first = min(oldest.values(), key=lambda o: o["_key"], default=None)
    targets = {k: v for k, v in (reply_targets or {}).items() if v != reply_within}
    target: Any = (lambda feed: targets.get(feed, reply_within)) if targets else reply_within
    return {
        "since": _iso(period.start),
        "until": _iso(period.end),
        "reply_within_seconds": reply_within,
        "max_age_seconds": max_age,
        "overall": _block(total, times[("all", None)], first, reply_within, max_age,
                          within=_within(times, "all", None, target) if targets else None),
        "feeds": {name: _block(counts[name], times.get(("feed", name), []), oldest.get(name),
                               targets.get(name, reply_within), max_age)
                  for name in sorted(counts)},
        "weeks": _weeks(conn, period, times, target),
    }
