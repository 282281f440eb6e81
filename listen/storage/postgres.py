"""PostgreSQL: the same SQL store, for a team's shared database.

`PostgresStore` is `SqliteStore` run through `_Conn`, a psycopg connection that
speaks sqlite3's dialect of the DB-API: `?` and `:name` placeholders, rows
indexed by number or by column name. Only what truly differs is written here:
connecting, transactions, the schema's types, and the feed claims that let many
pullers share one database. psycopg is imported when a PostgreSQL URL is
opened, never by `listen --help` or a SQLite user.
"""

from __future__ import annotations

import functools
import os
import random
import re
import time
import zlib
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, Callable, Iterable, Iterator, ParamSpec, Sequence, TypeVar
from urllib.parse import urlsplit, urlunsplit

from listen import log
from listen.errors import StorageError
from listen.storage import schema
from listen.storage.sqlite import Dialect, SqliteStore

POSTGRES = Dialect("postgresql", greatest="GREATEST", least="LEAST", unindexed="",
                   new_id="nextval(pg_get_serial_sequence('items', 'id'))", index_hint=False,
                   reset_ids="SELECT setval(pg_get_serial_sequence('items', 'id'),"
                             " GREATEST((SELECT max(id) FROM items), 1))",
                   tables_sql="SELECT table_name FROM information_schema.tables"
                              " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
                   bytewise=' COLLATE "C"',
                   primary_key_sql="SELECT a.attname FROM pg_index i"
                                   " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)"
                                   " WHERE i.indrelid = CAST(? AS regclass) AND i.indisprimary"
                                   " ORDER BY array_position(CAST(i.indkey AS int2[]), a.attnum)")
SCHEMA_LOCK = 7_406_391  # pg_advisory_xact_lock key: one process creates or upgrades the schema
# The columns a pull's lookups and the inbox filter on. The wide text columns (text, raw,
# url...) are most of an ANALYZE's time (0.38 s of CPU at 40k items, 0.17 s without them)
# and no plan depends on them; autovacuum's ANALYZE still covers every column.
ANALYZED = ("id", "feed", "native_id", "created_at", "in_reply_to", "thread_id", "ours", "snoozed_until",
            "flags_version", "answered_at", "state")
ANALYZE_LOCK = 7_406_392  # with the schema's hash, a pg_try_advisory_xact_lock key: one ANALYZE at a time
# SQLSTATEs of a transaction PostgreSQL rolled back so that a concurrent one could
# finish: a deadlock (40P01) or a serialization failure (40001). Nothing of it was
# kept, and run again it goes through: a pull and a teammate's `done` on the same
# thread must both succeed, not hand one of them a database error.
RETRYABLE = frozenset({"40P01", "40001"})
RETRIES = 3

LOG = log.get("postgres")
P = ParamSpec("P")
R = TypeVar("R")


class _Conflict(StorageError):
    """A write PostgreSQL rolled back in favour of a concurrent one: safe to run again."""


def _retried(method: Callable[P, R]) -> Callable[P, R]:
    """Run a whole write again when PostgreSQL rolled it back for a concurrent one.

    Only a call that owns its transaction is run again: inside another's, the
    outer call's transaction is lost too, and it is the one to retry."""

    @functools.wraps(method)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        store: Any = args[0]
        attempt = 0
        while True:
            outermost = not store.conn.in_transaction
            try:
                return method(*args, **kwargs)
            except _Conflict as e:
                if not outermost:
                    raise
                if attempt == RETRIES:
                    raise StorageError(f"{e} (still conflicting after {RETRIES} retries: other listen "
                                       "processes kept writing the same items; run it again)") from None
                attempt += 1
                LOG.info("%s: %s rolled back for a concurrent write; retry %d of %d",
                         store.path, method.__name__, attempt, RETRIES)
                # Apart in time, so the two writers do not meet again at once.
                time.sleep(random.uniform(0.02, 0.1) * attempt)

    return run


def is_url(target: str | os.PathLike[str] | None) -> bool:
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


def redact(url: str) -> str:
    """The URL without its password: what errors and logs may show."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "postgresql://…"
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    user = parts.username or ""
    return urlunsplit((parts.scheme, f"{user}:***@{host}" if user else f":***@{host}", parts.path, parts.query, ""))


_PLACEHOLDER = re.compile(r"'(?:[^']|'')*'|%|\?|(?<![:\w]):([A-Za-z_]\w*)")


@lru_cache(maxsize=512)
def translate(sql: str) -> str:
    """sqlite3's placeholders as psycopg's: `?` to `%s`, `:name` to `%(name)s`, `%` to `%%`.
    String literals are left alone (a `?` or `:x` inside quotes is text)."""
    def sub(m: re.Match[str]) -> str:
        s = m.group(0)
        if s.startswith("'"):
            return s.replace("%", "%%")
        if s == "%":
            return "%%"
        if s == "?":
            return "%s"
        return f"%({m.group(1)})s"

    return _PLACEHOLDER.sub(sub, sql)


_IN_LIST = re.compile(r"'(?:[^']|'')*'|\bNOT\s+IN\s*\(|\bIN\s*\((\s*\?(?:\s*,\s*\?)*\s*)\)|\?")


@lru_cache(maxsize=512)
def as_any(sql: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    """`x IN (?, ?, ...)` as `x = ANY(?)`, and where in the parameters each list sits
    (index of its first `?`, how many). The same test, one array parameter: the query
    text no longer grows with the list, so psycopg parses it once (it caches only short
    queries and spent a millisecond on each 500-name IN list) and the server gets one
    plan instead of one per list length. NOT IN stays as written (NULLs differ)."""
    groups: list[tuple[int, int]] = []
    count = 0

    def sub(m: re.Match[str]) -> str:
        nonlocal count
        s = m.group(0)
        if s == "?":
            count += 1
        elif m.group(1) is not None:
            n = m.group(1).count("?")
            groups.append((count, n))
            count += n
            return "= ANY(?)"
        return s

    out = _IN_LIST.sub(sub, sql)
    return (out, tuple(groups)) if groups else (sql, ())


def _regroup(params: Sequence[Any], groups: tuple[tuple[int, int], ...]) -> list[Any]:
    out: list[Any] = []
    at = 0
    for start, n in groups:
        out += params[at:start]
        out.append(list(params[start:start + n]))
        at = start + n
    out += params[at:]
    return out


class _RowBase(tuple):  # type: ignore[type-arg]  # rows of any width and types, like sqlite3.Row
    """A row like sqlite3.Row: r[0], r["name"], dict(r)."""

    __slots__ = ()
    _index: dict[str, int] = {}

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


@lru_cache(maxsize=256)
def _row_class(names: tuple[str, ...]) -> type[_RowBase]:
    # One class per column list, not per query: a pull runs the same few thousand times.
    return type("Row", (_RowBase,), {"__slots__": (), "_index": {n: i for i, n in enumerate(names)}})


def _row_factory(cursor: Any) -> Any:
    return _row_class(tuple(d.name for d in cursor.description or []))


# INSERT INTO t (a, b) VALUES (?, ?) [ON CONFLICT ... DO NOTHING]: rows can go many to a statement
# (DO UPDATE cannot: a key repeated within one statement would be updated twice).
_MULTI = re.compile(r"(?s)^\s*INSERT INTO (\w+) \(([\w\s,]+)\) VALUES\s*(\((?:\s*\?\s*,)*\s*\?\s*\))"
                    r"(\s*(?:ON CONFLICT\b[^;]*\bDO NOTHING)?\s*)$")


# UPDATE t SET a = ?, b = ? WHERE k = ?: many rows can go as one UPDATE ... FROM unnest(...).
_UPDATE_BY_KEY = re.compile(r"(?s)^\s*UPDATE (\w+) SET (\w+ = \?(?:\s*,\s*\w+ = \?)*) WHERE (\w+) = \?\s*$")


# Column types whose text form PostgreSQL casts back exactly (the unnest path above).
_ARRAYABLE = {"bigint", "integer", "smallint", "text", "character varying", "double precision", "real", "numeric"}


def _as_text(v: Any) -> str | None:
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, bool):
        return str(int(v))
    if isinstance(v, float):
        return repr(v)  # shortest exact form: reads back as the same double
    return str(v)


# Column types the COPY path writes in binary, and the Python types each takes as is.
_COPY_TYPES = {"bigint": "int8", "integer": "int4", "smallint": "int2", "text": "text",
               "double precision": "float8", "real": "float4"}
_INTS: frozenset[type] = frozenset({int, bool, type(None)})
_COPY_ACCEPTS = {"bigint": _INTS, "integer": _INTS, "smallint": _INTS, "text": frozenset({str, type(None)}),
                 "double precision": _INTS | {float}, "real": _INTS | {float}}


class _Conn:
    """The part of sqlite3.Connection the SQL store uses, over a psycopg connection."""

    dialect = POSTGRES
    copy_min = 100  # rows from which a plain INSERT's executemany goes through COPY (tests lower it)

    def __init__(self, raw: Any):
        self.raw = raw

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> Any:
        if params is not None and not isinstance(params, dict):
            sql, groups = as_any(sql)
            if groups:
                params = _regroup(params, groups)
        return self.raw.execute(translate(sql), () if params is None else params)

    def executemany(self, sql: str, seq: Iterable[Any]) -> Any:
        cur = self.raw.cursor()
        rows = list(seq)
        if not rows:
            return cur
        m = _MULTI.match(sql)
        if m and not isinstance(rows[0], dict) and len(rows) >= self.copy_min and self._copy_insert(cur, m, rows):
            return cur
        if m and not isinstance(rows[0], dict) and len(rows) >= 8:
            # Many rows, one statement: each column as one array, unnested by the server.
            # (Row by row costs a round trip each; a VALUES list thousands long costs
            # psycopg more to build than the server to run.)
            table, cols = m.group(1), [c.strip() for c in m.group(2).split(",")]
            types = self._types(table)
            if all(types.get(c) in _ARRAYABLE for c in cols) and len(rows[0]) == len(cols):
                arrays = [[_as_text(v) for v in col] for col in zip(*rows)]
                # %b: arrays go in binary, where the text form escapes each value with a regex
                # (six times the client's time for a list of URLs).
                unnest = ", ".join(f"%b::text[]::{types[c]}[]" for c in cols)
                cur.execute(f"INSERT INTO {table} ({', '.join(cols)}) SELECT * FROM unnest({unnest})"
                            + translate(m.group(4)), arrays)
                return cur
        u = _UPDATE_BY_KEY.match(sql)
        if u and not isinstance(rows[0], dict) and len(rows) >= 8 and self._update_from_arrays(cur, u, rows):
            return cur
        cur.executemany(translate(sql), rows)
        return cur

    def _update_from_arrays(self, cur: Any, u: re.Match[str], rows: list[Any]) -> bool:
        """`UPDATE t SET a = ?, ... WHERE k = ?` for many rows as one statement joined to column
        arrays (executemany sends one statement per row: a big pull re-answers hundreds a batch).
        A key given twice keeps its last values, as row-by-row updates would leave it."""
        table, key = u.group(1), u.group(3)
        cols = [a.split("=")[0].strip() for a in u.group(2).split(",")] + [key]
        types = self._types(table)
        if len(rows[0]) != len(cols) or len(set(cols)) != len(cols) or any(types.get(c) not in _ARRAYABLE for c in cols):
            return False
        last = list({r[-1]: r for r in rows}.values())
        arrays = [[_as_text(v) for v in col] for col in zip(*last)]
        unnest = ", ".join(f"%b::text[]::{types[c]}[]" for c in cols)  # binary arrays (see executemany)
        sets = ", ".join(f"{c} = v.{c}" for c in cols[:-1])
        cur.execute(f"UPDATE {table} SET {sets} FROM unnest({unnest}) AS v({', '.join(cols)})"
                    f" WHERE {table}.{key} = v.{key}", arrays)
        return True

    def _copy_insert(self, cur: Any, m: re.Match[str], rows: list[Any]) -> bool:
        """The INSERT of `m` for many rows, through COPY: rows streamed in binary into a
        temp table, then one INSERT ... SELECT with the statement's own ON CONFLICT.

        psycopg writes COPY rows in C, where the column arrays cost a Python call per value
        and a text escape per string (most of a big pull's client time). False, with
        nothing sent, when a column holds a Python type the binary dumpers would refuse
        (e.g. digits as text, which SQLite and the array path accept): the caller then
        takes the array path, so the fast path never turns a batch into an error."""
        table, cols = m.group(1), [c.strip() for c in m.group(2).split(",")]
        types = self._types(table)
        if len(rows[0]) != len(cols) or any(types.get(c) not in _COPY_TYPES for c in cols):
            return False
        for c, values in zip(cols, zip(*rows)):
            if not set(map(type, values)) <= _COPY_ACCEPTS[types[c]]:
                return False
        names = ", ".join(cols)
        stage = f"listen_copy_{table}_{zlib.crc32(names.encode()):08x}"
        # Per session, made once (a rolled-back transaction takes it away; IF NOT EXISTS brings it back).
        # Emptied before each use: a batch never sees another's rows.
        cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} AS SELECT {names} FROM {table} WITH NO DATA;"
                    f" TRUNCATE {stage}")
        with cur.copy(f"COPY {stage} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types([_COPY_TYPES[types[c]] for c in cols])
            for r in rows:
                copy.write_row(r)
        # A fresh heap reads back in the order written: new ids follow the batch's order, as on SQLite.
        cur.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {stage}" + m.group(4), prepare=False)
        return True

    def _types(self, table: str) -> dict[str, str]:
        cache: dict[str, dict[str, str]] = self.__dict__.setdefault("_type_cache", {})
        if table not in cache:
            rows = self.raw.execute("SELECT column_name, data_type FROM information_schema.columns"
                                    " WHERE table_schema = current_schema() AND table_name = %s", (table,)).fetchall()
            cache[table] = {r[0]: r[1] for r in rows}
        return cache[table]

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        return bool(self.raw.info.transaction_status != TransactionStatus.IDLE)

    def close(self) -> None:
        self.raw.close()


def _pg_schema(sql: str) -> str:
    """CURRENT's SQLite types as PostgreSQL's: 64-bit integers (unix times), doubles, serial ids."""
    sql = re.sub(r"\b(\w+) INTEGER PRIMARY KEY\b", r"\1 BIGSERIAL PRIMARY KEY", sql)
    sql = re.sub(r"\bINTEGER\b", "BIGINT", sql)
    return re.sub(r"\bREAL\b", "DOUBLE PRECISION", sql)


def open_postgres(url: str, password_env: str | None = None) -> PostgresStore:
    return PostgresStore(url, password_env)


class PostgresStore(SqliteStore):
    dialect = POSTGRES

    def __init__(self, url: str, password_env: str | None = None):
        self.path = redact(url)
        try:
            import psycopg
        except ImportError:
            raise StorageError(f"{self.path}: PostgreSQL needs the postgres extra: pip install 'listen[postgres]'") from None
        self._psycopg = psycopg
        kwargs: dict[str, Any] = {}
        if password_env:
            password = os.environ.get(password_env)
            if not password:
                raise StorageError(f"{self.path}: the password variable {password_env} is not set")
            kwargs["password"] = password
        try:
            raw = psycopg.connect(url, autocommit=True, row_factory=_row_factory, connect_timeout=10,
                                  application_name="listen", **kwargs)
        except psycopg.Error as e:
            raise StorageError(f"{self.path}: cannot connect: {self._message(e)}") from None
        self.pg: Any = raw  # psycopg's own connection, for what only PostgreSQL does
        self.conn = _Conn(raw)  # type: ignore[assignment]  # _Conn is the sqlite3.Connection the SQL uses
        # _grown's counts: our rows since the last ANALYZE we know of, our rows since we
        # last read the table's counts, and the row estimate we read then.
        self._new = self._unchecked = 0
        self._tuples: float | None = None
        with self._errors():
            self._migrate()

    def _message(self, e: Exception) -> str:
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        password = urlsplit(self.path).password
        return msg.replace(password, "***") if password else msg

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except schema.FutureSchema as e:
            raise StorageError(
                f"{self.path}: written by a newer listen (schema {e.found}, this one knows {schema.VERSION}); "
                "upgrade listen to use it") from None
        except self._psycopg.Error as e:
            error = _Conflict if getattr(e, "sqlstate", None) in RETRYABLE else StorageError
            raise error(f"{self.path}: database error: {self._message(e)}") from None

    # Every write that may meet another writer on the same rows. Each owns its
    # transaction and recomputes what it writes from what it reads, so a second run
    # after a rollback is the same as a first.
    set_state = _retried(SqliteStore.set_state)
    assign = _retried(SqliteStore.assign)
    record_triage = _retried(SqliteStore.record_triage)
    save_marks = _retried(SqliteStore.save_marks)
    update_flags = _retried(SqliteStore.update_flags)
    apply_identity = _retried(SqliteStore.apply_identity)

    @contextmanager
    def _write(self) -> Iterator[Any]:
        # synchronous_commit stays as the server has it. Turned off here, a server crash could
        # drop the last transactions a pull was told were stored, cursor and items together:
        # consistent, but only safe for sources that can be read again (a rotated jsonl, stdin,
        # or an API whose cursor acknowledges cannot), and listen cannot tell which it is.
        with self._errors(), self.pg.transaction():
            yield self.conn

    def _migrate(self) -> None:
        with self._write() as c:
            c.execute(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK})")
            exists = c.execute("SELECT to_regclass('meta') IS NOT NULL").fetchone()[0]
            version = 0
            if exists:
                row = c.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
                version = int(row[0]) if row else 0
            if version == schema.VERSION:
                return
            if version > schema.VERSION:
                raise schema.FutureSchema(version)
            if version == 0:
                for statement in _pg_schema(schema.CURRENT).split(";"):
                    if statement.strip():
                        c.execute(statement)
            else:
                for v in range(version + 1, schema.VERSION + 1):
                    for statement in schema.SQL_MIGRATIONS[v]:
                        c.execute(_pg_schema(statement))
            c.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?)"
                      " ON CONFLICT (key) DO UPDATE SET value = excluded.value", (str(schema.VERSION),))

    @_retried
    def save_many(self, batches: list[tuple[str, str, list[dict[str, Any]], Any]], answer_rule: Any,
                  now: int) -> list[tuple[int, int]]:
        out = super().save_many(batches, answer_rule, now)
        self._grown(sum(n for n, _ in out))
        return out

    def _pairs(self, c: Any, cols: str, key: str, pairs: list[tuple[str, str]], where: str = "",
               distinct: bool = False) -> list[Any]:
        """SqliteStore._pairs in one statement for every feed: the pairs as two arrays,
        joined to the (feed, key) index. Per feed, a wave of 100 small feeds cost 400
        round trips, each one a wait for the GIL behind the fetching threads."""
        pairs = list(dict.fromkeys(pairs))
        if len({feed for feed, _ in pairs}) <= 1:
            return super()._pairs(c, cols, key, pairs, where, distinct)  # `feed = ? AND key = ANY(?)`
        # Each pair looked up in the (feed, key) index, whatever the table's size: joined
        # plainly, the planner hashed a seq scan of 40k items for a wave of 1,000 keys
        # (60 ms, against 2 ms of index probes). OFFSET 0 keeps the lateral subquery a
        # nested loop. psycopg's own placeholders, %b: the arrays go in binary.
        return list(c.raw.execute(
            f"SELECT {'DISTINCT ' if distinct else ''}i.* FROM unnest(%b::text[], %b::text[]) AS want (want_feed, want_key)"
            f" CROSS JOIN LATERAL (SELECT {cols} FROM items WHERE items.feed = want.want_feed"
            f" AND items.{key} = want.want_key{where} OFFSET 0) AS i",
            ([feed for feed, _ in pairs], [k for _, k in pairs])).fetchall())

    def _grown(self, new: int) -> None:
        """Refresh the planner's statistics once the table has doubled. Without them a
        fresh table's IN-list lookups scan a whole feed, and a big first pull grows
        quadratic (autovacuum's ANALYZE comes, but late). Doubling, not a fifth: the
        planner scales the counts by the table's pages as it grows, the shape of the
        data is what it needs, and each ANALYZE of a big table costs a second or so
        (34 of them in a 1M-line pull at a fifth, 9 at doubling).

        Shared by pullers: each would otherwise analyze the table at every doubling
        of its own share (four pullers, four times the ANALYZEs, a fifth of the
        server's time in a cold pull). So an ANALYZE by anyone (the row estimate
        changed) restarts our count, the server's live-row count adds others' rows
        (it lags a second or more: ours covers that), and one puller at a time runs it."""
        self._new += new
        self._unchecked += new
        if self._unchecked < 2000:
            return
        self._unchecked = 0
        with self._errors():
            tuples, live = self.conn.execute(
                "SELECT c.reltuples, coalesce(s.n_live_tup, 0) FROM pg_class c"
                " LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.oid = to_regclass('items')").fetchone()
        if self._tuples is not None and self._tuples != tuples:
            self._new = 0  # analyzed (or vacuumed) by another since we last looked: counted from there
        self._tuples = tuples
        known = max(0, int(tuples))
        if max(self._new, int(live) - known) < max(2000, known):
            return
        with self._write() as c:
            # One ANALYZE at a time: another puller at the same doubling leaves it to the first.
            # Advisory locks belong to the database: the schema's hash keeps another
            # listen database, a schema beside this one, from sharing the lock.
            if c.execute(f"SELECT pg_try_advisory_xact_lock({ANALYZE_LOCK}, hashtext(current_schema()))").fetchone()[0]:
                c.execute(f"ANALYZE items ({', '.join(ANALYZED)})")
                # Written in place at once: our own ANALYZE's estimate, not another's.
                self._tuples = c.execute("SELECT reltuples FROM pg_class WHERE oid = to_regclass('items')").fetchone()[0]
        self._new = 0

    def import_rows(self, rows: list[dict[str, Any]]) -> tuple[int, int]:
        out = super().import_rows(rows)
        # Records kept their ids: move the sequence past them, or the next new item would collide.
        with self._write() as c:
            c.execute(self.dialect.reset_ids)
        self._grown(out[0])
        return out

    def quick_check(self) -> list[str]:
        return []  # PostgreSQL checks its own pages (and recovers from its WAL) on start

    # -- many pullers -----------------------------------------------------

    def claim_feeds(self, names: list[str]) -> list[str]:
        """The feeds of `names` no other puller is fetching, now held by this connection.

        Session advisory locks: a killed puller's connection closes and its claims go
        with it, so the next pull fetches those feeds. One round trip for all names."""
        if not names:
            return []
        with self._errors():
            rows = self.pg.execute(
                "SELECT name FROM unnest(%s::text[]) AS name"
                " WHERE pg_try_advisory_lock(hashtext(current_schema()), hashtext('listen feed ' || name))", (names,)).fetchall()
        got = [r[0] for r in rows]
        self._claimed: set[str] = getattr(self, "_claimed", set()) | set(got)
        return got

    def release_feeds(self) -> None:
        claimed: set[str] = getattr(self, "_claimed", set())
        if claimed:
            with self._errors():
                self.pg.execute("SELECT pg_advisory_unlock(hashtext(current_schema()), hashtext('listen feed ' || name))"
                                      " FROM unnest(%s::text[]) AS name", (sorted(claimed),))
        self._claimed = set()
