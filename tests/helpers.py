"""Small builders shared by the tests."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from listen.flags import FlagSettings
from listen.models import RawItem
from listen.rows import to_row
from listen.waiting import Identity, answered_times

T0 = 1_770_000_000  # a fixed "now" for tests


def raw(nid, author, text, t, reply=None, thread=None, ours=None, url=None) -> RawItem:
    return RawItem(native_id=nid, author=author, text=text,
                   created_at=datetime.fromtimestamp(t, timezone.utc), in_reply_to=reply,
                   thread_id=thread, ours=ours, url=url)


def save(store, feed, items, names=("acme",), now=T0, state=None):
    rows = [to_row(i, Identity(names), FlagSettings(), now) for i in items]
    return store.save_batch(feed, "jsonl", rows, state, answered_times, now)


def write_config(path: Path, feeds: list[dict], names=("acme",), extra: str = "") -> Path:
    lines = [f"[identity]\nnames = {json.dumps(list(names))}\n", extra]
    for f in feeds:
        lines.append("[[feeds]]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in f.items()]
        lines.append("")
    path.write_text("\n".join(lines))
    return path


def jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path
