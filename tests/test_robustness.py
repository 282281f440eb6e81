"""Hostile content, hostile feeds, and gaps in what we hear: strangers never drive the terminal.

Text from the network is planted in every field a person sees; servers misbehave in
every way we know of. Real processes, a real HTTP server on 127.0.0.1, real SQLite.
"""

from __future__ import annotations

import gzip
import json
import os
import pty
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from listen.app import Listener
from listen.config import load
from listen.models import FetchState
from listen.waiting import answered_times
from tests.helpers import listen_here as run
from tests.helpers import write_config
from tests.replay import Reply
from tests.test_crash import ROOT, invoke
from tests.test_crash import run as run_process

HOSTILE = Path(__file__).parent / "fixtures" / "hostile"
FEEDS = Path(__file__).parent / "fixtures" / "feeds"
NOW = int(time.time())

# Everything a stranger could use to drive a terminal or fool a reader.
EVIL = ("\x1b]0;pwned\x07\x1b[2J\x1b]8;;file:///etc/passwd\x07click\x1b]8;;\x07 \x00NUL \x08\x7f "
        "\x9b31m\x9d C1 \u202eevil\u202c \u200bzero\u200d\u2066 [bold red]ADMIN[/] [link=file:///etc/passwd]x[/link]")
# What may never reach a terminal: C0 (but tab and newline), DEL, C1, bidi, zero-width and other invisibles.
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]")


def assert_inert(output: str, where: str) -> None:
    bad = UNSAFE.search(output)
    assert bad is None, f"{where}: {bad.group()!r} reached the terminal near {output[max(0, bad.start() - 40):bad.end() + 40]!r}"


def hostile_jsonl(n_huge: int = 1_500_000) -> bytes:
    recs = [
        {"id": "1", "author": "eve" + EVIL, "author_name": EVIL, "title": EVIL, "url": "https://x.example/" + EVIL,
         "text": "Can you help me? " + EVIL, "created_at": NOW - 3600},
        {"id": "2", "author": "huge", "text": "Why is this so long? " + "ä" * n_huge, "created_at": NOW - 1800},
        {"id": "3", "author": "acme", "text": "Answer to " + EVIL, "created_at": NOW - 60, "in_reply_to": "9"},
    ]
    return "".join(json.dumps(r) + "\n" for r in recs).encode()


@pytest.fixture
def hostile(tmp_path, server):
    server.always("/m.jsonl", Reply(200, hostile_jsonl()))
    # Servers quote themselves in errors: Stack Exchange's error_message, GitHub's message.
    server.always("/se/questions", Reply(400, {"error_id": 400, "error_name": "bad_parameter", "error_message": EVIL}))
    server.always("/gh/repos/acme/widget/issues", Reply(403, {"message": EVIL}))
    cfg = write_config(tmp_path / "listen.toml", [
        {"name": "ex", "type": "jsonl", "url": server.url + "/m.jsonl"},
        {"name": "se", "type": "stackexchange", "site": "stackoverflow", "tagged": "acme", "base_url": server.url + "/se"},
        {"name": "gh", "type": "github", "repo": "acme/widget", "base_url": server.url + "/gh"},
    ])
    return tmp_path, cfg


def test_hostile_text_never_drives_the_terminal(hostile, capsys):
    tmp, cfg = hostile
    r = run("--config", str(cfg), "pull")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    for out, where in ((r.stdout, "pull stdout"), (r.stderr, "pull stderr")):
        assert_inert(out, where)
    assert "se: failed" in r.stderr and "gh: failed" in r.stderr
    assert "^[]0;pwned^G" in r.stderr  # the server's words are shown, visibly neutralised

    rows = json.loads(invoke(capsys, "--config", str(cfg), "inbox", "--json", "--all").stdout)
    eve = next(x for x in rows if x["author"].startswith("eve"))
    huge = next(x for x in rows if x["author"] == "huge")
    assert eve["text"] == "Can you help me? " + EVIL  # stored and exported exactly as received
    assert len(huge["text"]) == len("Why is this so long? ") + 1_500_000

    sub = {  # as real processes, the way a person's terminal receives them
        "inbox": run("--config", str(cfg), "inbox", "--all"),
        "show": run("--config", str(cfg), "show", eve["id"]),
        "feeds": run("--config", str(cfg), "feeds"),
    }
    cmds = {  # the rest in this process, through the same main()
        "show huge": ("show", huge["id"]),
        "stats": ("stats",),
        "done": ("done", eve["id"]),
        "reopen": ("reopen", eve["id"]),
        "classify": ("classify", EVIL, "fine, thanks"),
    }
    results = {**sub, **{k: invoke(capsys, "--config", str(cfg), *v) for k, v in cmds.items()}}
    for name, res in results.items():
        assert res.returncode == 0, (name, res.stderr)
        assert "Traceback" not in res.stderr
        assert_inert(res.stdout, name)
        assert_inert(res.stderr, name + " stderr")
    inbox = results["inbox"].stdout
    assert "[bold red]ADMIN[/]" in inbox and "[link=file:///etc/passwd]" in inbox  # markup shown as text
    assert "^[]0;pwned^G" in inbox and "<U+202E>evil" in inbox and "<U+200B>zero" in inbox
    assert "https://x.example/^[]0;pwned" in inbox
    assert "bad_parameter" in results["feeds"].stdout  # last_error, server text, inert
    # megabytes stored, a screenful shown
    assert len(inbox) < 20_000 and len(results["show huge"].stdout) < 20_000
    assert "…" in results["show huge"].stdout


def test_the_terminal_receives_only_our_own_colours(hostile):
    """Under a real pseudo-terminal rich emits colour codes; every escape must be one of those (SGR)."""
    tmp, cfg = hostile
    run("--config", str(cfg), "pull")
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM")}
    env.update({"TERM": "xterm-256color", "COLUMNS": "160", "PYTHONPATH": str(ROOT)})
    for args in (("inbox", "--all"), ("feeds",)):
        main, child = pty.openpty()
        p = subprocess.Popen([sys.executable, "-m", "listen", "--config", str(cfg), *args], stdout=child,
                             stderr=child, stdin=subprocess.DEVNULL, env=env)
        os.close(child)
        chunks = []
        while True:
            try:
                data = os.read(main, 65536)
            except OSError:  # the child closed its end
                break
            if not data:
                break
            chunks.append(data)
        p.wait(30)
        os.close(main)
        out = b"".join(chunks).decode("utf-8", "replace")
        ours = re.sub(r"\x1b\[[0-9;?]*[mlhKAGD]", "", out)  # colours, cursor hide/show, progress redraws
        assert_inert(ours.replace("\r", ""), " ".join(args))
        if args[0] == "inbox":
            assert "\x1b[" in out and "^[]0;pwned" in out  # really a terminal, really neutralised


# -- hostile feeds -----------------------------------------------------------


def test_hostile_feeds_fail_one_by_one_and_the_good_ones_are_stored(tmp_path, server):
    wp = (FEEDS / "wordpress_comments.xml").read_bytes()
    good = b'{"id": "ok", "author": "ann", "text": "How do I export?", "created_at": %d}\n' % (NOW - 60)
    routes = {
        "good-rss": Reply(200, wp, {"Content-Type": "application/rss+xml"}),
        "good-jsonl": Reply(200, good),
        "laughs": Reply(200, (HOSTILE / "billion_laughs.xml").read_bytes()),
        "laughs-hidden": Reply(200, (HOSTILE / "laughs_after_64k.xml").read_bytes()),
        "xxe": Reply(200, (HOSTILE / "xxe.xml").read_bytes()),
        "gzip-bomb": Reply(200, gzip.compress(b"\0" * 30_000_000), {"Content-Encoding": "gzip"}),
        "too-big": Reply(200, wp + b"<!--" + b"x" * 2_000_000 + b"-->"),
        "html-200": Reply(200, (HOSTILE / "error_page.html").read_bytes(), {"Content-Type": "text/html"}),
        "json-for-rss": Reply(200, {"error": "gone"}),
        "truncated": Reply(200, wp[: len(wp) // 3]),
        "latin1-lies": Reply(200, wp.replace(b"Jo", b"J\xf6\xff\xfe"), {"Content-Type": "application/rss+xml; charset=utf-8"}),
        "hang": Reply(200, wp, delay=4),
        "broken-gzip": Reply(200, b"\x1f\x8b\x08\x00garbage-not-deflate", {"Content-Encoding": "gzip"}),
        "empty": Reply(200, b""),
        "mastodon-not-list": Reply(200, {"error": "This action is outside the authorized scopes"}),
        "hn-html": Reply(200, (HOSTILE / "error_page.html").read_bytes(), {"Content-Type": "text/html"}),
        "reddit-list": Reply(200, [1, 2, 3]),
        "jsonl-binary": Reply(200, bytes(range(256)) * 50),
    }
    for name, reply in routes.items():
        server.always(f"/{name}", reply)
    feeds = []
    for name in routes:
        url = f"{server.url}/{name}"
        if name.startswith("good-jsonl") or name == "jsonl-binary":
            feeds.append({"name": name, "type": "jsonl", "url": url})
        elif name == "mastodon-not-list":
            feeds.append({"name": name, "type": "mastodon", "instance": url, "hashtag": "acme"})
            server.always(f"/{name}/api/v1/timelines/tag/acme", reply)
        elif name == "hn-html":
            feeds.append({"name": name, "type": "hackernews", "query": "acme", "base_url": url})
            server.always(f"/{name}/search_by_date", reply)
        elif name == "reddit-list":
            feeds.append({"name": name, "type": "reddit", "query": "acme", "base_url": url})
            server.always(f"/{name}/search.json", reply)
        else:
            feeds.append({"name": name, "type": "rss", "url": url, **({"timeout": "1s"} if name == "hang" else {})})
    cfg = write_config(tmp_path / "listen.toml", feeds, names=("Blog Owner",), extra='[http]\nmax_size = "1MB"\n')
    # A real process: the local server's own error output (dropped connections) must not mix into listen's stderr.
    r = run_process("--config", str(cfg), "pull")
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    failed = {line.split(":")[1].strip(): line for line in r.stderr.splitlines() if ": failed: " in line}
    must_fail = {"laughs", "laughs-hidden", "xxe", "gzip-bomb", "too-big", "html-200", "json-for-rss", "hang",
                 "broken-gzip", "empty", "mastodon-not-list", "hn-html", "reddit-list"}
    assert must_fail <= set(failed), r.stderr
    for name, line in failed.items():
        assert line.startswith(f"listen: {name}: failed: "), line  # each failure named, on one line
        assert "unexpected" not in line, line  # an explained failure, not a bug caught late
    assert "entities" in failed["laughs"] and "entities" in failed["laughs-hidden"] and "entities" in failed["xxe"]
    assert "cap" in failed["gzip-bomb"] and "cap" in failed["too-big"]
    assert "timed out" in failed["hang"] and "not a feed" in failed["html-200"]
    assert "good-rss: 3 new" in r.stdout and "good-jsonl: 1 new" in r.stdout
    c = sqlite3.connect(tmp_path / "listen.db")
    text = "\n".join(row[0] for row in c.execute("SELECT text FROM items"))
    assert "root:" not in text and "lollol" not in text  # no file read, no entity expanded
    errors = dict(c.execute("SELECT name, last_error FROM feeds WHERE last_error IS NOT NULL").fetchall())
    assert must_fail <= set(errors)
    c.close()


def test_an_external_dtd_is_never_fetched(tmp_path, server):
    server.always("/dtd", Reply(200, (HOSTILE / "external_dtd.xml").read_bytes()))
    l = Listener(load(write_config(tmp_path / "listen.toml", [{"name": "d", "type": "rss", "url": server.url + "/dtd"}])))
    [res] = l.pull()
    assert res.error is None or "entities" in res.error
    assert all("root:" not in r["text"] for r in l.store.iter_items())
    l.close()


# -- gaps in what we hear ----------------------------------------------------


def _stale_setup(tmp_path, failing_for: int, enabled: bool = True, extra: str = "", ok_before: int | None = None):
    (tmp_path / "m.jsonl").write_text(json.dumps({"id": "1", "author": "ann", "text": "Anyone there?",
                                                  "created_at": NOW - 600}) + "\n")
    cfg = write_config(tmp_path / "listen.toml", [
        {"name": "ex", "type": "jsonl", "path": "m.jsonl"},
        {"name": "reddit", "type": "reddit", "query": "acme", "base_url": "http://127.0.0.1:9", "enabled": enabled},
    ], extra=extra)
    l = Listener(load(cfg), clock=lambda: NOW)
    l.pull(["ex"])
    if ok_before is not None:  # it worked once, `ok_before` seconds ago
        l.store.save_batch("reddit", "reddit", [], FetchState(), answered_times, NOW - ok_before)
    l.store.record_failure("reddit", "reddit", "HTTP 401 unauthorized: token \x1b[31mexpired", NOW - failing_for)
    l.store.record_failure("reddit", "reddit", "HTTP 401 unauthorized: token \x1b[31mexpired", NOW - 60)
    return cfg, l


def test_a_feed_failing_longer_than_stale_after_is_named_at_the_top(tmp_path, capsys):
    cfg, l = _stale_setup(tmp_path, failing_for=26 * 3600, ok_before=26 * 3600 + 60)
    assert [(g.feed, g.error[:17]) for g in l.inbox().stale] == [("reddit", "HTTP 401 unauthor")]
    l.close()
    r = invoke(capsys, "--config", str(cfg), "inbox")
    first = r.stdout.splitlines()[0]
    assert "reddit not fetched for 1d 2h" in first, r.stdout
    assert "expired" in first and "\x1b" not in r.stdout
    r = invoke(capsys, "--config", str(cfg), "inbox", "--json")
    assert r.returncode == 0 and len(json.loads(r.stdout)) == 1  # stdout stays pure JSON
    assert "warning: reddit not fetched for" in r.stderr and "expired" in r.stderr and "\x1b" not in r.stderr


def test_a_short_failure_or_a_disabled_feed_is_not_a_gap(tmp_path, capsys):
    cfg, l = _stale_setup(tmp_path, failing_for=1200, ok_before=1800)
    assert l.inbox().stale == []
    l.close()
    assert "not fetched" not in invoke(capsys, "--config", str(cfg), "inbox").stdout
    cfg, l = _stale_setup(tmp_path, failing_for=26 * 3600, enabled=False)
    assert l.inbox().stale == []
    l.close()
    cfg, l = _stale_setup(tmp_path, failing_for=2 * 3600, ok_before=3 * 3600, extra='[inbox]\nstale_after = "4h"\n')
    assert l.inbox().stale == []
    l.close()
    cfg, l = _stale_setup(tmp_path, failing_for=2 * 3600, ok_before=3 * 3600)
    assert [g.feed for g in l.inbox().stale] == ["reddit"]  # the default: an hour
    l.close()


def test_a_feed_that_never_succeeded_is_a_gap_at_once(tmp_path, capsys):
    cfg, l = _stale_setup(tmp_path, failing_for=600)
    [gap] = l.inbox().stale
    assert (gap.feed, gap.last_success, gap.failing_since) == ("reddit", None, NOW - 600)
    l.close()
    first = invoke(capsys, "--config", str(cfg), "inbox").stdout.splitlines()[0]
    # NOW was read when this module was imported: the CLI's clock has moved on since.
    assert re.search(r"reddit has never been fetched successfully \(failing for \d+m\): HTTP 401", first), first


@pytest.mark.slow
def test_a_source_that_ignores_every_timeout_cannot_hang_cron(tmp_path):
    # A jsonl path that never answers: a FIFO nobody writes to blocks open()
    # forever, like a file on a hung network mount. No timeout reaches it.
    fifo = tmp_path / "stuck.jsonl"
    os.mkfifo(fifo)
    (tmp_path / "ok.jsonl").write_text(json.dumps({"id": "1", "author": "ann", "text": "is this thing on?",
                                                   "created_at": int(time.time()) - 60}) + "\n")
    cfg = write_config(tmp_path / "listen.toml", [
        {"name": "stuck", "type": "jsonl", "path": str(fifo), "timeout": "1s"},
        {"name": "ok", "type": "jsonl", "path": "ok.jsonl", "timeout": "1s"},
    ])
    t = time.monotonic()
    p = subprocess.run([sys.executable, "-m", "listen", "--config", str(cfg), "pull", "--quiet"],
                       capture_output=True, text=True, timeout=60, env={**os.environ, "NO_COLOR": "1"})
    took = time.monotonic() - t
    assert p.returncode == 1, p.stderr
    assert "stuck" in p.stderr and "abandoned" in p.stderr, p.stderr
    assert took < 20, took  # three times the feed timeout plus a little, not "whenever open() returns"
    out = subprocess.run([sys.executable, "-m", "listen", "--config", str(cfg), "inbox", "--json"],
                         capture_output=True, text=True, timeout=60)
    assert [r["author"] for r in json.loads(out.stdout)] == ["ann"]
