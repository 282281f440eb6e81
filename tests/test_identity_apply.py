"""Editing [identity] names takes effect without a pull: every command that opens the store
re-applies them when they changed, and `listen reflag` re-applies them always. On SQLite and
on a real PostgreSQL (`db_target`/`store` in conftest; PostgreSQL skips without a server)."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path

from listen.storage import open_store
from listen.waiting import Identity, answered_times
from tests.helpers import T0, jsonl, listen_here, raw, save, write_config

H = 3600


def cli(cfg: Path, db: str, *args: str):
    return listen_here("--config", str(cfg), "--db", db, *args, env={"COLUMNS": "200"})


def conversation(tmp_path: Path, names: list[str]) -> Path:
    """ann asks; sarah, a colleague the config may not name yet, answers her."""
    now = int(time.time())
    jsonl(tmp_path / "m.jsonl", [
        {"id": "q", "author": "ann", "text": "How do I reset my password?", "created_at": now - 3 * H},
        {"id": "r", "author": "sarah", "text": "Settings, then Security.", "created_at": now - 2 * H,
         "in_reply_to": "q"},
    ])
    return names_are(tmp_path, names)


def names_are(tmp_path: Path, names: list[str]) -> Path:
    return write_config(tmp_path / "listen.toml", [{"name": "help", "type": "jsonl", "path": "m.jsonl"}],
                        names=names)


def waiting(cfg: Path, db: str) -> list[str]:
    r = cli(cfg, db, "inbox", "--json")
    assert r.returncode == 0, r.stderr
    return [x["author"] for x in json.loads(r.stdout)]


def ours(cfg: Path, db: str) -> dict[str, bool]:
    r = cli(cfg, db, "export", "--format", "jsonl")
    assert r.returncode == 0, r.stderr
    return {x["author"]: x["ours"] for x in map(json.loads, r.stdout.splitlines())}


def test_edited_names_reach_inbox_export_and_stats_without_a_pull(tmp_path, db_target):
    cfg = conversation(tmp_path, ["acme"])
    assert cli(cfg, db_target, "pull").returncode == 0
    assert waiting(cfg, db_target) == ["ann"] and ours(cfg, db_target) == {"ann": False, "sarah": False}
    stats = json.loads(cli(cfg, db_target, "stats", "--json").stdout)["overall"]
    assert (stats["mentions"], stats["answered"], stats["waiting"], stats["our_posts"]["replies"]) == (2, 0, 1, 0)

    names_are(tmp_path, ["acme", "Sarah"])  # no pull after this
    assert waiting(cfg, db_target) == []  # sarah's reply now answers ann
    assert ours(cfg, db_target) == {"ann": False, "sarah": True}
    rows = list(csv.DictReader(io.StringIO(cli(cfg, db_target, "export", "--format", "csv").stdout)))
    assert {r["author"]: r["ours"] for r in rows} == {"ann": "false", "sarah": "true"}
    after = json.loads(cli(cfg, db_target, "stats", "--json").stdout)["overall"]
    assert (after["mentions"], after["answered"], after["waiting"], after["our_posts"]["replies"]) == (1, 1, 0, 1)
    assert after["first_response_seconds"]["median"] == H

    names_are(tmp_path, ["acme"])  # and back: reflag says what it re-decided
    r = cli(cfg, db_target, "reflag")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == "re-decided 1 item by [identity] names"
    assert waiting(cfg, db_target) == ["ann"] and ours(cfg, db_target)["sarah"] is False


def test_reflag_reapplies_names_even_when_they_look_unchanged(tmp_path, db_target):
    cfg = conversation(tmp_path, ["acme", "sarah"])
    assert cli(cfg, db_target, "pull").returncode == 0
    r = cli(cfg, db_target, "reflag")
    assert r.returncode == 0 and r.stdout.strip() == "re-flagged 0 items", r.stdout  # nothing to re-decide
    # Rows out of step with a fingerprint that says they are not (a copy made by hand,
    # an older listen's bug): opening the store trusts the fingerprint, reflag does not.
    store = open_store(db_target)
    try:
        with store._write() as c:  # one transaction, on either backend
            c.execute("UPDATE items SET ours = 0, answered_at = NULL")
    finally:
        store.close()
    assert waiting(cfg, db_target) == ["ann"]
    r = cli(cfg, db_target, "reflag")
    assert r.returncode == 0 and r.stdout.splitlines()[0] == "re-decided 1 item by [identity] names", r.stdout
    assert waiting(cfg, db_target) == [] and ours(cfg, db_target)["sarah"] is True


def test_apply_identity_skips_unchanged_names_unless_forced(store):
    save(store, "f", [raw("q", "ann", "How do I reset it?", T0 - 2 * H),
                      raw("r", "sarah", "like this", T0 - H, reply="q")], names=())
    # The record says these names were applied, though the rows predate them (a copy
    # made by hand, an old version's bug): only a forced apply looks at the rows.
    store.meta_set("identity", Identity(["sarah"]).fingerprint())
    assert store.apply_identity(Identity(["sarah"]), answered_times) == 0
    assert len(store.inbox(T0, max_age=86400)) == 1
    assert store.apply_identity(Identity(["sarah"]), answered_times, force=True) == 1
    assert store.inbox(T0, max_age=86400) == []
    assert store.apply_identity(Identity(["sarah"]), answered_times, force=True) == 0  # nothing left to change


def test_a_read_only_database_still_reads_when_the_names_changed(tmp_path):
    from tests.test_crash import read_only

    db = str(tmp_path / "listen.db")
    cfg = conversation(tmp_path, ["acme"])
    assert cli(cfg, db, "pull").returncode == 0
    names_are(tmp_path, ["acme", "sarah"])
    with read_only(tmp_path / "listen.db"):
        assert waiting(cfg, db) == ["ann"]  # cannot write the new names: reads what is stored, no error
    assert waiting(cfg, db) == []  # writable again: the next command applies them
