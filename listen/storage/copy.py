"""`listen migrate`: copy one database, everything in it, into another (SQLite or PostgreSQL).

Both ends are SQL stores (storage/sqlite.py), so this speaks the shared,
portable SQL. Idempotent by construction: items are matched by their natural
key (feed, native id), feeds by name, meta by key; the other tables by their
primary key when it is a natural one (corrections, alert records) and otherwise
(edits, triage history) only the rows the target lacks, with the target's item ids.
Where both sides hold a row, the side that changed it last wins, part by part
(merge_item, merge_feed, NEWER_BY); a tie keeps the target's.
"""

from __future__ import annotations

import os
import secrets
from typing import TYPE_CHECKING, Any, Iterator

from listen.errors import StorageError

if TYPE_CHECKING:
    from listen.storage.sqlite import SqliteStore

BATCH = 5000
CORE = ("items", "feeds", "meta")
# Each database keeps its own: the schema version; open-markers (open:...) are per file; and
# the fingerprint of the [identity] names last applied to its items: the target's items were
# decided by the target's, and the next open must see that the names changed.
SKIP_META = ("schema_version", "identity")
PROBE = "migrate-probe:"  # same_database's short-lived meta key
# Text columns that hold an item's id (besides every item_id): alert records are keyed by
# the item they sent (or by 'digest:<day>', kept as it is). They follow their item's new id.
ITEM_ID_TEXT = {"alert_sends": "key"}


def _columns(store: SqliteStore, table: str) -> list[str]:
    cur = store.conn.execute(f"SELECT * FROM {table} LIMIT 0")
    return [d[0] for d in cur.description]


def same_file(src: Any, path: str | os.PathLike[str]) -> bool:
    """Is `path` the SQLite file store `src` is (another spelling, a link)? Checked before the
    target is opened, so that nothing is created or touched."""
    from listen.storage.postgres import is_url

    if is_url(src.path) or src.path == ":memory:" or not os.path.exists(path):
        return False
    try:
        return os.path.samefile(src.path, path)
    except OSError:
        return False


def same_database(src: Any, dst: Any) -> bool:
    """Are these two stores one database (for PostgreSQL: the same database and schema,
    whatever the URLs say)? Stores of storage/sqlite.py's family (Any, as copy_into's
    `other`: the Store protocol does not name their connection). A row written through one is seen through the other: a host
    name, a port or a search_path spelled differently does not fool that."""
    key = PROBE + secrets.token_hex(8)
    try:
        src.meta_set(key, "1")
    except StorageError:
        return False  # a read-only source: copying into it would fail on its own
    try:
        return bool(dst.meta_get(key) == "1")
    finally:
        try:
            with src._write() as c:
                c.execute("DELETE FROM meta WHERE key = ?", (key,))
        except StorageError:
            pass


def copy_store(src: SqliteStore, dst: SqliteStore) -> dict[str, int]:
    """Copy `src` into `dst`. Returns rows newly written per table (0s on a second run)."""
    counts: dict[str, int] = {}
    with src._errors(), dst._write() as c:
        counts["feeds"], counts["feeds_updated"] = _copy_feeds(src, dst, c)
        ids, counts["items"], counts["items_updated"] = _copy_items(src, dst, c)
        for table in sorted(set(src.tables()) & set(dst.tables())):
            if table not in CORE:
                counts[table] = _copy_hanging(src, dst, c, table, ids)
        counts["meta"] = _copy_meta(src, c)
        if dst.dialect.reset_ids:
            c.execute(dst.dialect.reset_ids)
    return counts


# The columns of an item that say what it is (text, flags, raw...): the side whose
# updated_at is newer wins. Triage (state, snooze) goes by triaged_at, the assignee by
# the newest assign/unassign in each side's triage_log: so a migrate into a target the
# team has been working in never undoes that work with the source's older values.
ITEM_KEPT = ("feed", "native_id", "first_seen")
ITEM_TRIAGE = ("state", "snoozed_until", "triaged_at")
# Who an item is assigned to, as written and as matched (--mine): they travel together.
ITEM_ASSIGNEE = ("assignee", "assignee_key")
FEED_FETCH = ("etag", "last_modified", "cursor", "last_success")
FEED_HEALTH = ("last_attempt", "last_error", "error_since", "fetch_after")
# Tables keyed by something natural: the stamp, in order, that says which row is newer.
NEWER_BY = {"corrections": ("marked_at",), "alert_sends": ("claimed_at", "attempts", "sent_at")}


def _after(a: Any, b: Any) -> bool:
    """Is stamp `a` later than `b`? No stamp is earlier than any."""
    return a is not None and (b is None or a > b)


def merge_item(src: dict[str, Any], dst: dict[str, Any], src_assigned: int | None,
               dst_assigned: int | None) -> dict[str, Any]:
    """The item the target keeps when both sides hold it: each part from the side that
    changed it last, the target's on a tie. `*_assigned`: when each side last (un)assigned it."""
    out = dict(dst)
    if _after(src.get("updated_at"), dst.get("updated_at")):
        out.update({k: v for k, v in src.items()
                    if k not in ITEM_KEPT + ITEM_TRIAGE + ITEM_ASSIGNEE + ("answered_at",)})
    if _after(src.get("triaged_at"), dst.get("triaged_at")):
        out.update({k: src[k] for k in ITEM_TRIAGE if k in src})
    if "assignee" in src and (_after(src_assigned, dst_assigned)
                              or (src_assigned is None and dst_assigned is None and dst.get("assignee") is None)):
        out.update({k: src[k] for k in ITEM_ASSIGNEE if k in src})
    # Our first answer: whichever side saw one, the earlier (a reply pulled on one side
    # marks its question there without touching the question's updated_at).
    answers = [v for v in (src.get("answered_at"), dst.get("answered_at")) if v is not None]
    if "answered_at" in dst:
        out["answered_at"] = min(answers) if answers else None
    return out


def merge_feed(src: dict[str, Any], dst: dict[str, Any]) -> dict[str, Any]:
    """The feed record the target keeps. Its fetch state (ETag, cursor) is the one of the
    side that last pulled it successfully: an older cursor would fetch again, a newer one
    from elsewhere is as good. With no success on record, a target that has a fetch state
    keeps it. Its health (last error, back-off) goes by the last attempt."""
    out = dict(dst)
    fetch = [k for k in FEED_FETCH if k in src and k in dst]
    held = any(dst.get(k) is not None for k in fetch if k != "last_success")
    if _after(src.get("last_success"), dst.get("last_success")) or (
            src.get("last_success") is None and dst.get("last_success") is None and not held):
        out.update({k: src[k] for k in fetch})
    if _after(src.get("last_attempt"), dst.get("last_attempt")):
        out.update({k: src[k] for k in FEED_HEALTH if k in src and k in dst})
    return out


def _copy_feeds(src: SqliteStore, dst: SqliteStore, c: Any) -> tuple[int, int]:
    """Feeds the target lacks, and the newer fetch state of those it has. Returns (new, updated)."""
    cols = [k for k in _columns(src, "feeds") if k in set(_columns(dst, "feeds"))]
    have = {r[0]: dict(zip(cols, tuple(r))) for r in c.execute(f"SELECT {', '.join(cols)} FROM feeds")}
    add, change = [], []
    for r in src.conn.execute(f"SELECT {', '.join(cols)} FROM feeds"):
        row = dict(zip(cols, tuple(r)))
        old = have.get(row["name"])
        if old is None:
            add.append(tuple(row[k] for k in cols))
            continue
        merged = merge_feed(row, old)
        if merged != old:
            change.append(tuple(merged[k] for k in cols if k != "name") + (row["name"],))
    c.executemany(f"INSERT INTO feeds ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
                  f" ON CONFLICT (name) DO NOTHING", add)
    c.executemany(f"UPDATE feeds SET {', '.join(f'{k} = ?' for k in cols if k != 'name')} WHERE name = ?", change)
    return len(add), len(change)


def _assigned(store: SqliteStore, c: Any) -> dict[int, int]:
    """When each item was last assigned or unassigned (by its id in `store`)."""
    if "triage_log" not in store.tables():
        return {}
    rows = c.execute("SELECT item_id, max(at) FROM triage_log WHERE action IN ('assign', 'unassign')"
                     " GROUP BY item_id").fetchall()
    return {int(r[0]): int(r[1]) for r in rows}


def _copy_items(src: SqliteStore, dst: SqliteStore, c: Any) -> tuple[dict[int, int], int, int]:
    """Every item, keeping its id where the target has it free; one the target holds too
    is merged (merge_item). Returns (source id -> target id, new, updated)."""
    cols = [k for k in _columns(src, "items") if k != "id" and k in set(_columns(dst, "items"))]
    insert = (f"INSERT INTO items (id, {', '.join(cols)}) VALUES"
              f" (CASE WHEN EXISTS (SELECT 1 FROM items WHERE id = CAST(? AS BIGINT)) THEN {dst.dialect.new_id}"
              f" ELSE CAST(? AS BIGINT) END, {', '.join('?' * len(cols))})"
              f" ON CONFLICT (feed, native_id) DO NOTHING")
    changing = [k for k in cols if k not in ITEM_KEPT]
    update = f"UPDATE items SET {', '.join(f'{k} = ?' for k in changing)} WHERE id = ?"
    src_assigned, dst_assigned = _assigned(src, src.conn), _assigned(dst, c)
    fi, ni = 1 + cols.index("feed"), 1 + cols.index("native_id")  # in a source row, after its id
    ids: dict[int, int] = {}
    new = updated = 0
    last = 0
    while True:
        rows = src.conn.execute(f"SELECT id, {', '.join(cols)} FROM items WHERE id > ? ORDER BY id LIMIT ?",
                                (last, BATCH)).fetchall()
        if not rows:
            break
        last = rows[-1][0]
        batch = [tuple(r) for r in rows]  # (source id, *cols): a dict only for an item both hold
        keys = [(t[fi], t[ni]) for t in batch]
        before = _target_rows(c, set(keys), cols)
        add, change = [], []
        for t, key in zip(batch, keys):
            old = before.get(key)
            if old is None:
                add.append((t[0], *t))
                continue
            tid, old_row = old
            merged = merge_item(dict(zip(cols, t[1:])), old_row, src_assigned.get(int(t[0])), dst_assigned.get(tid))
            if merged != old_row:
                change.append((tid, tuple(merged[k] for k in changing) + (tid,)))
        c.executemany(insert, add)
        c.executemany(update, [u for _, u in sorted(change)])  # in id order, as every writer of items goes
        new += len(add)
        updated += len(change)
        after = {key: tid for key, (tid, _) in before.items()}
        added = set(keys) - before.keys()
        if added:
            after.update(_target_ids(c, added))
        for t, key in zip(batch, keys):
            ids[int(t[0])] = after[key]
    return ids, new, updated


def _target_rows(c: Any, keys: set[tuple[str, str]], cols: list[str]) -> dict[tuple[str, str], tuple[int, dict[str, Any]]]:
    """The target's id and `cols` (feed and native_id among them) of each (feed, native id) it holds."""
    out: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
    for feed, part in _parts(keys):
        q = f"SELECT id, {', '.join(cols)} FROM items WHERE feed = ? AND native_id IN ({','.join('?' * len(part))})"
        for r in c.execute(q, (feed, *part)).fetchall():
            row = dict(zip(cols, tuple(r)[1:]))
            out[feed, row["native_id"]] = (int(r[0]), row)
    return out


def _target_ids(c: Any, keys: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = {}
    for feed, part in _parts(keys):
        q = f"SELECT native_id, id FROM items WHERE feed = ? AND native_id IN ({','.join('?' * len(part))})"
        out.update(((feed, nid), int(tid)) for nid, tid in c.execute(q, (feed, *part)).fetchall())
    return out


def _parts(keys: set[tuple[str, str]]) -> Iterator[tuple[str, list[str]]]:
    """(feed, up to 500 of its native ids): a look-up's IN list kept short."""
    by_feed: dict[str, list[str]] = {}
    for feed, nid in keys:
        by_feed.setdefault(feed, []).append(nid)
    for feed, nids in by_feed.items():
        for i in range(0, len(nids), 500):
            yield feed, nids[i:i + 500]


def _primary_key(store: SqliteStore, table: str) -> list[str]:
    return [r[0] for r in store.conn.execute(store.dialect.primary_key_sql, (table,))]


def _copy_hanging(src: SqliteStore, dst: SqliteStore, c: Any, table: str, ids: dict[int, int]) -> int:
    """Rows of a table beside items (edits, history, corrections, alert records...) that the
    target lacks, or holds differently. Returns how many were written.

    A table keyed by something natural (corrections by feed and native id, alert records by
    target and key) is upserted by that key where the source's row is newer (NEWER_BY), so a
    second migrate after more work on the source brings the newer mark or send state, and
    one after more work on the target leaves it. A
    table of rows with a surrogate id (edits, history) gets the rows it lacks."""
    dst_cols = set(_columns(dst, table))
    cols = [k for k in _columns(src, table) if k != "id" and k in dst_cols]
    if not cols:
        return 0
    key = cols.index("item_id") if "item_id" in cols else None
    text_key = cols.index(ITEM_ID_TEXT[table]) if ITEM_ID_TEXT.get(table) in cols else None
    pk = [k for k in _primary_key(dst, table) if k != "id"]
    natural = bool(pk) and all(k in cols for k in pk)
    have = {tuple(r) for r in c.execute(f"SELECT {', '.join(cols)} FROM {table}")}
    stamp = [cols.index(k) for k in NEWER_BY.get(table, ()) if k in cols] if natural else []
    held = {tuple(r[cols.index(k)] for k in pk): r for r in have} if stamp else {}
    add = []
    for r in src.conn.execute(f"SELECT {', '.join(cols)} FROM {table}"):
        row = list(r)
        if key is not None:
            if row[key] not in ids:
                continue  # an orphan (its item is gone): nothing to hang it on
            row[key] = ids[row[key]]
        if text_key is not None and str(row[text_key]).isdigit():
            if int(row[text_key]) not in ids:
                continue
            row[text_key] = str(ids[int(row[text_key])])
        t = tuple(row)
        mine = held.get(tuple(t[cols.index(k)] for k in pk)) if stamp else None
        if mine is not None and not _after(tuple(-1 if t[i] is None else t[i] for i in stamp),
                                           tuple(-1 if mine[i] is None else mine[i] for i in stamp)):
            continue  # the target's row is as new or newer: the team's later work stays
        if t not in have:
            have.add(t)
            add.append(t)
    sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    if natural:
        rest = [k for k in cols if k not in pk]
        sql += f" ON CONFLICT ({', '.join(pk)}) DO " + (
            f"UPDATE SET {', '.join(f'{k} = excluded.{k}' for k in rest)}" if rest else "NOTHING")
    c.executemany(sql, add)
    return len(add)


def _copy_meta(src: SqliteStore, c: Any) -> int:
    rows = [(k, v) for k, v in src.conn.execute("SELECT key, value FROM meta")
            if k not in SKIP_META and not str(k).startswith(("open:", PROBE))]
    have = {r[0] for r in c.execute("SELECT key FROM meta")}
    c.executemany("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                  rows)
    return sum(1 for k, _ in rows if k not in have)
