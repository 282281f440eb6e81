"""PostgreSQL with real processes: killed pulls, many pullers on one database, URLs and passwords.

A real server (tests/pgserver.py) and real `listen` processes against a real HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import time

import pytest

from listen.errors import StorageError
from listen.storage import open_store
from listen.storage.postgres import redact, translate
from tests.conftest import pg_server
from tests.test_crash import PER_FEED, cli, config, kill_when, run, serve_feeds


def pg_count(url: str) -> int:
    s = open_store(url)
    try:
        return int(s.conn.execute("SELECT count(*) FROM items").fetchone()[0])
    finally:
        s.close()


def pg_consistent(url: str, per_feed: int) -> dict[str, int]:
    s = open_store(url)
    try:
        per = {r[0]: int(r[1]) for r in s.conn.execute("SELECT feed, count(*) FROM items GROUP BY feed")}
        dupes = s.conn.execute("SELECT count(*) - count(DISTINCT feed || '/' || native_id) FROM items").fetchone()[0]
        assert dupes == 0
        for name, etag in s.conn.execute("SELECT name, etag FROM feeds"):
            if etag is not None:  # an ETag is saved only with every item it covers
                assert per.get(name) == per_feed, (name, per.get(name))
        return per
    finally:
        s.close()


@pytest.fixture
def url():
    return pg_server().new_database()


def test_kill_9_at_several_moments_loses_and_doubles_nothing(tmp_path, server, url):
    names = ["a", "b"]
    serve_feeds(server, names, PER_FEED, delays=[0.0, 0.2])
    cfg = config(tmp_path, server, names)
    moments = [
        lambda base: len(server.requests) > base["requests"],
        lambda base: pg_count(url) > base["items"],
        lambda base: pg_count(url) >= base["items"] + PER_FEED,
    ]
    killed = 0
    for moment in moments:
        base = {"requests": len(server.requests), "items": pg_count(url)}
        proc = cli("--config", str(cfg), "--db", url, "pull")
        killed += kill_when(proc, lambda moment=moment, base=base: moment(base))
        pg_consistent(url, PER_FEED)
    assert killed >= 2
    r = run("--config", str(cfg), "--db", url, "pull")
    assert r.returncode == 0, r.stderr
    assert pg_consistent(url, PER_FEED) == {n: PER_FEED for n in names}


def test_many_pullers_fetch_each_feed_once(tmp_path, server, url):
    names = [f"f{i}" for i in range(8)]
    serve_feeds(server, names, 200, delays=[0.6] * len(names))
    cfg = config(tmp_path, server, names)
    run("--config", str(cfg), "--db", url, "feeds")  # the schema, made once
    procs = [cli("--config", str(cfg), "--db", url, "pull") for _ in range(4)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, outs
    assert not any("Traceback" in err for _, err in outs)
    # No lock file on PostgreSQL: all four ran at once, and between them fetched each feed exactly once.
    for n in names:
        assert len(server.hits(f"/{n}.jsonl")) == 1, (n, len(server.hits(f"/{n}.jsonl")))
    assert pg_consistent(url, 200) == {n: 200 for n in names}
    assert sum(out.count(" 200 new") for out, _ in outs) == len(names)
    assert not (tmp_path / "listen.db.lock").exists()


def test_a_killed_pullers_feeds_are_fetched_by_the_next_pull(tmp_path, server, url):
    serve_feeds(server, ["slow"], 300, delays=[5.0])
    cfg = config(tmp_path, server, ["slow"])
    first = cli("--config", str(cfg), "--db", url, "pull")
    assert kill_when(first, lambda: len(server.hits("/slow.jsonl")) >= 1)
    started = time.monotonic()
    r = run("--config", str(cfg), "--db", url, "pull")
    assert r.returncode == 0 and "skipped" not in r.stderr + r.stdout, (r.stdout, r.stderr)
    assert len(server.hits("/slow.jsonl")) == 2 and time.monotonic() - started < 30
    assert pg_consistent(url, 300) == {"slow": 300}


def test_a_feed_held_by_another_puller_is_skipped(url):
    a, b = open_store(url), open_store(url)
    try:
        assert a.claim_feeds(["x", "y"]) == ["x", "y"]
        assert b.claim_feeds(["x", "y", "z"]) == ["z"]
        a.release_feeds()
        assert b.claim_feeds(["x"]) == ["x"]
        a.close()  # a connection's end releases what it held, as a killed process's does
        assert sorted(open_store(url).claim_feeds(["y"])) == ["y"]
    finally:
        b.close()


def test_the_password_never_shows(monkeypatch):
    pg_server()  # psycopg must be installed for a connection to be tried at all
    monkeypatch.setenv("LISTEN_TEST_PGPASS", "s3cret-pass")
    with pytest.raises(StorageError) as e:
        open_store("postgresql://bob:s3cret-pass@127.0.0.1:1/nowhere?connect_timeout=2")
    assert "s3cret-pass" not in str(e.value) and "***" in str(e.value)
    assert redact("postgresql://bob:pw@db.example:5432/listen") == "postgresql://bob:***@db.example:5432/listen"
    assert redact("postgresql://bob@db.example/listen") == "postgresql://bob@db.example/listen"
    with pytest.raises(StorageError, match="LISTEN_NO_SUCH_VAR is not set"):
        open_store("postgresql://bob@127.0.0.1:1/x", password_env="LISTEN_NO_SUCH_VAR")


def test_a_password_in_the_config_file_is_refused(tmp_path):
    from listen.config import load
    from listen.errors import ConfigError

    cfg = tmp_path / "listen.toml"
    cfg.write_text('[store]\nurl = "postgresql://bob:pw@db.example/listen"\n')
    with pytest.raises(ConfigError, match="password must not be written"):
        load(cfg)
    cfg.write_text('[store]\nurl = "postgresql://bob@db.example/listen"\npassword_env = "LISTEN_PG"\n')
    c = load(cfg)
    assert (c.db_url, c.db_password_env) == ("postgresql://bob@db.example/listen", "LISTEN_PG")


@pytest.mark.parametrize("sql, want", [
    ("SELECT ? + ?", "SELECT %s + %s"),
    ("UPDATE t SET a = :a WHERE b = :b_2", "UPDATE t SET a = %(a)s WHERE b = %(b_2)s"),
    ("SELECT '?' || ':x' || '%', ? FROM t WHERE s LIKE '%a'", "SELECT '?' || ':x' || '%%', %s FROM t WHERE s LIKE '%%a'"),
    ("SELECT x::text, a % 2 FROM t", "SELECT x::text, a %% 2 FROM t"),
    ("SELECT 'it''s ?', ?", "SELECT 'it''s ?', %s"),
])
def test_placeholders_translate(sql, want):
    assert translate(sql) == want


def test_listen_help_does_not_import_psycopg():
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-c", "import sys; from listen import cli; "
                        "sys.argv=['listen','--help']\ntry:\n cli.main()\nexcept SystemExit: pass\n"
                        "print('psycopg' in sys.modules)"], capture_output=True, text=True, timeout=60)
    assert r.stdout.strip().endswith("False"), r.stdout + r.stderr


def test_batched_inserts_keep_every_value_exactly(url):
    """executemany of a plain INSERT goes as column arrays: numbers, NULLs, quotes and unicode survive."""
    s = open_store(url)
    try:
        rows = [(f"f{i % 3}", "jsonl", f"n{i}", "ann", "ann",
                 "it's 100% \u202e'; DROP TABLE items; --" if i == 5 else f"t{i}", 1_770_000_000 + i, f"n{i}",
                 0.1 + i / 3, None if i % 2 else f"https://x/{i}?a=1&b=%20", True if i == 7 else 0, "{}", 0, 0)
                for i in range(50)]
        with s._write() as c:
            c.executemany("INSERT INTO items (feed, network, native_id, author, author_key, text, created_at, thread_id,"
                          " question_score, url, ours, reasons, first_seen, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?,"
                          " ?, ?, ?, ?, ?, ?) ON CONFLICT (feed, native_id) DO NOTHING", rows + rows[:3])
        got = {r[0]: tuple(r[1:]) for r in s.conn.execute(
            "SELECT native_id, text, created_at, question_score, url, ours FROM items")}
        assert len(got) == 50
        for r in rows:
            assert got[r[2]] == (r[5], r[6], r[8], r[9], int(r[10])), r
    finally:
        s.close()


def test_a_big_batch_goes_through_copy_and_keeps_every_value_exactly(url, monkeypatch):
    """From copy_min rows a plain INSERT is COPYed in binary through a temp table: text with tabs,
    newlines, backslashes, quotes and astral unicode, NULLs, big and negative integers, bools and
    doubles come back as written, duplicates are skipped by ON CONFLICT, ids follow the batch's order."""
    from listen.storage import postgres

    used: list[bool] = []
    real = postgres._Conn._copy_insert
    monkeypatch.setattr(postgres._Conn, "_copy_insert", lambda self, *a: used.append(real(self, *a)) or used[-1])
    texts = ["tab\there", "line\nbreak\r\n", "back\\slash \\N \\.", "quote ' \" ; DROP TABLE items; --",
             "\u202e rtl é 漢字 🎉", "", "%s %(x)s ?"]
    s = open_store(url)
    try:
        rows = [(f"f{i % 3}", "jsonl", f"n{i}", texts[i % len(texts)], None if i % 4 else f"Ann {i}", "ann",
                 texts[(i + 3) % len(texts)], [2**62, -5, 0, 1_770_000_000 + i][i % 4], f"n{i}",
                 [0.1 + i / 3, -0.0, 1e300, 5][i % 4], None if i % 2 else f"https://x/{i}?a=1&b=%20",
                 [True, False, 1, 0][i % 4], None if i % 5 else i % 2, "{}", 0, 0, None if i % 3 else "v\t1")
                for i in range(300)]
        sql = ("INSERT INTO items (feed, network, native_id, author, author_name, author_key, text, created_at,"
               " thread_id, question_score, url, ours, ours_hint, reasons, first_seen, updated_at, flags_version)"
               " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (feed, native_id) DO NOTHING")
        with s._write() as c:
            c.executemany(sql, rows + rows[:7])
        with s._write() as c:  # a second batch in a new transaction: the staging table starts empty
            c.executemany(sql, [(f, n, f"m{i}", *rest) for i, (f, n, _, *rest) in enumerate(rows[:150])])
        assert used == [True, True]
        got = {r[0]: tuple(r[1:]) for r in s.conn.execute(
            "SELECT native_id, author, author_name, text, created_at, question_score, url, ours, ours_hint,"
            " flags_version FROM items")}
        assert len(got) == 450
        for r in rows:
            assert got[r[2]] == (r[3], r[4], r[6], r[7], r[9], r[10], int(r[11]), r[12], r[16]), r
        order = [r[0] for r in s.conn.execute("SELECT native_id FROM items WHERE native_id LIKE 'n%' ORDER BY id")]
        assert order == [f"n{i}" for i in range(300)]
    finally:
        s.close()


def test_a_big_batch_with_digits_as_text_takes_the_array_path(url, monkeypatch):
    """A column holding a type the binary COPY cannot write (digits as text, which SQLite and the
    array path accept) sends nothing by COPY: the batch is stored all the same."""
    from listen.storage import postgres

    used: list[bool] = []
    real = postgres._Conn._copy_insert
    monkeypatch.setattr(postgres._Conn, "_copy_insert", lambda self, *a: used.append(real(self, *a)) or used[-1])
    s = open_store(url)
    try:
        rows = [("f", "jsonl", f"n{i}", "ann", "ann", "t", str(1_770_000_000 + i) if i == 9 else 1_770_000_000 + i,
                 f"n{i}", "{}", 0, 0) for i in range(200)]
        with s._write() as c:
            c.executemany("INSERT INTO items (feed, network, native_id, author, author_key, text, created_at,"
                          " thread_id, reasons, first_seen, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        assert used == [False]
        got = dict(s.conn.execute("SELECT native_id, created_at FROM items").fetchall())
        assert got == {f"n{i}": 1_770_000_000 + i for i in range(200)}
    finally:
        s.close()


def test_many_updates_by_key_go_as_one_statement_and_the_last_value_wins(url, monkeypatch):
    """executemany of `UPDATE t SET ... WHERE k = ?` is one UPDATE joined to column arrays: NULLs,
    quotes and unicode survive, untouched rows stay, a key given twice ends with its last values."""
    s = open_store(url)
    try:
        with s._write() as c:
            c.executemany("INSERT INTO items (feed, network, native_id, author, author_key, text, created_at,"
                          " thread_id, reasons, first_seen, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          [("f", "jsonl", f"n{i}", "ann", "ann", "t", 100 + i, f"n{i}", "{}", 0, 0) for i in range(30)])
        ids = [r[0] for r in s.conn.execute("SELECT id FROM items ORDER BY id")]
        from listen.storage import postgres

        used: list[bool] = []
        real = postgres._Conn._update_from_arrays
        monkeypatch.setattr(postgres._Conn, "_update_from_arrays", lambda self, *a: used.append(real(self, *a)) or used[-1])
        changes = [(None if i % 3 == 0 else 1000 + i, "it's é 🎉\t" if i % 2 else None, ids[i]) for i in range(20)]
        changes.append((7, "last", ids[4]))
        with s._write() as c:
            c.executemany("UPDATE items SET answered_at = ?, assignee = ? WHERE id = ?", changes)
        assert used == [True]
        got = {r[0]: (r[1], r[2]) for r in s.conn.execute("SELECT id, answered_at, assignee FROM items")}
        want = {i: (None, None) for i in ids} | {k: (a, b) for a, b, k in changes}
        assert got == want
    finally:
        s.close()


@pytest.mark.parametrize("sql, params, want_sql, want_params", [
    ("SELECT a FROM t WHERE f = ? AND x IN (?,?,?)", (0, 1, 2, 3), "SELECT a FROM t WHERE f = ? AND x = ANY(?)", [0, [1, 2, 3]]),
    ("SELECT a FROM t WHERE x IN ( ? ) AND y = ?", ("a", "b"), "SELECT a FROM t WHERE x = ANY(?) AND y = ?", [["a"], "b"]),
    ("SELECT a FROM t WHERE x NOT IN (?, ?) AND y IN (?,?)", (1, 2, 3, 4),
     "SELECT a FROM t WHERE x NOT IN (?, ?) AND y = ANY(?)", [1, 2, [3, 4]]),
    ("SELECT 'IN (?)' FROM t WHERE y = ?", ("z",), "SELECT 'IN (?)' FROM t WHERE y = ?", ("z",)),
])
def test_in_lists_go_as_one_array(sql, params, want_sql, want_params):
    from listen.storage.postgres import _regroup, as_any

    got_sql, groups = as_any(sql)
    assert got_sql == want_sql
    assert (_regroup(params, groups) if groups else params) == want_params


def test_in_lists_as_arrays_find_what_in_lists_find(url):
    s = open_store(url)
    try:
        with s._write() as c:
            c.executemany("INSERT INTO items (feed, network, native_id, author, author_key, text, created_at,"
                          " thread_id, in_reply_to, reasons, first_seen, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          [("f", "jsonl", f"n{i}", "a", "a", "t", i, f"n{i}", None if i % 2 else f"n{i - 1}", "{}", 0, 0)
                           for i in range(40)])
        ids = [r[0] for r in s.conn.execute("SELECT id FROM items WHERE native_id IN (?, ?, ?) ORDER BY id",
                                            ("n3", "n5", "nope"))]
        assert len(ids) == 2
        # Even items reply to the odd one before them; ids and texts in one query, NOT IN left as written.
        got = s.conn.execute("SELECT native_id FROM items WHERE feed = ? AND in_reply_to IN (?, ?, ?)"
                             " AND native_id NOT IN (?) AND id NOT IN (?, ?) ORDER BY id",
                             ("f", "n1", "n3", "n5", "n6", *ids)).fetchall()
        assert [r[0] for r in got] == ["n2", "n4"]
    finally:
        s.close()


def test_a_feed_another_puller_holds_is_said_once_on_stdout_as_skipped(tmp_path, server, url):
    # QA: "ex: not modified (skipped: ...)" on stdout and "listen: ex: skipped: ..." on stderr.
    serve_feeds(server, ["ex", "other"], 3, delays=[0.0, 0.0])
    cfg = config(tmp_path, server, ["ex", "other"])
    run("--config", str(cfg), "--db", url, "feeds")  # the schema, made once
    holder = open_store(url)
    try:
        assert holder.claim_feeds(["ex"]) == ["ex"]
        r = run("--config", str(cfg), "--db", url, "pull")
        assert r.returncode == 0, r.stderr
        assert "ex: skipped: another listen pull is fetching it" in r.stdout.splitlines(), r.stdout
        assert "not modified" not in r.stdout and "ex:" not in r.stderr, (r.stdout, r.stderr)
        assert "other: 3 new" in r.stdout
        q = run("--config", str(cfg), "--db", url, "pull", "--quiet")
        assert q.returncode == 0 and q.stdout == "" and q.stderr == "", (q.stdout, q.stderr)
    finally:
        holder.close()
    assert server.hits("/ex.jsonl") == []
