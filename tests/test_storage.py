import sqlite3
import threading

import pytest

from listen.errors import NotFound, StorageError
from listen.models import FetchState
from listen.storage import open_store, schema
from listen.waiting import Identity, answered_times
from tests.helpers import T0, make_v1_database, raw, save, v1_question

H = 3600


# `store` (conftest) runs each test on SQLite and on PostgreSQL.


def count(store, where="1 = 1"):
    return store.conn.execute(f"SELECT count(*) FROM items WHERE {where}").fetchone()[0]


def test_new_database_is_wal_and_versioned(tmp_path):
    store = open_store(tmp_path / "listen.db")
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.conn.execute("PRAGMA user_version").fetchone()[0] == schema.VERSION


def test_repull_updates_never_duplicates_and_keeps_edits(store):
    assert save(store, "f", [raw("1", "ann", "how do I export?", T0 - H)]) == (1, 0)
    assert save(store, "f", [raw("1", "ann", "how do I export?", T0 - H)]) == (0, 0)  # unchanged: not rewritten
    assert save(store, "f", [raw("1", "ann", "how do I export my data?", T0 - H)]) == (0, 1)
    assert count(store) == 1
    assert store.conn.execute("SELECT text FROM item_edits").fetchall()[0][0] == "how do I export?"
    item = store.item("1")
    assert item.text == "how do I export my data?" and item.edited
    # the same native id in another feed is another item
    save(store, "g", [raw("1", "ann", "hi", T0)])
    assert count(store) == 2


def test_cursor_saved_with_items_in_one_transaction(store):
    save(store, "f", [raw("1", "ann", "help?", T0)], state=FetchState("etag-1", None, "c1"))
    state, after = store.fetch_state("f")
    assert (state.etag, state.cursor, after) == ("etag-1", "c1", None)

    good = dict(native_id="2", author="bob", author_name=None, author_key="bob", text="x", created_at=T0,
                url=None, in_reply_to=None, thread_id=None, title=None, ours_hint=None, ours=0, raw=None,
                question=0, negative=0, addressed=0, question_score=0, negative_score=0, reasons="[]",
                flags_version="t")
    bad = {**good, "native_id": "3", "text": object()}  # a value SQLite cannot store
    with pytest.raises(StorageError):
        store.save_batch("f", "jsonl", [good, bad], FetchState("etag-2", None, "c2"), answered_times, T0)
    assert store.fetch_state("f")[0].cursor == "c1"  # neither the cursor ...
    assert count(store, "native_id = '2'") == 0  # ... nor the items of the failed batch


def test_thread_found_by_following_in_reply_to_even_out_of_order(store):
    # grandchild first, then child, then root: all end in the root's thread
    save(store, "f", [raw("c2", "bob", "and?", T0 - 1 * H, reply="c1")])
    save(store, "f", [raw("c1", "ann", "why?", T0 - 2 * H, reply="root")])
    save(store, "f", [raw("root", "cat", "post", T0 - 3 * H)])
    threads = {r[0] for r in store.conn.execute("SELECT thread_id FROM items")}
    assert threads == {"root"}


def test_our_reply_answers_and_leaves_the_inbox(store):
    save(store, "f", [raw("q", "ann", "How do I export my data?", T0 - 5 * H)])
    assert [i.native_id for i in store.inbox(T0, max_age=14 * 86400)] == ["q"]
    save(store, "f", [raw("r", "acme", "Settings > Data", T0 - 4 * H, reply="q")])
    assert store.inbox(T0, max_age=14 * 86400) == []
    assert store.item(store.conn.execute("SELECT id FROM items WHERE native_id='q'").fetchone()[0]).answered_at


def test_our_reply_arriving_before_the_mention_still_answers(store):
    save(store, "f", [raw("r", "acme", "here you go", T0 - 4 * H, reply="q")])
    save(store, "f", [raw("q", "ann", "How do I export my data?", T0 - 5 * H)])
    assert store.inbox(T0, max_age=14 * 86400) == []


def test_inbox_rules_state_snooze_age_flags(store):
    save(store, "f", [
        raw("old", "ann", "How do I reset it?", T0 - 20 * 86400),
        raw("q", "bob", "How do I reset it?", T0 - 2 * H),
        raw("plain", "cat", "Nice post, thanks", T0 - H),
        raw("neg", "dan", "This is broken and nobody is responding", T0 - H),
    ])
    waiting = [i.native_id for i in store.inbox(T0, max_age=14 * 86400)]
    assert set(waiting) == {"q", "neg"}
    # a negative remark waiting 1h outranks a question waiting 2h? no: 1h*2 == 2h; tie broken by id
    assert set(i.native_id for i in store.inbox(T0, max_age=14 * 86400, include_unflagged=True)) == {"q", "neg", "plain"}
    ids = {i.native_id: i.id for i in store.inbox(T0, max_age=14 * 86400)}
    store.set_state([ids["q"]], "done", T0)
    assert [i.native_id for i in store.inbox(T0, max_age=14 * 86400)] == ["neg"]
    store.set_state([ids["neg"]], "open", T0, snoozed_until=T0 + H)
    assert store.inbox(T0, max_age=14 * 86400) == []
    assert [i.native_id for i in store.inbox(T0 + H, max_age=14 * 86400)] == ["neg"]  # time is up
    assert store.inbox_summary(T0 + H, max_age=14 * 86400)["items"] == 1


def test_new_message_from_same_person_wakes_a_snooze(store):
    save(store, "f", [raw("q", "ann", "How do I reset it?", T0 - 2 * H, thread="t")])
    qid = store.inbox(T0, max_age=86400)[0].id
    store.set_state([qid], "open", T0, snoozed_until=T0 + 86400)
    save(store, "f", [raw("x", "bob", "me too", T0 - H, thread="t")])
    assert store.item(qid).snoozed_until is not None  # someone else: still snoozed
    save(store, "f", [raw("q2", "ann", "hello??", T0 - 1, thread="t")])
    assert store.item(qid).snoozed_until is None


def test_identity_change_recomputes_ours_and_answers(store):
    save(store, "f", [raw("q", "ann", "How do I reset it?", T0 - 2 * H),
                      raw("r", "sarah", "like this", T0 - H, reply="q")], names=())
    assert len(store.inbox(T0, max_age=86400)) == 1
    assert store.apply_identity(Identity(["Sarah"]), answered_times) == 1
    assert store.inbox(T0, max_age=86400) == []
    assert store.apply_identity(Identity(["Sarah"]), answered_times) == 0  # nothing changed


def test_unknown_item_id(store):
    with pytest.raises(NotFound):
        store.item("999")
    with pytest.raises(NotFound):
        store.set_state(["abc"], "done", T0)


def test_database_from_a_newer_listen_is_refused(tmp_path):
    p = tmp_path / "new.db"
    c = sqlite3.connect(p)
    c.execute("PRAGMA user_version = 999")
    c.close()
    with pytest.raises(StorageError, match="newer listen"):
        open_store(p)


def test_foreign_or_corrupt_files_are_refused(tmp_path):
    p = tmp_path / "other.db"
    c = sqlite3.connect(p)
    c.execute("CREATE TABLE x (a)")
    c.commit()
    c.close()
    with pytest.raises(StorageError, match="not a listen database"):
        open_store(p)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StorageError, match="not a listen database or is damaged"):
        open_store(junk)


def test_older_schema_is_upgraded_in_place(tmp_path):
    """A database at version N-1 gains migration N on open, keeping its rows."""
    p = tmp_path / "old.db"
    s = open_store(p)
    save(s, "f", [raw("q", "ann", "How do I reset it?", T0 - 2 * H)])
    s.close()
    newer = {**schema.SQL_MIGRATIONS, schema.VERSION + 1: ["ALTER TABLE items ADD COLUMN lang TEXT"]}
    conn = sqlite3.connect(p)
    assert schema.ensure(conn, newer) is True
    conn.commit()
    assert [r[1] for r in conn.execute("PRAGMA table_info(items)")][-1] == "lang"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.VERSION + 1
    assert schema.ensure(conn, newer) is False  # applied once
    conn.close()
    with pytest.raises(StorageError, match="newer listen"):  # this listen does not know version N+1
        open_store(p)


def test_a_version_1_database_gets_every_migration(tmp_path):
    p = tmp_path / "v1.db"
    make_v1_database(p, v1_question("a", T0 - H, T0))
    s = open_store(p)
    try:
        assert s.conn.execute("PRAGMA user_version").fetchone()[0] == schema.VERSION
        [item] = s.inbox(T0, max_age=86400)
        assert item.native_id == "a"
        fresh = tmp_path / "new.db"
        open_store(fresh).close()
        f = sqlite3.connect(fresh)
        # The upgraded file has every table and column a new one has.
        for table in [r[0] for r in f.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]:
            want = {r[1] for r in f.execute(f"PRAGMA table_info({table})")}
            have = {r[1] for r in s.conn.execute(f"PRAGMA table_info({table})")}
            assert want == have, table
        indexes = "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex%'"
        assert {r[0] for r in s.conn.execute(indexes)} == {r[0] for r in f.execute(indexes)}
        f.close()
    finally:
        s.close()


def test_two_writers_at_once_store_each_item_once(tmp_path):
    path = tmp_path / "shared.db"
    open_store(path).close()
    items = [raw(str(i), f"user{i % 7}", f"question {i}?", T0 - i) for i in range(300)]
    errors = []

    def writer():
        s = open_store(path)
        try:
            for k in range(0, 300, 50):
                save(s, "f", items[k : k + 50])
        except Exception as e:  # pragma: no cover - the assertion below reports it
            errors.append(e)
        finally:
            s.close()

    threads = [threading.Thread(target=writer) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    s = open_store(path)
    assert count(s) == 300
    assert s.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    s.close()


def test_answer_to_a_later_message_arriving_in_later_batches(store):
    save(store, "f", [raw("q1", "ann", "How do I export?", T0 - 5 * H, thread="t")])
    save(store, "f", [raw("q2", "ann", "Anyone? Still stuck?", T0 - 4 * H, thread="t")])
    assert len(store.inbox(T0, max_age=86400)) == 2
    save(store, "f", [raw("r", "acme", "Settings > Export", T0 - 3 * H, reply="q2", thread="t")])
    assert store.inbox(T0, max_age=86400) == []
    # a fresh question from her afterwards is not answered by the old reply
    save(store, "f", [raw("q3", "ann", "And how do I import?", T0 - 1 * H, thread="t")])
    assert [i.native_id for i in store.inbox(T0, max_age=86400)] == ["q3"]


def _damaged_db(tmp_path, stale_marker: bool):
    """A database whose index pages are overwritten, where the table itself still opens."""
    import socket

    p = tmp_path / "damaged.db"
    s = open_store(p)
    save(s, "f", [raw(str(i), f"user{i}", f"question number {i}?", T0 - i) for i in range(3000)])
    if stale_marker:  # what a killed listen leaves behind: its open-marker, its process gone
        s.conn.execute("INSERT INTO meta (key, value) VALUES (?, '')", (f"open:{socket.gethostname()}:999999999:1",))
    s.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    pages = [r[0] for r in s.conn.execute("SELECT pageno FROM dbstat WHERE name = 'items_created'")] \
        if s.conn.execute("SELECT 1 FROM pragma_module_list WHERE name = 'dbstat'").fetchone() else []
    page_size = s.conn.execute("PRAGMA page_size").fetchone()[0]
    s.close()
    if not pages:
        pytest.skip("this SQLite has no dbstat to find an index page")
    with open(p, "r+b") as fh:
        fh.seek((pages[len(pages) // 2] - 1) * page_size + 8)
        fh.write(b"\xff" * 64)
    return p


def test_an_unclean_shutdown_is_followed_by_a_quick_check(tmp_path):
    p = _damaged_db(tmp_path, stale_marker=True)
    with pytest.raises(StorageError, match="damaged .*unclean shutdown"):
        open_store(p)


def test_a_clean_open_skips_the_check_and_feeds_check_reports_damage(tmp_path):
    p = _damaged_db(tmp_path, stale_marker=False)
    s = open_store(p)  # closed cleanly last time: no check on open
    try:
        assert s.quick_check() != []
    finally:
        s.close()
    cfg = tmp_path / "listen.toml"
    cfg.write_text('[identity]\nnames = ["acme"]\n')
    import os
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "listen", "--config", str(cfg), "--db", str(p), "feeds", "--check"],
                       capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"}, timeout=60)
    assert r.returncode == 1 and "✗ database:" in r.stdout, (r.stdout, r.stderr)


def test_a_sound_database_passes_its_checks(tmp_path):
    p = tmp_path / "ok.db"
    s = open_store(p)
    save(s, "f", [raw("1", "ann", "hi?", T0)])
    assert s.quick_check() == []
    s.close()
    s = open_store(p)  # the previous close removed its marker; this open has its own only
    assert [r[0].split(":")[2] for r in s.conn.execute("SELECT key FROM meta WHERE key LIKE 'open:%'")] == \
        [str(__import__("os").getpid())]
    s.close()
