"""Pull: fetch every feed at once, store each feed's items with its new state.

Sources run in worker threads (they wait on the network); a big pull parses and
flags in worker processes (workers.py); the main thread owns the database and
writes whatever has arrived in one transaction, each feed's items with its new
state. A failed feed is a result, not a crash: the others carry on.
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterator

from listen import log
from listen.config import Config
from listen.errors import ConfigError, FeedError, ListenError
from listen.http import Http, RateLimited
from listen.models import Fetched, FetchState, PullResult
from listen.policy import FlagPolicy, plain_policy
from listen.rows import valid
from listen.sources import FeedConfig, Source, make_source
from listen.waiting import Identity, answered_times

if TYPE_CHECKING:
    from listen.storage import Store
from listen.workers import Flagger, FlagJob, describe_bug, parse_in_worker, rows_of

LOG = log.get("pull")

BATCH = 2000  # items per transaction when a source streams
THREAD_PREFIX = "listen-pull"
ROOM = 6  # full batches in memory at once, per pull
QUEUED = 256  # messages waiting for the writer; a worker thread holds at most one more
# Arrivals are gathered this long into one write transaction. One commit per wave
# of arrivals made a warm pull of 2,000 feeds 568 transactions; each statement
# gives up the GIL and waits for it back behind 128 busy threads.
GATHER = 0.05
GATHERED = 512  # messages per transaction at most


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
    def __init__(self, config: Config, store: Store, http: Http, clock: Callable[[], float] = time.time,
                 *, batch: int = BATCH, make_source: Callable[[FeedConfig, Callable[[], float]], Source] = make_source):
        self.config = config
        self.batch = batch  # items per transaction when a source streams; tests make it small
        self.make_source = make_source  # tests plug a fake source in here
        self.store = store
        self.http = http
        self.clock = clock
        self.identity = Identity(config.identity)
        # Full batches of a streaming source wait for room: a reader faster than the
        # writer must not pile a million-line file up in memory.
        self.room = threading.Semaphore(ROOM)
        self.stopping = threading.Event()
        self.flagger: Flagger | None = None
        # How mentions are flagged; the Listener gives one that applies corrections.
        self.policy: FlagPolicy = plain_policy(config)

    def select(self, names: list[str] | None) -> list[FeedConfig]:
        if names:
            return [self.config.feed(n) for n in names]  # an unknown name is a ConfigError
        return [f for f in self.config.feeds if f.enabled]

    def run(self, names: list[str] | None = None, on_result: Callable[[PullResult], None] | None = None) -> list[PullResult]:
        try:
            return self._run(names, on_result)
        finally:
            self.store.release_feeds()

    def _run(self, names: list[str] | None, on_result: Callable[[PullResult], None] | None) -> list[PullResult]:
        feeds = self.select(names)
        if not feeds and not self.config.feeds:
            raise ConfigError(str(self.config.path), ["no [[feeds]] configured; add one (see `listen init`)"])
        self.store.apply_identity(self.identity, answered_times)
        now = int(self.clock())
        results: dict[str, PullResult] = {}
        started: dict[str, float] = {}
        # Many pullers, one database: feeds are claimed a slice at a time, as room
        # frees up, and one another pull holds is left to it. So pullers started
        # together share the work (on SQLite the lock file already keeps pulls
        # apart, and every claim succeeds). A feed's state is read after its claim,
        # never before: another puller may just have saved a newer one.
        unclaimed = list(feeds)
        width = max(1, min(self.config.concurrency, len(feeds) or 1))
        slice_ = max(16, width // 4)

        def report(r: PullResult) -> None:
            results[r.feed] = r
            if on_result:
                on_result(r)

        # Bounded: a fast source waits for the writer (big batches also wait for `room`).
        arrivals: queue.Queue[_Msg] = queue.Queue(maxsize=QUEUED)
        stop = self.stopping = threading.Event()
        pending: set[str] = set()
        # Worker processes pay off only when there is much to flag: many feeds, or a
        # jsonl export that may hold millions. They must be forked now, before any
        # thread starts; a cron pull of a few feeds flags in this process.
        many = len(feeds) >= 8 or any(f.type == "jsonl" for f in feeds)
        flagger = self.flagger = Flagger(self.policy, processes=None if many else 1) if feeds else None
        inflight: deque[tuple[list[_Msg], FlagJob]] = deque()

        sources: dict[str, Source] = {}
        chase = ParentChase(self.store, since=now - self.config.max_age)

        hard_stop = 0.0

        # Feeds whose last message is in but not yet written: their threads are free,
        # so they do not count against `width` (a slot must not idle while the
        # writer gathers a transaction).
        fetched = 0

        def finish(msgs: list[_Msg]) -> None:
            nonlocal fetched
            self._store_group(msgs, results)
            for msg in msgs:
                fetched -= msg.done
                if msg.held:
                    self.room.release()
                if msg.done and results[msg.feed.name].error is None:
                    # Our replies just stored may point at parents never stored: fetch
                    # them before the feed counts as done, so this pull's inbox is right.
                    source = sources[msg.feed.name]
                    ids = chase.next_ids(msg.feed.name, source.parent_budget())
                    if ids:
                        nonlocal hard_stop
                        hard_stop = max(hard_stop, time.monotonic() + msg.feed.timeout * 2)
                        fetchers.submit(self._parents, source, msg.feed, ids, msg.not_modified, arrivals, stop)
                        continue
                if msg.done:
                    pending.discard(msg.feed.name)
                    r = results[msg.feed.name]
                    r.seconds = time.monotonic() - started[msg.feed.name]
                    LOG.info("%s: done in %.2fs: %d new, %d updated%s", r.feed, r.seconds, r.new, r.updated,
                             " (not modified)" if r.not_modified else f"; failed: {r.error}" if r.error else "")
                    if on_result:
                        on_result(r)

        # Not a `with` block: its exit joins every thread, and a source stuck
        # where no timeout reaches (open() on a hung mount or a FIFO) would
        # then hold this pull, and the lock every later cron pull waits on.
        fetchers = ThreadPoolExecutor(max_workers=width, thread_name_prefix=THREAD_PREFIX)
        hard_stop = time.monotonic()

        def claim_more() -> None:
            nonlocal hard_stop
            while unclaimed and len(pending) - fetched + slice_ <= width or (unclaimed and not pending):
                chunk, unclaimed[:] = unclaimed[:slice_], unclaimed[slice_:]
                claimed = set(self.store.claim_feeds([f.name for f in chunk]))
                states = self.store.fetch_states([f.name for f in chunk if f.name in claimed])
                for feed in chunk:
                    if feed.name not in claimed:
                        report(PullResult(feed.name, skipped="another listen pull is fetching it"))
                        continue
                    state, fetch_after = states[feed.name]
                    if fetch_after and fetch_after > now:
                        LOG.info("%s: skipped: rate limited, next fetch allowed in %ds", feed.name, fetch_after - now)
                        report(PullResult(feed.name, skipped=(
                            f"rate limited: next fetch after {time.strftime('%H:%M', time.localtime(fetch_after))}")))
                        continue
                    started[feed.name] = time.monotonic()
                    results[feed.name] = PullResult(feed.name)
                    pending.add(feed.name)
                    hard_stop = max(hard_stop, started[feed.name] + feed.timeout * 3 + min(30.0, max(2.0, feed.timeout)))
                    # Built here, not in the thread: 64 threads importing a source module at
                    # once queue on the import lock.
                    sources[feed.name] = self.make_source(feed, self.clock)
                    fetchers.submit(self._work, sources[feed.name], feed, state, arrivals, stop)

        def gather(arrived: list[_Msg]) -> None:
            """Add to `arrived` what arrives within GATHER of the first message, to be
            flagged and written together, claiming more feeds as threads come free.
            Stops early when every pending feed is in, or a streamed batch is (it
            holds a slot of `room`: write it now)."""
            nonlocal fetched
            until = time.monotonic() + GATHER
            fetched += arrived[0].done
            while len(arrived) < GATHERED and fetched < len(pending) and not arrived[-1].held:
                try:
                    msg = arrivals.get_nowait()
                except queue.Empty:
                    claim_more()
                    wait = until - time.monotonic()
                    if wait <= 0:
                        return
                    try:
                        msg = arrivals.get(timeout=wait)
                    except queue.Empty:
                        return
                arrived.append(msg)
                fetched += msg.done

        try:
            claim_more()
            while pending:
                claim_more()
                left = hard_stop - time.monotonic()
                arrived: list[_Msg] = []
                try:
                    arrived.append(arrivals.get(timeout=0.02 if inflight else max(0.1, left)))
                    gather(arrived)
                except queue.Empty:
                    if not arrived and not inflight and left <= 0:
                        for name in pending:  # a source that ignored every timeout
                            results[name].error = abandoned = "did not finish in time; abandoned"
                            results[name].seconds = time.monotonic() - started[name]
                            self._fail(name, abandoned, None)
                            if on_result:
                                on_result(results[name])
                        break
                if arrived and flagger is not None:  # a message arrives only when some feed was due: then there is a flagger
                    inflight.append((arrived, flagger.submit([r for m in arrived for r in m.rows],
                                                             [(m.feed.name, m.feed.type) for m in arrived for _ in m.rows])))
                ready: list[_Msg] = []
                # Feeds are written in the order their batches arrived, so a
                # streamed feed's last batch (with its cursor) is always written last.
                while inflight and (inflight[0][1].ready() or len(inflight) >= 8):
                    msgs, job = inflight.popleft()
                    job.wait()
                    ready.extend(msgs)
                if ready:
                    finish(ready)
                    claim_more()
            for feed in unclaimed:  # only when the pull gave up on a source that ignored every timeout
                report(PullResult(feed.name, error="not fetched: this pull gave up waiting on another feed"))
        finally:
            stop.set()
            fetchers.shutdown(wait=not pending, cancel_futures=True)
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
        counts: list[tuple[int, int] | None] = []  # None: that feed's batch could not be stored
        try:
            counts += self.store.save_many(batches, answered_times, int(self.clock())) if batches else []
        except Exception:
            counts = []
            for m, batch in zip(writes, batches, strict=True):
                try:
                    counts.append(self.store.save_many([batch], answered_times, int(self.clock()))[0])
                except ListenError as e:
                    m.error = m.error or str(e)
                    counts.append(None)
                except Exception as e:  # a row the store cannot take fails this feed, not the whole pull
                    LOG.debug("%s: could not store a batch of %d rows", m.feed.name, len(m.rows), exc_info=True)
                    m.error = m.error or (f"could not store: unexpected {type(e).__name__}: {str(e)[:1000]}"
                                          " (`listen --debug pull` shows the traceback)")
                    counts.append(None)
        for m, c in zip(writes, counts, strict=True):
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
            LOG.info("%s: rate limited: no fetch before %ds from now", feed.name, (retry - int(self.clock())) if retry else 0)
            out.put(_Msg(feed, [], done=True, error=e.message, fetch_after=retry))
        except FeedError as e:
            out.put(_Msg(feed, [], done=True, error=e.message))
        except Exception as e:  # a bug in one source must not stop the other feeds
            LOG.debug("%s: unexpected error in the %s source", feed.name, feed.type, exc_info=True)
            out.put(_Msg(feed, [], done=True, error=describe_bug(e, feed)))
        finally:
            self.http.set_deadline(None)

    def _parents(self, source: Source, feed: FeedConfig, ids: list[str], not_modified: bool,
                 out: queue.Queue[_Msg], stop: threading.Event) -> None:
        """Runs in a worker thread: fetch parents by id. A failure here is a warning,
        never the feed's error: what the feed itself returned is already stored."""
        self.http.set_deadline(time.monotonic() + feed.timeout)
        warnings: list[str] = []
        rows: list[dict[str, Any]] = []
        try:
            now = int(self.clock())
            items = source.parents(self.http, ids, warnings)
            rows = rows_of(feed, items, warnings, self.identity, None, now)
        except (FeedError, RateLimited) as e:
            warnings.append(f"could not fetch the messages our replies answer: {e.message}")
        except Exception as e:  # a bug in a look-up must not lose the feed's pull
            warnings.append(f"could not fetch the messages our replies answer: unexpected {type(e).__name__}: "
                            f"{str(e)[:200]}")
        finally:
            self.http.set_deadline(None)
        if not stop.is_set():
            out.put(_Msg(feed, rows, done=True, not_modified=not_modified, warnings=warnings))

    def _batches(self, source: Source, feed: FeedConfig, state: FetchState) -> Iterator[_Msg]:
        now = int(self.clock())
        workers = self.flagger.pool if self.flagger is not None else None
        if workers is not None and source.parses_apart:
            got = source.download(self.http, state)
            if isinstance(got, Fetched):  # nothing to parse (304)
                yield _Msg(feed, [], state=got.state, done=True, not_modified=got.not_modified,
                           warnings=got.warnings)
                return
            left = self.http.deadline_left() or feed.timeout
            try:
                # The pool already holds the policy (forked with it): not sent again with each feed.
                kind, value = workers.apply_async(parse_in_worker, (feed, got, self.identity, None,
                                                                  now)).get(timeout=max(1.0, left))
            except multiprocessing.TimeoutError:
                raise FeedError(feed.name, "timed out parsing the feed") from None
            except Exception:  # the worker process itself failed (killed, unpicklable): parse here instead
                LOG.warning("%s: the worker process parsing this feed failed; parsing it in this process instead",
                            feed.name, exc_info=LOG.isEnabledFor(logging.DEBUG))
                kind, value = parse_in_worker(feed, got, self.identity, self.policy, now)
            if kind == "bug":
                message, trace = value
                LOG.debug("%s: unexpected error in a worker process:\n%s", feed.name, trace.rstrip())
                raise FeedError(feed.name, message)
            if kind == "error":
                raise FeedError(feed.name, value)
            LOG.info("%s: parsed %d items in a worker process", feed.name, len(value[0]))
            parsed, new_state, warnings = value
            yield _Msg(feed, parsed, state=new_state, done=True, warnings=warnings)
            return
        if not source.streams_items:
            fetched = source.fetch(self.http, state)
            whole = rows_of(feed, fetched.items, fetched.warnings, self.identity, None, now)
            yield _Msg(feed, whole, state=fetched.state, done=True, not_modified=fetched.not_modified,
                       warnings=fetched.warnings)
            return
        fetched = Fetched(state=state)
        rows: list[dict[str, Any]] = []
        for item in valid(source.stream(self.http, state, fetched), fetched.warnings, once=not source.unique_ids):
            rows += rows_of(feed, [item], [], self.identity, None, now)
            if len(rows) >= self.batch:
                while not self.room.acquire(timeout=0.5):
                    if self.stopping.is_set():  # the writer has gone: do not wait for it forever
                        return
                LOG.info("%s: a batch of %d items, written while the feed streams on", feed.name, len(rows))
                yield _Msg(feed, rows, held=True)
                rows = []
        yield _Msg(feed, rows, state=fetched.state, done=True, not_modified=fetched.not_modified,
                   warnings=fetched.warnings)


class ParentChase:
    """Which parents to fetch for each feed during one pull, within its budget.

    Rounds repeat while a fetched parent is itself a reply of ours whose parent is
    missing (up the chain towards the root); an id is asked at most once per pull,
    so a parent the network deleted costs one look-up, not a loop.
    """

    ROUNDS = 4

    def __init__(self, store: Any, since: int):
        self.store = store
        self.since = since
        self.asked: dict[str, set[str]] = {}
        self.rounds: dict[str, int] = {}

    def next_ids(self, feed: str, budget: int) -> list[str]:
        asked = self.asked.setdefault(feed, set())
        left = budget - len(asked)
        if left <= 0 or self.rounds.get(feed, 0) >= self.ROUNDS:
            return []
        self.rounds[feed] = self.rounds.get(feed, 0) + 1
        ids = [i for i in self.store.missing_parents(feed, self.since, left + len(asked)) if i not in asked][:left]
        asked.update(ids)
        return ids


def threads_left_behind() -> bool:
    """True when a pull abandoned a source thread that is still blocked. The
    interpreter joins such threads at exit, so the caller must leave with
    os._exit once its output is flushed."""
    return any(t.name.startswith(THREAD_PREFIX) and t.is_alive() for t in threading.enumerate())
