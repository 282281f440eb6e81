"""The SQL store: WAL, one write transaction per feed batch, upserts by (feed, native id).

`SqliteStore` holds the SQL of every backend. Its statements are portable
(`?` and `:name` placeholders, `INSERT ... ON CONFLICT`, no SQLite-only
functions); what differs between databases sits in a small `Dialect`, and
`listen.storage.postgres.PostgresStore` runs these same methods through a
connection that speaks sqlite3's placeholders. A new method written here in
portable SQL works on PostgreSQL unchanged.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from dataclasses import dataclass
from typing import Any, Iterator

from listen.errors import NotFound, StorageError
from listen.models import FeedStatus, FetchState, Item
from listen.text import normalise_name
from listen.storage import schema
from listen import threads, waiting
from listen.threads import CONTENT, FLAG_COLUMNS, AnswerRule
from listen.waiting import DEFAULT_MAX_AGE, DEFAULT_REPLY_WITHIN, Identity

BUSY_TIMEOUT_MS = 30_000
CHUNK = 500  # host parameters per IN (...) query, well under SQLite's limit



@dataclass(frozen=True)
class Dialect:
    """The few things SQL backends write differently. Everything else is shared."""

    name: str
    greatest: str = "max"  # scalar max/min of two values
    least: str = "min"
    unindexed: str = "+"  # keeps SQLite's planner off an index for a term
    new_id: str = "NULL"  # what to insert as items.id to get a fresh one
    index_hint: bool = True  # INDEXED BY
    reset_ids: str = ""  # after inserting explicit ids: move the id sequence past them
    tables_sql: str = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    # After a text ORDER BY term: sort by code point, as SQLite's BINARY does, whatever the
    # database's collation (a PostgreSQL made with en_US puts "a" before "B", and "_z" first)
    bytewise: str = ""
    # A table's primary key columns, in key order; one `?`: the table (listen migrate upserts by it)
    primary_key_sql: str = "SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk"

    def items_by(self, index: str) -> str:
        return f"items INDEXED BY {index}" if self.index_hint else "items"


SQLITE = Dialect("sqlite")
INSERT_COLUMNS = ("feed", "network", "native_id", "author_key", "thread_id", "ours_hint", "ours", "raw",
                  "first_seen", "updated_at", *CONTENT, *FLAG_COLUMNS)
# What an imported export record restores (import_rows); raw and edit history are not exported.
IMPORT_COLUMNS = ("feed", "network", "native_id", "author_key", "thread_id", "ours_hint", "ours", "first_seen",
                  "updated_at", *CONTENT, *FLAG_COLUMNS, "answered_at", "state", "snoozed_until", "triaged_at",
                  "assignee", "assignee_key")


def _dt(ts: int | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, timezone.utc)


def _dead(marker: str, host: str) -> bool:
    """Is the process that wrote this open-marker gone? Only this host's can be known."""
    try:
        _, h, pid, _ = marker.split(":", 3)
    except ValueError:
        return True
    if h != host:
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, ValueError):
        return False
    return False


def _chunks(seq: list[Any], n: int = CHUNK) -> Iterator[list[Any]]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


def _describe(e: sqlite3.Error, path: str) -> str:
    msg = str(e)
    if "locked" in msg or "busy" in msg:
        return f"{path}: the database stayed busy (another listen is writing to it); try again"
    if "full" in msg:
        return f"{path}: the disk is full; nothing was stored by this step"
    if "readonly" in msg:
        # SQLite also writes a journal beside the file, so a read-only folder
        # makes a writable file read-only too; and the -wal and -shm files it made
        # while the file was read-only keep that mode after the file's is restored.
        return (f"{path}: the database is read-only; check the permissions of the file, "
                f"of its -wal and -shm files, and of its folder")
    if "not a database" in msg or "malformed" in msg:
        return f"{path}: the file is not a listen database or is damaged ({msg}); restore it or point --db elsewhere"
    if "unable to open" in msg:
        return f"{path}: cannot open the database file; check the folder exists and is writable"
    return f"{path}: database error: {msg}"


def open_store(target: str | os.PathLike[str], password_env: str | None = None) -> SqliteStore:
    """A SQLite file, or PostgreSQL for a postgresql:// URL (listen.storage.postgres)."""
    if isinstance(target, str) and target.startswith(("postgresql://", "postgres://")):
        from listen.storage.postgres import PostgresStore

        return PostgresStore(target, password_env)
    return SqliteStore(Path(target))


class SqliteStore:
    dialect = SQLITE

    def __init__(self, path: Path):
        self.path = str(path)
        try:
            if self.path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                                        check_same_thread=False)
        except (sqlite3.Error, OSError) as e:
            raise StorageError(f"{self.path}: cannot open the database: {e}") from None
        self.conn.row_factory = sqlite3.Row
        with self._errors():
            self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            # WAL: readers never block the cron writer, and a killed writer leaves no damage.
            mode = self.conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal" and self.path != ":memory:":
                # e.g. a read-only folder: keep going, reads still work
                pass
            self.conn.execute("PRAGMA synchronous = NORMAL")
            # 64 MB of page cache: a big import touches index pages all over the file.
            self.conn.execute("PRAGMA cache_size = -65536")
            self._migrate()
        self._marker: str | None = None
        if self.path != ":memory:":
            self._check_after_crash()

    def close(self) -> None:
        if self._marker is not None:
            try:
                self.conn.execute("DELETE FROM meta WHERE key = ?", (self._marker,))
            except sqlite3.Error:
                pass  # read-only, or going away: the next open will check
        self.conn.close()

    def quick_check(self) -> list[str]:
        """What SQLite's quick_check finds wrong with the file's pages; [] when sound."""
        with self._errors():
            rows = [str(r[0]) for r in self.conn.execute("PRAGMA quick_check")]
        return [] if rows == ["ok"] else rows

    def _check_after_crash(self) -> None:
        """Each open leaves a marker in meta that close removes. A marker whose process
        is gone means a listen was killed or crashed: check the pages before reading
        them, and refuse a damaged file loudly instead of answering from it."""
        host = socket.gethostname()
        try:
            markers = [r[0] for r in self.conn.execute("SELECT key FROM meta WHERE key LIKE 'open:%'")]
        except sqlite3.Error:
            return
        dead = [k for k in markers if _dead(k, host)]
        if dead:
            problems = self.quick_check()
            if problems:
                raise StorageError(f"{self.path}: the database is damaged (found after an unclean shutdown: "
                                   f"{'; '.join(problems[:3])}); restore it from a backup or export what reads")
        marker = f"open:{host}:{os.getpid()}:{id(self)}"
        try:
            with self._write() as c:
                c.executemany("DELETE FROM meta WHERE key = ?", [(k,) for k in dead])
                c.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", (marker, ""))
            self._marker = marker
        except StorageError:
            pass  # a read-only file still reads

    # -- many pullers: the lock file (listen.lock) already keeps pulls apart on SQLite

    def claim_feeds(self, names: list[str]) -> list[str]:
        return list(names)

    def release_feeds(self) -> None:
        pass

    # -- plumbing ---------------------------------------------------------

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except schema.FutureSchema as e:
            if e.found < 0:
                raise StorageError(f"{self.path}: this file has tables but is not a listen database") from None
            raise StorageError(
                f"{self.path}: written by a newer listen (schema {e.found}, this one knows {schema.VERSION}); "
                "upgrade listen to use it"
            ) from None
        except sqlite3.Error as e:
            raise StorageError(_describe(e, self.path)) from None

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction. IMMEDIATE takes the write lock up front, so two
        pulls queue (up to the busy timeout) instead of failing half-way."""
        with self._errors():
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
                self.conn.execute("COMMIT")
            except BaseException:
                # A full disk or I/O error may have rolled back already; a second
                # ROLLBACK would bury the real error under "no transaction is active".
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise

    def _migrate(self) -> None:
        if self.conn.execute("PRAGMA user_version").fetchone()[0] == schema.VERSION:
            return
        with self._write() as c:
            schema.ensure(c)

    # -- pulling ----------------------------------------------------------

    def fetch_state(self, feed: str) -> tuple[FetchState, int | None]:
        with self._errors():
            row = self.conn.execute(
                "SELECT etag, last_modified, cursor, fetch_after FROM feeds WHERE name = ?", (feed,)
            ).fetchone()
        if row is None:
            return FetchState(), None
        return FetchState(row["etag"], row["last_modified"], row["cursor"]), row["fetch_after"]

    def fetch_states(self, feeds: list[str]) -> dict[str, tuple[FetchState, int | None]]:
        """fetch_state of many feeds in one query (a pull of 2,000 feeds asked 2,000 times)."""
        out: dict[str, tuple[FetchState, int | None]] = {}
        with self._errors():
            # By name, a chunk at a time: a pull claims feeds in slices, and reading every
            # feed's row for each slice made a 2,000-feed pull quadratic.
            for part in _chunks(sorted(set(feeds))):
                for r in self.conn.execute("SELECT name, etag, last_modified, cursor, fetch_after FROM feeds"
                                           f" WHERE name IN ({','.join('?' * len(part))})", part):
                    out[r[0]] = (FetchState(r[1], r[2], r[3]), r[4])
        return {f: out.get(f, (FetchState(), None)) for f in feeds}

    def _ensure_feed(self, c: sqlite3.Connection, feed: str, network: str) -> None:
        c.execute("INSERT INTO feeds (name, network) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET network = excluded.network",
                  (feed, network))

    _SUCCESS = ("INSERT INTO feeds (name, network, etag, last_modified, cursor, last_attempt, last_success)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET network = excluded.network,"
                " etag = excluded.etag, last_modified = excluded.last_modified, cursor = excluded.cursor,"
                " last_attempt = excluded.last_attempt, last_success = excluded.last_success,"
                " last_error = NULL, error_since = NULL, fetch_after = NULL")

    def _success(self, c: sqlite3.Connection, feed: str, network: str, state: FetchState, now: int) -> None:
        c.execute(self._SUCCESS, (feed, network, state.etag, state.last_modified, state.cursor, now, now))

    def record_failure(self, feed: str, network: str, error: str, now: int, fetch_after: int | None = None) -> None:
        with self._write() as c:
            self._ensure_feed(c, feed, network)
            c.execute(
                "UPDATE feeds SET last_attempt = ?, last_error = ?, error_since = coalesce(error_since, ?),"
                " fetch_after = ? WHERE name = ?",
                (now, error, now, fetch_after, feed),
            )

    def save_batch(self, feed: str, network: str, rows: list[dict[str, Any]], state: FetchState | None,
                   answer_rule: AnswerRule, now: int) -> tuple[int, int]:
        """Store one feed's items and (when given) its new fetch state in one transaction.

        A crash leaves either both or neither: a cursor is never saved without its items.
        Returns (new, updated).
        """
        return self.save_many([(feed, network, rows, state)], answer_rule, now)[0]

    def save_many(self, batches: list[tuple[str, str, list[dict[str, Any]], FetchState | None]],
                  answer_rule: AnswerRule, now: int) -> list[tuple[int, int]]:
        """Several feeds' batches in one transaction (one commit for a whole wave of
        small feeds), each with its own fetch state: still all or nothing."""
        out: list[tuple[int, int]] = [(0, 0)] * len(batches)
        with self._write() as c:
            # Only feeds holding snoozed items need the wake-up check (most hold none);
            # a wave of fetch states alone (a warm pull) wakes nothing.
            if any(rows for _, _, rows, _ in batches):
                self._snoozy = {r[0] for r in c.execute("SELECT DISTINCT feed FROM items WHERE snoozed_until IS NOT NULL")}
            # The wave is stored a round at a time, each feed at most once a round: a
            # streamed feed's next batch must read what its previous one wrote. Feeds
            # never share rows, so a round's feeds are read and written together.
            left = [i for i, (_, _, rows, _) in enumerate(batches) if rows]
            while left:
                seen: set[str] = set()
                now_: list[int] = []
                later: list[int] = []
                for i in left:
                    (later if batches[i][0] in seen else now_).append(i)
                    seen.add(batches[i][0])
                counts = self._save_round(c, [batches[i][:3] for i in now_], answer_rule, now)
                for i, n in zip(now_, counts, strict=True):
                    out[i] = n
                left = later
            # One statement for the wave's fetch states (a warm pull is mostly this).
            c.executemany(self._SUCCESS, [(feed, network, s.etag, s.last_modified, s.cursor, now, now)
                                          for feed, network, _, s in batches if s is not None])
        return out

    def _pairs(self, c: Any, cols: str, key: str, pairs: list[tuple[str, str]], where: str = "",
               distinct: bool = False) -> list[Any]:
        """`SELECT cols FROM items` where (feed, key) is one of `pairs` [and `where`].

        Here a query per feed and chunk: SQLite has no round trip to save, and its
        planner looks each id up in the (feed, key) index. PostgresStore asks for all
        the pairs at once."""
        by_feed: dict[str, list[str]] = {}
        for feed, k in dict.fromkeys(pairs):
            by_feed.setdefault(feed, []).append(k)
        out: list[Any] = []
        for feed, keys in by_feed.items():
            for part in _chunks(keys):
                out += c.execute(f"SELECT {'DISTINCT ' if distinct else ''}{cols} FROM items WHERE feed = ?"
                                 f" AND {key} IN ({','.join('?' * len(part))}){where}", (feed, *part)).fetchall()
        return out

    def _save(self, c: sqlite3.Connection, feed: str, network: str, rows: list[dict[str, Any]],
              answer_rule: AnswerRule, now: int) -> tuple[int, int]:
        return self._save_round(c, [(feed, network, rows)], answer_rule, now)[0]

    def _save_round(self, c: sqlite3.Connection, batches: list[tuple[str, str, list[dict[str, Any]]]],
                    answer_rule: AnswerRule, now: int) -> list[tuple[int, int]]:
        """Read what the batches touch, let listen.threads decide for each feed, apply its
        intents. Each feed at most once in `batches`; every read and write covers them all."""
        existing: dict[str, dict[str, Any]] = {feed: {} for feed, _, _ in batches}
        cols = f"id, feed, native_id, thread_id, {', '.join(CONTENT)}, {', '.join(FLAG_COLUMNS[:2])}, flags_version"
        for row in self._pairs(c, cols, "native_id", [(feed, k) for feed, _, rows in batches
                                                      for k in dict.fromkeys(r["native_id"] for r in rows)]):
            existing[row["feed"]][row["native_id"]] = row
        wanted: list[tuple[str, str]] = []
        for feed, _, rows in batches:
            threads.fill_dates(rows, existing[feed], now)
            wanted += [(feed, p) for p in threads.parents_to_look_up(rows, existing[feed])]
        parent_threads: dict[str, dict[str, str]] = {feed: {} for feed, _, _ in batches}
        for r in self._pairs(c, "feed, native_id, thread_id", "native_id", wanted):  # one query, not one each
            parent_threads[r[0]][r[1]] = r[2]
        plans = [threads.plan_batch(feed, network, rows, existing[feed], parent_threads[feed], now)
                 for feed, network, rows in batches]

        ucols = threads.UPDATE_COLUMNS
        # In id order, the order every writer of items takes rows in: PostgreSQL locks each
        # row as it is updated, and two writers taking rows in opposite orders deadlock.
        updates = sorted((u for plan in plans for u in plan.updates), key=lambda u: u.id)
        edits = [(u.id, u.replaced_text, now) for u in updates if u.replaced_text is not None]
        if edits:
            c.executemany("INSERT INTO item_edits (item_id, text, replaced_at) VALUES (?, ?, ?)", edits)
        if updates:
            c.executemany(f"UPDATE items SET {', '.join(f'{k} = ?' for k in ucols)}, edits = edits + ? WHERE id = ?",
                          [[u.values[k] for k in ucols] + [int(u.replaced_text is not None), u.id] for u in updates])
        inserts = [v for plan in plans for v in plan.inserts]
        if inserts:
            c.executemany(f"INSERT INTO items ({', '.join(INSERT_COLUMNS)}) VALUES ({', '.join('?' * len(INSERT_COLUMNS))})"
                          f" ON CONFLICT (feed, native_id) DO NOTHING",
                          [[v[k] for k in INSERT_COLUMNS] for v in inserts])
        touched = {feed: set(plan.touched) for (feed, _, _), plan in zip(batches, plans, strict=True)}
        reroots = {feed: plan.reroots for (feed, _, _), plan in zip(batches, plans, strict=True)}
        found = self._pairs(c, "feed, thread_id", "thread_id",
                            [(feed, guess) for feed, guesses in reroots.items() for guess in guesses], distinct=True)
        moves = sorted({(reroots[feed][guess], feed, guess) for feed, guess in found}, key=lambda m: (m[1], m[2]))
        if moves:
            c.executemany("UPDATE items SET thread_id = ? WHERE feed = ? AND thread_id = ?", moves)
        for root, feed, _ in moves:
            touched[feed].add(root)
        mentions = {feed: [v for v in plan.inserts if not v["ours"]] for (feed, _, _), plan in zip(batches, plans, strict=True)}
        for feed, arrivals in mentions.items():
            self._wake_snoozed(c, feed, arrivals)

        # A new mention changes who is answered only if a reply of ours to it was
        # stored before it (replies can arrive first). Our new replies touch their
        # parents' threads below. Nothing else needs the rule re-run.
        parents_to_find = {(feed, p) for (feed, _, _), plan in zip(batches, plans, strict=True) for p in plan.parents}
        parents_to_find.update((r[0], r[1]) for r in self._pairs(
            c, "feed, in_reply_to", "in_reply_to", [(feed, v["native_id"]) for feed, vs in mentions.items() for v in vs],
            " AND ours = 1", distinct=True))
        # No DISTINCT here: with it SQLite walks the whole (feed, thread_id) index
        # instead of looking the ids up, and every batch costs more than the last.
        for r in self._pairs(c, "feed, thread_id", "native_id", sorted(parents_to_find)):
            touched[r[0]].add(r[1])
        self._recompute_answered_many(c, touched, answer_rule)
        return [plan.counts for plan in plans]

    def _wake_snoozed(self, c: sqlite3.Connection, feed: str, arrivals: list[dict[str, Any]]) -> None:
        if not arrivals or feed not in getattr(self, "_snoozy", (feed,)):
            return
        snoozed = c.execute("SELECT id, native_id, thread_id, author_key FROM items"
                            " WHERE feed = ? AND snoozed_until IS NOT NULL", (feed,)).fetchall()
        wake = threads.snoozes_to_wake(snoozed, arrivals)
        if wake:
            c.executemany("UPDATE items SET snoozed_until = NULL WHERE id = ?", [(i,) for i in sorted(wake)])

    def _recompute_answered(self, c: sqlite3.Connection, feed: str, touched: set[str], rule: AnswerRule) -> None:
        self._recompute_answered_many(c, {feed: touched}, rule)

    def _recompute_answered_many(self, c: sqlite3.Connection, touched: dict[str, set[str]], rule: AnswerRule) -> None:
        """Re-run the answer rule over the touched threads of each feed, and store what changed."""
        mentions = self._pairs(c, "id, feed, native_id, author_key, created_at, in_reply_to, answered_at", "thread_id",
                               [(feed, t) for feed, ts in touched.items() for t in sorted(ts)], " AND ours = 0")
        if not mentions:
            return
        replies = self._pairs(c, "feed, native_id, author_key, created_at, in_reply_to", "in_reply_to",
                              [(m["feed"], m["native_id"]) for m in mentions], " AND ours = 1")
        by_feed: dict[str, tuple[list[Any], list[Any]]] = {}
        for m in mentions:
            by_feed.setdefault(m["feed"], ([], []))[0].append(m)
        for r in replies:
            by_feed[r["feed"]][1].append(r)
        changes: list[tuple[int | None, int]] = [
            ch for ms, rs in by_feed.values() for ch in threads.answered_changes(ms, rs, rule)]
        changes.sort(key=lambda ch: ch[1])  # by id: the lock order of every writer of items (see _save_round)
        if changes:
            c.executemany("UPDATE items SET answered_at = ? WHERE id = ?", changes)

    def apply_identity(self, identity: Identity, answer_rule: AnswerRule, force: bool = False) -> int:
        """Re-decide `ours` for stored items when [identity] names changed (with `force`,
        whether or not they did: `listen reflag`). Returns items changed."""
        fp = identity.fingerprint()
        with self._errors():
            row = self.conn.execute("SELECT value FROM meta WHERE key = 'identity'").fetchone()
        if row is not None and row[0] == fp and not force:
            return 0
        with self._write() as c:
            changed: list[Any] = []
            last = 0
            while True:  # in slices: the rule is Python's (listen.threads), the rows come to it
                rows = c.execute("SELECT id, feed, thread_id, in_reply_to, ours_hint, author, author_name, ours"
                                 " FROM items WHERE id > ? ORDER BY id LIMIT 20000", (last,)).fetchall()
                if not rows:
                    break
                last = rows[-1]["id"]
                changed += threads.ours_changes(rows, identity)
            c.executemany("UPDATE items SET ours = ? WHERE id = ?", [(1 - r["ours"], r["id"]) for r in changed])
            by_feed: dict[str, set[str]] = {}
            for r in changed:
                feed, parent = r["feed"], r["in_reply_to"]
                by_feed.setdefault(feed, set()).add(r["thread_id"])
                if parent:
                    t = c.execute("SELECT thread_id FROM items WHERE feed = ? AND native_id = ?", (feed, parent)).fetchone()
                    if t:
                        by_feed[feed].add(t[0])
            for feed, touched in by_feed.items():
                self._recompute_answered(c, feed, touched, answer_rule)
            c.execute("INSERT INTO meta (key, value) VALUES ('identity', ?)"
                      " ON CONFLICT (key) DO UPDATE SET value = excluded.value", (fp,))
        return len(changed)

    def stale_flags(self, version: str, batch: int = 2000, since: int | None = None) -> Iterator[list[tuple[int, str]]]:
        """(id, text) of items flagged by another detector version, a batch at a time;
        with `since`, only items written at or after it (unix seconds)."""
        last = 0
        # Every pull asks this of the recent window, and usually finds nothing:
        # the created_at index keeps that a short range scan, not a table scan.
        source, recent = ("items", "") if since is None else (self.dialect.items_by("items_created"), " AND created_at >= ?")
        while True:
            with self._errors():
                rows = self.conn.execute(
                    f"SELECT id, text FROM {source} WHERE id > ? AND ours = 0 AND coalesce(flags_version, '') != ?"
                    + recent + " ORDER BY id LIMIT ?",
                    (last, version, batch) if since is None else (last, version, since, batch)).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield [(r[0], r[1]) for r in rows]

    def update_flags(self, updates: list[dict[str, Any]]) -> None:
        # By id, the order every flag writer takes rows in: PostgreSQL would deadlock two in opposite orders.
        ordered = sorted(updates, key=lambda u: int(u["id"]))
        with self._write() as c:
            c.executemany(f"UPDATE items SET {', '.join(f'{k} = :{k}' for k in FLAG_COLUMNS)} WHERE id = :id", ordered)

    def import_rows(self, rows: list[dict[str, Any]]) -> tuple[int, int]:
        """Restore exported items as they were, in one transaction (listen.importer). Returns (new, updated).

        Nothing is re-derived: flags, answers and triage state are the record's. An item
        already stored (same feed and native id) takes the record's values and keeps its
        id; a new one takes the record's `id` when no other item holds it.
        """
        cols = IMPORT_COLUMNS
        rows = [{**r, "assignee_key": normalise_name(r.get("assignee")) or None} for r in rows]  # as assign keys it
        kept = ("feed", "native_id", "first_seen")
        sql = (f"INSERT INTO items (id, {', '.join(cols)}) VALUES"
               f" (CASE WHEN CAST(:id AS BIGINT) IS NULL OR EXISTS (SELECT 1 FROM items WHERE id = CAST(:id AS BIGINT))"
               f" THEN {self.dialect.new_id} ELSE CAST(:id AS BIGINT) END,"
               f" {', '.join(':' + k for k in cols)}) ON CONFLICT (feed, native_id) DO UPDATE SET"
               f" {', '.join(f'{k} = excluded.{k}' for k in cols if k not in kept)}")
        keys: dict[str, set[str]] = {}
        for r in rows:
            keys.setdefault(r["feed"], set()).add(r["native_id"])
        with self._write() as c:
            stored = 0
            for feed, ids in keys.items():
                for part in _chunks(sorted(ids)):
                    stored += c.execute(f"SELECT count(*) FROM items WHERE feed = ? AND native_id IN"
                                        f" ({','.join('?' * len(part))})", (feed, *part)).fetchone()[0]
            c.executemany("INSERT INTO feeds (name, network) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                          sorted({(r["feed"], r["network"]) for r in rows}))
            c.executemany(sql, rows)
        new = sum(len(ids) for ids in keys.values()) - stored
        return new, len(rows) - new

    # -- reading ----------------------------------------------------------

    def _item(self, row: sqlite3.Row) -> Item:
        return Item(
            id=str(row["id"]), feed=row["feed"], network=row["network"], native_id=row["native_id"],
            author=row["author"], author_name=row["author_name"], text=row["text"],
            created_at=datetime.fromtimestamp(row["created_at"], timezone.utc), url=row["url"], in_reply_to=row["in_reply_to"],
            thread_id=row["thread_id"], title=row["title"], ours=bool(row["ours"]),
            question=bool(row["question"]), negative=bool(row["negative"]),
            reasons=json.loads(row["reasons"] or "[]"), state=row["state"],
            snoozed_until=_dt(row["snoozed_until"]), answered_at=_dt(row["answered_at"]),
            edited=bool(row["edits"]), addressed=bool(row["addressed"]), assignee=row["assignee"],
        )

    _ITEM_COLUMNS = ("id, feed, network, native_id, author, author_name, text, created_at, url, in_reply_to,"
                     " thread_id, title, ours, question, negative, addressed, reasons, state, snoozed_until,"
                     " answered_at, edits, assignee")

    def _inbox_where(self, now: int, max_age: int, include_unflagged: bool, feeds: list[str] | None,
                     since: int | None, assignee: str | None = None, unassigned: bool = False
                     ) -> tuple[str, list[Any]]:
        # The rule is listen.waiting's; this only adds the filters people choose.
        where, params = waiting.to_sql(waiting.inbox_terms(include_unflagged), waiting.inbox_env(now, max_age, since))
        if feeds:
            where += f" AND feed IN ({','.join('?' * len(feeds))})"
            params += feeds
        if assignee is not None:
            # Matched as identity names are (case, @, spaces); see schema migration 6.
            where += " AND assignee_key = ?"
            params.append(normalise_name(assignee))
        if unassigned:
            where += " AND assignee IS NULL"
        return where, params

    def inbox(self, now: int, *, max_age: int, include_unflagged: bool = False, feeds: list[str] | None = None,
              since: int | None = None, limit: int | None = None, assignee: str | None = None,
              unassigned: bool = False) -> list[Item]:
        where, params = self._inbox_where(now, max_age, include_unflagged, feeds, since, assignee, unassigned)
        sql = f"SELECT {self._ITEM_COLUMNS} FROM items WHERE {where} ORDER BY {waiting.urgency_sql()} DESC, id"
        params.append(now)
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        with self._errors():
            return [self._item(r) for r in self.conn.execute(sql, params)]

    def inbox_summary(self, now: int, *, max_age: int, include_unflagged: bool = False,
                      feeds: list[str] | None = None, since: int | None = None, assignee: str | None = None,
                      unassigned: bool = False) -> dict[str, int]:
        where, params = self._inbox_where(now, max_age, include_unflagged, feeds, since, assignee, unassigned)
        with self._errors():
            r = self.conn.execute(
                f"SELECT count(*), coalesce(sum(negative), 0), coalesce(sum(question), 0), min(created_at),"
                f" count(DISTINCT author_key) FROM items WHERE {where}", params).fetchone()
        return {"items": int(r[0]), "negative": int(r[1]), "questions": int(r[2]),
                "oldest_seconds": (now - int(r[3])) if r[3] is not None else 0, "people": int(r[4])}

    def item(self, item_id: str) -> Item:
        key = str(item_id).strip().lstrip("#")
        if not key.isdigit():
            raise NotFound(f"no item {item_id!r}: ids are numbers, as `listen inbox` shows them")
        with self._errors():
            row = self.conn.execute(f"SELECT {self._ITEM_COLUMNS} FROM items WHERE id = ?", (int(key),)).fetchone()
        if row is None:
            raise NotFound(f"no item {item_id!r} in {self.path}")
        return self._item(row)

    def conversation(self, item: Item) -> list[Item]:
        """The item's thread, plus our replies to it that sit outside the thread, oldest first."""
        with self._errors():
            rows = self.conn.execute(
                f"SELECT {self._ITEM_COLUMNS} FROM items WHERE feed = ? AND (thread_id = ? OR native_id = ?)"
                f" UNION SELECT {self._ITEM_COLUMNS} FROM items WHERE feed = ? AND in_reply_to = ?"
                f" ORDER BY created_at, id LIMIT 2000",
                (item.feed, item.thread_id, item.thread_id, item.feed, item.native_id)).fetchall()
        return [self._item(r) for r in rows]

    def set_state(self, ids: list[str], state: str, now: int, snoozed_until: int | None = None,
                  actor: str | None = None) -> list[Item]:
        items = [self.item(i) for i in ids]  # NotFound before anything changes
        action = "snooze" if snoozed_until is not None else {"done": "done", "ignored": "ignore"}.get(state, "reopen")
        detail = None if snoozed_until is None else str(snoozed_until)
        with self._write() as c:
            c.executemany("UPDATE items SET state = ?, snoozed_until = ?, triaged_at = ? WHERE id = ?",
                          # In id order, as every writer of items goes (see _save_round): no deadlock with a pull
                          [(state, snoozed_until, now, int(i.id)) for i in sorted(items, key=lambda i: int(i.id))])
            self._log(c, [int(i.id) for i in items], action, detail, actor, now)
        return [self.item(i.id) for i in items]

    def feed_statuses(self, counts: bool = True) -> dict[str, FeedStatus]:
        """Each feed's fetch record; `counts` adds how many items it holds (a scan the inbox skips)."""
        n = "(SELECT count(*) FROM items i WHERE i.feed = f.name)" if counts else "0"
        with self._errors():
            rows = self.conn.execute(f"SELECT f.*, {n} AS n FROM feeds f").fetchall()
        return {r["name"]: FeedStatus(r["name"], r["network"], _dt(r["last_attempt"]), _dt(r["last_success"]),
                                      r["last_error"], _dt(r["error_since"]), r["n"]) for r in rows}

    def stats(self, now: int, *, since: int, feeds: list[str] | None = None, reply_within: int = DEFAULT_REPLY_WITHIN,
              max_age: int = DEFAULT_MAX_AGE, reply_targets: dict[str, int] | None = None) -> dict[str, Any]:
        """`listen stats` figures: SQL aggregates, see storage/stats.py."""
        from listen.storage.stats import compute

        with self._errors():  # a damaged file is reported in words, not a traceback
            return compute(self.conn, now=now, since=since, feeds=feeds, reply_within=reply_within, max_age=max_age,
                           dialect=self.dialect, reply_targets=reply_targets)

    def iter_items(self, since: int | None = None, batch: int = 5000) -> Iterator[dict[str, Any]]:
        """Every stored item as a plain dict, streamed in id order (exports)."""
        last = 0
        cols = self._ITEM_COLUMNS + ", ours_hint, question_score, negative_score, first_seen, updated_at, triaged_at"
        while True:
            with self._errors():
                rows = self.conn.execute(
                    f"SELECT {cols} FROM items WHERE id > ? AND created_at >= ? ORDER BY id LIMIT ?",
                    (last, since or 0, batch)).fetchall()
            if not rows:
                return
            last = rows[-1]["id"]
            for r in rows:
                yield dict(r)

    # -- team triage (issue 13): assignment and who did what ---------------
    # Portable SQL; PostgresStore runs these unchanged.

    def _log(self, c: Any, item_ids: list[int], action: str, detail: str | None, actor: str | None, now: int) -> None:
        c.executemany("INSERT INTO triage_log (item_id, action, detail, actor, at) VALUES (?, ?, ?, ?, ?)",
                      [(i, action, detail, actor, now) for i in item_ids])

    def assign(self, ids: list[str], assignee: str | None, now: int, actor: str | None = None) -> list[Item]:
        """Give items to someone on the team (None: to nobody), and log it."""
        items = [self.item(i) for i in ids]  # NotFound before anything changes
        with self._write() as c:
            c.executemany("UPDATE items SET assignee = ?, assignee_key = ? WHERE id = ?",
                          [(assignee, normalise_name(assignee) or None, int(i.id))
                           for i in sorted(items, key=lambda i: int(i.id))])  # id order (see _save_round)
            self._log(c, [int(i.id) for i in items], "assign" if assignee else "unassign", assignee, actor, now)
        return [self.item(i.id) for i in items]

    def record_triage(self, ids: list[str], action: str, now: int, actor: str | None = None,
                      detail: str | None = None) -> None:
        """Log an action taken elsewhere (e.g. `listen mark`) in the items' history."""
        items = [self.item(i) for i in ids]
        with self._write() as c:
            self._log(c, [int(i.id) for i in items], action, detail, actor, now)

    def tables(self) -> list[str]:
        with self._errors():
            return [r[0] for r in self.conn.execute(self.dialect.tables_sql)]

    def copy_into(self, other: SqliteStore) -> dict[str, int]:
        """Everything in this database, into `other` (listen migrate). Rows newly written, per table."""
        from listen.storage.copy import copy_store

        return copy_store(self, other)

    def history(self, item_id: str) -> list[dict[str, Any]]:
        """Who did what to the item, oldest first: action, detail, actor, at (unix seconds)."""
        item = self.item(item_id)
        with self._errors():
            rows = self.conn.execute("SELECT action, detail, actor, at FROM triage_log WHERE item_id = ?"
                                     " ORDER BY at, id", (int(item.id),)).fetchall()
        return [{"action": r[0], "detail": r[1], "actor": r[2], "at": int(r[3])} for r in rows]

    # -- threads: parents to fetch (issue 12) ---------------------------------

    def missing_parents(self, feed: str, since: int, limit: int) -> list[str]:
        """Native ids our replies in `feed` (created since `since`) answer but which are not
        stored: until they are, those replies answer nobody. Newest replies first."""
        if limit <= 0:
            return []
        with self._errors():
            rows = self.conn.execute(
                "SELECT o.in_reply_to, max(o.created_at) AS latest FROM items o"
                " WHERE o.feed = ? AND o.ours = 1 AND o.in_reply_to IS NOT NULL AND o.created_at >= ?"
                " AND NOT EXISTS (SELECT 1 FROM items p WHERE p.feed = o.feed AND p.native_id = o.in_reply_to)"
                f" GROUP BY o.in_reply_to ORDER BY latest DESC, o.in_reply_to{self.dialect.bytewise} LIMIT ?",
                (feed, since, limit)).fetchall()
        return [r[0] for r in rows]

    # -- corrections and learning (listen mark, listen flags) ---------------
    # Portable SQL only: the PostgreSQL backend implements these same statements.

    def save_marks(self, marks: list[dict[str, Any]]) -> None:
        """Upsert corrections (feed, native_id, question, negative, marked_at); a flag
        left None keeps what an earlier mark said about it."""
        ordered = sorted(marks, key=lambda m: (m["feed"], m["native_id"]))  # one lock order (see claim_alerts)
        with self._write() as c:
            c.executemany(
                "INSERT INTO corrections (feed, native_id, question, negative, marked_at)"
                " VALUES (:feed, :native_id, :question, :negative, :marked_at)"
                " ON CONFLICT (feed, native_id) DO UPDATE SET"
                " question = coalesce(excluded.question, corrections.question),"
                " negative = coalesce(excluded.negative, corrections.negative),"
                " marked_at = excluded.marked_at", ordered)

    def corrections(self) -> list[dict[str, Any]]:
        """Every correction with its item's id, network, author and text (None when the item is not stored)."""
        with self._errors():
            rows = self.conn.execute(
                "SELECT c.feed, c.native_id, c.question, c.negative, c.marked_at, i.id, i.network, i.author,"
                " i.text FROM corrections c LEFT JOIN items i ON i.feed = c.feed AND i.native_id = c.native_id"
                f" ORDER BY c.marked_at, c.feed{self.dialect.bytewise}, c.native_id{self.dialect.bytewise}").fetchall()
        return [dict(r) for r in rows]

    def items_for_flagging(self, ids: list[int]) -> list[dict[str, Any]]:
        """What the flag policy reads of stored items: id, feed, network, native_id, author, author_name, text, raw.
        In id order within each chunk of ids, on either backend."""
        out: list[dict[str, Any]] = []
        with self._errors():
            for part in _chunks(ids):
                out += [dict(r) for r in self.conn.execute(
                    "SELECT id, feed, network, native_id, author, author_name, text, raw FROM items"
                    f" WHERE id IN ({','.join('?' * len(part))}) ORDER BY id", part)]
        return out

    def meta_get(self, key: str) -> str | None:
        with self._errors():
            row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def meta_set(self, key: str, value: str) -> None:
        with self._write() as c:
            c.execute("INSERT INTO meta (key, value) VALUES (?, ?)"
                      " ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))

    # -- end of corrections and learning ------------------------------------

    # -- alerts (listen/alerts) -------------------------------------------
    # Portable SQL only in this block (standard upserts, no SQLite functions):
    # a PostgreSQL store implements the same five methods with the same text.

    def alert_records(self, alert: str) -> dict[str, tuple[str, int]]:
        """{key: (state, claimed_at)} of everything recorded for one alert target."""
        with self._errors():
            rows = self.conn.execute("SELECT key, state, claimed_at FROM alert_sends WHERE alert = ?",
                                     (alert,)).fetchall()
        return {r[0]: (r[1], r[2]) for r in rows}

    def claim_alerts(self, alert: str, keys: list[str], token: str, now: int, stale_before: int) -> list[str]:
        """Claim `keys` for sending, in one committed transaction; returns those this `token` now holds.

        A key is taken when it has no row, when its last send failed, or when
        its claim is a 'sending' left before `stale_before` (its run died).
        A key sent, or claimed lately by a run still going, is not.
        """
        if not keys:
            return []
        with self._write() as c:
            c.executemany(
                "INSERT INTO alert_sends (alert, key, state, claim, claimed_at, attempts)"
                " VALUES (?, ?, 'sending', ?, ?, 1)"
                " ON CONFLICT (alert, key) DO UPDATE SET state = 'sending', claim = excluded.claim,"
                " claimed_at = excluded.claimed_at, attempts = alert_sends.attempts + 1"
                " WHERE alert_sends.state = 'failed'"
                " OR (alert_sends.state = 'sending' AND alert_sends.claimed_at < ?)",
                # In key order, as every writer of alert_sends goes: PostgreSQL locks each row
                # as it is written, and two runs taking rows in opposite orders deadlock.
                [(alert, k, token, now, stale_before) for k in sorted(keys)])
            held: set[str] = set()
            for part in _chunks(keys):
                held.update(r[0] for r in c.execute(
                    f"SELECT key FROM alert_sends WHERE alert = ? AND claim = ? AND state = 'sending'"
                    f" AND key IN ({','.join('?' * len(part))})", (alert, token, *part)))
        return [k for k in keys if k in held]

    def finish_alerts(self, alert: str, keys: list[str], token: str, state: str, now: int,
                      error: str | None = None) -> None:
        """Mark this run's claims 'sent' or 'failed' (with the error, secrets already removed)."""
        with self._write() as c:
            c.executemany(
                "UPDATE alert_sends SET state = ?, sent_at = ?, last_error = ?"
                " WHERE alert = ? AND key = ? AND claim = ?",
                [(state, now if state == "sent" else None, error, alert, k, token) for k in sorted(keys)])

    def forget_alerts(self, alert: str, keys: list[str]) -> None:
        """Drop pending (failed, or claimed by a dead run) records: their items no longer wait."""
        if not keys:
            return
        with self._write() as c:
            c.executemany("DELETE FROM alert_sends WHERE alert = ? AND key = ? AND state <> 'sent'",
                          [(alert, k) for k in sorted(keys)])

    def prune_alerts(self, before: int) -> int:
        """Forget records claimed before `before`: their items have left the inbox's window."""
        with self._write() as c:
            return c.execute("DELETE FROM alert_sends WHERE claimed_at < ?", (before,)).rowcount
