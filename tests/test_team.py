"""Team triage on both backends: assignment, --mine/--unassigned, and who did what, also at the same time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest

from listen.storage import open_store, schema
from listen.text import normalise_name, team_name
from tests.helpers import T0, make_v1_database, raw, save, v1_question

H = 3600


def seed(store):
    save(store, "f", [raw("q1", "ann", "How do I export?", T0 - 3 * H), raw("q2", "bob", "Is it down?", T0 - 2 * H),
                      raw("q3", "cy", "Why so slow? Terrible.", T0 - H)])
    return {i.native_id: i.id for i in store.inbox(T0, max_age=86400)}


def test_assign_filters_and_history(store):
    ids = seed(store)
    items = store.assign([ids["q1"], ids["q2"]], "sam", T0, actor="lee")
    assert [i.assignee for i in items] == ["sam", "sam"]
    assert {i.native_id for i in store.inbox(T0, max_age=86400, assignee="sam")} == {"q1", "q2"}
    assert [i.native_id for i in store.inbox(T0, max_age=86400, unassigned=True)] == ["q3"]
    assert store.inbox_summary(T0, max_age=86400, assignee="sam")["items"] == 2
    store.assign([ids["q2"]], None, T0 + 5, actor="sam")
    assert {i.native_id for i in store.inbox(T0, max_age=86400, unassigned=True)} == {"q2", "q3"}
    store.set_state([ids["q1"]], "done", T0 + 10, actor="sam")
    store.set_state([ids["q1"]], "open", T0 + 20, actor="lee")
    store.set_state([ids["q1"]], "open", T0 + 30, snoozed_until=T0 + 90, actor=None)
    store.record_triage([ids["q1"]], "mark", T0 + 40, actor="kim", detail="question")
    assert [(h["action"], h["detail"], h["actor"], h["at"]) for h in store.history(ids["q1"])] == [
        ("assign", "sam", "lee", T0), ("done", None, "sam", T0 + 10), ("reopen", None, "lee", T0 + 20),
        ("snooze", str(T0 + 90), None, T0 + 30), ("mark", "question", "kim", T0 + 40)]
    assert [h["action"] for h in store.history(ids["q2"])] == ["assign", "unassign"]
    assert store.history(ids["q3"]) == []
    exported = {r["native_id"]: r.get("assignee") for r in store.iter_items()}
    assert exported == {"q1": "sam", "q2": None, "q3": None}


def test_two_people_triaging_one_item_at_once_both_succeed_and_both_show(db_target):
    first = open_store(db_target)
    ids = seed(first)
    item = ids["q1"]
    errors: list[BaseException] = []
    go = threading.Barrier(2)

    def person(name: str, action: str) -> None:
        s = open_store(db_target)
        try:
            go.wait()
            for k in range(20):
                if action == "assign":
                    s.assign([item], name, T0 + k, actor=name)
                else:
                    s.set_state([item], "done", T0 + k, actor=name)
        except BaseException as e:  # reported by the assertion below
            errors.append(e)
        finally:
            s.close()

    people = [threading.Thread(target=person, args=("ann", "done")), threading.Thread(target=person, args=("bob", "assign"))]
    for t in people:
        t.start()
    for t in people:
        t.join()
    assert not errors, errors
    h = first.history(item)
    assert sum(1 for x in h if x["actor"] == "ann" and x["action"] == "done") == 20
    assert sum(1 for x in h if x["actor"] == "bob" and x["action"] == "assign") == 20
    final = first.item(item)
    assert final.state == "done" and final.assignee == "bob"
    first.close()


def cli(cfg, *args, user=None, db=None):
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    env.pop("LISTEN_USER", None)
    if user:
        env["LISTEN_USER"] = user
    cmd = [sys.executable, "-m", "listen", "--config", str(cfg)] + (["--db", db] if db else []) + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)


def test_the_team_commands(tmp_path, db_target):
    s = open_store(db_target)
    ids = seed(s)
    s.close()
    cfg = tmp_path / "listen.toml"
    cfg.write_text('[identity]\nnames = ["acme"]\nme = "lee"\n[inbox]\nmax_age = "3650d"\n')  # T0 is in the past
    r = cli(cfg, "assign", ids["q1"], ids["q3"], "--to", "sam", db=db_target)
    assert r.returncode == 0 and "assigned to sam" in r.stdout, r.stderr
    r = cli(cfg, "inbox", "--mine", "--json", "--all", user="sam", db=db_target)
    got = json.loads(r.stdout)
    assert {x["id"] for x in got} == {ids["q1"], ids["q3"]} and {x["assignee"] for x in got} == {"sam"}
    r = cli(cfg, "inbox", "--unassigned", "--json", "--all", db=db_target)
    assert [x["id"] for x in json.loads(r.stdout)] == [ids["q2"]]
    r = cli(cfg, "inbox", "--mine", "--json", db=db_target)  # me = lee from the config: nothing of mine
    assert r.returncode == 0 and json.loads(r.stdout) == []
    assert cli(cfg, "done", ids["q1"], user="sam", db=db_target).returncode == 0
    r = cli(cfg, "show", ids["q1"], db=db_target)
    assert r.returncode == 0, r.stderr
    assert "assigned to sam" in r.stdout and "lee assign sam" in r.stdout and "sam done" in r.stdout
    r = cli(cfg, "export", "--format", "jsonl", db=db_target)
    assert {json.loads(x)["native_id"]: json.loads(x)["assignee"] for x in r.stdout.splitlines()} == \
        {"q1": "sam", "q2": None, "q3": "sam"}
    assert cli(cfg, "assign", ids["q1"], db=db_target).returncode == 2  # neither --to nor --unassign
    assert cli(cfg, "assign", ids["q1"], "--unassign", db=db_target).returncode == 0
    cfg.write_text("[identity]\nnames = []\n")
    r = cli(cfg, "inbox", "--mine", db=db_target)
    assert r.returncode != 0 and "[identity] me" in r.stderr


def test_a_version_1_database_gains_the_team_columns(tmp_path):
    p = tmp_path / "v1.db"
    make_v1_database(p, v1_question("a", T0 - H, T0))
    s = open_store(p)
    try:
        assert s.conn.execute("PRAGMA user_version").fetchone()[0] == schema.VERSION
        [item] = s.inbox(T0, max_age=86400)
        assert item.assignee is None
        s.assign([item.id], "sam", T0, actor="lee")
        assert [h["actor"] for h in s.history(item.id)] == ["lee"]
    finally:
        s.close()


def test_assignees_match_as_identity_names_do_and_show_as_written(store):
    # QA: `assign --to Sam` and `--to @sam` went missing from sam's --mine and from --unassigned.
    ids = seed(store)
    store.assign([ids["q1"]], "Sam", T0, actor="lee")
    store.assign([ids["q2"]], "sam", T0, actor="lee")
    store.assign([ids["q3"]], "Émile Zola", T0, actor="lee")
    for me in ("sam", "SAM", "@Sam", " sam "):
        assert {i.native_id for i in store.inbox(T0, max_age=86400, assignee=me)} == {"q1", "q2"}, me
        assert store.inbox_summary(T0, max_age=86400, assignee=me)["items"] == 2
    assert [i.native_id for i in store.inbox(T0, max_age=86400, assignee="émile  zola")] == ["q3"]
    assert store.item(ids["q1"]).assignee == "Sam"  # shown as written


def test_a_version_6_upgrade_keys_the_assignees_already_stored(tmp_path):
    # Databases assigned before the key column: the migration keys them (ASCII case, @, spaces).
    p = tmp_path / "v1.db"
    make_v1_database(p, v1_question("a", T0 - H, T0))
    s = open_store(p)
    [item] = s.inbox(T0, max_age=86400)
    s.close()
    import sqlite3

    c = sqlite3.connect(p)
    c.execute("PRAGMA user_version = 5")
    c.execute("ALTER TABLE items DROP COLUMN assignee_key")
    c.execute("UPDATE items SET assignee = ' @Sam '")
    c.commit()
    c.close()
    s = open_store(p)
    try:
        assert s.conn.execute("PRAGMA user_version").fetchone()[0] == schema.VERSION
        assert [i.id for i in s.inbox(T0, max_age=86400, assignee="sam")] == [item.id]
        assert s.inbox(T0, max_age=86400, unassigned=True) == []
    finally:
        s.close()


def seeded(tmp_path, db_target, me: str):
    """The seeded team database, and a config in which `me` is the one running listen."""
    s = open_store(db_target)
    ids = seed(s)
    s.close()
    cfg = tmp_path / "listen.toml"
    cfg.write_text(f'[identity]\nnames = ["acme"]\nme = "{me}"\n[inbox]\nmax_age = "3650d"\n')
    return ids, cfg


def test_assign_matches_names_refuses_controls_and_echoes_inert(tmp_path, db_target):
    ids, cfg = seeded(tmp_path, db_target, me="Sam")
    r = cli(cfg, "assign", ids["q1"], "--to", "SAM", user="lee", db=db_target)
    assert r.returncode == 0 and "assigned to SAM" in r.stdout, r.stderr
    r = cli(cfg, "assign", ids["q2"], "--to", "@sam", user="lee", db=db_target)
    assert r.returncode == 0 and "assigned to sam" in r.stdout, r.stderr
    r = cli(cfg, "assign", ids["q3"], "--to", "sam", db=db_target)  # me = "Sam": spelt as configured
    assert r.returncode == 0 and "assigned to Sam" in r.stdout, r.stderr
    r = cli(cfg, "inbox", "--mine", "--json", "--all", user="sam", db=db_target)
    assert {x["id"] for x in json.loads(r.stdout)} == {ids["q1"], ids["q2"], ids["q3"]}, r.stderr
    for bad in ("\x1b[31mred\nx", "a\u202eb", "@", "x" * 65, "", "  "):
        r = cli(cfg, "assign", ids["q1"], "--to", bad, db=db_target)
        assert r.returncode == 2 and "--to" in r.stderr and "\x1b" not in r.stderr + r.stdout, (bad, r.stderr)
    r = cli(cfg, "inbox", "--json", "--all", db=db_target)
    assert {x["assignee"] for x in json.loads(r.stdout)} == {"SAM", "sam", "Sam"}  # nothing refused was stored


@pytest.mark.parametrize("typed, shown", [
    ("Sam", "Sam"), ("@sam", "sam"), ("  Sam   Lee ", "Sam Lee"), ("Émile", "Émile"),
    ("\x1b[31mred", None), ("a\nb", None), ("a\tb", None), ("a\u200bb", None), ("a\u202eb", None),
    ("@", None), ("   ", None), ("x" * 64, "x" * 64), ("x" * 65, None),
])
def test_team_name(typed, shown):
    if shown is None:
        with pytest.raises(ValueError):
            team_name(typed)
    else:
        assert team_name(typed) == shown
        assert normalise_name(team_name(typed)) == normalise_name(typed)


def test_filtered_inbox_views_say_what_they_hide_and_items_show_their_assignee(tmp_path, db_target):
    ids, cfg = seeded(tmp_path, db_target, me="lee")
    r = cli(cfg, "inbox", "--mine", "--all", db=db_target)
    assert r.returncode == 0, r.stderr
    assert "Inbox zero" not in r.stdout and "Nobody is waiting" not in r.stdout
    assert "Nothing waiting is assigned to you" in r.stdout and "3 people are waiting in all" in r.stdout
    assert cli(cfg, "assign", ids["q1"], ids["q2"], ids["q3"], "--to", "Sam\u00e9", db=db_target).returncode == 0
    r = cli(cfg, "inbox", "--unassigned", "--all", db=db_target)
    assert "Nothing waiting is unassigned" in r.stdout and "Inbox zero" not in r.stdout, r.stdout
    r = cli(cfg, "inbox", "--all", db=db_target)
    headers = [line for line in r.stdout.splitlines() if line.startswith("#")]
    assert len(headers) == 3 and all(line.rstrip().endswith("→ Samé") for line in headers), r.stdout
    assert cli(cfg, "done", *ids.values(), db=db_target).returncode == 0
    r = cli(cfg, "inbox", "--mine", db=db_target)  # truly nobody waiting: inbox zero is the truth
    assert "Nobody is waiting" in r.stdout and "in all" not in r.stdout
    r = cli(cfg, "show", ids["q1"], db=db_target)
    stamped = [line for line in r.stdout.splitlines() if " lee " in line]
    assert stamped and all(" UTC " in line for line in stamped), r.stdout
    words = " ".join(cli(cfg, "inbox", "--help").stdout.split())
    assert "in the report" not in words and "default: 50 on the terminal, all with --json" in words


def test_one_person_reads_as_one_person():
    from listen.present import noun
    from listen.render import headline

    assert [noun(n, "person", "people") for n in (0, 1, 2)] == ["people", "person", "people"]
    assert noun(1, "question") == "question" and noun(3, "question") == "questions"
    one = headline({"items": 0, "people": 0}, filters=["is assigned to you"], everyone={"items": 1, "people": 1})
    assert "1 person is waiting in all" in one.plain


def test_a_version_5_postgres_keys_the_assignees_already_stored():
    from tests.conftest import pg_server

    url = pg_server().new_database()
    s = open_store(url)
    ids = seed(s)
    with s._write() as c:  # as version 5 left it: names stored as typed, no key column
        c.execute("ALTER TABLE items DROP COLUMN assignee_key")
        c.execute("UPDATE items SET assignee = ' @Sam ' WHERE id = ?", (int(ids["q1"]),))
        c.execute("UPDATE items SET assignee = 'SAM' WHERE id = ?", (int(ids["q2"]),))
        c.execute("UPDATE items SET assignee = '@' WHERE id = ?", (int(ids["q3"]),))
        c.execute("UPDATE meta SET value = '5' WHERE key = 'schema_version'")
    s.close()
    s = open_store(url)
    try:
        assert {i.id for i in s.inbox(T0, max_age=86400, assignee="sam")} == {ids["q1"], ids["q2"]}
        assert [i.id for i in s.inbox(T0, max_age=86400, unassigned=True)] == [ids["q3"]]  # "@" named nobody
    finally:
        s.close()
