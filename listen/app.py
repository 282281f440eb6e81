"""The Listener: one object that owns the config, the store and the clock.

The CLI turns options into calls on it and renders what comes back; tests
build it with their own store and clock.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from listen.config import Config, find_config, load
from listen.errors import ListenError
from listen.models import FeedStatus, Item, PullResult
from listen.sources import FeedConfig

# Mentions re-flagged per pull after the detectors or [flags] change: about
# 0.2 s of work, so a 14-day inbox of a few thousand catches up in a few runs.
REFLAG_PER_PULL = 2000


@dataclass
class InboxView:
    items: list[Item]
    summary: dict[str, int]
    now: int
    stale: list[tuple[str, int, str]]  # (feed, seconds since last success, last error)
    max_age: int = 14 * 86400  # the inbox's window: older unanswered mentions have dropped out
    targets: dict[str, int] | None = None  # each feed's reply_within
    reply_within: int = 86400  # the default reply target ([inbox] reply_within)

    def over(self, item: Item) -> int:
        """Seconds this item is past its feed's reply target (0 when within it)."""
        target = (self.targets or {}).get(item.feed, self.reply_within)
        return max(0, self.now - int(item.created_at.timestamp()) - target)


class Listener:
    def __init__(self, config: Config, store: Any = None, clock: Callable[[], float] = time.time):
        self.config = config
        self.clock = clock
        if store is None:
            from listen.storage import open_store

            store = open_store(config.db_path)
        self.store = store

    @classmethod
    def open(cls, config_path: str | None = None, db: str | None = None) -> Listener:
        path = find_config(config_path)
        return cls(load(path, db_override=db))

    def close(self) -> None:
        self.store.close()

    def now(self) -> int:
        return int(self.clock())

    # -- pulling --------------------------------------------------------

    def pull(self, feeds: list[str] | None = None, on_result: Callable[[PullResult], None] | None = None,
             transport: Any = None, on_alert: Callable[[Any], None] | None = None) -> list[PullResult]:
        from listen.http import Http
        from listen.pull import Puller

        with Http(timeout=self.config.http_timeout, max_size=self.config.max_size, transport=transport) as http:
            results = Puller(self.config, self.store, http, self.clock).run(feeds, on_result)
        # After an upgrade or a [flags] change the inbox should not wait for a
        # manual `listen reflag`: each pull re-flags what the inbox can show,
        # a bounded slice at a time so cron runs stay short.
        self.reflag(since=self.now() - self.config.max_age, limit=REFLAG_PER_PULL)
        # Alerts last, on what this pull stored. A failed alert is reported and
        # retried next pull; it never turns into a failed pull.
        for result in self.alert(safe=True):
            if on_alert is not None:
                on_alert(result)
        return results

    def check(self, feeds: list[str] | None = None) -> list[tuple[str, str | None, str | None]]:
        """Try each feed's endpoint and credentials; store nothing. (feed, ok message, error)."""
        from listen.http import Http
        from listen.sources import make_source

        selected = [self.config.feed(n) for n in feeds] if feeds else self.config.feeds
        out = []
        with Http(timeout=self.config.http_timeout, max_size=self.config.max_size) as http:
            for feed in selected:
                http.set_deadline(time.monotonic() + feed.timeout)
                try:
                    out.append((feed.name, make_source(feed).probe(http), None))
                except ListenError as e:
                    out.append((feed.name, None, feed.redact(getattr(e, "message", str(e)))))
        return out

    # -- alerts ---------------------------------------------------------

    def alert(self, dry_run: bool = False, deliver: Callable[..., None] | None = None,
              safe: bool = False) -> list[Any]:
        """Send what each [[alerts]] target is owed now (listen.alerts.runner); one AlertResult per target.

        With `safe`, a store error becomes a failed result for every target instead of an exception.
        """
        if not self.config.alerts:
            return []
        from listen.alerts.runner import AlertResult, run

        now = self.now()
        try:
            waiting = self.store.inbox(now, max_age=self.config.max_age)
            return run(self.config.alerts, self.store, waiting, now, self.config.reply_targets(),
                       self.config.reply_within, dry_run=dry_run, max_age=self.config.max_age, deliver=deliver)
        except ListenError as e:
            if not safe:
                raise
            return [AlertResult(a.name, a.type, error=str(e)) for a in self.config.alerts]

    # -- reading --------------------------------------------------------

    def inbox(self, *, include_unflagged: bool = False, feeds: list[str] | None = None, since: int | None = None,
              limit: int | None = None) -> InboxView:
        for name in feeds or []:
            self.config.feed(name)  # an unknown feed name is an error, not an empty inbox
        now = self.now()
        kw = dict(max_age=self.config.max_age, include_unflagged=include_unflagged, feeds=feeds, since=since)
        items = self.store.inbox(now, limit=limit, **kw)
        summary = self.store.inbox_summary(now, **kw)
        return InboxView(items, summary, now, self.stale_feeds(now), self.config.max_age,
                         self.config.reply_targets(), self.config.reply_within)

    def stale_feeds(self, now: int) -> list[tuple[str, int, str]]:
        """Feeds that have been failing longer than [inbox] stale_after: a gap in what we hear."""
        out = []
        statuses = self.store.feed_statuses(counts=False)
        for feed in self.config.feeds:
            st = statuses.get(feed.name)
            if not feed.enabled or st is None or not st.last_error or st.error_since is None:
                continue
            since_ok = now - int((st.last_success or st.error_since).timestamp())
            if now - int(st.error_since.timestamp()) >= self.config.stale_after:
                out.append((feed.name, since_ok, st.last_error))
        return out

    def show(self, item_id: str) -> tuple[Item, list[Item]]:
        item = self.store.item(item_id)
        return item, self.store.conversation(item)

    def triage(self, ids: list[str], action: str, for_seconds: int | None = None) -> list[Item]:
        now = self.now()
        if action == "snooze":
            return self.store.set_state(ids, "open", now, snoozed_until=now + (for_seconds or 0))
        state = {"done": "done", "ignore": "ignored", "reopen": "open"}[action]
        return self.store.set_state(ids, state, now)

    def feeds(self) -> list[tuple[FeedConfig, FeedStatus | None]]:
        statuses = self.store.feed_statuses()
        return [(f, statuses.get(f.name)) for f in self.config.feeds]

    def stats(self, since: int, feeds: list[str] | None = None) -> dict[str, Any]:
        for name in feeds or []:
            self.config.feed(name)  # an unknown name is an error, not a row of zeros
        return self.store.stats(self.now(), since=since, feeds=feeds,
                                reply_within=self.config.reply_within, max_age=self.config.max_age,
                                reply_targets=self.config.reply_targets() or None)

    def export(self, since: int | None = None) -> Iterator[dict[str, Any]]:
        from listen.export import records

        return records(self.store.iter_items(since=None if since is None else self.now() - since))

    def import_file(self, path: str, feed: str | None = None,
                    on_bad: Callable[[int, str], None] | None = None) -> Any:
        """Restore a jsonl export into the store (listen.importer); bad lines go to `on_bad`."""
        from listen.importer import import_file

        return import_file(self.store, path, feed=feed, now=self.now(), on_bad=on_bad)

    def reflag(self, since: int | None = None, limit: int | None = None) -> int:
        """Re-run the flag detectors on stored mentions flagged by another detector
        version or other [flags] settings (thresholds, rules); with `since`, only
        mentions written since then, and at most about `limit` of them."""
        from listen.rows import flag_columns, flags_version

        n = 0
        batch_size = 2000 if limit is None else max(1, min(2000, limit))
        for batch in self.store.stale_flags(flags_version(self.config.flags), batch_size, since=since):
            self.store.update_flags([{"id": i, **flag_columns(text, self.config.flags, False)} for i, text in batch])
            n += len(batch)
            if limit is not None and n >= limit:
                break
        return n
