"""The Listener: one object that owns the config, the store and the clock.

The CLI turns options into calls on it and renders what comes back; tests
build it with their own store and clock.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterator

from listen.config import DB_ENV, Config, find_config, load
from listen.errors import ListenError, StorageError, UsageError
from listen.gaps import Gap, find_gaps
from listen.models import FeedStatus, Item, PullResult
from listen.sources import FeedConfig
from listen.waiting import DEFAULT_MAX_AGE, DEFAULT_REPLY_WITHIN

if TYPE_CHECKING:
    from listen.lines import BadLine
    from listen.policy import FlagPolicy
    from listen.storage import Store

# Mentions re-flagged per pull after the detectors or [flags] change: about
# 0.2 s of work, so a 14-day inbox of a few thousand catches up in a few runs.
REFLAG_PER_PULL = 2000
LEARNED_KEY = "learned"  # meta: "<fingerprint>\n<adjustments JSON>" (listen.policy.learn_from)


@dataclass
class InboxView:
    items: list[Item]
    summary: dict[str, int]
    now: int
    stale: list[Gap]  # feeds blind longer than [inbox] stale_after (listen.gaps)
    max_age: int = DEFAULT_MAX_AGE  # the inbox's window: older unanswered mentions have dropped out
    targets: dict[str, int] | None = None  # each feed's reply_within
    reply_within: int = DEFAULT_REPLY_WITHIN  # the default reply target ([inbox] reply_within)
    # The filters chosen (--mine, --unassigned, --feed, --since) in words, and, when they leave
    # nothing, the unfiltered inbox's summary: an empty view must not read as inbox zero.
    filters: tuple[str, ...] = ()
    everyone: dict[str, int] | None = None

    def over(self, item: Item) -> int:
        """Seconds this item is past its feed's reply target (0 when within it)."""
        target = (self.targets or {}).get(item.feed, self.reply_within)
        return max(0, self.now - int(item.created_at.timestamp()) - target)


def database_missing(config: Config) -> bool:
    """True when the config points at a SQLite file that does not exist (yet)."""
    return config.db_url is None and str(config.db_path) != ":memory:" and not config.db_path.exists()


def no_database(config: Config, db_flag: str | None) -> str:
    """Why a reading command stops before it starts: where it looked, and where that came from."""
    if db_flag:
        source = "check --db"
    elif os.environ.get(DB_ENV):
        source = f"check ${DB_ENV}"
    elif config.path is not None:
        source = f"check [store] path in {config.path}"
    else:
        source = "check --db"
    return f"no database at {config.db_path}; run `listen pull` to create it, or {source}"


def _refuse_ours(items: list[Item], what: str) -> None:
    """Our own posts never wait for a reply (CONTRACT, "Who is waiting"), so there is nothing
    to triage or correct on them: an id of ours is most likely a slip for the mention it answers."""
    ours = [i for i in items if i.ours]
    if not ours:
        return
    from listen.text import inert

    first = ours[0]
    more = f" (and {len(ours) - 1} more of ours)" if len(ours) > 1 else ""
    raise UsageError(f"item {first.id} is our own post (by {inert(first.author, limit=60, one_line=True)}){more}: "
                     f"it never waits for a reply, so there is nothing to {what}; nothing was changed "
                     f"(`listen show {first.id}` shows its conversation)")


def _filter_words(mine: bool, unassigned: bool, feeds: list[str] | None, since: int | None) -> tuple[str, ...]:
    """The inbox filters chosen, as the rest of "Nothing waiting ..." (feed names are config names)."""
    words = []
    if mine:
        words.append("is assigned to you")
    if unassigned:
        words.append("is unassigned")
    if feeds:
        words.append(f"is on {', '.join(feeds)}")
    if since is not None:
        from listen.durations import humanize

        words.append(f"came in the last {humanize(since)}")
    return tuple(words)


def _empty_store() -> Store:
    from listen.storage import open_store

    return open_store(":memory:")


class Listener:
    def __init__(self, config: Config, store: Store | None = None, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep):
        self.config = config
        self.clock = clock
        self.sleep = sleep  # the clock's other half: a Retry-After wait; tests record it instead
        from listen import log

        log.watch_config(config)  # every log line from now on has this config's secrets redacted
        opened = store is None
        if store is None:
            from listen.storage import open_store

            store = open_store(config.db_url or config.db_path, config.db_password_env)
        self.store: Store = store
        # Items whose `ours` opening the store re-decided: [identity] names were edited
        # since they were last applied, and inbox, export and stats must not wait for a
        # pull to see it. Unchanged names cost one read of `meta`.
        self.identity_changed = 0
        if opened:
            try:
                self.identity_changed = self.apply_identity()
            except StorageError as e:
                # A read-only or busy database still reads; the next pull or reflag applies them.
                log.get("app").info("[identity] names changed but could not be applied now (read as stored): %s", e)

    @classmethod
    def open(cls, config_path: str | None = None, db: str | None = None,
             clock: Callable[[], float] = time.time, missing: str = "create",
             feeds: list[str] | None = None) -> Listener:
        """`missing`: what to do when the SQLite file is not there. "create" it (pull, import);
        "refuse" (commands that read: a mistyped --db must not answer with an empty inbox);
        "empty": an empty database in memory, creating nothing (feeds --check before the first pull).
        `feeds`: names given with --feed, checked before any database is opened or created."""
        path = find_config(config_path)
        config = load(path, db_override=db)
        for name in feeds or []:
            config.feed(name)
        if missing != "create" and database_missing(config):
            if missing == "refuse":
                raise UsageError(no_database(config, db))
            return cls(config, store=_empty_store(), clock=clock)
        return cls(config, clock=clock)

    def close(self) -> None:
        self.store.close()

    def now(self) -> int:
        return int(self.clock())

    # -- pulling --------------------------------------------------------

    def pull(self, feeds: list[str] | None = None, on_result: Callable[[PullResult], None] | None = None,
             transport: Any = None, batch: int | None = None,
             on_alert: Callable[[Any], None] | None = None) -> list[PullResult]:
        """Fetch and store. `batch`: items per transaction of a streaming source (default pull.BATCH)."""
        from listen.http import Http
        from listen.pull import BATCH, Puller

        started = self.now()
        with Http(timeout=self.config.http_timeout, max_size=self.config.max_size, transport=transport,
                  sleep=self.sleep, clock=self.clock) as http:
            puller = Puller(self.config, self.store, http, self.clock, batch=batch or BATCH)
            puller.policy = self.policy()  # marked flags stay marked; what corrections taught applies
            results = puller.run(feeds, on_result)
        # A `listen mark` made while this pull ran was not in the policy it flagged
        # with: those items get their marks back now.
        corrected = self.store.corrections()
        policy = self.policy(corrected)
        late = [int(c["id"]) for c in corrected if c["marked_at"] >= started and c["id"] is not None]
        if late:
            self.refresh(late, policy)
        # After an upgrade or a [flags] change the inbox should not wait for a
        # manual `listen reflag`: each pull re-flags what the inbox can show,
        # a bounded slice at a time so cron runs stay short.
        self.reflag(since=self.now() - self.config.max_age, limit=REFLAG_PER_PULL, policy=policy)
        # Alerts last, on what this pull stored. A failed alert is reported and
        # retried next pull; it never turns into a failed pull.
        for result in self.alert(safe=True):
            if on_alert is not None:
                on_alert(result)
        return results

    def apply_identity(self, force: bool = False) -> int:
        """Re-decide which stored items are ours by [identity] names as configured now,
        and the answers that follow from it; `force` even when the names look unchanged.
        Returns how many items changed side."""
        from listen.waiting import Identity, answered_times

        return self.store.apply_identity(Identity(self.config.identity), answered_times, force=force)

    def check(self, feeds: list[str] | None = None) -> list[tuple[str, str | None, str | None]]:
        """Try each feed's endpoint and credentials; store nothing. (feed, ok message, error)."""
        from listen.http import Http
        from listen.sources import make_source

        selected = [self.config.feed(n) for n in feeds] if feeds else self.config.feeds
        out: list[tuple[str, str | None, str | None]] = []
        with Http(timeout=self.config.http_timeout, max_size=self.config.max_size) as http:
            for feed in selected:
                http.set_deadline(time.monotonic() + feed.timeout)
                try:
                    out.append((feed.name, make_source(feed, self.clock).probe(http), None))
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
              limit: int | None = None, mine: bool = False, unassigned: bool = False) -> InboxView:
        for name in feeds or []:
            self.config.feed(name)  # an unknown feed name is an error, not an empty inbox
        now = self.now()
        kw: dict[str, Any] = dict(max_age=self.config.max_age, include_unflagged=include_unflagged, feeds=feeds,
                                  since=since, unassigned=unassigned)
        if mine:
            kw["assignee"] = self.me()
        items = self.store.inbox(now, limit=limit, **kw)
        summary = self.store.inbox_summary(now, **kw)
        filters = _filter_words(mine, unassigned, feeds, since)
        everyone = None
        if filters and not summary["items"]:
            everyone = self.store.inbox_summary(now, max_age=self.config.max_age, include_unflagged=include_unflagged)
        return InboxView(items, summary, now, self.stale_feeds(now), self.config.max_age,
                         self.config.reply_targets(), self.config.reply_within, filters, everyone)

    def stale_feeds(self, now: int | None = None) -> list[Gap]:
        """Feeds not read successfully within [inbox] stale_after, or never: gaps in what we hear."""
        now = self.now() if now is None else now
        statuses = self.store.feed_statuses(counts=False)
        return find_gaps([(f.name, f.enabled) for f in self.config.feeds], statuses, now, self.config.stale_after)

    def show(self, item_id: str) -> tuple[Item, list[Item]]:
        item = self.store.item(item_id)
        return item, self.store.conversation(item)

    def triage(self, ids: list[str], action: str, for_seconds: int | None = None) -> list[Item]:
        _refuse_ours([self.store.item(i) for i in ids], {"done": "mark done", "ignore": "ignore",
                                                         "reopen": "reopen", "snooze": "snooze"}[action])
        now = self.now()
        if action == "snooze" and (for_seconds or 0) <= 0:
            raise UsageError("snooze for how long? give a time longer than 0, e.g. 2h or 2d")
        if action == "snooze":
            return self.store.set_state(ids, "open", now, snoozed_until=now + (for_seconds or 0), actor=self.config.me)
        state = {"done": "done", "ignore": "ignored", "reopen": "open"}[action]
        return self.store.set_state(ids, state, now, actor=self.config.me)

    # -- team triage ----------------------------------------------------

    def me(self) -> str:
        if not self.config.me:
            raise ListenError("who are you? set [identity] me in the config, or $LISTEN_USER")
        return self.config.me

    def assign(self, ids: list[str], to: str | None) -> list[Item]:
        """Give items to `to` (None: to nobody); the history records who gave them."""
        if to is not None and not to.strip():
            raise UsageError("--to needs a name")  # a slip on the command line: exit 2, as for a bad name
        return self.store.assign(ids, self.team_name(to) if to else None, self.now(), actor=self.config.me)

    def team_name(self, to: str) -> str:
        """`to` checked (UsageError) and spelt as [identity] me spells it when it names me."""
        from listen.text import normalise_name, team_name

        try:
            shown = team_name(to)
        except ValueError as e:
            raise UsageError(f"--to {to!r}: {e}") from None
        me = self.config.me
        if me and normalise_name(me) == normalise_name(shown):
            try:
                return team_name(me)
            except ValueError:  # a `me` no teammate could be given: the name as typed
                pass
        return shown

    def history(self, item_id: str) -> list[dict[str, Any]]:
        return self.store.history(item_id)

    def migrate(self, to: str, password_env: str | None = None) -> dict[str, int]:
        """Copy this database, everything in it, into `to` (a SQLite path or postgresql:// URL)."""
        from pathlib import Path

        from listen.storage import open_store
        from listen.storage.copy import same_database, same_file
        from listen.storage.postgres import is_url, redact

        if not is_url(to):
            # A mistyped path is refused, not made: a new database in a new folder would
            # "succeed" where nobody will look for it.
            folder = Path(to).parent
            if not folder.is_dir():
                raise UsageError(f"--to {to}: the folder {folder} does not exist; create it first or check the path")
            if same_file(self.store, to):
                raise UsageError(f"--to {to}: that is the database being copied; give another file or URL")
        if password_env:
            from listen import log

            log.REDACT.watch([password_env])  # named on the command line, not in the config
        target = open_store(to, password_env)
        try:
            if same_database(self.store, target):
                raise UsageError(f"--to {redact(to)}: that is the database being copied (the same database"
                                 " and schema); give another")
            return self.store.copy_into(target)
        finally:
            target.close()

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

        now = self.now()  # one clock: waiting_seconds is measured from the Listener's now, frozen or not
        marks = {(c["feed"], c["native_id"]): c for c in self.store.corrections()}
        return records(self.store.iter_items(since=None if since is None else now - since), now, marks=marks)

    def import_file(self, path: str, feed: str | None = None,
                    on_bad: Callable[[int, BadLine], None] | None = None) -> Any:
        """Restore a jsonl export into the store (listen.importer); bad lines go to `on_bad`."""
        from listen.importer import import_file

        return import_file(self.store, path, feed=feed, now=self.now(), on_bad=on_bad)

    def reflag(self, since: int | None = None, limit: int | None = None, policy: FlagPolicy | None = None) -> int:
        """Re-run the flag detectors on stored mentions flagged by another detector
        version, other [flags] or feed settings, or before the corrections taught
        what they teach now; with `since`, only mentions written since then, and at
        most about `limit` of them."""
        policy = policy or self.policy()
        n = 0
        batch_size = 2000 if limit is None else max(1, min(2000, limit))
        for batch in self.store.stale_flags(policy.version, batch_size, since=since):
            rows = self.store.items_for_flagging([i for i, _ in batch])
            self.store.update_flags([{"id": r["id"], **policy.columns(r["feed"], r["native_id"], r["text"], r["author"],
                                                                      r["author_name"], r["network"], r["raw"])}
                                     for r in rows])
            n += len(batch)
            if limit is not None and n >= limit:
                break
        return n

    # -- corrections (listen mark, listen flags) ----------------------------

    def policy(self, corrected: list[dict[str, Any]] | None = None) -> FlagPolicy:
        """How mentions are flagged now (listen.policy): the config, the corrections
        (`corrected`, when the caller has just read them) and what they taught. The fit
        is cached in the store until the corrections, thresholds or detectors change."""
        from listen.policy import learn_from, plain_policy

        if corrected is None:
            corrected = self.store.corrections()
        if not corrected:
            return plain_policy(self.config)
        cached = self.store.meta_get(LEARNED_KEY)
        pair = (cached.split("\n", 1)[0], cached.split("\n", 1)[1]) if cached and "\n" in cached else None
        policy, fresh = learn_from(plain_policy(self.config), corrected, pair)
        if fresh is not None:
            self.store.meta_set(LEARNED_KEY, f"{fresh[0]}\n{fresh[1]}")
        return policy

    def mark(self, ids: list[str], question: bool | None = None, negative: bool | None = None) -> list[Item]:
        """Correct items' flags: kept through re-pulls, reflag and export/import, and
        learned from by the next reflag (and each pull, for the inbox's window)."""
        if question is None and negative is None:
            raise ListenError("say what to mark: --question, --not-question, --negative or --not-negative")
        items = [self.store.item(i) for i in ids]  # NotFound before anything changes
        # A correction teaches the detectors what mentions look like; our own words would teach them wrong.
        _refuse_ours(items, "correct")
        now = self.now()
        self.store.save_marks([{"feed": i.feed, "native_id": i.native_id, "marked_at": now,
                                "question": None if question is None else int(question),
                                "negative": None if negative is None else int(negative)} for i in items])
        said = [f"{'' if on else 'not '}{flag}" for flag, on in (("question", question), ("negative", negative))
                if on is not None]
        self.store.record_triage([i.id for i in items], "mark", now, actor=self.config.me, detail=", ".join(said))
        self.refresh([int(i.id) for i in items])
        return [self.store.item(i.id) for i in items]

    def refresh(self, ids: list[int], policy: FlagPolicy | None = None) -> None:
        """Flag these stored items anew under the current policy."""
        policy = policy or self.policy()
        rows = self.store.items_for_flagging(ids)
        self.store.update_flags([{"id": r["id"], **policy.columns(r["feed"], r["native_id"], r["text"], r["author"],
                                                                  r["author_name"], r["network"], r["raw"])}
                                 for r in rows])

    def flags_report(self) -> dict[str, Any]:
        """What `listen flags` shows: the corrections, each feed's thresholds before and
        after learning, and precision/recall on the corrections (listen.corrections)."""
        from listen.corrections import report

        corrected = self.store.corrections()
        return report(self.config, self.policy(corrected), corrected)
