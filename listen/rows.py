"""From what a source returns to what storage keeps: one row per item.

Text columns always get text and items without an id are dropped, whatever a
source let through: the schema is not for strangers to decide.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from datetime import datetime
from typing import Any, Iterable, Iterator

from listen.flags import FLAGS_VERSION, FlagSettings, classify
from listen.lines import SeenIds
from listen.models import RawItem
from listen.text import normalise_name
from listen.waiting import Identity

MAX_RAW = 256 * 1024  # a raw payload beyond this is kept cut, with a marker


def to_row(item: RawItem, identity: Identity, flags: FlagSettings | None, now: int) -> dict[str, Any]:
    """What storage keeps for one item: its content, who wrote it, and its flags.

    With flags=None the flag columns are left for a Flagger to fill in.
    """
    # Text columns get text whatever a source let through (an id sent as a number,
    # a bool where a name should be).
    author = _text(item.author) or "unknown"
    author_name = _text(item.author_name)
    ours = identity.is_ours(item.ours is True, author, author_name)
    row: dict[str, Any] = {
        "native_id": _text(item.native_id),
        "author": author,
        "author_name": author_name,
        "author_key": normalise_name(author),
        "text": _text(item.text) or "",
        "created_at": int(item.created_at.timestamp()) if item.created_at else None,
        "url": _text(item.url),
        "in_reply_to": _text(item.in_reply_to),
        "thread_id": _text(item.thread_id),
        "title": _text(item.title),
        "ours_hint": {True: 1, False: 0}.get(item.ours) if isinstance(item.ours, bool) else None,
        "ours": int(ours),
        "raw": _raw(item.raw),
    }
    if flags is not None or ours:
        row.update(flag_columns(item.text, flags or FlagSettings(), ours))
    return {k: _storable(v) for k, v in row.items()}


@functools.lru_cache(maxsize=8)
def flags_version(settings: FlagSettings) -> str:
    """What produced an item's flags: the detectors' version and the user's thresholds
    and rules. When either changes, stored items are stale: `listen reflag` (or the
    next pull that sees them again) flags them anew."""
    return f"{FLAGS_VERSION}/{hashlib.sha1(repr(settings).encode()).hexdigest()[:8]}"


def flag_columns(text: str, flags: FlagSettings, ours: bool) -> dict[str, Any]:
    if ours:  # we never wait on ourselves
        return {"question": 0, "negative": 0, "addressed": 0, "question_score": 0.0, "negative_score": 0.0,
                "reasons": "[]", "flags_version": flags_version(flags)}
    v = classify(text, flags)
    return {"question": int(v.question), "negative": int(v.negative), "addressed": int(v.addressed_to_us),
            "question_score": round(v.question_score, 4), "negative_score": round(v.negative_score, 4),
            "reasons": json.dumps(v.reasons, ensure_ascii=False), "flags_version": flags_version(flags)}


_SURROGATE = re.compile("[\ud800-\udfff]")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return (value if isinstance(value, str) else str(value)) or None


def valid(items: Iterable[RawItem], warnings: list[str], *, once: bool = True) -> Iterator[RawItem]:
    """Items storage can keep: one without an id could never be told apart from the next,
    and an id given twice in one fetch is kept once, the first time.

    Two records with one id in one batch would both be planned as new; storage keeps
    one, and the next pull "updates" it to the other: the stored item flipped between
    them on every pull. The first is kept because a streamed source may already have
    handed it on (in an earlier batch) when the second arrives. `once=False` for a
    source that already gives each id once (Source.unique_ids), saying where the
    repeats were: the check would cost a second table of a streamed file's ids."""
    skipped = 0
    first: str | None = None
    seen: SeenIds | None = None  # made at the second item: a streamed pull checks items one at a time
    repeated: list[str] = []
    for item in items:
        key = _text(item.native_id)
        if key and (item.created_at is None or isinstance(item.created_at, datetime)):
            if once:
                if first is None:
                    first = key
                else:
                    if seen is None:
                        seen = SeenIds()
                        seen.add(first, 0)
                    if seen.add(key, 0) is not None:
                        repeated.append(key)
                        continue
            yield item
        else:
            skipped += 1
    if skipped:
        warnings.append(f"skipped {skipped} item{'s' if skipped != 1 else ''} without an id or a usable date")
    if repeated:
        named = ", ".join(repr(k[:40]) for k in repeated[:3]) + (", ..." if len(repeated) > 3 else "")
        warnings.append(f"skipped {len(repeated)} item{'s' if len(repeated) != 1 else ''} repeating an id given "
                        f"earlier in the same fetch ({named}); the first of each is kept")


def _storable(value: Any) -> Any:
    """JSON may carry lone surrogates ("\\ud800"), which UTF-8 cannot store: they become U+FFFD."""
    if isinstance(value, str) and _SURROGATE.search(value):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return value


def _raw(raw: Any) -> str | None:
    if raw is None:
        return None
    text = json.dumps(raw, ensure_ascii=False, default=str)
    return text if len(text) <= MAX_RAW else json.dumps({"truncated": True, "head": text[:MAX_RAW]})
