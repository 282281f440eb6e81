"""Pull: fetch every feed at once, store each feed's items with its new state.

Sources run in worker threads (they wait on the network); the main thread owns
the database and writes each feed's batch in one transaction as it arrives.
A failed feed is a result, not a crash: the others carry on.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import queue
import re
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable, Iterator

from listen.config import Config
from listen.errors import ConfigError, FeedError, ListenError
from listen.flags import FLAGS_VERSION, FlagSettings, classify
from listen.http import Http, RateLimited
from listen.models import Download, Fetched, FetchState, PullResult, RawItem
from listen.sources import FeedConfig, Source, make_source
from listen.text import normalise_name
from listen.waiting import Identity, answered_times

BATCH = 2000  # items per transaction when a source streams
ROOM = 6  # full batches in memory at once, per pull
MAX_RAW = 256 * 1024  # a raw payload beyond this is kept cut, with a marker


def to_row(item: RawItem, identity: Identity, flags: FlagSettings | None, now: int) -> dict[str, Any]:
    """What storage keeps for one item: its content, who wrote it, and its flags.

    With flags=None the flag columns are left for a Flagger to fill in.
    """
    # Text columns get text whatever a source let through (an id sent as a number,
    # a bool where a name should be): the schema is not for strangers to decide.
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


def flag_columns(text: str, flags: FlagSettings, ours: bool) -> dict[str, Any]:
    if ours:  # we never wait on ourselves
        return {"question": 0, "negative": 0, "addressed": 0, "question_score": 0.0, "negative_score": 0.0,
                "reasons": "[]", "flags_version": FLAGS_VERSION}
    v = classify(text, flags)
    return {"question": int(v.question), "negative": int(v.negative), "addressed": int(v.addressed_to_us),
            "question_score": round(v.question_score, 4), "negative_score": round(v.negative_score, 4),
            "reasons": json.dumps(v.reasons, ensure_ascii=False), "flags_version": FLAGS_VERSION}


_SURROGATE = re.compile("[\ud800-\udfff]")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return (value if isinstance(value, str) else str(value)) or None


def _valid(items: Iterable[RawItem], warnings: list[str]) -> Iterator[RawItem]:
    """Items storage can keep: one without an id could never be told apart from the next."""
    skipped = 0
    for item in items:
        if _text(item.native_id) and (item.created_at is None or isinstance(item.created_at, datetime)):
            yield item
        else:
            skipped += 1
    if skipped:
        warnings.append(f"skipped {skipped} item{'s' if skipped != 1 else ''} without an id or a usable date")


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


def _parse_in_worker(feed: FeedConfig, got: Download, identity: Identity, settings: FlagSettings,
                     now: int) -> tuple[str, Any]:
    """In a worker process: parse a download and flag its items. Errors come back as
    values, since a FeedError does not survive pickling with its feed name."""
    try:
        fetched = make_source(feed).parse_download(got)
        rows = [to_row(i, identity, settings, now) for i in _valid(fetched.items, fetched.warnings)]
        return "ok", (rows, fetched.state, fetched.warnings)
    except FeedError as e:
        return "error", e.message
    except Exception as e:  # a parser bug fails this feed only
        return "error", f"unexpected {type(e).__name__} in the {feed.type} source: {str(e)[:200]}"


def _flag_texts(texts: list[str], settings: FlagSettings) -> list[dict[str, Any]]:
    return [flag_columns(t, settings, False) for t in texts]


class _FlagJob:
    """Flags for one batch of rows: computed now, or by the pool and filled in when ready."""

    def __init__(self, rows: list[dict[str, Any]], todo: list[int], results: list[Any] | None = None):
        self.rows, self.todo, self.results = rows, todo, results or []

    def ready(self) -> bool:
        return all(r.ready() for r in self.results)

    def wait(self) -> None:
        if self.results:
            flags = [f for r in self.results for f in r.get()]
            for i, f in zip(self.todo, flags):
                self.rows[i].update(f)
            self.results = []


class Flagger:
    """Runs the flag detectors, in worker processes when there is enough to share.

    Flagging is the CPU-heavy step of a pull; threads cannot run it in parallel
    (the GIL), so big batches go to a small pool of forked processes while this
    process keeps fetching, parsing and writing.
    """

    CHUNK = 250  # texts per task: big enough to pay for the pickling, small enough to spread

    def __init__(self, settings: FlagSettings, processes: int | None = None):
        self.settings = settings
        n = (os.cpu_count() or 1) if processes is None else processes
        self.pool = None
        if n > 1 and "fork" in multiprocessing.get_all_start_methods():
            # Forked before any worker thread starts, with the models already loaded,
            # so the children share them and start in milliseconds.
            classify("warm up", settings)
            self.pool = multiprocessing.get_context("fork").Pool(n)

    def submit(self, rows: list[dict[str, Any]]) -> _FlagJob:
        todo = [i for i, r in enumerate(rows) if "question" not in r]
        texts = [rows[i]["text"] for i in todo]
        if self.pool is None or not texts:
            for i, f in zip(todo, _flag_texts(texts, self.settings)):
                rows[i].update(f)
            return _FlagJob(rows, [])
        results = [self.pool.apply_async(_flag_texts, (texts[k:k + self.CHUNK], self.settings))
                   for k in range(0, len(texts), self.CHUNK)]
        return _FlagJob(rows, todo, results)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()


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
    held: bool = False  # took a slot of Puller.room: give it back once written


class Puller:
    def __init__(self, config: Config, store: Any, http: Http, clock: Callable[[], float] = time.time):
        self.config = config
        self.store = store
        self.http = http
        self.clock = clock
        self.identity = Identity(config.identity)
        # Full batches of a streaming source wait for room: a reader faster than the
        # writer must not pile a million-line file up in memory.
        self.room = threading.Semaphore(ROOM)
        self.stopping = threading.Event()
        self.flagger: Flagger | None = None

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

        # Bounded: a fast source waits for the writer (big batches also wait for `room`).
        inbox: queue.Queue[_Msg] = queue.Queue(maxsize=64)
        stop = self.stopping = threading.Event()
        pending = {f.name for f, _ in due}
        # Worker processes pay off only when there is much to flag: many feeds, or a
        # jsonl export that may hold millions. They must be forked now, before any
        # thread starts; a cron pull of a few feeds flags in this process.
        many = len(due) >= 8 or any(f.type == "jsonl" for f, _ in due)
        flagger = self.flagger = Flagger(self.config.flags, processes=None if many else 1) if due else None
        inflight: deque[tuple[list[_Msg], _FlagJob]] = deque()

        def finish(msgs: list[_Msg]) -> None:
            self._store_group(msgs, results)
            for msg in msgs:
                if msg.held:
                    self.room.release()
                if msg.done:
                    pending.discard(msg.feed.name)
                    r = results[msg.feed.name]
                    r.seconds = time.monotonic() - started[msg.feed.name]
                    if on_result:
                        on_result(r)

        with ThreadPoolExecutor(max_workers=max(1, min(self.config.concurrency, len(due) or 1)),
                                thread_name_prefix="listen-pull") as pool:
            for feed, state in due:
                started[feed.name] = time.monotonic()
                results[feed.name] = PullResult(feed.name)
                # Built here, not in the thread: 64 threads importing a source module at
                # once queue on the import lock.
                pool.submit(self._work, make_source(feed), feed, state, inbox, stop)
            longest = max((f.timeout for f, _ in due), default=0)
            hard_stop = time.monotonic() + longest * 3 + 30
            try:
                while pending:
                    left = hard_stop - time.monotonic()
                    arrived: list[_Msg] = []
                    try:
                        arrived.append(inbox.get(timeout=0.02 if inflight else max(0.1, left)))
                        while len(arrived) < 64:  # whatever else has arrived: flagged and written together
                            arrived.append(inbox.get_nowait())
                    except queue.Empty:
                        if not arrived and not inflight and left <= 0:
                            for name in pending:  # a source that ignored every timeout
                                results[name].error = "did not finish in time; abandoned"
                                self._fail(name, results[name].error, None)
                            break
                    if arrived:
                        inflight.append((arrived, flagger.submit([r for m in arrived for r in m.rows])))
                    ready: list[_Msg] = []
                    # Feeds are written in the order their batches arrived, so a
                    # streamed feed's last batch (with its cursor) is always written last.
                    while inflight and (inflight[0][1].ready() or len(inflight) >= 8):
                        msgs, job = inflight.popleft()
                        job.wait()
                        ready.extend(msgs)
                    if ready:
                        finish(ready)
            finally:
                stop.set()
                pool.shutdown(wait=not pending, cancel_futures=True)
                if flagger is not None:
                    flagger.close()
        return [results[f.name] for f in feeds]

    def _fail(self, feed: str, error: str, fetch_after: int | None) -> None:
        network = next((f.type for f in self.config.feeds if f.name == feed), "unknown")
        self.store.record_failure(feed, network, error, int(self.clock()), fetch_after)

    def _store_group(self, msgs: list[_Msg], results: dict[str, PullResult]) -> None:
        """Write several feeds' batches in one transaction; if that fails, one by one,
        so a batch the store cannot take fails its own feed and no other."""
        writes = [m for m in msgs if m.rows or (m.done and m.error is None)]
        batches = [(m.feed.name, m.feed.type, m.rows, m.state if m.done and m.error is None else None) for m in writes]
        try:
            counts = self.store.save_many(batches, answered_times, int(self.clock())) if batches else []
        except Exception:
            counts = []
            for m, batch in zip(writes, batches):
                try:
                    counts.append(self.store.save_many([batch], answered_times, int(self.clock()))[0])
                except ListenError as e:
                    m.error = m.error or str(e)
                    counts.append(None)
                except Exception as e:  # a row the store cannot take fails this feed, not the whole pull
                    m.error = m.error or f"could not store: unexpected {type(e).__name__}: {str(e)[:200]}"
                    counts.append(None)
        for m, c in zip(writes, counts):
            if c is not None:
                results[m.feed.name].new += c[0]
                results[m.feed.name].updated += c[1]
        for m in msgs:
            result = results[m.feed.name]
            if m.warnings:
                result.warnings.extend(m.feed.redact(w) for w in m.warnings)
            if m.done:
                result.not_modified = m.not_modified
                if m.error:  # servers quote requests back: their words may hold this feed's token
                    result.error = m.feed.redact(m.error)
                    self._fail(m.feed.name, result.error, m.fetch_after)

    def _work(self, source: Source, feed: FeedConfig, state: FetchState, out: queue.Queue[_Msg],
              stop: threading.Event) -> None:
        """Runs in a worker thread: fetch, turn items into rows, hand them to the writer."""
        self.http.set_deadline(time.monotonic() + feed.timeout)
        try:
            for msg in self._batches(source, feed, state):
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

    def _batches(self, source: Source, feed: FeedConfig, state: FetchState) -> Iterator[_Msg]:
        now = int(self.clock())
        stream = getattr(source, "stream", None)
        pool = self.flagger.pool if self.flagger is not None else None
        if pool is not None and hasattr(source, "download"):
            got = source.download(self.http, state)
            if isinstance(got, Fetched):  # nothing to parse (304)
                yield _Msg(feed, [], state=got.state, done=True, not_modified=got.not_modified,
                           warnings=got.warnings)
                return
            left = self.http.deadline_left() or feed.timeout
            try:
                kind, value = pool.apply_async(_parse_in_worker, (feed, got, self.identity, self.config.flags,
                                                                  now)).get(timeout=max(1.0, left))
            except multiprocessing.TimeoutError:
                raise FeedError(feed.name, "timed out parsing the feed") from None
            if kind == "error":
                raise FeedError(feed.name, value)
            rows, new_state, warnings = value
            yield _Msg(feed, rows, state=new_state, done=True, warnings=warnings)
            return
        if stream is None:
            fetched = source.fetch(self.http, state)
            rows = [to_row(i, self.identity, None, now) for i in _valid(fetched.items, fetched.warnings)]
            yield _Msg(feed, rows, state=fetched.state, done=True, not_modified=fetched.not_modified,
                       warnings=fetched.warnings)
            return
        fetched = Fetched(state=state)
        rows: list[dict[str, Any]] = []
        for item in _valid(stream(self.http, state, fetched), fetched.warnings):
            rows.append(to_row(item, self.identity, None, now))
            if len(rows) >= BATCH:
                while not self.room.acquire(timeout=0.5):
                    if self.stopping.is_set():  # the writer has gone: do not wait for it forever
                        return
                yield _Msg(feed, rows, held=True)
                rows = []
        yield _Msg(feed, rows, state=fetched.state, done=True, not_modified=fetched.not_modified,
                   warnings=fetched.warnings)
