"""The command line when the user slips: a mistyped --db or --feed, an option after the
command, contradicting flags, an id of our own post, a feed address that is not http(s).
Each gets one clear line and the exit status the contract gives usage and config errors (2),
and changes nothing on disk."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import jsonl, listen_here, write_config

NOW = int(time.time())
run = listen_here


@pytest.fixture
def pulled(tmp_path):
    """A config with three feeds (one jsonl with mentions and one post of ours), pulled once."""
    jsonl(tmp_path / "m.jsonl", [
        {"id": "1", "author": "ann", "text": "How do I export my data?", "created_at": NOW - 7200},
        {"id": "2", "author": "bob", "text": "Your app is broken and nobody answers. Terrible.", "created_at": NOW - 600},
        {"id": "3", "author": "acme", "text": "Settings > Export", "created_at": NOW - 400, "in_reply_to": "1"},
    ])
    (tmp_path / "n.jsonl").write_text("")
    cfg = write_config(tmp_path / "listen.toml", [{"name": "support", "type": "jsonl", "path": "m.jsonl"},
                                                  {"name": "blog", "type": "jsonl", "path": "n.jsonl"},
                                                  {"name": "forum", "type": "jsonl", "path": "n.jsonl"}])
    r = run("--config", str(cfg), "pull", "--quiet")
    assert r.returncode == 0, r.stderr
    ids = {rec["native_id"]: rec["id"] for rec in map(json.loads, run("--config", str(cfg), "export").stdout.splitlines())}
    return tmp_path, cfg, ids


def _records(cfg: Path) -> dict[str, dict]:
    """Each stored item by native id, without waiting_seconds (the clock moves between reads)."""
    return {r["native_id"]: {k: v for k, v in r.items() if k != "waiting_seconds"}
            for r in map(json.loads, run("--config", str(cfg), "export").stdout.splitlines())}


# -- 2. a database that is not there ------------------------------------------------

READERS = [["inbox"], ["inbox", "--json"], ["stats"], ["stats", "--json"], ["show", "1"], ["done", "1"],
           ["ignore", "1"], ["snooze", "1", "--for", "1d"], ["reopen", "1"], ["assign", "1", "--to", "kim"],
           ["export"], ["report", "--html", "-"], ["flags"], ["reflag"], ["mark", "1", "--question"],
           ["migrate", "--to", "copy.db"], ["classify", "hello?"]]


@pytest.mark.parametrize("command", READERS, ids=lambda c: " ".join(c))
def test_a_mistyped_db_is_refused_by_commands_that_read_and_nothing_is_created(pulled, command):
    tmp, cfg, _ = pulled
    r = run("--config", str(cfg), "--db", "nosuchdir/x.db", *command, cwd=tmp)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "no database at nosuchdir/x.db" in r.stderr and "listen pull" in r.stderr and "--db" in r.stderr, r.stderr
    assert "Inbox zero" not in r.stdout
    assert not (tmp / "nosuchdir").exists() and not (tmp / "copy.db").exists()


def test_alert_refuses_a_missing_database_once_it_has_alerts_to_send(tmp_path):
    cfg = write_config(tmp_path / "listen.toml", [],
                       extra='[[alerts]]\nname = "chat"\ntype = "slack"\nurl_env = "LISTEN_SLACK_WEBHOOK"\n')
    r = run("--config", str(cfg), "--db", "nosuchdir/x.db", "alert", cwd=tmp_path)
    assert r.returncode == 2 and "no database at nosuchdir/x.db" in r.stderr, r.stderr
    assert not (tmp_path / "nosuchdir").exists()


def test_the_refusal_says_where_the_path_came_from(tmp_path):
    cfg = write_config(tmp_path / "listen.toml", [], extra='[store]\npath = "data/listen.db"\n')
    r = run("--config", str(cfg), "inbox")
    assert r.returncode == 2 and f"no database at {tmp_path / 'data' / 'listen.db'}" in r.stderr
    assert f"[store] path in {cfg}" in r.stderr
    r = run("--config", str(cfg), "stats", env={"LISTEN_DB": str(tmp_path / "typo.db")})
    assert r.returncode == 2 and "$LISTEN_DB" in r.stderr
    assert not (tmp_path / "data").exists() and not (tmp_path / "typo.db").exists()


def test_pull_and_import_still_create_the_database_and_its_folder(pulled):
    tmp, cfg, _ = pulled
    r = run("--config", str(cfg), "--db", str(tmp / "new" / "a.db"), "pull", "--quiet")
    assert r.returncode == 0 and (tmp / "new" / "a.db").is_file()
    (tmp / "dump.jsonl").write_text(run("--config", str(cfg), "export").stdout)
    r = run("--config", str(cfg), "--db", str(tmp / "other" / "b.db"), "import", str(tmp / "dump.jsonl"))
    assert r.returncode == 0 and (tmp / "other" / "b.db").is_file(), r.stderr
    # migrate makes its target file, not the folder: a --to in a missing folder is a typo (QA).
    r = run("--config", str(cfg), "migrate", "--to", str(tmp / "third" / "c.db"))
    assert r.returncode == 2 and f"the folder {tmp / 'third'} does not exist" in r.stderr, r.stderr
    assert not (tmp / "third").exists()
    assert run("--config", str(cfg), "migrate", "--to", str(tmp / "c.db")).returncode == 0
    assert (tmp / "c.db").is_file()


@pytest.mark.parametrize("check", [False, True])
def test_feeds_before_the_first_pull_lists_them_creates_nothing_and_says_so(tmp_path, check):
    """Right after `listen init` the feeds are worth seeing; a note names where the database will be."""
    (tmp_path / "n.jsonl").write_text("")
    cfg = write_config(tmp_path / "listen.toml", [{"name": "blog", "type": "jsonl", "path": "n.jsonl"}])
    r = run("--config", str(cfg), "--db", str(tmp_path / "nosuchdir" / "x.db"), "feeds", *(["--check"] if check else []))
    assert r.returncode == 0 and "blog" in r.stdout, r.stderr
    assert "note: no database at" in r.stderr and "nosuchdir" in r.stderr
    assert not (tmp_path / "nosuchdir").exists()


# -- 3. --feed naming no configured feed ---------------------------------------------

@pytest.mark.parametrize("command", [["inbox"], ["stats"], ["pull"], ["classify", "hello?"]], ids=lambda c: c[0])
def test_an_unknown_feed_is_a_usage_error_listing_the_feeds(pulled, command):
    _, cfg, _ = pulled
    r = run("--config", str(cfg), *command, "--feed", "nosuch")
    assert r.returncode == 2
    assert "no feed named 'nosuch'; configured feeds: support, blog, forum" in r.stderr, r.stderr
    assert "invalid configuration" not in r.stderr and str(cfg) not in r.stderr  # the file is not to blame
    r = run("--config", str(cfg), *command, "--feed", "suport")
    assert r.returncode == 2 and "(did you mean 'support'?)" in r.stderr, r.stderr


def test_pull_with_an_unknown_feed_creates_no_database(pulled):
    tmp, cfg, _ = pulled
    r = run("--config", str(cfg), "--db", str(tmp / "fresh" / "x.db"), "pull", "--feed", "support", "--feed", "nosuch")
    assert r.returncode == 2 and "no feed named 'nosuch'" in r.stderr
    assert not (tmp / "fresh").exists()


# -- 4. a global option after the command ---------------------------------------------

@pytest.mark.parametrize("args, hint", [
    (["pull", "-v"], "-v goes before the command: listen -v pull"),
    (["inbox", "--json", "--debug"], "--debug goes before the command: listen --debug inbox --json"),
    (["inbox", "--db", "x.db", "--json"], "--db goes before the command: listen --db x.db inbox --json"),
    (["stats", "--config=a b.toml"], "--config goes before the command: listen '--config=a b.toml' stats"),
])
def test_a_global_option_after_the_command_gets_a_hint(tmp_path, args, hint):
    r = run(*args, cwd=tmp_path)
    assert r.returncode == 2 and "No such option" in r.stderr and hint in r.stderr, r.stderr
    assert "Possible options" not in r.stderr  # click's guess (--feed for --db) would mislead
    assert not list(tmp_path.iterdir())


def test_an_unknown_option_that_is_not_global_keeps_clicks_message(tmp_path):
    r = run("inbox", "--nope", cwd=tmp_path)
    assert r.returncode == 2 and "No such option: --nope" in r.stderr and "goes before" not in r.stderr


def test_click_errors_and_help_keep_their_exit_codes(tmp_path):
    assert run("inbox", "--limit", "x").returncode == 2
    r = run("--help")
    assert r.returncode == 0 and "Commands" in r.stdout
    assert run("--version").returncode == 0


# -- 5. classify at a terminal -----------------------------------------------------------

@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_classify_at_a_terminal_says_how_to_end_the_input(tmp_path):
    import pty

    try:
        master, slave = pty.openpty()
    except OSError as e:  # a sandbox without /dev/ptmx
        pytest.skip(f"no pseudo-terminal here: {e}")
    env = {**os.environ, "NO_COLOR": "1"}
    p = subprocess.Popen([sys.executable, "-m", "listen", "classify"], stdin=slave, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, cwd=tmp_path, env=env)
    os.close(slave)
    try:
        os.write(master, b"How do I reset my password?\n\x04")
        out, err = p.communicate(timeout=60)
    finally:
        os.close(master)
    assert p.returncode == 0, err
    assert b"one per line; end with Ctrl-D" in err
    assert b"How do I" in out and b"yes" in out and b"asks:" in out  # the line typed, flagged


def test_classify_from_a_pipe_prints_no_hint():
    r = run("classify", stdin="How do I reset my password?\n")
    assert r.returncode == 0 and r.stderr == "" and "yes" in r.stdout


# -- 6. mark and triage -------------------------------------------------------------------

@pytest.mark.parametrize("pair", [("--question", "--not-question"), ("--not-negative", "--negative")])
def test_mark_refuses_both_of_a_pair(pulled, pair):
    _, cfg, ids = pulled
    before = _records(cfg)["1"]
    r = run("--config", str(cfg), "mark", ids["1"], *pair)
    assert r.returncode == 2 and "contradict" in r.stderr, r.stderr
    after = _records(cfg)["1"]
    assert after["flags"] == before["flags"] and "marked by you" not in " ".join(after["reasons"])


def test_mark_still_takes_one_of_each_pair(pulled):
    _, cfg, ids = pulled
    r = run("--config", str(cfg), "mark", ids["2"], "--not-question", "--not-negative")
    assert r.returncode == 0, r.stderr
    assert _records(cfg)["2"]["flags"] == []


@pytest.mark.parametrize("command", [["mark", "--not-question"], ["done"], ["ignore"], ["reopen"],
                                     ["snooze", "--for", "1d"]], ids=lambda c: c[0])
def test_our_own_post_is_refused_and_nothing_changes(pulled, command):
    _, cfg, ids = pulled
    before = _records(cfg)
    r = run("--config", str(cfg), command[0], ids["1"], ids["3"], *command[1:])
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert f"item {ids['3']} is our own post (by acme)" in r.stderr and "nothing was changed" in r.stderr
    assert _records(cfg) == before  # not even the mention given with it


def test_done_on_a_mention_still_works(pulled):
    _, cfg, ids = pulled
    r = run("--config", str(cfg), "done", ids["2"])
    assert r.returncode == 0 and _records(cfg)["2"]["state"] == "done"


# -- 7. feed addresses -----------------------------------------------------------------------

@pytest.mark.parametrize("feed, says", [
    ({"name": "blog", "type": "rss", "url": "ftp://blog.example.com/feed"},
     "feeds[0] (blog).url: expected an http:// or https:// URL, not ftp://"),
    ({"name": "fedi", "type": "mastodon", "instance": "mastodon.social", "hashtag": "acme"},
     "feeds[0] (fedi).instance: expected an http:// or https:// URL; add the scheme"),
    ({"name": "gh", "type": "github", "repo": "acme/w", "base_url": "file:///etc"},
     "feeds[0] (gh).base_url: expected an http:// or https:// URL, not file://"),
    ({"name": "ex", "type": "jsonl", "url": "https://"}, "feeds[0] (ex).url: the URL names no host"),
])
def test_a_feed_address_that_is_not_http_is_a_config_error_at_load(tmp_path, feed, says):
    cfg = write_config(tmp_path / "listen.toml", [feed])
    for command in (["pull"], ["feeds"]):
        r = run("--config", str(cfg), *command)
        assert r.returncode == 2 and says in r.stderr and str(cfg) in r.stderr, r.stderr
    assert not (tmp_path / "listen.db").exists()
