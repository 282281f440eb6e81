"""`listen import`: a jsonl export restored into a fresh database is the same data, streamed."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import pytest

from listen import importer
from listen.app import Listener
from listen.config import load
from listen.demo import CONFIG, DEMO_NOW, SAMPLES
from listen.storage import open_store
from tests.conftest import pg_server
from tests.helpers import jsonl, listen_here

D = 86400
NOW = int(DEMO_NOW)


def listen(config: Path, *args: str, db: Path | str | None = None, stdin: str | None = None):
    return listen_here("--config", str(config), *(["--db", str(db)] if db else []), *args, stdin=stdin)


def steady(lines: list[str]) -> list[dict]:
    """Export records minus waiting_seconds, which moves with the clock."""
    out = []
    for line in lines:
        rec = json.loads(line)
        rec.pop("waiting_seconds")
        out.append(rec)
    return out


def export_lines(listener: Listener) -> list[str]:
    # The same serialisation as `listen export --format jsonl`.
    return [json.dumps(r, ensure_ascii=False) for r in listener.export()]


@pytest.fixture
def original(tmp_path):
    """The demo feeds plus a feed that exercises every column, pulled and triaged at the demo's clock."""
    for name in SAMPLES:
        (tmp_path / name).write_bytes(files("listen.demo").joinpath(name).read_bytes())
    jsonl(tmp_path / "forum.jsonl", [
        # ours only because the source says so (a token's account), not by name
        {"id": "f1", "author": "helpdesk-bot", "text": "Release notes for 2.0 are out.", "created_at": NOW - 9 * D,
         "ours": True, "title": "Release 2.0", "url": "https://forum.example/t/1"},
        {"id": "f2", "author": "zoë", "author_name": "Zoë \u202e\U0001f600", "text": "Does 2.0 break\tthe API?\n\nAsking",
         "created_at": NOW - 8 * D, "in_reply_to": "f1", "thread_id": "f1", "title": "Release 2.0"},
        {"id": "f3", "author": "helpdesk-bot", "text": "No, it does not.", "created_at": NOW - 7 * D,
         "in_reply_to": "f2", "ours": True},
        {"id": "f4", "author": "yan", "text": "Why is the export so slow? Terrible.", "created_at": NOW - 2 * D},
        {"id": "f5", "author": "xi", "text": "Where are the docs?", "created_at": NOW - D},
        {"id": "f6", "author": "wu", "text": "How do I cancel?", "created_at": NOW - 3600},
    ])
    cfg = tmp_path / "listen.toml"
    cfg.write_text(CONFIG + '\n[[feeds]]\nname = "forum"\ntype = "jsonl"\npath = "forum.jsonl"\n')
    listener = Listener(load(cfg), clock=lambda: DEMO_NOW)
    assert not any(r.error for r in listener.pull())
    ids = {r["native_id"]: r["id"] for r in listener.export()}
    listener.triage([ids["f4"]], "done")
    listener.triage([ids["f5"]], "ignore")
    listener.triage([ids["f6"]], "snooze", for_seconds=2 * D)
    yield cfg, listener
    listener.close()


def test_export_import_export_is_identical(original, tmp_path, backend):
    cfg, a = original
    first = export_lines(a)
    recs = steady(first)
    # The dataset is mixed: both networks, ours and not, answered, every triage state, flags.
    assert {r["network"] for r in recs} == {"rss", "jsonl"} and len(recs) >= 25
    assert {r["state"] for r in recs} == {"open", "done", "ignored"}
    assert any(r["snoozed_until"] for r in recs) and any(r["answered_at"] for r in recs)
    assert any(r["ours"] and r["author"] == "helpdesk-bot" for r in recs)
    assert any(r["addressed_to_us"] for r in recs) and any(r["flags"] == ["question", "negative"] for r in recs)
    dump = tmp_path / "export.jsonl"
    dump.write_text("".join(line + "\n" for line in first), encoding="utf-8")

    # Restored into SQLite, and into PostgreSQL: the same records, the same inbox and stats.
    fresh = tmp_path / "fresh" / "listen.db" if backend == "sqlite" else pg_server().new_database()
    r = listen(cfg, "import", str(dump), db=fresh)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"imported {len(recs)} items ({len(recs)} new, 0 updated)"
    b = Listener(load(cfg, db_override=str(fresh)), clock=lambda: DEMO_NOW)
    try:
        assert steady(export_lines(b)) == recs  # every column, internal ids included
        # What people read from it is the same too: the inbox, in the same order, and the stats.
        assert [(i.id, i.addressed) for i in b.inbox().items] == [(i.id, i.addressed) for i in a.inbox().items]
        assert b.stats(30 * D) == a.stats(30 * D)
        # And the restored database keeps working. A pull re-checks who is ours across every stored
        # item: the forum's token-owned posts stay ours though that feed is not re-read this time.
        assert not any(x.error for x in b.pull(["blog-comments", "community"]))
        assert steady(export_lines(b)) == recs
        # Re-reading every feed adds no duplicate and undoes no triage decision.
        assert not any(x.error for x in b.pull())
        assert steady(export_lines(b)) == recs
    finally:
        b.close()
    again = listen(cfg, "export", "--format", "jsonl", db=fresh)
    assert steady(again.stdout.splitlines()) == recs


def test_bad_lines_are_named_and_skipped(tmp_path):
    cfg = tmp_path / "listen.toml"
    cfg.write_text("")
    good = {"id": "7", "feed": "blog", "network": "rss", "native_id": "c1", "author": "ann", "text": "How?",
            "created_at": "2026-03-01T10:00:00+00:00", "flags": ["question"], "state": "done"}
    lines = [
        json.dumps(good),
        "{not json",
        json.dumps({**good, "native_id": "c2", "author": None}),
        "",
        json.dumps({**good, "native_id": "c3", "state": "archived"}),
        json.dumps({"id": "9", "author": "bob", "text": "hi", "created_at": 1}),  # a feed's mention, not an export
        json.dumps({**good, "native_id": "c4", "created_at": "2026-03-01 10:00"}),
        json.dumps({**good, "native_id": "c5", "flags": ["angry"]}),
        json.dumps([1, 2]),
        json.dumps({**good, "native_id": "c6", "id": "8", "ours": "yes"}),
        json.dumps({**good, "native_id": "c7", "id": "8", "flags": [], "reasons": ["x"], "answered_at": 1772359200}),
    ]
    path = tmp_path / "in.jsonl"
    path.write_bytes(("\n".join(lines) + "\n").encode() + b'{"text": "\xff"}\n')
    db = tmp_path / "x.db"
    r = listen(cfg, "import", str(path), db=db)
    assert r.returncode == 1
    assert r.stdout.strip() == "imported 2 items (2 new, 0 updated); skipped 9 bad lines"
    err = r.stderr.splitlines()
    prefix = f"listen: {path} line "
    assert [e[len(prefix):].split(":")[0] for e in err] == ["2, column 2", "3", "5", "6", "7", "8", "9", "10", "12"]
    # Worded as a jsonl feed words a bad line: the file's line and column, json's reason.
    assert err[0] == f"{prefix}2, column 2: not valid JSON (Expecting property name enclosed in double quotes); skipped"
    for needle in ("not valid JSON", "`author` is missing", "`state` 'archived'", "this looks like a jsonl feed's mention",
                   "has no UTC offset", "unknown flag 'angry'", "not a JSON object", "`ours` must be true or false",
                   "not UTF-8"):
        assert any(needle in e for e in err), needle
    assert all(e.endswith("; skipped") and e.startswith(prefix) for e in err)
    store = open_store(db)
    try:
        rows = {r["native_id"]: r for r in store.iter_items()}
    finally:
        store.close()
    assert set(rows) == {"c1", "c7"}
    assert rows["c1"]["id"] == 7 and rows["c1"]["state"] == "done" and rows["c1"]["question"] == 1
    assert rows["c7"]["id"] == 8 and rows["c7"]["answered_at"] == 1772359200 and rows["c7"]["reasons"] == '["x"]'


def test_import_into_a_used_database_merges_and_never_takes_an_id(original, tmp_path):
    cfg, a = original
    recs = [json.loads(line) for line in export_lines(a)]
    # The same database: every record is already there (same feed and native id): updated in place.
    before = steady(export_lines(a))
    r = listen(cfg, "import", "-", stdin="".join(json.dumps(x) + "\n" for x in recs))
    assert r.returncode == 0 and r.stdout.strip() == f"imported {len(recs)} items (0 new, {len(recs)} updated)"
    assert steady(export_lines(a)) == before
    # Under another feed name (--feed): all new, and ids held by the originals are not taken.
    r = listen(cfg, "import", "-", "--feed", "archive", stdin="".join(json.dumps(x) + "\n" for x in recs[:5]))
    assert r.returncode == 0, r.stderr
    after = [json.loads(line) for line in export_lines(a)]
    assert steady([json.dumps(x) for x in after[: len(recs)]]) == before
    archived = [x for x in after if x["feed"] == "archive"]
    assert len(archived) == 5 and {x["native_id"] for x in archived} == {x["native_id"] for x in recs[:5]}
    assert min(int(x["id"]) for x in archived) > max(int(x["id"]) for x in recs)
    assert listen(cfg, "import", str(tmp_path / "nope.jsonl")).stderr.startswith("listen: ")


class _Counting:
    """A real store that notes how far the file had been read at each write."""

    def __init__(self, store, source):
        self.store, self.source, self.writes = store, source, []

    def import_rows(self, rows):
        self.writes.append((len(rows), self.source.lines_read))
        return self.store.import_rows(rows)


class _Lines:
    """A file of n export lines produced as they are read, never held whole."""

    def __init__(self, n: int):
        self.n, self.lines_read = n, 0

    def __iter__(self):
        for i in range(self.n):
            self.lines_read += 1
            yield json.dumps({"id": str(i + 1), "feed": "big", "network": "jsonl", "native_id": f"n{i}",
                              "author": f"user{i % 97}", "text": f"message {i}?", "created_at": NOW - i,
                              "in_reply_to": f"n{i - 1}" if i % 3 else None, "flags": ["question"]}).encode() + b"\n"


def test_import_streams_in_batches(tmp_path):
    source = _Lines(4500)
    store = open_store(tmp_path / "big.db")
    try:
        counting = _Counting(store, source)
        result = importer.import_stream(counting, source, now=NOW, batch_size=1000)
        assert (result.new, result.updated, result.skipped) == (4500, 0, 0)
        # Written while reading: each batch as soon as it is full, the first after 1,000 of 4,500 lines.
        assert counting.writes == [(1000, 1000), (1000, 2000), (1000, 3000), (1000, 4000), (500, 4500)]
        stored = {r["native_id"]: r for r in store.iter_items()}
        assert len(stored) == 4500 and max(int(r["id"]) for r in stored.values()) == 4500
        # A record without thread_id falls back to the item it answers, as a pull would guess.
        assert stored["n5"]["thread_id"] == "n4"
    finally:
        store.close()


def test_an_assignee_that_could_drive_a_terminal_is_refused_and_a_fine_one_matches_as_a_name(tmp_path):
    cfg = tmp_path / "listen.toml"
    cfg.write_text('[identity]\nme = "sam"\n[inbox]\nmax_age = "3650d"\n')
    good = {"id": "7", "feed": "blog", "network": "rss", "native_id": "c1", "author": "ann", "text": "How?",
            "created_at": "2026-03-01T10:00:00+00:00", "flags": ["question"], "assignee": "@Sam"}
    path = tmp_path / "in.jsonl"
    jsonl(path, [good, {**good, "id": "8", "native_id": "c2", "assignee": "\x1b[31mred\nx"}])
    db = tmp_path / "x.db"
    r = listen(cfg, "import", str(path), db=db)
    assert r.returncode == 1 and "skipped 1 bad line" in r.stdout, (r.stdout, r.stderr)
    assert f"{path} line 2: `assignee`" in r.stderr and "\x1b" not in r.stderr
    mine = json.loads(listen(cfg, "inbox", "--mine", "--json", db=db).stdout)
    assert [(x["id"], x["assignee"]) for x in mine] == [("7", "@Sam")]  # kept as exported, matched as a name
