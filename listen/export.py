"""Items as plain records: the inbox --json objects and the export rows share one shape."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator

from listen.models import Item
from listen.text import CONTROLS, shown_controls
from listen.waiting import UNANSWERED_OPEN, holds

# Export columns, in order (CSV header). Documented in the README.
COLUMNS = ["id", "feed", "network", "native_id", "url", "author", "author_name", "text", "created_at",
           "in_reply_to", "thread_id", "title", "ours", "flags", "reasons", "question_score", "negative_score",
           "addressed_to_us", "state", "snoozed_until", "answered_at", "waiting_seconds", "assignee",
           "marked_question", "marked_negative"]


def iso(ts: datetime | int | None) -> str | None:
    if ts is None:
        return None
    if isinstance(ts, int):
        ts = datetime.fromtimestamp(ts, timezone.utc)
    return ts.isoformat(timespec="seconds")


def waiting_record(item: Item, now: int) -> dict[str, Any]:
    """One `listen inbox --json` object (keys fixed by the contract)."""
    return {
        "id": item.id,
        "feed": item.feed,
        "network": item.network,
        "url": item.url,
        "author": item.author,
        "author_name": item.author_name,
        "text": item.text,
        "created_at": iso(item.created_at),
        "waiting_seconds": max(0, now - int(item.created_at.timestamp())),
        "flags": item.flags,
        "reasons": item.reasons,
        "addressed_to_us": item.addressed,
        "thread_id": item.thread_id,
        "title": item.title,
        "state": item.state,
        "assignee": item.assignee,
    }


def records(rows: Iterable[dict[str, Any]], now: int | None = None,
            marks: dict[tuple[str, str], dict[str, Any]] | None = None) -> Iterator[dict[str, Any]]:
    """Stored rows (storage.iter_items) as export records; `marks` are the
    corrections (Store.corrections) by (feed, native_id)."""
    if now is None:  # a library caller without a clock; the Listener always passes its own
        now = int(datetime.now(timezone.utc).timestamp())
    marks = marks or {}
    for r in rows:
        flags = [n for n in ("question", "negative") if r["question" if n == "question" else "negative"]]
        waiting = None
        if holds(UNANSWERED_OPEN, r):
            waiting = max(0, now - r["created_at"])
        yield {
            "id": str(r["id"]),
            "feed": r["feed"],
            "network": r["network"],
            "native_id": r["native_id"],
            "url": r["url"],
            "author": r["author"],
            "author_name": r["author_name"],
            "text": r["text"],
            "created_at": iso(r["created_at"]),
            "in_reply_to": r["in_reply_to"],
            "thread_id": r["thread_id"],
            "title": r["title"],
            "ours": bool(r["ours"]),
            "flags": flags,
            "reasons": json.loads(r["reasons"] or "[]"),
            "question_score": r["question_score"],
            "negative_score": r["negative_score"],
            "addressed_to_us": bool(r["addressed"]),  # inbox urgency; `listen import` restores it
            "state": r["state"],
            "snoozed_until": iso(r["snoozed_until"]),
            "answered_at": iso(r["answered_at"]),
            "waiting_seconds": waiting,
            "assignee": r.get("assignee"),
            # `listen mark`: true/false as the user marked the flag, null when not marked.
            "marked_question": _marked(marks.get((r["feed"], r["native_id"])), "question"),
            "marked_negative": _marked(marks.get((r["feed"], r["native_id"])), "negative"),
        }


def _marked(mark: dict[str, Any] | None, flag: str) -> bool | None:
    return None if mark is None or mark.get(flag) is None else bool(mark[flag])


# CSV cells a stranger can write (or start): the post, who wrote it, where, and the
# network's ids for it (an RSS guid or a jsonl id is whatever the file says), and
# reasons, which quote the text. A spreadsheet runs such a cell as a formula when it
# starts with = + - @ (or a tab or CR before one), so those get a leading ' (OWASP's
# advice for CSV injection). Not in the set: what listen writes itself (row ids,
# config feed names, ISO dates, booleans, states) and numbers (scores, waiting
# seconds), which must stay numbers for a spreadsheet to sum and sort them.
STRANGER_COLUMNS = frozenset({"native_id", "url", "author", "author_name", "text", "in_reply_to", "thread_id",
                              "title", "reasons", "assignee"})
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def csv_cell(column: str, v: Any) -> Any:
    """One CSV cell: never a control character that drives a terminal (shown as
    `listen.text.inert` shows it), and no formula from a stranger."""
    v = csv_value(v)
    if not isinstance(v, str):
        return v
    if CONTROLS.search(v):  # rare: most texts skip the rewrite
        v = shown_controls(v)
    if v.startswith(_FORMULA_START) and column in STRANGER_COLUMNS and not _PLAIN_NUMBER.fullmatch(v):
        return "'" + v  # a plain number ("-12") is no formula, and stays a number
    return v


def csv_row(record: dict[str, Any]) -> list[Any]:
    """An export record as a CSV row, in COLUMNS order."""
    return [csv_cell(c, record[c]) for c in COLUMNS]


def csv_value(v: Any) -> Any:
    if isinstance(v, list):
        return "; ".join(str(x) for x in v)
    if isinstance(v, bool):
        return "true" if v else "false"
    return "" if v is None else v
