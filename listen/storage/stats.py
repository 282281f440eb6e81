"""The figures of `listen stats`, computed by SQLite (storage is where SQL lives).

`compute()` answers with the object `listen stats --json` prints (CONTRACT.md,
"`listen stats --json`"); `listen.stats.render()` turns it into a terminal report.

Every figure is an SQL aggregate over the period's rows, found through the
`items_created` index: counts and response-time buckets are `SUM(CASE ...)`
per feed, and medians and 90th percentiles are picked with window functions,
so Python only ever sees a few rows per feed and per week, however long the
history.

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
- weeks are ISO weeks (Monday to Sunday) of `created_at` in UTC.
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta, timezone
from typing import Any

DEFAULT_MAX_AGE = 14 * 86400
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
_RT = "max(answered_at - created_at, 0)"  # response time of an answered mention
_FLAGGED = "(question = 1 OR negative = 1)"
_WAITING = f"(ours = 0 AND {_FLAGGED} AND answered_at IS NULL AND state NOT IN ('done', 'ignored'))"


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat()


def _week_key(ts: int) -> int:
    """Same as the SQL `(created_at + _WEEK_SHIFT) / WEEK` for non-negative times."""
    return (ts + _WEEK_SHIFT) // WEEK


def _week_label(key: int) -> str:
    monday = date(1970, 1, 1) + timedelta(seconds=key * WEEK - _WEEK_SHIFT)
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def _bucket_sql() -> str:
    parts = []
    for i, (_, lo, hi) in enumerate(BUCKETS):
        cond = ["ours = 0", "answered_at IS NOT NULL"]
        if lo is not None:
            cond.append(f"{_RT} >= {lo}")
        if hi is not None:
            cond.append(f"{_RT} < {hi}")
        parts.append(f"SUM(CASE WHEN {' AND '.join(cond)} THEN 1 ELSE 0 END) AS b{i}")
    return ", ".join(parts)


class _Period:
    """The WHERE clause shared by every query: the period (by index) and the feeds."""

    def __init__(self, now: int, since: int, feeds: list[str] | None):
        self.start, self.end = now - since, now
        # `+feed` keeps the planner on items_created rather than the (feed, native_id) index.
        self.sql = "created_at BETWEEN ? AND ?"
        self.params: list[Any] = [self.start, self.end]
        if feeds:
            self.sql += f" AND +feed IN ({','.join('?' * len(feeds))})"
            self.params += list(feeds)


def _pick(n: int, at: dict[int, int]) -> dict[str, int]:
    median = at[(n + 1) // 2] if n % 2 else round((at[n // 2] + at[n // 2 + 1]) / 2)
    return {"median": median, "p90": at[(9 * n + 9) // 10]}


def _percentiles(conn: sqlite3.Connection, period: _Period) -> dict[tuple[str, Any], dict[str, int]]:
    """Median and p90 of the response times over the period's answered mentions:
    {("all", None): ..., ("feed", name): ..., ("week", key): ...}.

    One scan; window functions rank the times overall, within each feed and
    within each week, and only the ranks the median and the nearest-rank p90
    need leave SQLite.
    """
    def ranks(part: str) -> str:
        return (f"ROW_NUMBER() OVER (PARTITION BY {part} ORDER BY t) AS rn_{part},"
                f" COUNT(*) OVER (PARTITION BY {part}) AS n_{part}")

    def wanted(part: str) -> str:
        rn, n = f"rn_{part}", f"n_{part}"
        return f"{rn} IN (({n} + 1) / 2, {n} / 2 + 1, (9 * {n} + 9) / 10)"

    sql = f"""
        WITH times AS (
            SELECT feed, (created_at + {_WEEK_SHIFT}) / {WEEK} AS week, 0 AS everything, {_RT} AS t
            FROM items
            WHERE {period.sql} AND ours = 0 AND answered_at IS NOT NULL
        ), ranked AS (
            SELECT feed, week, t, {ranks("everything")}, {ranks("feed")}, {ranks("week")} FROM times
        )
        SELECT feed, week, t, rn_everything, n_everything, rn_feed, n_feed, rn_week, n_week FROM ranked
        WHERE {wanted("everything")} OR {wanted("feed")} OR {wanted("week")}
    """
    found: dict[tuple[str, Any], tuple[int, dict[int, int]]] = {}
    for feed, week, t, rn_all, n_all, rn_feed, n_feed, rn_week, n_week in conn.execute(sql, period.params):
        for key, rn, n in ((("all", None), rn_all, n_all), (("feed", feed), rn_feed, n_feed),
                           (("week", week), rn_week, n_week)):
            found.setdefault(key, (n, {}))[1][rn] = t
    return {key: _pick(n, at) for key, (n, at) in found.items()}


def _oldest_waiting(conn: sqlite3.Connection, period: _Period, now: int) -> dict[str, dict[str, Any]]:
    sql = f"""
        WITH w AS (
            SELECT feed, id, author, created_at,
                   ROW_NUMBER() OVER (PARTITION BY feed ORDER BY created_at, id) AS rn
            FROM items WHERE {period.sql} AND {_WAITING}
        )
        SELECT feed, id, author, created_at FROM w WHERE rn = 1
    """
    return {r[0]: {"id": str(r[1]), "author": r[2], "feed": r[0], "waiting_seconds": max(0, now - r[3]),
                   "_key": (r[3], r[1])}
            for r in conn.execute(sql, period.params)}


_COUNT_KEYS = ("mentions", "flagged", "answered", "waiting", "within", "late",
               "b0", "b1", "b2", "b3", "b4", "broadcasts", "replies")


def _counts(conn: sqlite3.Connection, period: _Period, reply_within: int, max_age: int) -> dict[str, dict[str, int]]:
    sql = f"""
        SELECT feed,
            SUM(ours = 0) AS mentions,
            SUM(ours = 0 AND {_FLAGGED}) AS flagged,
            SUM(ours = 0 AND answered_at IS NOT NULL) AS answered,
            SUM(CASE WHEN {_WAITING} THEN 1 ELSE 0 END) AS waiting,
            SUM(CASE WHEN ours = 0 AND answered_at IS NOT NULL AND {_RT} <= ? THEN 1 ELSE 0 END) AS within,
            SUM(CASE WHEN ours = 0 AND answered_at IS NOT NULL AND {_RT} > ? THEN 1 ELSE 0 END) AS late,
            {_bucket_sql()},
            SUM(ours = 1 AND in_reply_to IS NULL) AS broadcasts,
            SUM(ours = 1 AND in_reply_to IS NOT NULL) AS replies
        FROM items
        WHERE {period.sql}
        GROUP BY feed
    """
    return {r[0]: {k: int(v or 0) for k, v in zip(_COUNT_KEYS, r[1:])}
            for r in conn.execute(sql, [reply_within, max_age, *period.params])}


def _block(c: dict[str, int], pct: dict[str, Any] | None, oldest: dict[str, Any] | None,
           reply_within: int) -> dict[str, Any]:
    answered = c["answered"]
    return {
        "mentions": c["mentions"],
        "flagged": c["flagged"],
        "answered": answered,
        "waiting": c["waiting"],
        "first_response_seconds": None if not pct else {"median": pct["median"], "p90": pct["p90"]},
        "response_buckets": {name: c[f"b{i}"] for i, (name, _, _) in enumerate(BUCKETS)},
        "our_posts": {"broadcasts": c["broadcasts"], "replies": c["replies"]},
        "answered_within_target": round(c["within"] / answered, 4) if answered else None,
        "reply_within_seconds": reply_within,
        "answered_late": c["late"],
        "oldest_waiting": None if oldest is None else {k: v for k, v in oldest.items() if not k.startswith("_")},
        "talk_listen_ratio": round(c["broadcasts"] / c["replies"], 4) if c["replies"] else None,
    }


def _weeks(conn: sqlite3.Connection, period: _Period, medians: dict[tuple[str, Any], dict[str, int]]
           ) -> list[dict[str, Any]]:
    wk = f"((created_at + {_WEEK_SHIFT}) / {WEEK})"
    rows = {r[0]: (int(r[1]), int(r[2] or 0)) for r in conn.execute(
        f"SELECT {wk}, COUNT(*), SUM(answered_at IS NOT NULL) FROM items"
        f" WHERE {period.sql} AND ours = 0 GROUP BY 1", period.params)}
    out = []
    for key in range(_week_key(period.start), _week_key(period.end) + 1):
        mentions, answered = rows.get(key, (0, 0))
        m = medians.get(("week", key))
        out.append({"week": _week_label(key), "mentions": mentions, "answered": answered,
                    "median_first_response_seconds": m["median"] if m else None})
    return out


def compute(conn: sqlite3.Connection, *, now: int, since: int, feeds: list[str] | None = None,
            reply_within: int = 86400, max_age: int = DEFAULT_MAX_AGE) -> dict[str, Any]:
    """The `listen stats --json` object for mentions created in `[now - since, now]`.

    `feeds` limits every figure to those feeds; each one named appears under
    "feeds" even when it has nothing in the period. Without it, "feeds" holds
    the feeds that have items in the period.
    """
    if since < 0:
        raise ValueError("since must be a number of seconds, 0 or more")
    period = _Period(now, since, feeds)
    counts = _counts(conn, period, reply_within, max_age)
    for name in feeds or ():
        counts.setdefault(name, dict.fromkeys(_COUNT_KEYS, 0))
    pct = _percentiles(conn, period)
    oldest = _oldest_waiting(conn, period, now)

    total = {k: sum(c[k] for c in counts.values()) for k in _COUNT_KEYS}
    first = min(oldest.values(), key=lambda o: o["_key"], default=None)
    return {
        "since": _iso(period.start),
        "until": _iso(period.end),
        "reply_within_seconds": reply_within,
        "max_age_seconds": max_age,
        "overall": _block(total, pct.get(("all", None)), first, reply_within),
        "feeds": {name: _block(counts[name], pct.get(("feed", name)), oldest.get(name), reply_within)
                  for name in sorted(counts)},
        "weeks": _weeks(conn, period, pct),
    }
