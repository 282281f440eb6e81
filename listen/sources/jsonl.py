"""One mention per line, from a local file or a URL: the simplest source.

Records: id, author, text, created_at (ISO 8601 with offset, or Unix seconds);
optional url, author_name, in_reply_to, thread_id. A bad line is reported
with its number and skipped; the other lines are stored.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, Iterable, Iterator

from listen.http import Http
from listen.lines import Repeats, SeenIds, located, not_json
from listen.models import Fetched, FetchState, RawItem
from listen.sources import Option, Source
from listen.sources import parse_time as shared_parse_time

REQUIRED = ("id", "author", "text", "created_at")
OPTIONAL_STR = ("url", "author_name", "in_reply_to", "thread_id", "title")
KNOWN = frozenset((*REQUIRED, *OPTIONAL_STR, "ours"))


class JsonlSource(Source):
    network = "jsonl"
    unique_ids = True  # parse_lines keeps the first line of each id and names the repeats
    options = {
        "path": Option(str, "a local .jsonl file, relative to the config file"),
        "url": Option(str, "or a URL serving one"),
    }

    @classmethod
    def check(cls, options: dict[str, Any]) -> list[str]:
        if bool(options.get("url")) == bool(options.get("path")):
            return ["set either `path` or `url` (exactly one)"]
        return []

    def fetch(self, http: Http, state: FetchState) -> Fetched:
        fetched = Fetched(state=state)
        for item in self.stream(http, state, fetched):
            fetched.items.append(item)
        return fetched

    def stream(self, http: Http, state: FetchState, fetched: Fetched) -> Iterator[RawItem]:
        """Items one by one, so a million-line file never sits in memory whole.

        Bad lines land in fetched.warnings; a 304 sets fetched.not_modified.
        """
        if self.feed.get("path"):
            path = self.feed.path("path")
            try:
                fh = open(path, "rb")
            except OSError as e:
                raise self.error(f"cannot read {path}: {e.strerror or e}") from None
            with fh:
                yield from self.parse_lines(fh, str(path), fetched.warnings)
            return
        resp = http.get(self.feed.get("url"), feed=self.feed.name, etag=state.etag, last_modified=state.last_modified)
        if resp.not_modified:
            fetched.not_modified = True
            return
        fetched.state = FetchState(resp.headers.get("etag"), resp.headers.get("last-modified"), state.cursor)
        yield from self.parse_lines(resp.content.splitlines(), self.feed.get("url"), fetched.warnings)

    def parse_lines(self, lines: Iterable[bytes], where: str, warnings: list[str]) -> Iterator[RawItem]:
        """The records of `lines`, each id once. Raises the feed's error when no line is a
        record at all (an HTML error page, a file of the wrong kind): that is not a feed
        with nothing new, and must not read as one."""
        seen = SeenIds()
        repeats = Repeats()
        listed = good = bad = 0
        first_bad: tuple[bytes, str] | None = None
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                item = parse_record(line)
            except ValueError as e:
                bad += 1
                if first_bad is None:
                    first_bad = (line[:512], located("", n, e).lstrip())
                if repeats.show(n, str(e)):
                    listed += 1
                    if listed <= 100:
                        warnings.append(f"{located(where, n, e)}; skipped")
                    elif listed == 101:
                        warnings.append(f"{where}: more bad lines; only the first 100 are listed")
                continue
            # The first line with an id wins: `id` is unique within a feed (CONTRACT),
            # so a second is a mistake in the file, not a newer version (an edit is the
            # same line changed between pulls). The file is streamed in batches, and
            # the first line may already be stored when the second is read: keeping
            # the later one would store the item twice, as an edit, on every pull.
            earlier = seen.add(item.native_id, n)
            if earlier is not None:
                reason = f"id {item.native_id[:40]!r} repeats line {earlier}; skipped (the first line with an id is kept)"
                if repeats.show(n, reason):
                    warnings.append(f"{where} line {n}: {reason}")
                continue
            good += 1
            yield item
        warnings.extend(f"{w}; skipped" for w in repeats.summary(where))
        if good == 0 and first_bad is not None:
            head, first = first_bad
            if re.match(rb"\s*<", head) and re.search(rb"<html|<!doctype html", head, re.I):
                verb = "returned" if self.feed.get("url") else "is"
                raise self.error(f"{where} {verb} an HTML page, not jsonl")
            raise self.error(f"no line of {where} is a usable record ({bad} bad line{'s' if bad != 1 else ''});"
                             f" the first, {first}")


def parse_record(line: bytes | str) -> RawItem:
    # Without its line end: json would count a line read with its newline as two lines.
    line = line.rstrip(b"\r\n") if isinstance(line, bytes) else line.rstrip("\r\n")
    try:
        rec = json.loads(line)
    except (ValueError, UnicodeDecodeError, RecursionError) as e:  # RecursionError: "[[[[..." nested too deep
        raise not_json(e) from None
    if not isinstance(rec, dict):
        raise ValueError("expected a JSON object")
    missing = [k for k in REQUIRED if rec.get(k) in (None, "")]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    for k in ("id", "author", "text"):
        if not isinstance(rec[k], (str, int)) or isinstance(rec[k], bool):
            raise ValueError(f"`{k}` must be a string")
    extra = {}
    for k in OPTIONAL_STR:
        v = rec.get(k)
        if v is not None and not isinstance(v, (str, int)):
            raise ValueError(f"`{k}` must be a string")
        extra[k] = None if v in (None, "") else str(v)
    return RawItem(
        native_id=str(rec["id"]),
        author=str(rec["author"]),
        text=str(rec["text"]),
        created_at=parse_time(rec["created_at"]),
        url=extra["url"],
        author_name=extra["author_name"],
        in_reply_to=extra["in_reply_to"],
        thread_id=extra["thread_id"],
        title=extra["title"],
        ours=rec["ours"] if isinstance(rec.get("ours"), bool) else None,
        # The line itself is the raw payload; keep only what the fields above do not.
        raw={k: v for k, v in rec.items() if k not in KNOWN} or None,
    )


def parse_time(value: Any) -> datetime:
    """ISO 8601 with an offset, or Unix seconds (listen.sources.parse_time). A time
    without an offset is refused, not guessed: a person wrote this file."""
    try:
        return shared_parse_time(value, naive="refuse")
    except ValueError as e:
        raise ValueError(str(e).replace("time", "`created_at`", 1).replace("a `created_at`", "`created_at`", 1)) from None
