"""`listen -v` and `listen --debug`: what happened, told on stderr, with no secret in it."""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timezone

import pytest

from listen import log
from tests.fakes import fake_feed
from tests.helpers import T0, listen_here, raw, write_config
from tests.replay import Reply
from tests.test_crash import invoke, run
from tests.test_secrets import GH_TOKEN, MASTO_TOKEN, SE_KEY, assert_clean, echo


@pytest.fixture
def token_feeds(tmp_path, server):
    server.always("/m/api/v1/notifications", echo(500))
    server.always("/m/api/v1/accounts/verify_credentials", echo(401))
    server.always("/se/questions", echo(400))
    server.always("/slow/user", Reply(429, {"message": "slow down"}, {"Retry-After": "3600"}))
    (tmp_path / "m.jsonl").write_text(json.dumps({"id": "1", "author": "ann", "text": "Hello?",
                                                  "created_at": 1770000000}) + "\n")
    feeds = [
        {"name": "masto", "type": "mastodon", "instance": server.url + "/m", "token_env": "LISTEN_MASTODON_TOKEN"},
        {"name": "se", "type": "stackexchange", "site": "stackoverflow", "tagged": "acme", "key_env": "LISTEN_SE_KEY",
         "base_url": server.url + "/se"},
        {"name": "gh", "type": "github", "repo": "acme/w", "token_env": "LISTEN_GITHUB_TOKEN",
         "base_url": server.url + "/slow"},
        {"name": "ok", "type": "jsonl", "path": "m.jsonl"},
    ]
    cfg = write_config(tmp_path / "listen.toml", feeds)
    cfg.chmod(0o600)
    env = {"LISTEN_GITHUB_TOKEN": GH_TOKEN, "LISTEN_MASTODON_TOKEN": MASTO_TOKEN, "LISTEN_SE_KEY": SE_KEY}
    return cfg, env


@pytest.mark.parametrize("flag", ["-v", "--debug"])
def test_verbose_pull_logs_each_request_and_no_secret(token_feeds, server, flag):
    cfg, env = token_feeds
    cli = run if flag == "--debug" else listen_here  # --debug as a real process, -v in this one: the same streams
    r = cli(flag, "--config", str(cfg), "pull", env=env)
    assert r.returncode == 1
    assert_clean(f"{flag} pull stdout", r.stdout)
    assert_clean(f"{flag} pull stderr", r.stderr)
    # The tokens did reach their own server: redaction is not a request that never went out.
    assert any(GH_TOKEN in (s.headers.get("authorization") or "") for s in server.requests)
    err = r.stderr
    # Each request: method, URL (credentials replaced), status and timing.
    assert f"masto: GET {server.url}/m/api/v1/" in err, err
    assert re.search(r"masto: GET \S+ -> 401(, \d+ bytes)? in \d+ ms", err), err
    assert "key=[redacted]" in err or "key=[redacted]" in err, err
    assert "tagged=acme" in err  # the harmless parameters stay: they explain the request
    # Decisions: rate limited, and then skipped on the next pull.
    assert "gh: rate limited (HTTP 429)" in err
    again = cli(flag, "--config", str(cfg), "pull", "--feed", "gh", env=env)
    assert "gh: skipped: rate limited" in again.stderr
    assert_clean("second pull", again.stderr + again.stdout)


def test_not_modified_is_logged(tmp_path, server):
    server.always("/feed.jsonl", lambda req: Reply(304) if req.headers.get("if-none-match") == '"v1"'
                  else Reply(200, json.dumps({"id": "1", "author": "a", "text": "hi?", "created_at": T0}) + "\n",
                             {"ETag": '"v1"'}))
    cfg = write_config(tmp_path / "listen.toml", [{"name": "j", "type": "jsonl", "url": server.url + "/feed.jsonl"}])
    listen_here("--config", str(cfg), "pull")
    r = listen_here("-v", "--config", str(cfg), "pull")
    assert r.returncode == 0
    assert "j: not modified (304)" in r.stderr
    assert re.search(r"-> 304(, \d+ bytes)? in \d+ ms", r.stderr), r.stderr


def test_without_v_a_pull_logs_nothing(token_feeds):
    cfg, env = token_feeds
    r = listen_here("--config", str(cfg), "pull", env=env)
    assert " -> " not in r.stderr and "GET " not in r.stderr


def test_a_source_bug_keeps_its_traceback_under_debug(tmp_path, fake_source, capsys):
    def broken(state):
        return {}["missing-field"]

    cfg = write_config(tmp_path / "listen.toml", [fake_feed("buggy", broken),
                                                  fake_feed("fine", [raw("1", "ann", "Why?", T0)])])
    r = invoke(capsys, "--config", str(cfg), "pull")
    assert r.returncode == 1
    assert "unexpected KeyError in the fake source: 'missing-field'" in r.stderr
    assert "Traceback" not in r.stderr  # by default one line, and the hint
    assert "--debug" in r.stderr
    r = invoke(capsys, "--debug", "--config", str(cfg), "pull")
    assert "Traceback (most recent call last)" in r.stderr
    assert "in broken" in r.stderr  # the frame where it went wrong
    assert "buggy" in r.stderr


class _Exploding(datetime):
    """A date that passes every check and blows up when stored: a stand-in for a bug in to_row."""

    def timestamp(self) -> float:
        return 1 / 0


def test_a_bug_on_one_record_names_the_feed_and_the_record(tmp_path, fake_source, capsys):
    bad = raw("rec-42", "ann", "Why?", T0)
    bad.created_at = _Exploding.fromtimestamp(T0, timezone.utc)
    cfg = write_config(tmp_path / "listen.toml", [fake_feed("odd", [raw("1", "bob", "ok?", T0), bad])])
    r = invoke(capsys, "--debug", "--config", str(cfg), "pull")
    assert r.returncode == 1
    assert "ZeroDivisionError" in r.stderr and "'rec-42'" in r.stderr
    assert "in feed 'odd' (fake), record 'rec-42'" in r.stderr  # the traceback's note


def test_an_unexpected_error_in_a_command_is_one_line_or_a_traceback(tmp_path, capsys, monkeypatch):
    from listen.app import Listener

    def boom(self, *a, **kw):
        raise RuntimeError(f"exploded holding {MASTO_TOKEN}")

    monkeypatch.setenv("LISTEN_MASTODON_TOKEN", MASTO_TOKEN)
    monkeypatch.setattr(Listener, "stats", boom)  # a stand-in bug, at the CLI's own seam
    cfg = write_config(tmp_path / "listen.toml", [{"name": "m", "type": "mastodon", "instance": "http://127.0.0.1:9",
                                                   "token_env": "LISTEN_MASTODON_TOKEN"}])
    from listen.storage import open_store

    open_store(tmp_path / "listen.db").close()  # stats reads an existing database (a missing one is refused)
    r = invoke(capsys, "--config", str(cfg), "stats", bug_ok=True)
    assert r.returncode == 1
    assert "unexpected RuntimeError: exploded holding $LISTEN_MASTODON_TOKEN" in r.stderr
    assert "Traceback" not in r.stderr
    r = invoke(capsys, "--debug", "--config", str(cfg), "stats", bug_ok=True)
    assert r.returncode == 1
    assert "Traceback (most recent call last)" in r.stderr and "in boom" in r.stderr
    assert_clean("--debug traceback", r.stderr)


@pytest.mark.parametrize("url, shown", [
    ("https://u:pw@h.example/api?q=acme&access_token=abc123", "https://h.example/api?q=acme&access_token=[redacted]"),
    ("https://h.example/p?key=K&site=so&sig=S", "https://h.example/p?key=[redacted]&site=so&sig=[redacted]"),
    ("https://h.example/plain", "https://h.example/plain"),
])
def test_redact_url(url, shown):
    assert log.redact_url(url) == shown


@pytest.mark.parametrize("text, shown", [
    ("Authorization: Bearer abcdef123456", "Authorization: Bearer [redacted]"),
    ("{'authorization': 'ghp_xyz123456'}", "{'authorization': '[redacted]'}"),
    ("headers: Basic dXNlcjpwYXNz", "headers: Basic [redacted]"),
    ("nothing to hide", "nothing to hide"),
])
def test_authorization_is_redacted_in_any_message(text, shown):
    assert log.REDACT.redact(text) == shown


def test_a_library_user_routing_listen_logs_gets_them_redacted(monkeypatch, caplog):
    monkeypatch.setenv("SOME_TOKEN", "s3cr3t-value-xyz")
    log.REDACT.watch(["SOME_TOKEN"])
    with caplog.at_level(logging.DEBUG, logger="listen"):
        log.get("pull").info("feed said %s", "s3cr3t-value-xyz")
        try:
            raise ValueError("bad s3cr3t-value-xyz")
        except ValueError:
            log.get("pull").debug("failed", exc_info=True)
    text = caplog.text + "".join(r.exc_text or "" for r in caplog.records)
    assert "s3cr3t-value-xyz" not in text
    assert "feed said $SOME_TOKEN" in caplog.text


def _pull_on_a_terminal(cfg) -> tuple[int, str, str]:
    """`listen pull` with stderr on a pseudo-terminal, as a person at a shell would run it."""
    import os
    import pty
    import subprocess
    import sys

    from tests.test_crash import ROOT

    master, slave = pty.openpty()
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT), "COLUMNS": "100"}
    p = subprocess.Popen([sys.executable, "-m", "listen", "--config", str(cfg), "pull"], stdout=subprocess.PIPE,
                         stderr=slave, env=env, text=True)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    out = p.stdout.read()
    p.wait(timeout=60)
    os.close(master)
    return p.returncode, out, b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.parametrize("n, per_feed_lines", [(3, True), (40, False)])
def test_a_pull_on_a_terminal_is_a_bar_not_a_line_per_feed(tmp_path, n, per_feed_lines):
    feeds = []
    for i in range(n):
        (tmp_path / f"f{i}.jsonl").write_text(json.dumps({"id": "1", "author": "ann", "text": f"Why {i}?",
                                                          "created_at": T0}) + "\n")
        feeds.append({"name": f"feed{i:02d}", "type": "jsonl", "path": f"f{i}.jsonl"})
    cfg = write_config(tmp_path / "listen.toml", feeds)
    code, out, err = _pull_on_a_terminal(cfg)
    assert code == 0, err
    assert out == ""  # data on stdout only; on a terminal the progress is all on stderr
    lines = re.findall(r"feed\d\d: 1 new", err)
    assert (len(lines) == n) if per_feed_lines else not lines, err
    assert f"{n} feeds · {n} new · 0 failed" in err


def test_a_pull_into_a_pipe_is_plain(tmp_path):
    (tmp_path / "a.jsonl").write_text(json.dumps({"id": "1", "author": "ann", "text": "Why?", "created_at": T0}) + "\n")
    cfg = write_config(tmp_path / "listen.toml", [{"name": "a", "type": "jsonl", "path": "a.jsonl"}])
    r = listen_here("--config", str(cfg), "pull")
    assert r.returncode == 0
    assert "\x1b" not in r.stdout + r.stderr
    assert r.stdout.startswith("a: 1 new, 0 updated")
    q = listen_here("--config", str(cfg), "pull", "--quiet")
    assert q.stdout == "" and q.stderr == ""


def _eight(bad_script):
    """Eight feeds: enough for the pull to parse in worker processes. The first is `bad_script`."""
    feeds = [fake_feed("odd", bad_script, type="fake2")]
    feeds += [fake_feed(f"fine{i}", [raw(f"{i}", "ann", f"Why {i}?", T0)], type="fake2") for i in range(7)]
    return feeds


def test_a_bug_in_a_worker_process_comes_back_with_its_traceback(tmp_path, fake_source, capsys):
    cfg = write_config(tmp_path / "listen.toml", _eight("bug:no such field"))
    r = invoke(capsys, "--config", str(cfg), "pull")
    assert r.returncode == 1
    assert "odd: failed: unexpected KeyError in the fake2 source: 'no such field'" in r.stderr
    assert "Traceback" not in r.stderr
    assert r.stdout.count(": 1 new") == 7  # the other feeds were stored
    r = invoke(capsys, "--debug", "--config", str(cfg), "pull", "--feed", "odd", *[f"--feed=fine{i}" for i in range(7)])
    assert "odd: unexpected error in a worker process" in r.stderr
    assert "Traceback (most recent call last)" in r.stderr and "in parse_download" in r.stderr


def test_a_failed_worker_process_is_logged_and_the_feed_parsed_here(tmp_path, fake_source, capsys):
    cfg = write_config(tmp_path / "listen.toml", _eight("unpicklable"))
    r = invoke(capsys, "--config", str(cfg), "pull")
    assert r.returncode == 0, r.stderr
    assert "odd: the worker process parsing this feed failed; parsing it in this process instead" in r.stderr


def test_a_webhook_url_echoed_json_escaped_or_lower_case_encoded_is_redacted(monkeypatch):
    url = "https://hooks.example.com/services/T0001/B0002/XXXXSECRETXXXX"
    monkeypatch.setenv("QA_HOOK", url)
    log.REDACT.watch(["QA_HOOK"])
    echoes = [
        '{"url": "https:\\/\\/hooks.example.com\\/services\\/T0001\\/B0002\\/XXXXSECRETXXXX"}',  # PHP's json_encode
        "request to https%3a%2f%2fhooks.example.com%2fservices%2fT0001%2fB0002%2fXXXXSECRETXXXX failed",
        "POST /services/T0001/B0002/XXXXSECRETXXXX 500",
    ]
    for text in echoes:
        shown = log.REDACT.redact(text)
        assert "XXXXSECRETXXXX" not in shown and "$QA_HOOK" in shown, shown
