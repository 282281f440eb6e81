"""`listen import`: restore the records of `listen export --format jsonl`.

The file is read a line at a time and written a batch at a time, so a million
lines never sit in memory. Each record is restored as it was exported, not
re-derived: its flags and reasons, whether it is ours, its answer time, its
triage state, the user's corrections (`listen mark`) and, when that id is free, its id. (Recomputing would not be a
restore: an export taken with `--since` may lack the reply that answered a
mention, and detector thresholds may have changed since.)

What an export does not carry is not restored: the raw payload and the edit
history. Restored flags have no detector version, so `listen reflag` re-runs
the detectors on them if asked. A bad line (not JSON, a key missing or of the
wrong type) is reported with its line number and skipped; the others are stored.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import IO, Any, Callable, Iterator

from listen.errors import ListenError
from listen.lines import BadLine, bad_json
from listen.text import normalise_name

BATCH = 2000  # rows per transaction
FLAGS = ("question", "negative")
STATES = ("open", "done", "ignored")


@dataclass
class ImportResult:
    new: int = 0
    updated: int = 0
    skipped: int = 0


class BadRecord(BadLine):
    pass


def _text(rec: dict[str, Any], key: str, required: bool = False) -> str | None:
    value = rec.get(key)
    if value is None:
        if required:
            raise BadRecord(f"`{key}` is missing")
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise BadRecord(f"`{key}` must be a string")
    return str(value)


def _when(rec: dict[str, Any], key: str, required: bool = False) -> int | None:
    """ISO 8601 with an offset, or Unix seconds, as Unix seconds."""
    value = rec.get(key)
    if value is None:
        if required:
            raise BadRecord(f"`{key}` is missing")
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value.strip())
        except ValueError:
            raise BadRecord(f"`{key}` {value[:40]!r} is not ISO 8601") from None
        if dt.tzinfo is None:
            raise BadRecord(f"`{key}` {value[:40]!r} has no UTC offset")
        return int(dt.astimezone(timezone.utc).timestamp())
    raise BadRecord(f"`{key}` must be ISO 8601 or Unix seconds")


def _bool(rec: dict[str, Any], key: str) -> bool:
    value = rec.get(key, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise BadRecord(f"`{key}` must be true or false")
    return value


def _score(rec: dict[str, Any], key: str) -> float:
    value = rec.get(key)
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadRecord(f"`{key}` must be a number")
    return float(value)


def _strings(rec: dict[str, Any], key: str) -> list[str]:
    value = rec.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRecord(f"`{key}` must be a list of strings")
    return value


def row_from_record(rec: Any, now: int, feed: str | None = None) -> dict[str, Any]:
    """The storage row (SqliteStore.import_rows) for one export record. Raises BadRecord."""
    if not isinstance(rec, dict):
        raise BadRecord("not a JSON object")
    if "native_id" not in rec and "id" in rec:
        # A mention file for a jsonl feed, not an export: say where it belongs.
        raise BadRecord("`native_id` is missing: this looks like a jsonl feed's mention, not an export record"
                        " (add the file as a `type = \"jsonl\"` feed instead)")
    feed = feed or _text(rec, "feed")
    if not feed:
        raise BadRecord("`feed` is missing (or give --feed)")
    native_id = _text(rec, "native_id", required=True)
    author = _text(rec, "author", required=True)
    text = _text(rec, "text", required=True)
    created_at = _when(rec, "created_at", required=True)
    flags = _strings(rec, "flags")
    unknown = sorted(set(flags) - set(FLAGS))
    if unknown:
        raise BadRecord(f"unknown flag {unknown[0][:40]!r} (flags are {' and '.join(FLAGS)})")
    state = _text(rec, "state") or "open"
    if state not in STATES:
        raise BadRecord(f"`state` {state[:40]!r} is not one of {', '.join(STATES)}")
    ours = _bool(rec, "ours")
    in_reply_to = _text(rec, "in_reply_to")
    snoozed_until = _when(rec, "snoozed_until")
    internal = _text(rec, "id")
    return {
        "id": int(internal) if internal and internal.isdigit() and 0 < int(internal) < 2**63 else None,
        "feed": feed,
        "network": _text(rec, "network") or "jsonl",
        "native_id": native_id,
        "author": author,
        "author_name": _text(rec, "author_name"),
        "author_key": normalise_name(author),
        "text": text,
        "created_at": created_at,
        "url": _text(rec, "url"),
        "in_reply_to": in_reply_to,
        # An export always names the thread; a hand-made record falls back the way a pull guesses.
        "thread_id": _text(rec, "thread_id") or in_reply_to or native_id,
        "title": _text(rec, "title"),
        # Kept as a hint, like a token's "ours", so that the next pull's identity check
        # (which re-decides `ours` from names and hints) does not undo it.
        "ours_hint": 1 if ours else None,
        "ours": int(ours),
        "question": int("question" in flags),
        "negative": int("negative" in flags),
        "addressed": int(_bool(rec, "addressed_to_us")),
        "question_score": _score(rec, "question_score"),
        "negative_score": _score(rec, "negative_score"),
        "reasons": json.dumps(_strings(rec, "reasons"), ensure_ascii=False),
        "flags_version": None,
        "answered_at": _when(rec, "answered_at"),
        "state": state,
        "snoozed_until": snoozed_until,
        "triaged_at": now if state != "open" or snoozed_until is not None else None,
        "assignee": _assignee(rec),
        "first_seen": now,
        "updated_at": now,
    }


def _assignee(rec: dict[str, Any]) -> str | None:
    """The record's assignee, refused as `listen assign --to` refuses it (controls, invisible
    characters, no name, too long): it reaches teammates' terminals and exports."""
    from listen.text import team_name

    name = _text(rec, "assignee")
    if name is not None:
        try:
            team_name(name)
        except ValueError as e:
            raise BadRecord(f"`assignee` {name[:40]!r}: {e}") from None
    return name


def _marked(rec: dict[str, Any], key: str) -> int | None:
    value = rec.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise BadRecord(f"`{key}` must be true, false or null")
    return int(value)


def to_mark(rec: dict[str, Any], row: dict[str, Any], now: int) -> dict[str, Any] | None:
    """The correction (`listen mark`) an export record carries, for Store.save_marks; None if unmarked."""
    q, n = _marked(rec, "marked_question"), _marked(rec, "marked_negative")
    if q is None and n is None:
        return None
    return {"feed": row["feed"], "native_id": row["native_id"], "question": q, "negative": n, "marked_at": now}


def _lines(stream: IO[bytes]) -> Iterator[tuple[int, str | None]]:
    """(line number, text) for each non-blank line; text is None when it is not UTF-8."""
    for n, raw in enumerate(stream, 1):
        if n == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if not raw.strip():
            continue
        try:
            yield n, raw.decode("utf-8")
        except UnicodeDecodeError:
            yield n, None


def import_stream(store: Any, stream: IO[bytes], *, now: int, feed: str | None = None,
                  on_bad: Callable[[int, BadLine], None] | None = None, batch_size: int = BATCH) -> ImportResult:
    result = ImportResult()
    batch: list[dict[str, Any]] = []
    marks: list[dict[str, Any]] = []

    def flush() -> None:
        new, updated = store.import_rows(batch)
        if marks:  # after their items, so a reader never sees a mark without its item
            store.save_marks(marks)
        result.new += new
        result.updated += updated
        batch.clear()
        marks.clear()

    for n, line in _lines(stream):
        try:
            if line is None:
                raise BadRecord("not UTF-8")
            try:
                rec = json.loads(line.rstrip("\r\n"))  # worded as a jsonl feed words it (listen.lines)
            except json.JSONDecodeError as e:
                raise bad_json(e) from None
            except RecursionError:
                raise BadRecord("not valid JSON (nested too deeply)") from None
            row = row_from_record(rec, now, feed)
            mark = to_mark(rec, row, now)
            batch.append(row)
            if mark is not None:
                marks.append(mark)
        except BadLine as e:
            result.skipped += 1
            if on_bad:
                on_bad(n, e)
            continue
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    return result


def import_file(store: Any, path: str, *, now: int, feed: str | None = None,
                on_bad: Callable[[int, BadLine], None] | None = None) -> ImportResult:
    """Import a jsonl export from `path` ("-" is standard input)."""
    if path == "-":
        return import_stream(store, sys.stdin.buffer, now=now, feed=feed, on_bad=on_bad)
    try:
        f = open(path, "rb")
    except OSError as e:
        raise ListenError(f"{path}: cannot read: {e.strerror or e}") from None
    with f:
        return import_stream(store, f, now=now, feed=feed, on_bad=on_bad)
