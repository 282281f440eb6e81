"""`listen migrate`: copy one database, everything in it, into another (SQLite or PostgreSQL).

Both ends are SQL stores (storage/sqlite.py), so this speaks the shared,
portable SQL. Idempotent by construction: items are upserted by their natural
key (feed, native id), feeds by name, meta by key; the other tables by their
primary key when it is a natural one (corrections, alert records) and otherwise
(edits, triage history) only the rows the target lacks, with the target's item ids.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from listen.storage.sqlite import SqliteStore

BATCH = 5000
CORE = ("items", "feeds", "meta")
SKIP_META = ("schema_version",)  # each database keeps its own; open-markers (open:...) are per file
# Text columns that hold an item's id (besides every item_id): alert records are keyed by
# the item they sent (or by 'digest:<day>', kept as it is). They follow their item's new id.
ITEM_ID_TEXT = {"alert_sends": "key"}


def _columns(store: SqliteStore, table: str) -> list[str]:
    cur = store.conn.execute(f"SELECT * FROM {table} LIMIT 0")
    return [d[0] for d in cur.description]


def copy_store(src: SqliteStore, dst: SqliteStore) -> dict[str, int]:
    """Copy `src` into `dst`. Returns rows newly written per table (0s on a second run)."""
    counts: dict[str, int] = {}
    with src._errors(), dst._write() as c:
        counts["feeds"] = _copy_feeds(src, dst, c)
        ids, counts["items"] = _copy_items(src, dst, c)
        for table in sorted(set(src.tables()) & set(dst.tables())):
            if table not in CORE:
                counts[table] = _copy_hanging(src, dst, c, table, ids)
        counts["meta"] = _copy_meta(src, c)
        if dst.dialect.reset_ids:
            c.execute(dst.dialect.reset_ids)
    return counts


def _copy_feeds(src: SqliteStore, dst: SqliteStore, c: Any) -> int:
    cols = [k for k in _columns(src, "feeds") if k in set(_columns(dst, "feeds"))]
    have = {r[0] for r in c.execute("SELECT name FROM feeds")}
    rows = [tuple(r) for r in src.conn.execute(f"SELECT {', '.join(cols)} FROM feeds")]
    c.executemany(f"INSERT INTO feeds ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
                  f" ON CONFLICT (name) DO UPDATE SET {', '.join(f'{k} = excluded.{k}' for k in cols if k != 'name')}",
                  rows)
    return sum(1 for r in rows if r[cols.index("name")] not in have)


def _copy_items(src: SqliteStore, dst: SqliteStore, c: Any) -> tuple[dict[int, int], int]:
    """Every item, keeping its id where the target has it free. Returns (source id -> target id, new)."""
    cols = [k for k in _columns(src, "items") if k != "id" and k in set(_columns(dst, "items"))]
    kept = ("feed", "native_id", "first_seen")
    sql = (f"INSERT INTO items (id, {', '.join(cols)}) VALUES"
           f" (CASE WHEN EXISTS (SELECT 1 FROM items WHERE id = CAST(? AS BIGINT)) THEN {dst.dialect.new_id}"
           f" ELSE CAST(? AS BIGINT) END, {', '.join('?' * len(cols))})"
           f" ON CONFLICT (feed, native_id) DO UPDATE SET"
           f" {', '.join(f'{k} = excluded.{k}' for k in cols if k not in kept)}")
    ids: dict[int, int] = {}
    new = 0
    last = 0
    while True:
        rows = src.conn.execute(f"SELECT id, {', '.join(cols)} FROM items WHERE id > ? ORDER BY id LIMIT ?",
                                (last, BATCH)).fetchall()
        if not rows:
            break
        last = rows[-1][0]
        by_feed: dict[str, list[tuple[int, str]]] = {}
        for r in rows:
            by_feed.setdefault(r["feed"], []).append((r[0], r["native_id"]))
        before = _target_ids(c, by_feed)
        new += len(rows) - len(before)
        c.executemany(sql, [(r[0], r[0], *r[1:]) for r in rows])
        after = _target_ids(c, by_feed)
        for pairs in by_feed.values():
            for sid, nid in pairs:
                ids[sid] = after[nid, sid]
    return ids, new


def _target_ids(c: Any, by_feed: dict[str, list[tuple[int, str]]]) -> dict[tuple[str, int], int]:
    out: dict[tuple[str, int], int] = {}
    for feed, pairs in by_feed.items():
        wanted = {nid: sid for sid, nid in pairs}
        for i in range(0, len(pairs), 500):
            part = [nid for _, nid in pairs[i:i + 500]]
            q = f"SELECT native_id, id FROM items WHERE feed = ? AND native_id IN ({','.join('?' * len(part))})"
            for nid, tid in c.execute(q, (feed, *part)).fetchall():
                out[nid, wanted[nid]] = int(tid)
    return out


def _primary_key(store: SqliteStore, table: str) -> list[str]:
    return [r[0] for r in store.conn.execute(store.dialect.primary_key_sql, (table,))]


def _copy_hanging(src: SqliteStore, dst: SqliteStore, c: Any, table: str, ids: dict[int, int]) -> int:
    """Rows of a table beside items (edits, history, corrections, alert records...) that the
    target lacks, or holds differently. Returns how many were written.

    A table keyed by something natural (corrections by feed and native id, alert records by
    target and key) is upserted by that key: the source's row wins, as its items do, so a
    second migrate after more work on the source brings the newer mark or send state. A
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
            if k not in SKIP_META and not str(k).startswith("open:")]
    have = {r[0] for r in c.execute("SELECT key FROM meta")}
    c.executemany("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                  rows)
    return sum(1 for k, _ in rows if k not in have)
