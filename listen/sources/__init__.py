"""Sources: one module per network, registered by feed `type`.

The contract (`SourceProtocol` below, implemented by subclassing `Source`):

- A source is given one feed's settings (FeedConfig), the shared HTTP client and
  what it remembered last time (FetchState); `fetch` returns a Fetched batch:
  items, the state to save with them, and warnings. It never touches storage,
  the terminal or the CLI.
- It holds nothing between pulls: whatever must survive goes in the cursor
  (FetchState.cursor, a JSON object read with `load_cursor`). A login token may
  be kept for the length of one pull, in memory only. It reads the time from
  `self.clock()` (injected; tests replace it), never from the wall clock.
- One malformed record never costs the feed its other items: map each record
  with `map_record`, which skips it with a warning. A malformed *response* (not
  the shape the API documents) is the feed's error: raise `self.error(...)`.
- Waiting when the network says so: a 429/503 with Retry-After is handled by
  Http (a short wait, else RateLimited, which the puller turns into the feed's
  next allowed fetch time). A network that says "wait" in the body or headers
  while items are already in hand keeps them and records the wait with
  `back_off(cursor, stream, until)`; `backed_off(cursor, stream)` says whether
  a stream must be skipped this pull.
- Shared helpers, so each rule exists once: `parse_time` (ISO 8601 or Unix
  seconds), `next_link` (the `Link: <...>; rel="next"` header), and
  `self.guard(url, base)` (never send a token to another host).
- Optional abilities are declared here, with defaults, and switched on by the
  subclass: `stream` (yields items as it reads, for huge files), `download` +
  `parse_download` (parse in a worker process), `parents` (fetch items by id so
  our replies' parents are stored; set `fetches_parents = True`), `probe`
  (`listen feeds --check`).

To add a network: copy `hackernews.py` (a JSON API) or `jsonl.py` (a file),
declare its config keys in `options` (validated before any fetch), add one
line to REGISTRY, and test it against a ReplayServer (tests/replay.py) serving
bodies shaped like the recordings in ../shared/fixtures/.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterator, Protocol
from urllib.parse import urlsplit

from listen.errors import FeedError

if TYPE_CHECKING:
    from listen.http import Http, Response
    from listen.models import Download, Fetched, FetchState, RawItem

# type -> "module:Class"; imported only when a feed of that type is used.
REGISTRY: dict[str, str] = {
    "rss": "listen.sources.rss:RssSource",
    "jsonl": "listen.sources.jsonl:JsonlSource",
    "mastodon": "listen.sources.mastodon:MastodonSource",
    "bluesky": "listen.sources.bluesky:BlueskySource",
    "reddit": "listen.sources.reddit:RedditSource",
    "hackernews": "listen.sources.hackernews:HackerNewsSource",
    "stackexchange": "listen.sources.stackexchange:StackExchangeSource",
    "github": "listen.sources.github:GitHubSource",
}


# What a field of the wrong type raises when an item is built from it.
BAD_FIELD = (KeyError, TypeError, ValueError, AttributeError, OverflowError, OSError)


@dataclass(frozen=True)
class Option:
    """One config key a source accepts."""

    kind: type  # str, int, bool, float or list (of str)
    help: str
    required: bool = False
    default: Any = None
    duration: bool = False  # a str like "14d", stored as seconds
    minimum: float | None = None  # for numbers: the smallest value that makes sense


@dataclass
class FeedConfig:
    name: str
    type: str
    options: dict[str, Any]
    config_dir: Path
    timeout: float = 20.0
    enabled: bool = True
    # Identity names from [identity], for sources that need them to ask the network.
    identity: tuple[str, ...] = field(default=())
    reply_within: int | None = None  # seconds; None: [inbox] reply_within

    def get(self, key: str, default: Any = None) -> Any:
        value = self.options.get(key)
        return default if value is None else value

    def path(self, key: str) -> Path:
        return (self.config_dir / os.path.expanduser(str(self.options[key]))).resolve()

    def secret(self, key: str, required: bool = True) -> str | None:
        """The value of the environment variable named by option `key` (a *_env key).

        The error names the variable, never its value.
        """
        var = self.options.get(key)
        if not var:
            if required:
                raise FeedError(self.name, f"needs `{key}`: the name of the environment variable holding the secret")
            return None
        value = (os.environ.get(var) or "").strip()  # a pasted trailing newline is not part of a token
        if not value:
            if required:
                raise FeedError(self.name, f"environment variable {var} (named by {key}) is not set")
            return None
        if not (value.isascii() and value.isprintable()):
            # It would break the HTTP header, and the header error would quote it.
            raise FeedError(self.name, f"environment variable {var} (named by {key}) holds a control character "
                                       "or a non-ASCII byte; tokens are plain ASCII")
        return value

    def redact(self, text: str) -> str:
        """`text` with the values of this feed's secrets replaced by their variables' names.

        Servers quote requests back in error bodies; nothing they say reaches output or the DB unredacted.
        """
        for key, var in self.options.items():
            if key.endswith("_env") and isinstance(var, str) and var:
                value = os.environ.get(var) or ""
                for form in {value, value.strip()}:
                    if len(form) >= 4:
                        text = text.replace(form, f"${var}")
        return text


class Source:
    network: ClassVar[str]
    options: ClassVar[dict[str, Option]] = {}
    # True when a fetch already gives each id once and names the repeats itself (jsonl,
    # with line numbers). Otherwise the puller keeps the first of each (rows.valid).
    unique_ids: ClassVar[bool] = False

    def __init__(self, feed: FeedConfig, clock: Callable[[], float] = time.time):
        self.feed = feed
        self.clock = clock  # the puller's clock: a source never reads the wall clock itself

    @classmethod
    def check(cls, options: dict[str, Any]) -> list[str]:
        """Rules across keys ("path or url"). Returns problems, worded for the user."""
        return []

    def fetch(self, http: Http, state: FetchState) -> Fetched:
        raise NotImplementedError

    # -- optional abilities: declared here, overridden by the sources that have them --

    def stream(self, http: Http, state: FetchState, fetched: Fetched) -> Iterator[RawItem]:
        """Items as they are read, for sources that may hold millions (a big jsonl file).
        Fills `fetched.state` and `fetched.warnings` as it goes."""
        raise NotImplementedError

    def download(self, http: Http, state: FetchState) -> Download | Fetched:
        """The first half of a fetch whose parsing is real CPU work (XML): the body, or a
        Fetched when there is nothing to parse (304). The puller parses it in a worker
        process with `parse_download`, off the GIL."""
        raise NotImplementedError

    def parse_download(self, download: Download) -> Fetched:
        """The second half: uses only its argument and self.feed."""
        raise NotImplementedError

    @property
    def streams_items(self) -> bool:
        return type(self).stream is not Source.stream

    @property
    def parses_apart(self) -> bool:
        return type(self).download is not Source.download and type(self).parse_download is not Source.parse_download

    # Threads. A reply of ours whose parent was never stored answers nobody: the rule
    # needs the parent's author. Sources that can fetch items by id say so here; the
    # puller (which sees storage, unlike a source) asks for the parents still missing
    # after a batch is stored, a bounded number per pull (`max_parents`).
    fetches_parents: ClassVar[bool] = False

    def parent_budget(self) -> int:
        """How many parents this feed may look up per pull (option `max_parents`)."""
        return max(0, int(self.feed.get("max_parents", 0) or 0)) if self.fetches_parents else 0

    def parents(self, http: Http, ids: list[str], warnings: list[str]) -> list[RawItem]:
        """The items with these native ids, as this feed would have returned them.

        Ids the network no longer has are left out. A malformed record is skipped
        with a warning, like in `fetch`. Only called when `fetches_parents` is True.
        """
        return []

    def probe(self, http: Http) -> str:
        """`listen feeds --check`: try credentials and endpoint without storing anything.

        Returns a one-line description of what works; raises FeedError, worded
        for a person, when something does not. Sources override this when a
        cheaper or clearer check exists (e.g. verify_credentials).
        """
        from listen.models import FetchState

        fetched = self.fetch(http, FetchState())
        # Counted as a pull stores them: an id given twice is one item (rows.valid).
        ids = {str(i.native_id) for i in fetched.items if i.native_id not in (None, "")}
        return f"reachable; {len(ids)} items available"

    def load_cursor(self, text: str | None, warnings: list[str] | None = None) -> dict[str, Any]:
        """The JSON object a source saved as its cursor. An unreadable one costs only a
        full first pull (bounded by the source), never the feed: it reads as {}."""
        if not text:
            return {}
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if isinstance(value, dict):
            return value
        if warnings is not None:
            warnings.append("the saved position was unreadable; starting again from the lookback window")
        return {}

    def map_record(self, to_item: Callable[[Any], Any], record: Any, what: str, warnings: list[str]) -> Any:
        """One API record to an item, or None. A record with a missing or mistyped
        field is skipped with a warning: servers send odd JSON, and one odd record
        must not cost the feed its other items."""
        try:
            item = to_item(record)
        except BAD_FIELD as e:
            warnings.append(f"skipped {what} with a bad field: {str(e)[:80]}")
            return None
        if item is None:
            warnings.append(f"skipped {what}: missing its id or date")
        return item

    def error(self, message: str) -> FeedError:
        return FeedError(self.feed.name, message)

    def guard(self, url: str, base: str) -> str:
        """`url` when it lies under `base`; else the feed's error. A Link header or a
        server's redirect must never carry our token to another host."""
        if not on_host(url, base):
            raise self.error(f"refusing to follow a link off {base.rstrip('/')}: {urlsplit(url).netloc}")
        return url

    # -- waiting when the network says so, with the items in hand --------------

    def backed_off(self, cursor: dict[str, Any], stream: str) -> float | None:
        """The time before which `stream` must not be asked again, if still ahead."""
        waits = cursor.get("not_before")
        until = waits.get(stream) if isinstance(waits, dict) else None
        return float(until) if isinstance(until, (int, float)) and until > self.clock() else None

    def back_off(self, cursor: dict[str, Any], stream: str, until: float) -> None:
        waits = cursor.get("not_before")
        if not isinstance(waits, dict):
            waits = cursor["not_before"] = {}
        waits[stream] = int(until) + 1

    def forget_backoffs(self, cursor: dict[str, Any]) -> None:
        """Drop the waits that are over (call before saving the cursor)."""
        waits = cursor.get("not_before")
        now = self.clock()
        kept = {k: v for k, v in waits.items() if isinstance(v, (int, float)) and v > now} \
            if isinstance(waits, dict) else {}
        if kept:
            cursor["not_before"] = kept
        else:
            cursor.pop("not_before", None)


class SourceProtocol(Protocol):
    """What the puller, `listen feeds --check` and config validation use of a source."""

    network: ClassVar[str]
    options: ClassVar[dict[str, Option]]
    feed: FeedConfig
    fetches_parents: ClassVar[bool]
    unique_ids: ClassVar[bool]

    @classmethod
    def check(cls, options: dict[str, Any]) -> list[str]: ...
    def fetch(self, http: Http, state: FetchState) -> Fetched: ...
    def probe(self, http: Http) -> str: ...
    # optional: see Source for what the defaults do
    @property
    def streams_items(self) -> bool: ...
    def stream(self, http: Http, state: FetchState, fetched: Fetched) -> Iterator[RawItem]: ...
    @property
    def parses_apart(self) -> bool: ...
    def download(self, http: Http, state: FetchState) -> Download | Fetched: ...
    def parse_download(self, download: Download) -> Fetched: ...
    def parent_budget(self) -> int: ...
    def parents(self, http: Http, ids: list[str], warnings: list[str]) -> list[RawItem]: ...


# -- helpers every source shares --------------------------------------------------

_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="([^"]+)"')


def next_link(resp: Response) -> str | None:
    """The rel="next" URL of a `Link` header (RFC 8288), as GitHub and Mastodon page."""
    for url, rel in _LINK.findall(str(resp.headers.get("link", ""))):
        if "next" in rel.split():
            return str(url)
    return None


def on_host(url: str, base: str) -> bool:
    """True when `url` is under `base`: same scheme, host and port, and path prefix."""
    return url.startswith(base.rstrip("/") + "/")


def parse_time(value: Any, *, naive: str = "utc") -> datetime:
    """An API's time as an aware UTC datetime: ISO 8601 ("Z" or an offset), or Unix
    seconds (a number or a string of digits). A time without an offset is taken as
    UTC (naive="utc", what APIs mean) or refused (naive="refuse", for files people
    write). Raises ValueError, which `map_record` turns into a skipped record."""
    if isinstance(value, bool):
        raise ValueError("a time must be ISO 8601 or Unix seconds")
    if isinstance(value, (int, float)):
        try:
            return datetime.fromtimestamp(value, timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise ValueError(f"time {value} is out of range") from None
    if not isinstance(value, str):
        raise ValueError("a time must be ISO 8601 or Unix seconds")
    text = value.strip()
    if text.replace(".", "", 1).isdigit():
        return parse_time(float(text))
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"time {value[:40]!r} is not ISO 8601") from None
    if stamp.tzinfo is None:
        if naive == "refuse":
            raise ValueError(f"time {value[:40]!r} has no UTC offset (add Z or +hh:mm)")
        stamp = stamp.replace(tzinfo=timezone.utc)
    return stamp.astimezone(timezone.utc)


def source_class(type_name: str) -> type[Source]:
    module, _, cls = REGISTRY[type_name].partition(":")
    found: type[Source] = getattr(importlib.import_module(module), cls)
    return found


def make_source(feed: FeedConfig, clock: Callable[[], float] = time.time) -> Source:
    return source_class(feed.type)(feed, clock)
