"""The Store methods added beside the first backend (corrections, alerts, threads), on both backends.

Each contract runs on SQLite and on a real PostgreSQL (`store`/`db_target` in conftest);
the stats and CLI tests also check that both give the same answers (issue 13)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from listen.storage import open_store
from tests.conftest import pg_server
from tests.helpers import T0, jsonl, listen_here, raw, save, write_config
from tests.test_feedback import INVOICE  # plain complaints the kinds' thresholds let pass

H = 3600
ROOT = Path(__file__).resolve().parents[1]


# -- alerts: claim before send -------------------------------------------------------

def test_claims_held_by_one_token_are_not_taken_by_another(store):
    assert store.claim_alerts("team", ["1", "2"], "run-a", T0, stale_before=T0 - 900) == ["1", "2"]
    assert store.claim_alerts("team", ["2", "3"], "run-b", T0 + 5, stale_before=T0 - 895) == ["3"]
    assert store.claim_alerts("other", ["1"], "run-b", T0 + 5, stale_before=T0 - 895) == ["1"]  # per target
    assert store.alert_records("team") == {"1": ("sending", T0), "2": ("sending", T0), "3": ("sending", T0 + 5)}
    assert store.claim_alerts("team", [], "run-c", T0, stale_before=T0) == []


def test_stale_and_failed_claims_are_taken_over_sent_ones_never(store):
    store.claim_alerts("team", ["dead", "failed", "sent"], "run-a", T0, stale_before=T0 - 900)
    store.finish_alerts("team", ["failed"], "run-a", "failed", T0 + 1, error="HTTP 503")
    store.finish_alerts("team", ["sent"], "run-a", "sent", T0 + 1)
    # Before the dead run's claim is stale only the failed key is retried.
    assert store.claim_alerts("team", ["dead", "failed", "sent"], "run-b", T0 + 60, stale_before=T0 - 840) == ["failed"]
    # Later the dead run's claim is taken over too; a sent key stays sent.
    assert store.claim_alerts("team", ["dead", "sent"], "run-c", T0 + 1000, stale_before=T0 + 100) == ["dead"]
    assert store.alert_records("team") == {"dead": ("sending", T0 + 1000), "failed": ("sending", T0 + 60),
                                           "sent": ("sent", T0)}
    attempts = dict(store.conn.execute("SELECT key, attempts FROM alert_sends WHERE alert = 'team'").fetchall())
    assert attempts == {"dead": 2, "failed": 2, "sent": 1}
    # Finishing with another run's token changes nothing.
    store.finish_alerts("team", ["dead"], "run-a", "sent", T0 + 1001)
    assert store.alert_records("team")["dead"] == ("sending", T0 + 1000)
    store.finish_alerts("team", ["dead"], "run-c", "sent", T0 + 1001)
    assert store.alert_records("team")["dead"] == ("sent", T0 + 1000)


def test_forget_keeps_what_was_sent_and_prune_drops_old_records(store):
    store.claim_alerts("team", ["a", "b", "c"], "run", T0, stale_before=T0 - 900)
    store.finish_alerts("team", ["a"], "run", "sent", T0)
    store.finish_alerts("team", ["b"], "run", "failed", T0, error="refused")
    store.forget_alerts("team", ["a", "b", "c"])
    store.forget_alerts("team", [])
    assert store.alert_records("team") == {"a": ("sent", T0)}
    store.claim_alerts("team", ["new"], "run", T0 + 500, stale_before=T0)
    assert store.prune_alerts(T0 + 100) == 1
    assert store.alert_records("team") == {"new": ("sending", T0 + 500)}


def test_runs_claiming_at_once_each_hold_each_key_once(db_target):
    keys = [str(i) for i in range(40)]
    held: dict[str, set[str]] = {}
    errors: list[BaseException] = []

    def run(token: str) -> None:
        s = open_store(db_target)
        try:
            got: set[str] = set()
            for i in range(0, len(keys), 4):  # overlapping small claims, as several pulls would make
                got.update(s.claim_alerts("team", keys[i:i + 8], token, T0, stale_before=T0 - 900))
            held[token] = got
        except BaseException as e:  # reported by the assertion below
            errors.append(e)
        finally:
            s.close()

    open_store(db_target).close()  # the schema exists before the runs race
    runs = [threading.Thread(target=run, args=(f"run-{n}",)) for n in range(3)]
    for t in runs:
        t.start()
    for t in runs:
        t.join()
    assert not errors, errors
    claimed = [k for got in held.values() for k in got]
    assert sorted(claimed, key=int) == keys  # every key held, none by two runs
    s = open_store(db_target)
    owners = {r[0]: (r[1], r[2]) for r in s.conn.execute("SELECT key, claim, state FROM alert_sends").fetchall()}
    s.close()
    assert all(owners[k] == (token, "sending") for token, got in held.items() for k in got)


# -- corrections and learning --------------------------------------------------------

def test_marks_upsert_and_a_flag_left_none_keeps_the_earlier_mark(store):
    save(store, "help", [raw("m1", "ann", "the invoice is wrong", T0 - H)])
    store.save_marks([{"feed": "help", "native_id": "m1", "question": None, "negative": 1, "marked_at": T0},
                      {"feed": "help", "native_id": "later", "question": 1, "negative": None, "marked_at": T0 + 1}])
    store.save_marks([{"feed": "help", "native_id": "m1", "question": 0, "negative": None, "marked_at": T0 + 2}])
    got = store.corrections()
    item_id = int(store.inbox(T0, max_age=86400, include_unflagged=True)[0].id)
    assert got == [
        {"feed": "help", "native_id": "later", "question": 1, "negative": None, "marked_at": T0 + 1,
         "id": None, "network": None, "author": None, "text": None},  # marked before its item arrived
        {"feed": "help", "native_id": "m1", "question": 0, "negative": 1, "marked_at": T0 + 2,
         "id": item_id, "network": "jsonl", "author": "ann", "text": "the invoice is wrong"},
    ]


def test_items_for_flagging_reads_what_the_policy_needs(store):
    save(store, "help", [raw(f"m{i}", f"u{i}", f"text {i}", T0 - i) for i in range(3)])
    ids = {i.native_id: int(i.id) for i in store.inbox(T0, max_age=86400, include_unflagged=True)}
    got = sorted(store.items_for_flagging([ids["m0"], ids["m1"], 999_999]), key=lambda r: r["native_id"])
    assert [(r["id"], r["native_id"], r["author"], r["text"], r["feed"], r["network"]) for r in got] == [
        (ids["m0"], "m0", "u0", "text 0", "help", "jsonl"), (ids["m1"], "m1", "u1", "text 1", "help", "jsonl")]
    assert set(got[0]) == {"id", "feed", "network", "native_id", "author", "author_name", "text", "raw"}
    assert store.items_for_flagging([]) == []


def test_meta_round_trip(store):
    assert store.meta_get("learn:model") is None
    store.meta_set("learn:model", '{"w": 0.5, "100%": "?:x"}')  # placeholders and % in a value are text
    store.meta_set("learn:model", '{"w": 0.25, "100%": "?:x"}')
    assert store.meta_get("learn:model") == '{"w": 0.25, "100%": "?:x"}'
    assert store.meta_get("schema_version") is None or store.meta_get("schema_version").isdigit()


# -- threads: parents to fetch -------------------------------------------------------

def test_missing_parents_newest_first(store):
    save(store, "f", [raw("here", "ann", "question?", T0 - 10 * H),
                      raw("r-old", "acme", "answer", T0 - 5 * H, reply="gone-old"),
                      raw("r-new", "acme", "answer", T0 - H, reply="gone-new"),
                      raw("r-mid", "acme", "answer", T0 - 3 * H, reply="gone-mid"),
                      raw("r-here", "acme", "answer", T0 - 2 * H, reply="here"),  # its parent is stored
                      raw("them", "bob", "not ours", T0 - H, reply="gone-theirs")])  # not our reply
    save(store, "g", [raw("r-g", "acme", "answer", T0, reply="gone-g")])
    assert store.missing_parents("f", since=0, limit=10) == ["gone-new", "gone-mid", "gone-old"]
    assert store.missing_parents("f", since=T0 - 4 * H, limit=10) == ["gone-new", "gone-mid"]
    assert store.missing_parents("f", since=0, limit=1) == ["gone-new"]
    assert store.missing_parents("f", since=0, limit=0) == []
    assert store.missing_parents("g", since=0, limit=10) == ["gone-g"]


# -- stats: the same figures from both backends ----------------------------------------

def _history(store) -> None:
    save(store, "blog", [raw("q1", "ann", "How do I export my data?", T0 - 30 * H),
                         raw("q2", "bob", "Why is this so broken? Awful.", T0 - 20 * H),
                         raw("p1", "cy", "Nice post", T0 - 10 * H),
                         raw("q3", "dee", "Where is the invoice?", T0 - 2 * H)])
    save(store, "blog", [raw("r1", "acme", "Settings > Export", T0 - 25 * H, reply="q1"),
                         raw("r2", "acme", "Sorry, fixed now", T0 - 5 * H, reply="q2"),
                         raw("b1", "acme", "New release!", T0 - 9 * H)])
    save(store, "forum", [raw("f1", "eve", "Is there an API?", T0 - 50 * H),
                          raw("f2", "fay", "Can I self-host?", T0 - 3 * H)])
    save(store, "forum", [raw("fr1", "acme", "Yes: docs/api", T0 - 49 * H, reply="f1")])


def test_stats_with_reply_targets_are_the_same_on_both_backends(tmp_path):
    lite = open_store(str(tmp_path / "a.db"))
    pg = open_store(pg_server().new_database())
    try:
        for s in (lite, pg):
            _history(s)
        for targets in (None, {"blog": 4 * H}, {"blog": 4 * H, "forum": 2 * H}):
            want = lite.stats(T0, since=T0 - 7 * 86400, reply_within=6 * H, reply_targets=targets)
            got = pg.stats(T0, since=T0 - 7 * 86400, reply_within=6 * H, reply_targets=targets)
            assert json.dumps(got) == json.dumps(want), targets  # the same figures, in the same order
            assert want["overall"]["mentions"] >= 6 and want["overall"]["answered"] == 3
        assert lite.stats(T0, since=T0 - 86400, feeds=["forum"]) == pg.stats(T0, since=T0 - 86400, feeds=["forum"])
    finally:
        lite.close()
        pg.close()


# -- the commands, end to end, on each backend ------------------------------------------


OTHERS = ["thanks, that fixed it", "great service today", "love the new dashboard"]


def cli(cfg: Path, db: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return listen_here("--config", str(cfg), "--db", db, *args, env={"COLUMNS": "200", **(env or {})})


def test_mark_then_reflag_changes_another_mentions_flag(tmp_path, db_target):
    now = int(time.time())
    jsonl(tmp_path / "m.jsonl", [{"id": f"m{i}", "author": f"user{i}", "text": t, "created_at": now - 3600 - i * 60}
                                 for i, t in enumerate(INVOICE + OTHERS)])
    cfg = write_config(tmp_path / "listen.toml", [{"name": "help", "type": "jsonl", "path": "m.jsonl",
                                                   "negative_threshold": 0.5}])
    assert cli(cfg, db_target, "pull").returncode == 0

    def inbox() -> dict[str, dict]:
        r = cli(cfg, db_target, "inbox", "--json", "--all")
        assert r.returncode == 0, r.stderr
        return {x["text"]: x for x in json.loads(r.stdout)}

    before = inbox()
    held_out = INVOICE[-1]
    assert "negative" not in before[held_out]["flags"]
    r = cli(cfg, db_target, "mark", *[before[t]["id"] for t in INVOICE[:-1]], "--negative")
    assert r.returncode == 0, r.stderr
    assert cli(cfg, db_target, "mark", before[OTHERS[0]]["id"], before[OTHERS[2]]["id"], "--not-negative").returncode == 0
    assert "negative" not in inbox()[held_out]["flags"]  # marking changes the marked items only
    r = cli(cfg, db_target, "reflag")
    assert r.returncode == 0 and r.stdout.startswith("re-flagged"), r.stderr
    after = inbox()
    assert "negative" in after[held_out]["flags"]
    assert any("learned from your corrections" in x for x in after[held_out]["reasons"])
    assert "negative" not in after["great service today"]["flags"]
    report = json.loads(cli(cfg, db_target, "flags", "--json").stdout)
    assert len(report["corrections"]) == len(INVOICE) + 1


class _Receiver:
    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.delay = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver.bodies.append(json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0))))
                time.sleep(receiver.delay)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"


@pytest.fixture
def receiver():
    r = _Receiver()
    yield r
    r.server.shutdown()


def _alerting(tmp_path: Path) -> Path:
    now = int(time.time())
    jsonl(tmp_path / "m.jsonl", [
        {"id": "q1", "author": "ann", "text": "How do I export my data?", "created_at": now - 3 * H},
        {"id": "n1", "author": "bob", "text": "Your app is broken and nobody answers. Terrible.", "created_at": now - H},
        {"id": "ok", "author": "cat", "text": "Lovely post, thanks", "created_at": now - H}])
    cfg = tmp_path / "listen.toml"
    cfg.write_text('[identity]\nnames = ["acme"]\n\n[[feeds]]\nname = "ex"\ntype = "jsonl"\npath = "m.jsonl"\n\n'
                   '[[alerts]]\nname = "team"\ntype = "webhook"\nurl_env = "HOOK"\n')
    return cfg


def test_alert_sends_once(tmp_path, db_target, receiver):
    cfg = _alerting(tmp_path)
    assert cli(cfg, db_target, "pull", env={"HOOK": ""}).returncode == 0
    r = cli(cfg, db_target, "alert", env={"HOOK": receiver.url})
    assert r.returncode == 0 and "alert team: sent 2 items" in r.stdout, r.stdout + r.stderr
    r = cli(cfg, db_target, "alert", env={"HOOK": receiver.url})
    assert r.returncode == 0 and "alert team: nothing due" in r.stdout, r.stdout + r.stderr
    assert len(receiver.bodies) == 1
    assert sorted(i["author"] for i in receiver.bodies[0]["items"]) == ["ann", "bob"]
    s = open_store(db_target)
    try:
        assert {v[0] for v in s.alert_records("team").values()} == {"sent"} and len(s.alert_records("team")) == 2
    finally:
        s.close()


@pytest.mark.slow
def test_overlapping_runs_send_each_item_once(tmp_path, db_target, receiver):
    cfg = _alerting(tmp_path)
    assert cli(cfg, db_target, "pull", env={"HOOK": ""}).returncode == 0
    receiver.delay = 0.5  # each send is slow: the runs overlap while one is in flight
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT), "HOOK": receiver.url}
    procs = [subprocess.Popen([sys.executable, "-m", "listen", "--config", str(cfg), "--db", db_target, cmd],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for cmd in ("alert", "pull", "alert", "alert")]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    ids = [i["id"] for b in receiver.bodies for i in b["items"]]
    assert sorted(ids) == sorted(set(ids)) and len(ids) == 2
    s = open_store(db_target)
    try:
        assert sorted(v[0] for v in s.alert_records("team").values()) == ["sent", "sent"]
    finally:
        s.close()


# -- an older PostgreSQL database gets the new tables ---------------------------------------

def test_an_older_postgres_schema_gets_every_later_migration():
    url = pg_server().new_database()
    s = open_store(url)
    # As the postgres branch left it: schema 2, before the parent index, corrections and alerts.
    with s._write() as c:
        c.execute("DROP TABLE corrections")
        c.execute("DROP TABLE alert_sends")
        c.execute("DROP INDEX items_our_replies")
        c.execute("ALTER TABLE items DROP COLUMN assignee_key")  # migration 6
        c.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    s.close()
    s = open_store(url)
    try:
        assert {"corrections", "alert_sends"} <= set(s.tables())
        assert s.conn.execute("SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema()"
                                " AND indexname = 'items_our_replies'").fetchone()[0] == 1
        s.save_marks([{"feed": "f", "native_id": "x", "question": 1, "negative": None, "marked_at": T0}])
        assert s.claim_alerts("team", ["1"], "run", T0, stale_before=T0 - 900) == ["1"]
        assert s.inbox(T0, max_age=86400, assignee="sam") == []  # the assignee key column is back
    finally:
        s.close()


# -- text order: by code point on both, whatever PostgreSQL's collation ------------------

@pytest.fixture(scope="module")
def icu_url():
    """A PostgreSQL database whose default collation is ICU's en-US (a -> B -> c), as many servers are."""
    server = pg_server()  # skips (fails under CI=true) without psycopg or a server
    import psycopg

    name = f"listen_icu_{os.getpid()}"
    try:
        with psycopg.connect(server.url(), autocommit=True) as c:
            c.execute(f"CREATE DATABASE {name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C'")
    except psycopg.Error as e:
        pytest.skip(f"this PostgreSQL cannot make an ICU database: {e}")
    return server.url(name)


def test_text_order_is_the_same_under_another_collation(tmp_path, icu_url):
    lite, pg = open_store(str(tmp_path / "a.db")), open_store(icu_url)
    try:
        assert [r[0] for r in pg.conn.execute("SELECT x FROM (VALUES ('B'), ('a')) v (x) ORDER BY x")] == ["a", "B"]
        for s in (lite, pg):
            save(s, "F", [raw(f"r{p}", "acme", "answer", T0, reply=p) for p in ("B", "a", "_z", "c")])
            s.save_marks([{"feed": f, "native_id": n, "question": 1, "negative": None, "marked_at": T0}
                          for f in ("b", "A") for n in ("x", "W", "_y")])
        want = ["B", "_z", "a", "c"]  # code point order, as SQLite's BINARY collation sorts
        assert lite.missing_parents("F", 0, 10) == pg.missing_parents("F", 0, 10) == want
        assert [(c["feed"], c["native_id"]) for c in pg.corrections()] == \
            [(c["feed"], c["native_id"]) for c in lite.corrections()] == \
            [("A", "W"), ("A", "_y"), ("A", "x"), ("b", "W"), ("b", "_y"), ("b", "x")]
    finally:
        lite.close()
        pg.close()


def test_export_and_import_keep_corrections_on_each_backend(tmp_path, db_target):
    lite = str(tmp_path / "a.db")
    s = open_store(lite)
    save(s, "help", [raw("m1", "ann", "the invoice is wrong", T0 - H), raw("m2", "bob", "great service", T0 - H),
                     raw("m3", "cy", "where is it?", T0 - H)])
    s.save_marks([{"feed": "help", "native_id": "m1", "question": None, "negative": 1, "marked_at": T0},
                  {"feed": "help", "native_id": "m2", "question": 0, "negative": 0, "marked_at": T0}])
    s.close()
    cfg = write_config(tmp_path / "listen.toml", [{"name": "help", "type": "jsonl", "path": "m.jsonl"}])
    out = cli(cfg, lite, "export", "--format", "jsonl")
    assert out.returncode == 0, out.stderr
    (tmp_path / "export.jsonl").write_text(out.stdout)
    r = cli(cfg, db_target, "import", str(tmp_path / "export.jsonl"))
    assert r.returncode == 0, r.stderr
    again = cli(cfg, db_target, "export", "--format", "jsonl").stdout

    def marks(text: str) -> dict[str, tuple]:
        return {x["native_id"]: (x["marked_question"], x["marked_negative"]) for x in map(json.loads, text.splitlines())}

    assert marks(again) == marks(out.stdout) == {"m1": (None, True), "m2": (False, False), "m3": (None, None)}
    report = json.loads(cli(cfg, db_target, "flags", "--json").stdout)
    assert sorted((c["text"], c["negative"]) for c in report["corrections"]) == [("great service", False),
                                                                                 ("the invoice is wrong", True)]


def test_a_pull_fetches_the_parent_our_reply_answers(tmp_path, server, db_target):
    """Issue 12's Reddit story (tests/test_conversations.py) with the database on each backend."""

    from listen.app import Listener
    from listen.config import load
    from tests.test_conversations import serve_reddit_follow_up

    now = int(time.time())
    serve_reddit_follow_up(server, now)
    cfg = write_config(tmp_path / "listen.toml", [{"name": "reddit", "type": "reddit", "query": "acme",
                                                   "username": "Acme_HQ", "base_url": server.url}], ("Acme_HQ",))
    lst = Listener(load(cfg, db_override=db_target))
    try:
        [result] = lst.pull()
        assert result.error is None, result.error
        assert [h.query["id"] for h in server.hits("/api/info.json")] == [["t1_fu00001"]]
        assert [i.author for i in lst.inbox(include_unflagged=True).items] == []
        assert lst.store.missing_parents("reddit", 0, 10) == []  # the parent is stored
        lst.pull()
        assert len(server.hits("/api/info.json")) == 1  # stored now: not asked again
    finally:
        lst.close()


def test_runs_claiming_or_marking_the_same_keys_in_opposite_orders_never_deadlock(db_target):
    """PostgreSQL locks each row as a claim or mark writes it: two runs writing the same
    keys in opposite orders would wait on each other, and one would fail with a deadlock."""
    open_store(db_target).close()
    keys = [str(i) for i in range(200)]
    errors: list[BaseException] = []
    held: dict[str, set[tuple[str, str]]] = {}
    start = threading.Barrier(2)

    def run(token: str, order: list[str]) -> None:
        s = open_store(db_target)
        try:
            got: set[tuple[str, str]] = set()
            start.wait()
            for n in range(5):
                got.update((f"team{n}", k) for k in s.claim_alerts(f"team{n}", order, token, T0, stale_before=T0 - 900))
                s.save_marks([{"feed": "f", "native_id": k, "question": 1, "negative": None, "marked_at": T0 + n}
                              for k in order])
            held[token] = got
        except BaseException as e:  # reported by the assertion below
            errors.append(e)
        finally:
            s.close()

    runs = [threading.Thread(target=run, args=("up", keys)), threading.Thread(target=run, args=("down", keys[::-1]))]
    for t in runs:
        t.start()
    for t in runs:
        t.join()
    assert not errors, errors
    assert not held["up"] & held["down"] and len(held["up"] | held["down"]) == 5 * len(keys)
    s = open_store(db_target)
    assert len(s.corrections()) == len(keys)
    s.close()


def test_flag_refreshes_in_opposite_orders_never_deadlock(db_target):
    """`listen mark` re-flags its items while a pull re-flags others: same rows, any order."""
    s = open_store(db_target)
    save(s, "f", [raw(f"m{i}", f"u{i}", "where is the invoice?", T0 - i) for i in range(200)])
    rows = s.items_for_flagging([int(i.id) for i in s.inbox(T0, max_age=86400, include_unflagged=True)])
    s.close()
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows) and len(rows) == 200
    flags = {"question": 1, "negative": 0, "addressed": 0, "question_score": 0.9, "negative_score": 0.1,
             "reasons": "[]", "flags_version": "test"}
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run(order: list[dict]) -> None:
        st = open_store(db_target)
        try:
            start.wait()
            for _ in range(5):
                st.update_flags([{"id": r["id"], **flags} for r in order])
        except BaseException as e:  # reported by the assertion below
            errors.append(e)
        finally:
            st.close()

    runs = [threading.Thread(target=run, args=(rows,)), threading.Thread(target=run, args=(rows[::-1],))]
    for t in runs:
        t.start()
    for t in runs:
        t.join()
    assert not errors, errors


def test_a_mark_made_while_a_pull_runs_is_not_undone_by_it(tmp_path, db_target, fake_source):
    """A mark made while a pull runs: the rows that pull writes were flagged before it."""
    from datetime import datetime, timezone

    from listen.app import Listener
    from listen.config import load
    from listen.models import Fetched, FetchState, RawItem
    from tests.fakes import fake_feed

    # A month old: past the window each pull re-flags, so only the mark itself can restore it.
    when = datetime.fromtimestamp(int(time.time()) - 30 * 86400, timezone.utc)
    cfg = write_config(tmp_path / "listen.toml", [fake_feed("help", [RawItem("1", "ann", "great service today", when)])])
    listener = Listener(load(cfg, db_override=db_target))
    try:
        listener.pull()
        (stored,) = listener.store.iter_items()

        def edited_while_someone_marks_it(state: FetchState) -> Fetched:
            listener.mark([str(stored["id"])], negative=True)
            # An edit: the pull rewrites the row, with flags from the policy it took before the mark.
            return Fetched(items=[RawItem("1", "ann", "great service today, thanks", when)], state=FetchState("2"))

        fake_source.scripts["help"] = edited_while_someone_marks_it
        [result] = listener.pull()
        assert result.error is None and result.updated == 1
    finally:
        listener.close()
    (rec,) = [json.loads(line) for line in cli(cfg, db_target, "export").stdout.splitlines()]
    assert rec["text"] == "great service today, thanks"
    assert rec["flags"] == ["negative"] and rec["reasons"][0] == "marked by you"
