"""The schema and its migrations. The only place that changes tables.

The version lives in PRAGMA user_version. A new database gets the current
schema in one step; an older one is upgraded in place, one numbered migration
at a time, each in the open transaction; a newer one is refused.
"""

from __future__ import annotations

import sqlite3
from typing import Any, Callable

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

# Each migration upgrades from version N-1 to N and receives a sqlite-utils
# Database on the open transaction (its add_column/transform do the table
# rebuilds SQLite's ALTER TABLE cannot). Append only; never edit one that has
# shipped. The docstring says why it exists.


ALERT_SENDS = CURRENT[CURRENT.index("CREATE TABLE alert_sends"):].split(";")[0]


def _alert_sends(db: Any) -> None:
    """Alerts (issue 14): a record of what each alert target was sent, so nothing goes out twice."""
    db.execute(ALERT_SENDS)


MIGRATIONS: list[Callable[[Any], None]] = [_alert_sends]

VERSION = 1 + len(MIGRATIONS)


class FutureSchema(Exception):
    def __init__(self, found: int):
        super().__init__(found)
        self.found = found


def ensure(conn: sqlite3.Connection) -> bool:
    """Bring the schema to VERSION inside the caller's write transaction. True if anything changed."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == VERSION:
        return False
    if version > VERSION:
        raise FutureSchema(version)
    if version == 0:
        if conn.execute("SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()[0]:
            raise FutureSchema(-1)  # tables but no version: not a listen database
        for statement in CURRENT.split(";"):
            if statement.strip():
                conn.execute(statement)
    else:
        # Imported only here: opening an up-to-date database costs nothing extra.
        import sqlite_utils

        db = sqlite_utils.Database(conn)
        for migrate in MIGRATIONS[version - 1 :]:
            migrate(db)
    conn.execute(f"PRAGMA user_version = {VERSION}")
    return True
