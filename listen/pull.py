"""Pull: fetch every feed at once, store each feed's items with its new state.

Sources run in worker threads (they wait on the network); the main thread owns
the database and writes each feed's batch in one transaction as it arrives.
A failed feed is a result, not a crash: the others carry on.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from listen.config import Config
from listen.errors import ConfigError, FeedError, ListenError
from listen.flags import FLAGS_VERSION, FlagSettings, classify
from listen.http import Http, RateLimited
from listen.models import Fetched, FetchState, PullResult, RawItem
from listen.sources import FeedConfig, make_source
from listen.text import normalise_name
from listen.waiting import Identity, answered_times

BATCH = 2000  # items per transaction when a source streams
MAX_RAW = 256 * 1024  # a raw payload beyond this is kept cut, with a marker


def to_row(item: RawItem, identity: Identity, flags: FlagSettings, now: int) -> dict[str, Any]:
    """What storage keeps for one item: its content, who wrote it, and its flags."""
    ours = identity.is_ours(item.ours, item.author, item.author_name)
    row: dict[str, Any] = {
        "native_id": item.native_id,
        "author": item.author,
        "author_name": item.author_name,
        "author_key": normalise_name(item.author),
        "text": item.text,
        "created_at": int(item.created_at.timestamp()) if item.created_at else None,
        "url": item.url,
        "in_reply_to": item.in_reply_to,
        "thread_id": item.thread_id,
        "title": item.title,
        "ours_hint": None if item.ours is None else int(item.ours),
        "ours": int(ours),
        "raw": _raw(item.raw),
    }
    row.update(flag_columns(item.text, flags, ours))
    return row


def flag_columns(text: str, flags: FlagSettings, ours: bool) -> dict[str, Any]:
    if ours:  # we never wait on ourselves
        return {"question": 0, "negative": 0, "addressed": 0, "question_score": 0.0, "negative_score": 0.0,
                "reasons": "[]", "flags_version": FLAGS_VERSION}
    v = classify(text, flags)
    return {"question": int(v.question), "negative": int(v.negative), "addressed": int(v.addressed_to_us),
            "question_score": round(v.question_score, 4), "negative_score": round(v.negative_score, 4),
            "reasons": json.dumps(v.reasons, ensure_ascii=False), "flags_version": FLAGS_VERSION}


def _raw(raw: Any) -> str | None:
    if raw is None:
        return None
    text = json.dumps(raw, ensure_ascii=False, default=str)
    return text if len(text) <= MAX_RAW else json.dumps({"truncated": True, "head": text[:MAX_RAW]})


@dataclass
class _Msg:
    feed: FeedConfig
    rows: list[dict[str, Any]]
    state: FetchState | None = None  # set on the last message of a feed
    done: bool = False
    not_modified: bool = False
    error: str | None = None
    fetch_after: int | None = None
    warnings: list[str] | None = None


class Puller:
    def __init__(self, config: Config, store: Any, http: Http, clock: Callable[[], float] = time.time):
        self.config = config
        self.store = store
        self.http = http
        self.clock = clock
        self.identity = Identity(config.identity)

    def select(self, names: list[str] | None) -> list[FeedConfig]:
        if names:
            return [self.config.feed(n) for n in names]  # an unknown name is a ConfigError
        return [f for f in self.config.feeds if f.enabled]

    def run(self, names: list[str] | None = None, on_result: Callable[[PullResult], None] | None = None) -> list[PullResult]:
        feeds = self.select(names)
        if not feeds and not self.config.feeds:
            raise ConfigError(str(self.config.path), ["no [[feeds]] configured; add one (see `listen init`)"])
        self.store.apply_identity(self.identity, answered_times)
        now = int(self.clock())
        results: dict[str, PullResult] = {}
        started: dict[str, float] = {}
        due: list[tuple[FeedConfig, FetchState]] = []
        for feed in feeds:
            state, fetch_after = self.store.fetch_state(feed.name)
            if fetch_after and fetch_after > now:
                r = PullResult(feed.name, not_modified=True,
                               warnings=[f"rate limited: next fetch after {time.strftime('%H:%M', time.localtime(fetch_after))}"])
                results[feed.name] = r
                if on_result:
                    on_result(r)
                continue
            due.append((feed, state))

        inbox: queue.Queue[_Msg] = queue.Queue(maxsize=16)  # bounded: a fast source waits for the writer
        stop = threading.Event()
        pending = {f.name for f, _ in due}
        with ThreadPoolExecutor(max_workers=max(1, min(self.config.concurrency, len(due) or 1)),
                                thread_name_prefix="listen-pull") as pool:
            for feed, state in due:
                started[feed.name] = time.monotonic()
                results[feed.name] = PullResult(feed.name)
                pool.submit(self._work, feed, state, inbox, stop)
            longest = max((f.timeout for f, _ in due), default=0)
            hard_stop = time.monotonic() + longest * 3 + 30
            try:
                while pending:
                    try:
                        msg = inbox.get(timeout=max(0.1, hard_stop - time.monotonic()))
                    except queue.Empty:
                        for name in pending:  # a source that ignored every timeout
                            results[name].error = "did not finish in time; abandoned"
                            self._fail(name, results[name].error, None)
                        break
                    self._store(msg, results[msg.feed.name], now)
                    if msg.done:
                        pending.discard(msg.feed.name)
                        r = results[msg.feed.name]
                        r.seconds = time.monotonic() - started[msg.feed.name]
                        if on_result:
                            on_result(r)
            finally:
                stop.set()
                pool.shutdown(wait=not pending, cancel_futures=True)
        return [results[f.name] for f in feeds]

    def _fail(self, feed: str, error: str, fetch_after: int | None) -> None:
        network = next((f.type for f in self.config.feeds if f.name == feed), "unknown")
        self.store.record_failure(feed, network, error, int(self.clock()), fetch_after)

    def _store(self, msg: _Msg, result: PullResult, now: int) -> None:
        if msg.warnings:
            result.warnings.extend(msg.warnings)
        if msg.rows or (msg.done and msg.error is None):
            try:
                new, updated = self.store.save_batch(msg.feed.name, msg.feed.type, msg.rows,
                                                     msg.state if msg.done and msg.error is None else None,
                                                     answered_times, int(self.clock()))
            except ListenError as e:
                msg.error = msg.error or str(e)
            else:
                result.new += new
                result.updated += updated
        if msg.done:
            result.not_modified = msg.not_modified
            if msg.error:
                result.error = msg.error
                self._fail(msg.feed.name, msg.error, msg.fetch_after)

    def _work(self, feed: FeedConfig, state: FetchState, out: queue.Queue[_Msg], stop: threading.Event) -> None:
        """Runs in a worker thread: fetch, turn items into rows, hand them to the writer."""
        self.http.set_deadline(time.monotonic() + feed.timeout)
        try:
            for msg in self._batches(feed, state):
                if stop.is_set():
                    return
                out.put(msg)
        except RateLimited as e:
            retry = int(self.clock() + e.retry_after) if e.retry_after else None
            out.put(_Msg(feed, [], done=True, error=e.message, fetch_after=retry))
        except FeedError as e:
            out.put(_Msg(feed, [], done=True, error=e.message))
        except Exception as e:  # a bug in one source must not stop the other feeds
            out.put(_Msg(feed, [], done=True, error=f"unexpected {type(e).__name__} in the {feed.type} source: {str(e)[:200]}"))
        finally:
            self.http.set_deadline(None)

    def _batches(self, feed: FeedConfig, state: FetchState) -> Iterator[_Msg]:
        source = make_source(feed)
        now = int(self.clock())
        flags = self.config.flags
        stream = getattr(source, "stream", None)
        if stream is None:
            fetched = source.fetch(self.http, state)
            rows = [to_row(i, self.identity, flags, now) for i in fetched.items]
            yield _Msg(feed, rows, state=fetched.state, done=True, not_modified=fetched.not_modified,
                       warnings=fetched.warnings)
            return
        fetched = Fetched(state=state)
        rows: list[dict[str, Any]] = []
        for item in stream(self.http, state, fetched):
            rows.append(to_row(item, self.identity, flags, now))
            if len(rows) >= BATCH:
                yield _Msg(feed, rows)
                rows = []
        yield _Msg(feed, rows, state=fetched.state, done=True, not_modified=fetched.not_modified,
                   warnings=fetched.warnings)
