"""Small builders shared by the tests."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from listen.flags import FlagSettings
from listen.models import RawItem
from listen.rows import to_row
from listen.waiting import Identity, answered_times

T0 = 1_770_000_000  # a fixed "now" for tests


def raw(nid, author, text, t, reply=None, thread=None, ours=None, url=None) -> RawItem:
    return RawItem(native_id=nid, author=author, text=text,
                   created_at=datetime.fromtimestamp(t, timezone.utc), in_reply_to=reply,
                   thread_id=thread, ours=ours, url=url)


def save(store, feed, items, names=("acme",), now=T0, state=None):
    rows = [to_row(i, Identity(names), FlagSettings(), now) for i in items]
    return store.save_batch(feed, "jsonl", rows, state, answered_times, now)


def write_config(path: Path, feeds: list[dict], names=("acme",), extra: str = "") -> Path:
    lines = [f"[identity]\nnames = {json.dumps(list(names))}\n", extra]
    for f in feeds:
        lines.append("[[feeds]]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in f.items()]
        lines.append("")
    path.write_text("\n".join(lines))
    return path


def jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def listen_here(*args: str, cwd: Path | None = None, stdin: str | None = None,
                env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`listen ARGS` run in this process, through the same main() that maps errors to exit
    codes, with its own argv, streams, environment and working folder: what a process would
    see, without paying 0.3 s to start Python and import listen for each command.

    A test that needs a real process (start-up imports, signals, locks between processes)
    uses subprocess instead."""
    from listen import cli

    saved = (sys.argv, sys.stdin, sys.stdout, sys.stderr, os.getcwd(), dict(os.environ))
    out, err = io.StringIO(), io.StringIO()
    sys.argv = ["listen", *args]
    sys.stdin = io.TextIOWrapper(io.BytesIO((stdin or "").encode("utf-8")), encoding="utf-8")  # with a .buffer
    sys.stdout, sys.stderr = out, err
    os.environ.update({"NO_COLOR": "1", **(env or {})})
    try:
        if cwd is not None:
            os.chdir(cwd)
        cli.main()
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        sys.argv, sys.stdin, sys.stdout, sys.stderr = saved[:4]
        os.chdir(saved[4])
        os.environ.clear()
        os.environ.update(saved[5])
    assert "(a bug in listen;" not in err.getvalue(), err.getvalue()  # main() turned a bug into one line
    return subprocess.CompletedProcess(["listen", *args], code, out.getvalue(), err.getvalue())


def make_v1_database(path: Path, *setup: tuple[str, tuple[Any, ...]]) -> None:
    """A database file as the first listen release left it (schema version 1), with each
    (sql, params) of `setup` run in it: for a test to open and see it upgraded."""
    conn = sqlite3.connect(path)
    for statement in (Path(__file__).parent / "fixtures" / "schema_v1.sql").read_text().split(";"):
        if statement.strip():
            conn.execute(statement)
    for sql, params in setup:
        conn.execute(sql, params)
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()


def v1_question(native_id: str, created_at: int, now: int) -> tuple[str, tuple[Any, ...]]:
    """An open question by ann in feed 'f', as a version-1 database stored it (make_v1_database)."""
    return ("INSERT INTO items (feed, network, native_id, author, author_key, text, created_at, thread_id,"
            " first_seen, updated_at, question) VALUES ('f', 'jsonl', ?, 'ann', 'ann', 'hi?', ?, ?, ?, ?, 1)",
            (native_id, created_at, native_id, now, now))
