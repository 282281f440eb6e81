"""The data as it flows through listen, one name per stage.

RawItem   what a source returns (normalised, with its raw payload)
Item      what storage gives back (a stored row, with flags and triage state); the inbox
          shows Items, with how long each has waited worked out from the Listener's clock
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class RawItem:
    native_id: str
    author: str
    text: str
    created_at: datetime  # timezone-aware
    url: str | None = None
    author_name: str | None = None
    in_reply_to: str | None = None  # native id of the item it answers
    thread_id: str | None = None  # native id (or URL) of the conversation's first item
    # The source knows this is ours (e.g. posted by the account that owns the token).
    # None means: decide by [identity] names.
    ours: bool | None = None
    title: str | None = None  # the conversation's title, where the network has one
    raw: Any = None  # the payload as the network sent it, kept for re-parsing


@dataclass
class FetchState:
    """What a source remembers between pulls, stored per feed."""

    etag: str | None = None
    last_modified: str | None = None
    cursor: str | None = None


@dataclass
class Fetched:
    """One pull of one feed: the items and the state to save with them, atomically."""

    items: list[RawItem] = field(default_factory=list)
    state: FetchState = field(default_factory=FetchState)
    not_modified: bool = False
    # Problems that did not stop the feed (a bad jsonl line): reported, not fatal.
    warnings: list[str] = field(default_factory=list)


@dataclass
class Download:
    """What a two-phase source fetched, before parsing (see Source.download)."""

    body: bytes
    url: str
    content_type: str | None
    state: FetchState


@dataclass
class Item:
    id: str
    feed: str
    network: str
    native_id: str
    author: str
    author_name: str | None
    text: str
    created_at: datetime
    url: str | None
    in_reply_to: str | None
    thread_id: str | None
    title: str | None
    ours: bool
    question: bool
    negative: bool
    reasons: list[str]
    state: str  # open | done | ignored
    snoozed_until: datetime | None
    answered_at: datetime | None
    edited: bool = False
    addressed: bool = False  # a question put to us rather than to the room
    assignee: str | None = None  # who on the team answers it

    @property
    def flags(self) -> list[str]:
        return [n for n, on in (("question", self.question), ("negative", self.negative)) if on]


@dataclass
class FeedStatus:
    name: str
    network: str
    last_attempt: datetime | None
    last_success: datetime | None
    last_error: str | None
    error_since: datetime | None
    items: int


@dataclass
class PullResult:
    """The outcome of one feed's pull. A failure is a result, not a crash."""

    feed: str
    new: int = 0
    updated: int = 0
    not_modified: bool = False
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    # Why this pull did not fetch the feed at all (another puller holds it, rate limited):
    # not an error and not "not modified", which would claim the source was asked.
    skipped: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None
