"""Sources: one module per network, registered by feed `type`.

A source is given one feed's settings, the shared HTTP client and what it
remembered last time (FetchState); it returns a Fetched batch. It never
touches storage, the terminal or the CLI. To add a network, copy
`jsonl.py` or `rss.py`, declare its config keys in `options`, and add one
line to REGISTRY.
"""

from __future__ import annotations

import importlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ClassVar

from listen.errors import FeedError

if TYPE_CHECKING:
    from listen.http import Http
    from listen.models import Fetched, FetchState

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
        return (self.config_dir / os.path.expanduser(self.options[key])).resolve()

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

    def __init__(self, feed: FeedConfig):
        self.feed = feed

    @classmethod
    def check(cls, options: dict[str, Any]) -> list[str]:
        """Rules across keys ("path or url"). Returns problems, worded for the user."""
        return []

    def fetch(self, http: Http, state: FetchState) -> Fetched:
        raise NotImplementedError

    # A source whose parsing is real CPU work (XML) may also offer its fetch in two
    # halves, so that a big pull parses in worker processes, off the GIL:
    #   download(http, state) -> Download, or Fetched when there is nothing to parse
    #   parse_download(download) -> Fetched   (uses only its argument and self.feed)

    def probe(self, http: Http) -> str:
        """`listen feeds --check`: try credentials and endpoint without storing anything.

        Returns a one-line description of what works; raises FeedError, worded
        for a person, when something does not. Sources override this when a
        cheaper or clearer check exists (e.g. verify_credentials).
        """
        from listen.models import FetchState

        fetched = self.fetch(http, FetchState())
        return f"reachable; {len(fetched.items)} items available"

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


def source_class(type_name: str) -> type[Source]:
    module, _, cls = REGISTRY[type_name].partition(":")
    return getattr(importlib.import_module(module), cls)


def make_source(feed: FeedConfig) -> Source:
    return source_class(feed.type)(feed)
