"""`listen migrate --to`: everything copied, both directions, and a second run copies nothing twice."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from listen.models import FetchState
from listen.storage import open_store
from tests.conftest import pg_server
from tests.helpers import T0, raw, save

H = 3600


def everything(store) -> dict:
    """What a database holds, keyed so that two databases can be compared."""
    items = sorted((dict(r) for r in store.iter_items()), key=lambda r: (r["feed"], r["native_id"]))
    key = {r["id"]: (r["feed"], r["native_id"]) for r in items}
    c = store.conn
    return {
        "items": items,
        "raw": sorted(tuple(r) for r in c.execute("SELECT feed, native_id, raw, edits FROM items")),
        "edits": sorted((key[r[0]], r[1], r[2]) for r in c.execute("SELECT item_id, text, replaced_at FROM item_edits")),
        "history": sorted((key[r[0]], r[1], r[2], r[3], r[4]) for r in c.execute(
            "SELECT item_id, action, coalesce(detail, ''), coalesce(actor, ''), at FROM triage_log")),
        "feeds": sorted(tuple(r) for r in c.execute(
            "SELECT name, network, etag, last_modified, cursor, last_success, last_error FROM feeds")),
        "corrections": sorted(tuple(r) for r in c.execute(
            "SELECT feed, native_id, question, negative, marked_at FROM corrections")),
        "alerts": sorted(tuple(r) for r in c.execute(
            "SELECT alert, key, state, claim, claimed_at, sent_at, attempts, last_error FROM alert_sends")),
        "meta": sorted(tuple(r) for r in c.execute("SELECT key, value FROM meta WHERE key LIKE 'learn%'")),
    }


def fill(store) -> None:
    save(store, "blog", [raw("q1", "ann", "How do I export?", T0 - 5 * H), raw("q2", "bob", "Broken again? Awful.", T0 - 4 * H)],
         state=FetchState('"etag-1"', "Mon, 01 Jan 2026 00:00:00 GMT", None))
    save(store, "blog", [raw("r1", "acme", "Settings > Export", T0 - 3 * H, reply="q1")])
    save(store, "forum", [raw("f1", "cy", "Where are the docs?", T0 - 2 * H)], state=FetchState(None, None, "cursor-7"))
    save(store, "blog", [raw("q2", "bob", "Broken again? Really awful.", T0 - 4 * H)])  # an edit
    ids = {r["native_id"]: str(r["id"]) for r in store.iter_items()}
    store.assign([ids["q2"]], "sam", T0, actor="lee")
    store.set_state([ids["q2"]], "done", T0 + 1, actor="sam")
    store.set_state([ids["f1"]], "open", T0 + 2, snoozed_until=T0 + 86400, actor=None)
    store.record_failure("forum", "jsonl", "HTTP 500", T0 + 3)
    store.save_marks([{"feed": "blog", "native_id": "q2", "question": None, "negative": 1, "marked_at": T0 + 4},
                      {"feed": "forum", "native_id": "not-yet", "question": 1, "negative": 0, "marked_at": T0 + 5}])
    store.claim_alerts("team", [ids["q1"], ids["f1"], "digest:2026-02-02"], "run-1", T0 + 6, stale_before=T0 - 900)
    store.finish_alerts("team", [ids["q1"], "digest:2026-02-02"], "run-1", "sent", T0 + 7)
    store.finish_alerts("team", [ids["f1"]], "run-1", "failed", T0 + 7, error="HTTP 503")
    store.meta_set("learn:test", '{"w": 1}')


def migrate(src, dst) -> dict[str, int]:
    a, b = open_store(src), open_store(dst)
    try:
        return a.copy_into(b)
    finally:
        a.close()
        b.close()


def snapshot(target) -> dict:
    s = open_store(target)
    try:
        return everything(s)
    finally:
        s.close()


def test_sqlite_to_postgres_and_back(tmp_path):
    lite = str(tmp_path / "a.db")
    s = open_store(lite)
    fill(s)
    s.close()
    want = snapshot(lite)
    assert want["edits"] and want["history"] and len(want["items"]) == 4

    pg = pg_server().new_database()
    first = migrate(lite, pg)
    assert first["items"] == 4 and first["triage_log"] == 3 and first["item_edits"] == 1 and first["feeds"] == 2
    assert first["corrections"] == 2 and first["alert_sends"] == 3
    assert snapshot(pg) == want  # ids included: an empty target keeps them
    second = migrate(lite, pg)
    assert all(n == 0 for n in second.values()), second
    assert snapshot(pg) == want

    # The team keeps working on PostgreSQL; new ids do not collide with the copied ones.
    p = open_store(pg)
    save(p, "forum", [raw("f2", "dee", "Is there an API?", T0)])
    p.close()

    back = str(tmp_path / "back.db")
    assert migrate(pg, back)["items"] == 5
    assert migrate(pg, back)["items"] == 0
    got = snapshot(back)
    assert len(got["items"]) == 5 and got["history"] == want["history"] and got["edits"] == want["edits"]
    assert got["corrections"] == want["corrections"] and got["alerts"] == want["alerts"] and got["meta"] == want["meta"]


def filled_file(tmp_path):
    """a.db, a SQLite database holding fill()'s items, marks and alert records."""
    lite = tmp_path / "a.db"
    s = open_store(lite)
    fill(s)
    s.close()
    return lite


def test_the_migrate_command(tmp_path):
    lite = filled_file(tmp_path)
    cfg = tmp_path / "listen.toml"
    cfg.write_text('[identity]\nnames = ["acme"]\n[store]\npath = "a.db"\n')
    pg = pg_server().new_database()

    def run():
        return subprocess.run([sys.executable, "-m", "listen", "--config", str(cfg), "migrate", "--to", pg],
                              capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"}, timeout=60)

    r = run()
    assert r.returncode == 0 and "4 new items" in r.stdout, r.stderr
    assert "2 new corrections" in r.stdout and "3 new alert_sends" in r.stdout, r.stdout
    r = run()
    assert r.returncode == 0 and "0 new items (0 updated)" in r.stdout and "0 new triage_log" in r.stdout, r.stdout
    assert "0 new corrections" in r.stdout and "0 new alert_sends" in r.stdout, r.stdout
    assert snapshot(pg) == snapshot(str(lite))


def test_changed_marks_and_alert_records_copy_over_the_older_ones_both_ways(tmp_path):
    """A second migrate after work on the source: the source's newer mark and alert state win,
    in either direction, and a third run writes nothing."""
    lite = str(tmp_path / "a.db")
    s = open_store(lite)
    fill(s)
    s.close()
    pg = pg_server().new_database()
    migrate(lite, pg)

    p = open_store(pg)
    ids = {r["native_id"]: str(r["id"]) for r in p.iter_items()}
    p.save_marks([{"feed": "blog", "native_id": "q2", "question": 1, "negative": None, "marked_at": T0 + 50}])
    p.claim_alerts("team", [ids["f1"]], "run-2", T0 + 60, stale_before=T0)  # the failed send retried...
    p.finish_alerts("team", [ids["f1"]], "run-2", "sent", T0 + 61)  # ...and sent
    p.meta_set("learn:test", '{"w": 2}')
    p.close()
    want = snapshot(pg)
    assert ("blog", "q2", 1, 1, T0 + 50) in want["corrections"]

    counts = migrate(pg, lite)
    assert counts["corrections"] == 1 and counts["alert_sends"] == 1, counts
    got = snapshot(lite)
    assert got["corrections"] == want["corrections"] and got["alerts"] == want["alerts"] and got["meta"] == want["meta"]
    assert all(n == 0 for n in migrate(pg, lite).values())

    # And back the other way after a change on SQLite.
    s = open_store(lite)
    s.save_marks([{"feed": "forum", "native_id": "not-yet", "question": 0, "negative": None, "marked_at": T0 + 70}])
    s.close()
    assert migrate(lite, pg)["corrections"] == 1
    assert snapshot(pg)["corrections"] == snapshot(lite)["corrections"]
    assert all(n == 0 for n in migrate(lite, pg).values())


def test_alert_records_follow_their_items_new_ids_in_a_used_target(tmp_path):
    """Alert records are keyed by item id: in a target whose ids are taken, a record must
    name the same item there, or that item is alerted twice and another never."""
    pg = pg_server().new_database()
    p = open_store(pg)
    save(p, "other", [raw(f"o{i}", "zed", "Is this on?", T0 - i) for i in range(6)])  # takes ids 1..6
    p.close()
    lite = str(tmp_path / "a.db")
    s = open_store(lite)
    fill(s)
    before = {r["native_id"]: str(r["id"]) for r in s.iter_items()}
    s.claim_alerts("team", ["999"], "run-1", T0 + 8, stale_before=T0)  # an item since deleted: nothing to name
    s.close()

    migrate(lite, pg)
    p = open_store(pg)
    after = {r["native_id"]: str(r["id"]) for r in p.iter_items() if r["feed"] != "other"}
    records = p.alert_records("team")
    p.close()
    assert after["q1"] != before["q1"]  # the target had that id: the item got another
    assert records == {after["q1"]: ("sent", T0 + 6), after["f1"]: ("failed", T0 + 6),
                       "digest:2026-02-02": ("sent", T0 + 6)}
    assert all(n == 0 for n in migrate(lite, pg).values())


def where(kind: str, tmp_path, name: str) -> str:
    return str(tmp_path / f"{name}.db") if kind == "sqlite" else pg_server().new_database()


def by_nid(target) -> dict:
    s = open_store(target)
    try:
        return {r["native_id"]: r for r in s.iter_items()}
    finally:
        s.close()


def migrated_once(tmp_path, src_kind: str, dst_kind: str) -> tuple[str, str]:
    """A filled source of one kind, copied once into an empty target of the other."""
    src, dst = where(src_kind, tmp_path, "src"), where(dst_kind, tmp_path, "dst")
    s = open_store(src)
    fill(s)
    s.close()
    migrate(src, dst)
    return src, dst


@pytest.mark.parametrize("src_kind,dst_kind", [("sqlite", "postgres"), ("postgres", "sqlite")])
def test_a_second_migrate_never_undoes_the_work_done_in_the_target(tmp_path, src_kind, dst_kind):
    """QA: snooze and assign in the target, migrate again from the source, and the target was
    back to 'open', unassigned, while the summary said 0. Per item, the side that changed a
    part last wins: text and flags by updated_at, triage by triaged_at, the assignee by the
    last (un)assign in each side's history; fetch state by the last successful pull."""
    src, dst = migrated_once(tmp_path, src_kind, dst_kind)

    # The team works in the target: later than anything in the source.
    d = open_store(dst)
    ids = {r["native_id"]: str(r["id"]) for r in d.iter_items()}
    d.set_state([ids["f1"]], "open", T0 + 100, snoozed_until=T0 + 9 * 86400, actor="lee")
    d.set_state([ids["q1"]], "done", T0 + 101, actor="lee")
    d.assign([ids["q1"]], "lee", T0 + 102, actor="lee")
    d.assign([ids["q2"]], None, T0 + 103, actor="lee")
    save(d, "blog", [raw("q1", "ann", "How do I export to CSV?", T0 - 5 * H)], now=T0 + 104)  # an edit, pulled there
    save(d, "forum", [], now=T0 + 105, state=FetchState(None, None, "cursor-9"))
    d.save_marks([{"feed": "blog", "native_id": "q2", "question": 1, "negative": 0, "marked_at": T0 + 106}])
    d.claim_alerts("team", [ids["f1"]], "run-2", T0 + 107, stale_before=T0)
    d.finish_alerts("team", [ids["f1"]], "run-2", "sent", T0 + 108)
    d.close()
    want = snapshot(dst)

    counts = migrate(src, dst)
    assert all(n == 0 for n in counts.values()), counts
    assert snapshot(dst) == want
    got = by_nid(dst)
    assert (got["f1"]["state"], got["f1"]["snoozed_until"]) == ("open", T0 + 9 * 86400)
    assert (got["q1"]["state"], got["q1"]["assignee"], got["q1"]["text"]) == ("done", "lee", "How do I export to CSV?")
    assert got["q2"]["assignee"] is None and got["q2"]["state"] == "done"
    assert ("forum", "jsonl", None, None, "cursor-9", T0 + 105, None) in want["feeds"]

    # Now later work in the source: each part it changed last comes over, and only those.
    s = open_store(src)
    sids = {r["native_id"]: str(r["id"]) for r in s.iter_items()}
    s.set_state([sids["q1"]], "open", T0 + 200, actor="sam")  # reopened after lee's done
    save(s, "forum", [raw("f1", "cy", "Where are the API docs?", T0 - 2 * H)], now=T0 + 201)  # edited there
    s.assign([sids["r1"]], "sam", T0 + 202, actor="sam")
    s.close()
    counts = migrate(src, dst)
    assert counts["items"] == 0 and counts["items_updated"] == 3, counts
    assert counts["feeds_updated"] == 0, counts  # the source's cursor is older than the target's
    got = by_nid(dst)
    assert (got["q1"]["state"], got["q1"]["assignee"], got["q1"]["text"]) == ("open", "lee", "How do I export to CSV?")
    assert (got["f1"]["text"], got["f1"]["state"], got["f1"]["snoozed_until"]) == (
        "Where are the API docs?", "open", T0 + 9 * 86400)
    assert got["r1"]["assignee"] == "sam"
    assert got["q2"]["assignee"] is None
    after = snapshot(dst)
    assert after["corrections"] == want["corrections"] and after["alerts"] == want["alerts"]
    assert after["feeds"] == want["feeds"]
    assert all(n == 0 for n in migrate(src, dst).values())


@pytest.mark.parametrize("src_kind,dst_kind", [("sqlite", "postgres"), ("postgres", "sqlite")])
def test_a_newer_successful_pull_in_the_source_brings_its_cursor(tmp_path, src_kind, dst_kind):
    src, dst = migrated_once(tmp_path, src_kind, dst_kind)
    s = open_store(src)
    save(s, "forum", [], now=T0 + 300, state=FetchState(None, None, "cursor-12"))
    s.close()
    counts = migrate(src, dst)
    assert counts["feeds_updated"] == 1 and counts["feeds"] == 0, counts
    assert snapshot(dst)["feeds"] == snapshot(src)["feeds"]
    assert all(n == 0 for n in migrate(src, dst).values())


ITEM = {"feed": "f", "native_id": "n", "first_seen": 1, "text": "old", "updated_at": 10, "state": "open",
        "snoozed_until": None, "triaged_at": None, "assignee": None, "assignee_key": None, "answered_at": None}


@pytest.mark.parametrize("src,dst,assigned,want", [
    # (source's changes, target's changes, (source, target) last (un)assign, what the target keeps)
    ({}, {}, (None, None), {}),
    ({"text": "new", "updated_at": 11}, {}, (None, None), {"text": "new", "updated_at": 11}),
    ({"text": "new"}, {"text": "mine"}, (None, None), {"text": "mine"}),  # same updated_at: the target's
    ({"text": "old2", "updated_at": 9}, {}, (None, None), {}),
    ({"state": "done", "triaged_at": 5}, {"state": "open", "snoozed_until": 99, "triaged_at": 6}, (None, None),
     {"snoozed_until": 99, "triaged_at": 6}),
    ({"state": "done", "triaged_at": 7}, {"snoozed_until": 99, "triaged_at": 6}, (None, None),
     {"state": "done", "triaged_at": 7}),
    ({"state": "done", "triaged_at": 7}, {}, (None, None), {"state": "done", "triaged_at": 7}),
    ({"assignee": "sam"}, {"assignee": "lee"}, (3, 4), {"assignee": "lee"}),
    ({"assignee": "sam"}, {"assignee": "lee"}, (5, 4), {"assignee": "sam"}),
    ({"assignee": "sam"}, {}, (3, 4), {}),  # unassigned in the target, later
    ({"assignee": "sam"}, {}, (None, None), {"assignee": "sam"}),  # neither has a record: fill the gap
    ({"assignee": "sam"}, {"assignee": "lee"}, (None, None), {"assignee": "lee"}),
    # The matching key goes with the name: a newer text in the source moves neither.
    ({"assignee": "Sam", "assignee_key": "sam", "text": "x", "updated_at": 12},
     {"assignee": "Lee", "assignee_key": "lee"}, (3, 4), {"assignee": "Lee", "assignee_key": "lee", "text": "x",
                                                          "updated_at": 12}),
    ({"assignee": "Sam", "assignee_key": "sam"}, {"assignee": "Lee", "assignee_key": "lee"}, (5, 4),
     {"assignee": "Sam", "assignee_key": "sam"}),
    ({"answered_at": 8}, {}, (None, None), {"answered_at": 8}),  # a reply pulled in the source
    ({"answered_at": 8}, {"answered_at": 7}, (None, None), {"answered_at": 7}),
    ({"answered_at": 6, "text": "x", "updated_at": 12}, {"answered_at": 7}, (None, None),
     {"answered_at": 6, "text": "x", "updated_at": 12}),
])
def test_merge_item(src, dst, assigned, want):
    from listen.storage.copy import merge_item

    assert merge_item({**ITEM, **src}, {**ITEM, **dst}, *assigned) == {**ITEM, **want}


FEED = {"name": "f", "network": "jsonl", "etag": None, "last_modified": None, "cursor": None, "last_attempt": None,
        "last_success": None, "last_error": None, "error_since": None, "fetch_after": None}


@pytest.mark.parametrize("src,dst,want", [
    ({"cursor": "c2", "last_success": 20}, {"cursor": "c1", "last_success": 10}, {"cursor": "c2", "last_success": 20}),
    ({"cursor": "c1", "last_success": 10}, {"cursor": "c2", "last_success": 20}, {"cursor": "c2", "last_success": 20}),
    ({"etag": "e1"}, {"etag": "e2"}, {"etag": "e2"}),  # no success on record: the target's state stays
    ({"etag": "e1"}, {}, {"etag": "e1"}),  # ...unless it has none
    ({"cursor": "c1", "last_success": 10}, {"cursor": "c2"}, {"cursor": "c1", "last_success": 10}),
    ({"last_attempt": 30, "last_error": "HTTP 500", "error_since": 30}, {"last_attempt": 20},
     {"last_attempt": 30, "last_error": "HTTP 500", "error_since": 30}),
    ({"last_attempt": 10, "last_error": "HTTP 500", "error_since": 10}, {"last_attempt": 20}, {"last_attempt": 20}),
])
def test_merge_feed(src, dst, want):
    from listen.storage.copy import merge_feed

    assert merge_feed({**FEED, **src}, {**FEED, **dst}) == {**FEED, **want}


def listen_cli(cfg, *args, cwd=None):
    return subprocess.run([sys.executable, "-m", "listen", "--config", str(cfg), *args], capture_output=True,
                          text=True, env={**os.environ, "NO_COLOR": "1"}, timeout=60, cwd=cwd)


def test_migrate_into_its_own_file_is_refused(tmp_path):
    """QA: `migrate --to listen.db` from listen.db ran and said '0 new'. Any spelling of
    the same file (relative, through a link) is a usage error, and nothing is written."""
    lite = filled_file(tmp_path)
    (tmp_path / "link.db").symlink_to(lite)
    cfg = tmp_path / "listen.toml"
    cfg.write_text('[identity]\nnames = ["acme"]\n[store]\npath = "a.db"\n')
    want = snapshot(str(lite))
    for to in ("a.db", "./a.db", str(lite), "link.db"):
        r = listen_cli(cfg, "migrate", "--to", to, cwd=tmp_path)
        assert r.returncode == 2, (to, r.stdout, r.stderr)
        assert "that is the database being copied" in r.stderr and "copied into" not in r.stdout, r.stderr
    assert snapshot(str(lite)) == want


def test_migrate_into_its_own_postgres_schema_is_refused(tmp_path):
    pg = pg_server().new_database()
    p = open_store(pg)
    fill(p)
    p.close()
    want = snapshot(pg)
    cfg = tmp_path / "listen.toml"
    cfg.write_text(f'[identity]\nnames = ["acme"]\n[store]\nurl = "{pg}"\n')
    # The same database and schema, spelled another way.
    for to in (pg, pg.replace("127.0.0.1", "localhost"), pg + "&application_name=other"):
        r = listen_cli(cfg, "migrate", "--to", to)
        assert r.returncode == 2, (to, r.stdout, r.stderr)
        assert "that is the database being copied" in r.stderr, r.stderr
    assert snapshot(pg) == want
    # Another schema of the same database is another database.
    other = pg_server().new_database()
    r = listen_cli(cfg, "migrate", "--to", other)
    assert r.returncode == 0 and "4 new items" in r.stdout, r.stderr
    s = open_store(other)
    assert not [k for k, _ in s.conn.execute("SELECT key, value FROM meta") if k.startswith("migrate-probe")]
    s.close()


def test_migrate_into_a_missing_folder_is_refused(tmp_path):
    """QA: `--to /nonexistent/dir/x.db` made the folders. A mistyped path is a usage error
    naming the folder, and nothing is created."""
    filled_file(tmp_path)
    cfg = tmp_path / "listen.toml"
    cfg.write_text('[identity]\nnames = ["acme"]\n[store]\npath = "a.db"\n')
    missing = tmp_path / "no" / "such"
    r = listen_cli(cfg, "migrate", "--to", str(missing / "x.db"))
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert str(missing) in r.stderr and "does not exist" in r.stderr, r.stderr
    assert not (tmp_path / "no").exists()
    # An existing folder is fine, and a new file is made in it.
    r = listen_cli(cfg, "migrate", "--to", str(tmp_path / "x.db"))
    assert r.returncode == 0 and "4 new items" in r.stdout, r.stderr


def test_the_qa_repro_a_rerun_keeps_the_targets_snooze_and_assignee(tmp_path):
    """The QA steps, through the CLI: pull, migrate, snooze and assign in the target,
    migrate again: the target keeps both, and the summary says what was updated."""
    import json
    import time

    now = int(time.time())
    (tmp_path / "m.jsonl").write_text(json.dumps({"id": "s1", "author": "sue", "text": "Can you help?",
                                                  "created_at": now - 3600}) + "\n")
    cfg = tmp_path / "c.toml"
    cfg.write_text('[identity]\nnames = ["acme"]\nme = "lee"\n[[feeds]]\nname = "ex"\ntype = "jsonl"\npath = "m.jsonl"\n')
    b = str(tmp_path / "b.db")
    assert listen_cli(cfg, "pull", "-q").returncode == 0
    assert "1 new items (0 updated)" in listen_cli(cfg, "migrate", "--to", b).stdout
    assert listen_cli(cfg, "--db", b, "snooze", "1", "--for", "2d").returncode == 0
    assert listen_cli(cfg, "--db", b, "assign", "1", "--to", "lee").returncode == 0
    r = listen_cli(cfg, "migrate", "--to", b)
    assert r.returncode == 0 and "0 new items (0 updated)" in r.stdout, r.stdout + r.stderr

    def exported() -> dict:
        r = listen_cli(cfg, "--db", b, "export", "--format", "jsonl")
        return json.loads(r.stdout.splitlines()[0])

    got = exported()
    assert got["assignee"] == "lee" and got["snoozed_until"] is not None, got
    # Done in the source afterwards (a later triage): that comes over, the assignee stays.
    time.sleep(1.1)  # triaged_at is in whole seconds: later than the target's snooze
    assert listen_cli(cfg, "done", "1").returncode == 0
    r = listen_cli(cfg, "migrate", "--to", b)
    assert "0 new items (1 updated)" in r.stdout, r.stdout
    got = exported()
    assert got["state"] == "done" and got["assignee"] == "lee", got
    assert "0 new items (0 updated)" in listen_cli(cfg, "migrate", "--to", b).stdout


def test_the_target_keeps_its_own_identity_fingerprint(tmp_path):
    """Review: migrate copied the source's [identity] fingerprint over the target's, so a
    target opened with the source's names never re-decided its own items (eve stayed waiting)."""
    import json
    import time

    (tmp_path / "m.jsonl").write_text(json.dumps({"id": "e1", "author": "eve", "text": "can you help?",
                                                  "created_at": int(time.time()) - 600}) + "\n")
    feed = '[[feeds]]\nname = "ex"\ntype = "jsonl"\npath = "m.jsonl"\n'

    def config(name, names, db):
        path = tmp_path / name
        path.write_text(f"[identity]\nnames = {json.dumps(names)}\n[store]\npath = \"{db}\"\n" + feed)
        return path

    old_names = config("a.toml", ["acme"], "t.db")
    new_names = config("s.toml", ["acme", "eve"], "s.db")
    target_now = config("b.toml", ["acme", "eve"], "t.db")
    assert listen_cli(old_names, "pull", cwd=tmp_path).returncode == 0
    assert listen_cli(new_names, "pull", cwd=tmp_path).returncode == 0
    r = listen_cli(new_names, "migrate", "--to", "t.db", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = listen_cli(target_now, "inbox", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == []  # eve is one of us now: nobody waits
