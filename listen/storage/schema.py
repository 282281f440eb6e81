"""The schema and its migrations. The only place that changes tables.

The version lives in PRAGMA user_version. A new database gets the current
schema in one step; an older one is upgraded in place, one numbered migration
at a time, each in the open transaction; a newer one is refused.
"""

from __future__ import annotations

import sqlite3

# Statements are split on ";" (no semicolons in the comments).
CURRENT = """
CREATE TABLE items (
    id INTEGER PRIMARY KEY,
    feed TEXT NOT NULL,
    network TEXT NOT NULL,
    native_id TEXT NOT NULL,
    author TEXT NOT NULL,
    author_name TEXT,
    author_key TEXT NOT NULL,          -- normalised author: "the same person"
    text TEXT NOT NULL,
    created_at INTEGER NOT NULL,       -- unix seconds, UTC
    url TEXT,
    in_reply_to TEXT,                  -- native id of the parent
    thread_id TEXT NOT NULL,           -- native id of the conversation's root (its own when alone)
    title TEXT,
    ours_hint INTEGER,                 -- what the source said (token owner), NULL if it did not know
    ours INTEGER NOT NULL DEFAULT 0,
    question INTEGER NOT NULL DEFAULT 0,
    negative INTEGER NOT NULL DEFAULT 0,
    addressed INTEGER NOT NULL DEFAULT 0,
    question_score REAL NOT NULL DEFAULT 0,
    negative_score REAL NOT NULL DEFAULT 0,
    reasons TEXT NOT NULL DEFAULT '[]',
    flags_version TEXT,
    answered_at INTEGER,               -- our first answer, derived from the thread
    state TEXT NOT NULL DEFAULT 'open',-- open | done | ignored
    snoozed_until INTEGER,
    triaged_at INTEGER,
    first_seen INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    edits INTEGER NOT NULL DEFAULT 0,
    raw TEXT,                          -- the payload as received, for re-flagging and re-parsing
    assignee TEXT,                     -- who on the team answers it (listen assign), as first written
    assignee_key TEXT,                 -- normalised assignee (text.normalise_name), what --mine matches
    UNIQUE (feed, native_id)
);
CREATE INDEX items_thread ON items (feed, thread_id);
CREATE INDEX items_reply ON items (feed, in_reply_to) WHERE in_reply_to IS NOT NULL;
CREATE INDEX items_created ON items (created_at);
-- The inbox reads only open, unanswered mentions of the last max_age: this
-- index holds just those, so its cost follows the inbox, not the history.
CREATE INDEX items_unanswered ON items (created_at)
    WHERE ours = 0 AND answered_at IS NULL AND state = 'open';

-- Snoozed items are few: this lets each new message check them without a scan.
CREATE INDEX items_snoozed ON items (feed) WHERE snoozed_until IS NOT NULL;

-- Each pull asks which parents our recent replies answer are not stored (issue 12):
-- our replies are few, so this keeps that to them, not a scan of the feed.
CREATE INDEX items_our_replies ON items (feed, created_at) WHERE ours = 1 AND in_reply_to IS NOT NULL;

CREATE TABLE item_edits (
    item_id INTEGER NOT NULL REFERENCES items (id),
    text TEXT NOT NULL,                -- the text before the edit
    replaced_at INTEGER NOT NULL
);
CREATE INDEX item_edits_item ON item_edits (item_id);

CREATE TABLE feeds (
    name TEXT PRIMARY KEY,
    network TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    cursor TEXT,
    last_attempt INTEGER,
    last_success INTEGER,
    last_error TEXT,
    error_since INTEGER,               -- first failure of the current run of failures
    fetch_after INTEGER                -- not before this (Retry-After beyond what a pull waits)
);

CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);

-- Who did what to an item, and when: every triage action, by whoever made it.
CREATE TABLE triage_log (
    id INTEGER PRIMARY KEY,
    item_id INTEGER NOT NULL REFERENCES items (id),
    action TEXT NOT NULL,              -- done | ignore | snooze | reopen | assign | unassign | mark
    detail TEXT,                       -- e.g. the assignee, the snooze's end, the marks
    actor TEXT,                        -- [identity] me or $LISTEN_USER, NULL when unknown
    at INTEGER NOT NULL
);
CREATE INDEX triage_log_item ON triage_log (item_id);

-- `listen mark`: the user's own word on an item's flags (1/0, NULL = not marked).
-- Keyed like items, not by their id, so a correction survives export/import
-- and arrives before or after its item.
CREATE TABLE corrections (
    feed TEXT NOT NULL,
    native_id TEXT NOT NULL,
    question INTEGER,
    negative INTEGER,
    marked_at INTEGER NOT NULL,
    PRIMARY KEY (feed, native_id)
);

-- What each [[alerts]] target was sent (listen/alerts): one row per target and
-- item id (or per digest day, key 'digest:YYYY-MM-DD'). A row is claimed
-- ('sending') in its own transaction before the message goes out, then marked
-- 'sent' or 'failed'. No URL, address or secret is ever stored here.
CREATE TABLE alert_sends (
    alert TEXT NOT NULL,
    key TEXT NOT NULL,
    state TEXT NOT NULL,               -- sending | sent | failed
    claim TEXT NOT NULL,               -- the claiming run's random token
    claimed_at INTEGER NOT NULL,
    sent_at INTEGER,
    attempts INTEGER NOT NULL DEFAULT 1,
    last_error TEXT,
    PRIMARY KEY (alert, key)
);
"""

# Each migration brings the schema from version N-1 to N: portable SQL statements that
# SQLite (ensure, below) and PostgreSQL (storage/postgres.py) both run, each in the open
# transaction. Append only; never edit one that has shipped; the comment says why.
# Plain SQL rather than sqlite-utils' Migrations: every change so far is an ADD COLUMN or
# a new table or index, which both databases do in place, and one list serves both. A
# change SQLite's ALTER cannot make (a column's type) would be written out here as the
# usual create-copy-rename steps.
SQL_MIGRATIONS: dict[int, list[str]] = {
    # Team triage (issue 13): items.assignee (listen assign) and triage_log, who did what
    # to an item and when.
    2: [
        "ALTER TABLE items ADD COLUMN assignee TEXT",
        "CREATE TABLE triage_log (id INTEGER PRIMARY KEY, item_id INTEGER NOT NULL REFERENCES items (id),"
        " action TEXT NOT NULL, detail TEXT, actor TEXT, at INTEGER NOT NULL)",
        "CREATE INDEX triage_log_item ON triage_log (item_id)",
    ],
    # Issue 12: every pull looks up the parents our recent replies point at; without this
    # index that look-up scans all of a feed's replies (170 ms at 200k items).
    3: [
        "CREATE INDEX IF NOT EXISTS items_our_replies ON items (feed, created_at)"
        " WHERE ours = 1 AND in_reply_to IS NOT NULL",
    ],
    # `listen mark` keeps the user's corrections of flags, which re-pulls, reflag and
    # import must not undo, and which teach the detectors (issue 11).
    4: [
        "CREATE TABLE IF NOT EXISTS corrections (feed TEXT NOT NULL, native_id TEXT NOT NULL,"
        " question INTEGER, negative INTEGER, marked_at INTEGER NOT NULL, PRIMARY KEY (feed, native_id))",
    ],
    # Alerts (issue 14): a record of what each alert target was sent, so nothing goes out twice.
    5: [
        "CREATE TABLE IF NOT EXISTS alert_sends (alert TEXT NOT NULL, key TEXT NOT NULL, state TEXT NOT NULL,"
        " claim TEXT NOT NULL, claimed_at INTEGER NOT NULL, sent_at INTEGER, attempts INTEGER NOT NULL DEFAULT 1,"
        " last_error TEXT, PRIMARY KEY (alert, key))",
    ],
    # Assignees are matched as identity names are (case, a leading @, spaces: text.normalise_name),
    # kept in their own column so the name still shows as written. Compared in Python-made keys,
    # not lower() at query time: SQLite's lower() is ASCII-only and PostgreSQL's follows the
    # database's locale, so the two would disagree. Rows assigned before this get the ASCII
    # approximation below (re-assigning gives the exact key); a name that was only an @ or
    # blank counts as nobody.
    6: [
        "ALTER TABLE items ADD COLUMN assignee_key TEXT",
        "UPDATE items SET assignee_key = lower(trim(CASE WHEN substr(trim(assignee), 1, 1) = '@'"
        " THEN substr(trim(assignee), 2) ELSE assignee END)) WHERE assignee IS NOT NULL",
        "UPDATE items SET assignee = NULL, assignee_key = NULL WHERE assignee_key = ''",
    ],
}

VERSION = 1 + len(SQL_MIGRATIONS)


class FutureSchema(Exception):
    def __init__(self, found: int):
        super().__init__(found)
        self.found = found


def ensure(conn: sqlite3.Connection, migrations: dict[int, list[str]] | None = None) -> bool:
    """Bring the schema to its newest version inside the caller's write transaction.
    True if anything changed. `migrations` defaults to SQL_MIGRATIONS (tests add one)."""
    steps = SQL_MIGRATIONS if migrations is None else migrations
    newest = 1 + len(steps)
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == newest:
        return False
    if version > newest:
        raise FutureSchema(version)
    if version == 0:
        if conn.execute("SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()[0]:
            raise FutureSchema(-1)  # tables but no version: not a listen database
        for statement in CURRENT.split(";"):
            if statement.strip():
                conn.execute(statement)
    else:
        for v in range(version + 1, newest + 1):
            for statement in steps[v]:
                conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {newest}")
    return True
