"""Killed, overlapped, starved of disk, handed a damaged file: the database keeps its word.

Real `listen` processes against a real HTTP server on 127.0.0.1 and real SQLite files.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from listen.app import Listener
from listen.config import load
from tests.helpers import write_config
from tests.replay import Reply

PER_FEED = 2100  # more than pull.BATCH (2000): each feed lands in two transactions, its ETag in the second
NOW = int(time.time())
ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, env: dict | None = None, **kw) -> subprocess.Popen:
    e = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.Popen([sys.executable, "-m", "listen", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=e, **kw)


def run(*args: str, **kw) -> subprocess.CompletedProcess:
    p = cli(*args, **kw)
    out, err = p.communicate(timeout=60)
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


def jsonl_body(n: int, tag: str) -> bytes:
    return "".join(json.dumps({"id": str(i), "author": f"user{i % 97}", "created_at": NOW - 3600 - i,
                               "text": f"{tag} message {i}: is the export broken again?"}) + "\n"
                   for i in range(n)).encode()


def serve_feeds(server, names: list[str], per_feed: int, delays: list[float]) -> None:
    """Each feed: a jsonl body with an ETag, answered after its delay; 304 once the ETag comes back."""
    for name, delay in zip(names, delays, strict=True):
        body, etag = jsonl_body(per_feed, name), f'"{name}-v1"'

        def reply(req, body=body, etag=etag, delay=delay):
            if req.headers.get("if-none-match") == etag:
                return Reply(304, headers={"ETag": etag})
            return Reply(200, body, {"ETag": etag, "Content-Type": "application/x-ndjson"}, delay=delay)

        server.always(f"/{name}.jsonl", reply)


def config(tmp: Path, server, names: list[str]) -> Path:
    return write_config(tmp / "listen.toml", [{"name": n, "type": "jsonl", "url": f"{server.url}/{n}.jsonl"}
                                              for n in names])


def count(db: Path) -> int:
    if not db.exists():
        return 0
    c = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return c.execute("SELECT count(*) FROM items").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0
    finally:
        c.close()


def check_consistent(db: Path, names: list[str], per_feed: int) -> dict[str, int]:
    """The promises a killed pull must keep. Returns items stored per feed."""
    c = sqlite3.connect(db)
    try:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        per = dict(c.execute("SELECT feed, count(*) FROM items GROUP BY feed").fetchall())
        dupes = c.execute("SELECT count(*) - count(DISTINCT feed || '/' || native_id) FROM items").fetchone()[0]
        assert dupes == 0
        for name, etag in c.execute("SELECT name, etag FROM feeds"):
            if etag is not None:  # an ETag is saved only with every item it covers
                assert per.get(name) == per_feed, (name, per.get(name))
        return per
    finally:
        c.close()


def kill_when(proc: subprocess.Popen, ready, limit: float = 20.0) -> bool:
    """SIGKILL `proc` as soon as ready() holds. False if it finished first."""
    give_up = time.monotonic() + limit
    while time.monotonic() < give_up:
        if proc.poll() is not None:
            return False
        if ready():
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            return True
        time.sleep(0.005)
    proc.kill()
    raise AssertionError("the kill moment never came")


@pytest.mark.slow
def test_kill_9_at_several_moments_loses_and_doubles_nothing(tmp_path, server):
    names = ["a", "b"]
    serve_feeds(server, names, PER_FEED, delays=[0.0, 0.2])
    cfg = config(tmp_path, server, names)
    db = tmp_path / "listen.db"
    moments = [
        ("while the first request is in flight", lambda base: len(server.requests) > base["requests"]),
        ("right after the first batch committed", lambda base: count(db) > base["items"]),
        ("after a feed or two", lambda base: count(db) >= base["items"] + PER_FEED),
    ]
    killed = 0
    for _when, moment in moments:
        base = {"requests": len(server.requests), "items": count(db)}
        proc = cli("--config", str(cfg), "pull")
        killed += kill_when(proc, lambda moment=moment, base=base: moment(base))
        check_consistent(db, names, PER_FEED)
    assert killed >= 2  # the later moments may find the work already done

    r = run("--config", str(cfg), "pull")
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    per = check_consistent(db, names, PER_FEED)
    assert per == {n: PER_FEED for n in names}
    c = sqlite3.connect(db)
    ids = {n: {row[0] for row in c.execute("SELECT native_id FROM items WHERE feed = ?", (n,))} for n in names}
    assert all(ids[n] == {str(i) for i in range(PER_FEED)} for n in names)
    assert c.execute("SELECT count(*) FROM feeds WHERE etag IS NULL OR last_error IS NOT NULL").fetchone()[0] == 0
    c.close()


@pytest.mark.slow
def test_kill_9_mid_stream_of_a_local_file_keeps_no_cursor(tmp_path):
    """A local jsonl file streams in batches: a kill between them leaves the feed unmarked, the next pull completes."""
    (tmp_path / "big.jsonl").write_bytes(jsonl_body(4100, "local"))
    cfg = write_config(tmp_path / "listen.toml", [{"name": "big", "type": "jsonl", "path": "big.jsonl"}])
    db = tmp_path / "listen.db"
    proc = cli("--config", str(cfg), "pull")
    if kill_when(proc, lambda: count(db) >= 2000):
        c = sqlite3.connect(db)
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert count(db) in (2000, 4000, 4100)  # whole batches only
        assert c.execute("SELECT count(*) FROM feeds WHERE last_success IS NOT NULL").fetchone()[0] == \
            (1 if count(db) == 4100 else 0)
        c.close()
    r = run("--config", str(cfg), "pull")
    assert r.returncode == 0 and count(db) == 4100, r.stderr


# -- overlapping runs ------------------------------------------------------


def _lock_held(db: Path) -> bool:
    import fcntl

    lock = Path(str(db) + ".lock")
    if not lock.exists():
        return False
    with open(lock, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fh, fcntl.LOCK_UN)
        return False


@pytest.mark.slow
def test_overlapping_pulls_queue_then_each_completes(tmp_path, server):
    names = ["a", "b", "c"]
    serve_feeds(server, names, 300, delays=[0.2, 0.2, 0.2])
    cfg = config(tmp_path, server, names)
    procs = [cli("--config", str(cfg), "pull", "--wait", "30") for _ in range(3)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outs
    assert not any("Traceback" in err or "locked" in err for _, err in outs)
    assert check_consistent(tmp_path / "listen.db", names, 300) == {n: 300 for n in names}
    # the first did the work; the ones that queued found nothing new (304)
    assert sorted(out.count(" 300 new") for out, _ in outs) == [0, 0, 3]


@pytest.mark.slow
def test_a_pull_that_cannot_wait_gives_way_with_exit_3(tmp_path, server):
    names = ["slow"]
    serve_feeds(server, names, 50, delays=[1.0])
    cfg = config(tmp_path, server, names)
    db = tmp_path / "listen.db"
    first = cli("--config", str(cfg), "pull")
    give_up = time.monotonic() + 15
    while not _lock_held(db):
        assert time.monotonic() < give_up and first.poll() is None
        time.sleep(0.01)
    second = run("--config", str(cfg), "pull", "--wait", "0")
    assert second.returncode == 3
    assert "another `listen pull`" in second.stderr and "still running" in second.stderr
    assert f"pid {first.pid}" in second.stderr and "Traceback" not in second.stderr
    out, err = first.communicate(timeout=30)
    assert first.returncode == 0, err
    assert count(db) == 50


@pytest.mark.slow
def test_two_pulls_that_miss_each_others_lock_still_store_each_item_once(tmp_path, server):
    """Two paths to one database (a symlink) mean two lock files: SQLite's own locking must hold."""
    names = ["a", "b"]
    serve_feeds(server, names, 800, delays=[0.0, 0.0])
    cfg = config(tmp_path, server, names)
    db = tmp_path / "listen.db"
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert run("--config", str(cfg), "import", str(empty)).returncode == 0  # creates the database
    assert db.exists()
    (tmp_path / "alias.db").symlink_to(db)
    procs = [cli("--config", str(cfg), "--db", str(path), "pull") for path in (db, tmp_path / "alias.db")]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert not any("Traceback" in err for _, err in outs)
    assert check_consistent(db, names, 800) == {n: 800 for n in names}


@pytest.mark.slow
def test_reading_the_inbox_during_a_pull(tmp_path, server):
    names = ["a", "b", "c"]
    serve_feeds(server, names, 500, delays=[0.0, 0.3, 0.6])
    cfg = config(tmp_path, server, names)
    db = tmp_path / "listen.db"
    pulling = cli("--config", str(cfg), "pull")
    # The pull creates the database; before it exists, reading commands refuse to
    # make an empty one (a mistyped path must not answer "Inbox zero").
    deadline = time.monotonic() + 30
    while not db.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    seen = []
    while pulling.poll() is None or not seen:
        r = run("--config", str(cfg), "inbox", "--json", "--all")
        assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
        seen.append(len(json.loads(r.stdout)))
        r = run("--config", str(cfg), "feeds")
        assert r.returncode == 0, r.stderr
    out, err = pulling.communicate(timeout=30)
    assert pulling.returncode == 0, err
    assert seen == sorted(seen)  # readers see whole batches appear, never a half-written one vanish
    assert count(db) == 3 * 500


# -- database trouble ------------------------------------------------------


def invoke(capsys, *args: str, bug_ok: bool = False) -> subprocess.CompletedProcess:
    """`listen` in this process, through the same main() that maps errors to exit codes.

    An exception that main() reports only as a bug ("unexpected ...: a bug in listen")
    fails the test, unless the test provoked it (bug_ok).
    """
    from listen import cli

    capsys.readouterr()
    argv, sys.argv = sys.argv, ["listen", *args]
    try:
        cli.main()
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        sys.argv = argv
    out, err = capsys.readouterr()
    assert bug_ok or "(a bug in listen;" not in err, err
    return subprocess.CompletedProcess(args, code, out, err)


@pytest.fixture
def stored(tmp_path, capsys):
    """A config and a database holding a few waiting people, plus the inbox as it should read."""
    lines = [{"id": str(i), "author": f"user{i}", "text": f"Where is my refund number {i}?",
              "created_at": NOW - 600 - i} for i in range(40)]
    (tmp_path / "m.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    cfg = write_config(tmp_path / "listen.toml", [{"name": "ex", "type": "jsonl", "path": "m.jsonl"}])
    assert invoke(capsys, "--config", str(cfg), "pull").returncode == 0
    inbox = json.loads(invoke(capsys, "--config", str(cfg), "inbox", "--json").stdout)
    assert len(inbox) == 40
    return tmp_path, cfg, inbox


READERS = [("inbox",), ("inbox", "--json"), ("show", "1"), ("stats",), ("stats", "--json"), ("export",),
           ("export", "--format", "csv"), ("feeds",), ("done", "1"), ("reflag",)]


def steady(rows: list[dict]) -> list[dict]:
    """Inbox rows without waiting_seconds, which moves with the clock between two runs."""
    return [{k: v for k, v in r.items() if k != "waiting_seconds"} for r in rows]


def assert_loud_failure(r: subprocess.CompletedProcess, *words: str) -> None:
    assert r.returncode == 1, (r.args, r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and r.stderr.startswith("listen: ")
    assert "Nobody is waiting" not in r.stdout and len(r.stdout.splitlines()) <= 1  # at most a header or "["
    for w in words:
        assert w in r.stderr, (r.args, r.stderr)


def test_database_from_a_newer_listen(stored, capsys):
    tmp, cfg, _ = stored
    c = sqlite3.connect(tmp / "listen.db")
    c.execute("PRAGMA user_version = 99")
    c.close()
    for args in [*READERS, ("pull",)]:
        assert_loud_failure(invoke(capsys, "--config", str(cfg), *args), "newer listen", "upgrade")


def _rootpage(db: Path, name: str) -> int:
    c = sqlite3.connect(db)
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page = c.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (name,)).fetchone()[0]
    c.close()
    return page


@pytest.mark.parametrize("damage", ["truncated", "items table", "inbox index", "zeroed middle"])
def test_a_damaged_database_fails_loudly_never_an_empty_inbox(stored, capsys, damage):
    tmp, cfg, inbox = stored
    db = tmp / "listen.db"
    page_size = 4096
    page = _rootpage(db, {"items table": "items", "inbox index": "items_unanswered"}.get(damage, "items"))
    data = bytearray(db.read_bytes())
    if damage == "truncated":
        del data[len(data) // 2 + 100 :]
    elif damage == "zeroed middle":
        at = len(data) // 2
        data[at : at + page_size] = bytes(page_size)
    else:
        data[(page - 1) * page_size : page * page_size] = random.Random(damage).randbytes(page_size)
    db.write_bytes(bytes(data))
    for args in READERS:
        r = invoke(capsys, "--config", str(cfg), *args)
        if r.returncode == 0:
            # Damage this command never reads may go unnoticed; a wrong answer may not.
            if args == ("inbox", "--json"):
                assert steady(json.loads(r.stdout)) == steady(inbox)
            assert "Nobody is waiting" not in r.stdout
            continue
        assert_loud_failure(r, "damaged")


def test_a_file_that_is_not_a_database(tmp_path, capsys):
    cfg = write_config(tmp_path / "listen.toml", [{"name": "ex", "type": "jsonl", "path": "m.jsonl"}])
    (tmp_path / "listen.db").write_bytes(random.Random(7).randbytes(8192))
    for args in [*READERS, ("pull",)]:
        assert_loud_failure(invoke(capsys, "--config", str(cfg), *args), "not a listen database or is damaged")


def test_full_disk_during_a_pull_keeps_what_was_stored(stored, capsys):
    """SQLITE_FULL, forced with max_page_count: the feed fails in words, earlier items stay."""
    tmp, cfg, inbox = stored
    lines = [{"id": f"x{i}", "author": "bulk", "text": "Why? " + "x" * 3000, "created_at": NOW - 60}
             for i in range(400)]
    (tmp / "m.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    listener = Listener(load(cfg))
    pages = listener.store.conn.execute("PRAGMA page_count").fetchone()[0]
    listener.store.conn.execute(f"PRAGMA max_page_count = {pages + 20}")
    try:
        results = listener.pull()
        message = results[0].error
    except Exception as e:  # the failure could not even be recorded: it must still be our error, in words
        from listen.errors import StorageError

        assert isinstance(e, StorageError)
        message = str(e)
    listener.close()
    assert "disk is full" in message
    r = invoke(capsys, "--config", str(cfg), "inbox", "--json")
    assert r.returncode == 0 and steady(json.loads(r.stdout)) == steady(inbox)  # the failed batch left no trace
    c = sqlite3.connect(tmp / "listen.db")
    assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    c.close()


@pytest.fixture
def tiny_fs():
    if os.geteuid() != 0:
        pytest.skip("mounting a tiny tmpfs needs root; the max_page_count test covers SQLITE_FULL")
    where = Path(tempfile.mkdtemp(prefix="listen-full-"))
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=384k", "tmpfs", str(where)], capture_output=True)
    if r.returncode:
        where.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.decode().strip()}")
    yield where
    subprocess.run(["umount", str(where)], check=False)
    where.rmdir()


@pytest.mark.slow
def test_a_really_full_disk(tiny_fs, tmp_path):
    lines = [{"id": str(i), "author": f"u{i}", "text": f"Question {i}? " + "words " * 400, "created_at": NOW - 60}
             for i in range(300)]
    (tmp_path / "m.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    cfg = write_config(tmp_path / "listen.toml", [{"name": "ex", "type": "jsonl", "path": str(tmp_path / "m.jsonl")}])
    r = run("--config", str(cfg), "--db", str(tiny_fs / "listen.db"), "pull")
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert "disk is full" in r.stderr
    r = run("--config", str(cfg), "--db", str(tiny_fs / "listen.db"), "inbox")
    assert "Traceback" not in r.stderr
    if r.returncode == 0:  # the database opened: whatever it shows, it is whole
        c = sqlite3.connect(tiny_fs / "listen.db")
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        c.close()


@contextmanager
def read_only(path: Path):
    """Make a file or folder read-only for real: root ignores file modes, so root bind-mounts it read-only."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            path.chmod(mode)
            # SQLite gives the -wal and -shm files it makes the database file's mode: made
            # while it was read-only, they are read-only too, and the file is writable again
            # only with them.
            for side in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                if side.exists() and not path.is_dir():
                    side.chmod(mode)
        return
    r = subprocess.run(["mount", "--bind", str(path), str(path)], capture_output=True)
    if r.returncode:
        pytest.skip(f"running as root and cannot bind-mount read-only: {r.stderr.decode().strip()}")
    try:
        r = subprocess.run(["mount", "-o", "remount,ro,bind", str(path)], capture_output=True)
        if r.returncode:
            pytest.skip(f"running as root and cannot remount read-only: {r.stderr.decode().strip()}")
        yield
    finally:
        subprocess.run(["umount", "--lazy", str(path)], check=False)  # lazy: a handle still open must not keep it ro


def test_a_read_only_database_file_reads_but_refuses_writes(stored, capsys):
    tmp, cfg, inbox = stored
    with read_only(tmp / "listen.db"):
        r = invoke(capsys, "--config", str(cfg), "inbox", "--json")
        assert r.returncode == 0 and steady(json.loads(r.stdout)) == steady(inbox)
        for args in (("pull",), ("done", "1")):
            assert_loud_failure(invoke(capsys, "--config", str(cfg), *args), "read-only", "-wal and -shm")


def test_a_read_only_folder(stored, capsys):
    tmp, cfg, inbox = stored
    c = sqlite3.connect(tmp / "listen.db")
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    c.close()
    for extra in ("listen.db-wal", "listen.db-shm"):
        (tmp / extra).unlink(missing_ok=True)
    with read_only(tmp):
        for args in (("inbox", "--json"), ("pull",), ("done", "1")):
            r = invoke(capsys, "--config", str(cfg), *args)
            if r.returncode == 0:  # SQLite may manage to read; then it must be the whole inbox
                assert args == ("inbox", "--json") and steady(json.loads(r.stdout)) == steady(inbox)
            elif "read-only" in r.stderr:  # a non-root user: SQLite opens the file, then cannot write beside it
                assert_loud_failure(r, "read-only", "folder")
            else:  # root, on a read-only bind mount: the open itself fails
                assert_loud_failure(r, "cannot open the database")
