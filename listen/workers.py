"""Worker processes for the CPU-heavy half of a big pull: parsing and flagging.

Threads cannot run Python code in parallel (the GIL), so a pull with much to do
forks a small pool before any thread starts; the children share the loaded
models and start in milliseconds. A small pull never pays for it.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import traceback
from collections.abc import Iterable
from typing import Any

from listen import log
from listen.errors import FeedError
from listen.flags import FlagSettings
from listen.models import Download, RawItem
from listen.people import may_be_ping
from listen.policy import FlagPolicy
from listen.rows import to_row, valid
from listen.sources import FeedConfig, make_source
from listen.waiting import Identity

LOG = log.get("workers")


def rows_of(feed: FeedConfig, items: Iterable[RawItem], warnings: list[str], identity: Identity,
            settings: FlagSettings | None, now: int) -> list[dict[str, Any]]:
    """The rows of a batch of items. A bug on one item names the feed and the record."""
    rows = []
    for item in valid(items, warnings):
        try:
            rows.append(to_row(item, identity, settings, now))
        except Exception as e:
            e.listen_record = item.native_id  # type: ignore[attr-defined]  # read back by describe_bug
            e.add_note(f"in feed {feed.name!r} ({feed.type}), record {item.native_id!r}")
            raise
    return rows


def describe_bug(e: BaseException, feed: FeedConfig) -> str:
    """One line for an unexpected error in a source or a worker: the traceback goes to the log."""
    record = getattr(e, "listen_record", None)
    where = f" on record {str(record)[:120]!r}" if record is not None else ""
    first = str(e).splitlines()[0] if str(e) else ""
    return (f"unexpected {type(e).__name__} in the {feed.type} source{where}: {first[:1000]}"
            " (`listen --debug pull` shows the traceback)")


def parse_in_worker(feed: FeedConfig, got: Download, identity: Identity, policy: FlagPolicy | None,
                     now: int) -> tuple[str, Any]:
    """In a worker process: parse a download and flag its items. Errors come back as
    values, since a FeedError does not survive pickling with its feed name; a bug
    comes back with its traceback as text, for the parent to log.

    `policy` None: the one the pool was forked with (Flagger). Sending it with every
    feed pickled each feed's thresholds for every feed: 100 KB and 4 ms of CPU per
    feed at 2,000 feeds, a pull's cost growing with the square of its feeds."""
    if policy is None:
        assert _FORKED_POLICY is not None  # None is passed only to a pool Flagger forked
        policy = _FORKED_POLICY
    try:
        fetched = make_source(feed).parse_download(got)
        rows = rows_of(feed, fetched.items, fetched.warnings, identity, None, now)
        todo = [r for r in rows if "question" not in r]  # ours are flagged by to_row
        for r, f in zip(todo, _flag_rows([_what(feed.name, feed.type, r) for r in todo], policy), strict=True):
            r.update(f)
        return "ok", (rows, fetched.state, fetched.warnings)
    except FeedError as e:
        return "error", e.message
    except Exception as e:  # a parser bug fails this feed only
        return "bug", (describe_bug(e, feed), "".join(traceback.format_exception(e)))


# What the flag policy needs of a row: (feed, network, native_id, text, author, author_name, raw).
What = tuple[str, str, "str | None", str, "str | None", "str | None", "str | None"]


def _what(feed: str, network: str, row: dict[str, Any]) -> What:
    raw = row.get("raw")
    # Only a payload that may name a ping travels to the worker: most are never read.
    raw = raw if may_be_ping(raw) else None
    return (feed, network, row.get("native_id"), row.get("text") or "", row.get("author"), row.get("author_name"), raw)


_FORKED_POLICY: FlagPolicy | None = None  # set before the pool forks (Flagger)


def _flag_forked(items: list[What]) -> list[dict[str, Any]]:
    assert _FORKED_POLICY is not None  # a pool exists only after Flagger set it
    return _flag_rows(items, _FORKED_POLICY)


def _flag_rows(items: list[What], policy: FlagPolicy) -> list[dict[str, Any]]:
    return [policy.columns(feed, nid, text, author, name, network, raw)
            for feed, network, nid, text, author, name, raw in items]


class FlagJob:
    """Flags for one batch of rows: computed now, or by the pool and filled in when ready."""

    def __init__(self, rows: list[dict[str, Any]], todo: list[int], results: list[Any] | None = None,
                 policy: FlagPolicy | FlagSettings | None = None, items: list[What] | None = None):
        self.rows, self.todo, self.results, self.policy, self.items = rows, todo, results or [], policy, items or []

    def ready(self) -> bool:
        return all(r.ready() for r in self.results)

    def wait(self) -> None:
        if not self.results:
            return
        try:
            flags = [f for r in self.results for f in r.get()]
        except Exception:  # a worker died or failed: flag here rather than lose the pull
            LOG.warning("a flagging worker process failed; flagging %d texts in this process instead",
                        len(self.todo), exc_info=LOG.isEnabledFor(logging.DEBUG))
            policy = self.policy if isinstance(self.policy, FlagPolicy) else FlagPolicy(self.policy or FlagSettings())
            items = self.items or [_what("", "", self.rows[i]) for i in self.todo]
            flags = _flag_rows(items, policy)
        for i, f in zip(self.todo, flags, strict=True):
            self.rows[i].update(f)
        self.results = []


class Flagger:
    """Runs the flag detectors, in worker processes when there is enough to share.

    Flagging is the CPU-heavy step of a pull; threads cannot run it in parallel
    (the GIL), so big batches go to a small pool of forked processes while this
    process keeps fetching, parsing and writing.
    """

    CHUNK = 250  # texts per task: big enough to pay for the pickling, small enough to spread

    def __init__(self, policy: FlagPolicy, processes: int | None = None):
        self.policy = policy
        n = (os.cpu_count() or 1) if processes is None else processes
        self.pool = None
        if n > 1 and "fork" in multiprocessing.get_all_start_methods():
            # Forked before any worker thread starts, with the models already loaded,
            # so the children share them and start in milliseconds.
            policy.verdict("warm up")
            # The children inherit the policy (learned weights, marks) at the fork,
            # instead of unpickling it with every chunk of texts.
            global _FORKED_POLICY
            _FORKED_POLICY = policy
            self.pool = multiprocessing.get_context("fork").Pool(n)

    def submit(self, rows: list[dict[str, Any]], feeds: list[tuple[str, str]]) -> FlagJob:
        """Flag `rows`, each written to the feed (name, network) beside it in `feeds`."""
        todo = [i for i, r in enumerate(rows) if "question" not in r]
        items = [_what(*feeds[i], rows[i]) for i in todo]
        if self.pool is None or not items:
            for i, f in zip(todo, _flag_rows(items, self.policy), strict=True):
                rows[i].update(f)
            return FlagJob(rows, [])
        results = [self.pool.apply_async(_flag_forked, (items[k:k + self.CHUNK],))
                   for k in range(0, len(items), self.CHUNK)]
        return FlagJob(rows, todo, results, self.policy, items)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
