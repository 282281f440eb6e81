"""Pull against a real HTTP server on 127.0.0.1: 200, 304, 429, 500, hangs, broken bodies."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from listen.app import Listener
from listen.config import load
from listen.http import Http
from tests.helpers import jsonl, write_config
from tests.replay import Reply

FEEDS = Path(__file__).parent / "fixtures" / "feeds"
WP = (FEEDS / "wordpress_comments.xml").read_bytes()
NOW = 1770030000  # 2026-02-02 11:00 UTC, half an hour after the fixture's last comment


def listener(tmp_path, feeds, names=("Blog Owner",), extra="", clock=NOW, slept: list[float] | None = None) -> Listener:
    """A Listener on a real database, its clock frozen; Retry-After waits recorded in `slept`, never slept."""
    cfg = load(write_config(tmp_path / "listen.toml", feeds, names, extra))
    return Listener(cfg, clock=lambda: clock, sleep=(slept if slept is not None else []).append)


def test_first_pull_then_304(tmp_path, server):
    server.add("/comments/feed/", Reply(200, WP, {"ETag": '"v1"', "Last-Modified": "Mon, 02 Feb 2026 10:30:00 GMT",
                                                  "Content-Type": "application/rss+xml"}))
    server.always("/comments/feed/", lambda req: Reply(304) if req.headers.get("if-none-match") == '"v1"'
                  else Reply(200, WP))
    l = listener(tmp_path, [{"name": "blog", "type": "rss", "url": server.url + "/comments/feed/"}])
    [r] = l.pull()
    assert (r.error, r.new, r.updated) == (None, 3, 0)
    [r] = l.pull()
    assert r.not_modified and r.new == 0
    second = server.hits("/comments/feed/")[1]
    assert second.headers["if-none-match"] == '"v1"'
    assert second.headers["if-modified-since"] == "Mon, 02 Feb 2026 10:30:00 GMT"
    assert second.headers["user-agent"].startswith("listen/")
    assert len(list(l.store.iter_items())) == 3
    # the owner's threaded reply answered Jo; Kim's complaint is waiting
    waiting = l.inbox().items
    assert [i.author for i in waiting] == ["Kim"]
    assert waiting[0].flags == ["negative"]
    l.close()


def test_gzip_is_accepted(tmp_path, server):
    server.add("/f", Reply(200, WP, gzip=True))
    l = listener(tmp_path, [{"name": "blog", "type": "rss", "url": server.url + "/f"}])
    assert l.pull()[0].new == 3
    assert "gzip" in server.hits("/f")[0].headers.get("accept-encoding", "")


def test_429_retry_after_is_honoured(tmp_path, server):
    slept: list[float] = []
    server.add("/f", Reply(429, "slow down", {"Retry-After": "2"}), Reply(200, WP))
    l = listener(tmp_path, [{"name": "blog", "type": "rss", "url": server.url + "/f"}], slept=slept)
    [r] = l.pull()
    assert r.error is None and r.new == 3 and slept == [2.0]


def test_long_retry_after_becomes_the_next_fetch_time(tmp_path, server):
    slept: list[float] = []
    server.add("/f", Reply(503, "maintenance", {"Retry-After": "3600"}))
    l = listener(tmp_path, [{"name": "blog", "type": "rss", "url": server.url + "/f"}], slept=slept)
    [r] = l.pull()
    assert "rate limited" in r.error and slept == []
    _, after = l.store.fetch_state("blog")
    assert after == NOW + 3600
    [r] = l.pull()  # within the hour: not even asked, so skipped rather than "not modified"
    assert r.error is None and not r.not_modified and r.skipped.startswith("rate limited: next fetch after")
    assert len(server.hits("/f")) == 1


def test_one_broken_feed_never_stops_the_others(tmp_path, server):
    server.add("/ok", Reply(200, WP))
    server.add("/500", Reply(500, "oops"))
    server.add("/html", Reply(200, (FEEDS / "not_a_feed.html").read_bytes(), {"Content-Type": "text/html"}))
    server.add("/bad", Reply(200, b"<rss><channel><title>x</tit"))
    server.add("/hang", Reply(200, WP, delay=5))
    feeds = [{"name": n, "type": "rss", "url": server.url + "/" + n, **({"timeout": "1s"} if n == "hang" else {})}
             for n in ("ok", "500", "html", "bad", "hang")]
    l = listener(tmp_path, feeds)
    t = time.monotonic()
    results = {r.feed: r for r in l.pull()}
    assert time.monotonic() - t < 4  # the hanging feed held nobody up beyond its own timeout
    assert results["ok"].error is None and results["ok"].new == 3
    assert "HTTP 500" in results["500"].error
    assert "not a feed" in results["html"].error
    assert "not well-formed" in results["bad"].error
    assert "timed out" in results["hang"].error
    statuses = l.store.feed_statuses()
    assert statuses["500"].last_error and statuses["500"].error_since
    assert statuses["ok"].last_error is None


def test_response_size_cap(tmp_path, server):
    server.add("/big", Reply(200, WP + b"<!--" + b"x" * 200_000 + b"-->"))
    l = listener(tmp_path, [{"name": "big", "type": "rss", "url": server.url + "/big"}],
                 extra='[http]\nmax_size = "100KB"\n')
    [r] = l.pull()
    assert "cap" in r.error


def test_jsonl_feed_by_url_and_threads(tmp_path, server):
    body = "\n".join([
        '{"id": "2", "author": "ann", "text": "still broken, any update?", "created_at": 1770020000, "in_reply_to": "1"}',
        '{"id": "1", "author": "ann", "text": "How do I export?", "created_at": 1770010000}',
        "not json",
        '{"id": "3", "author": "acme", "text": "fixed!", "created_at": 1770025000, "in_reply_to": "2"}',
    ])
    server.add("/m.jsonl", Reply(200, body))
    l = listener(tmp_path, [{"name": "ex", "type": "jsonl", "url": server.url + "/m.jsonl"}], names=("acme",))
    [r] = l.pull()
    assert r.new == 3 and any("line 3" in w for w in r.warnings)
    assert l.inbox().items == []  # our reply to her later message answers both
    assert {r["thread_id"] for r in l.store.iter_items()} == {"1"}


def test_streamed_jsonl_in_batches(tmp_path):
    jsonl(tmp_path / "big.jsonl", [{"id": str(i), "author": f"u{i % 50}", "text": f"help {i}?",
                                    "created_at": NOW - i, "thread_id": str(i % 10)} for i in range(1050)])
    l = listener(tmp_path, [{"name": "big", "type": "jsonl", "path": "big.jsonl"}])
    [r] = l.pull(batch=100)
    assert r.new == 1050
    [r] = l.pull(batch=100)
    assert (r.new, r.updated) == (0, 0)  # a re-pull rewrites nothing
    assert len(list(l.store.iter_items())) == 1050


def test_unknown_feed_name_is_a_usage_error(tmp_path):
    from listen.errors import UsageError

    l = listener(tmp_path, [{"name": "blog", "type": "rss", "url": "http://127.0.0.1:9/"}])
    with pytest.raises(UsageError, match="did you mean 'blog'"):
        l.pull(["blgo"])


def test_a_connection_dropped_under_a_get_is_tried_once_more(tmp_path, server):
    server.add("/f", Reply(drop=True), Reply(200, WP))
    server.add("/g", Reply(drop=True), Reply(drop=True), Reply(200, WP))
    l = listener(tmp_path, [{"name": "once", "type": "rss", "url": server.url + "/f"},
                            {"name": "twice", "type": "rss", "url": server.url + "/g"}])
    results = {r.feed: r for r in l.pull()}
    assert results["once"].error is None and results["once"].new == 3
    assert "cannot fetch" in results["twice"].error  # one retry, not a loop
    assert len(server.hits("/g")) == 2


def test_a_big_pull_parses_in_worker_processes_with_the_same_results(tmp_path, server):
    """8+ feeds: feeds are parsed and flagged in forked workers; errors still name their feed."""
    names = [f"ok{i}" for i in range(7)]
    for n in names:
        server.add("/" + n, Reply(200, WP, {"ETag": f'"{n}"'}))
    server.add("/html", Reply(200, (FEEDS / "not_a_feed.html").read_bytes(), {"Content-Type": "text/html"}))
    server.add("/bomb", Reply(200, (FEEDS / "entity_bomb.xml").read_bytes()))
    l = listener(tmp_path, [{"name": n, "type": "rss", "url": server.url + "/" + n} for n in [*names, "html", "bomb"]])
    results = {r.feed: r for r in l.pull()}
    assert all(results[n].error is None and results[n].new == 3 for n in names)
    assert "not a feed" in results["html"].error and "declares XML entities" in results["bomb"].error
    kim = [i for i in l.inbox().items if i.author == "Kim"]
    assert len(kim) == 7 and all(i.flags == ["negative"] and i.reasons for i in kim)  # flagged in the workers
    assert l.store.fetch_state("ok0")[0].etag == '"ok0"'


def test_flags_are_computed_here_when_a_worker_fails(tmp_path, caplog):
    """A flag task that fails in the pool (a killed worker, a bug) is redone in this process, and logged."""
    from listen.flags import FlagSettings
    from listen.workers import FlagJob

    class Broken:
        def ready(self):
            return True

        def get(self):
            raise RuntimeError("worker died")

    rows = [{"text": "How do I export my data?"}, {"text": "This is broken and nobody answers, terrible"}]
    with caplog.at_level("WARNING", logger="listen"):
        FlagJob(rows, [0, 1], [Broken()], FlagSettings()).wait()
    assert rows[0]["question"] == 1 and rows[1]["negative"] == 1 and rows[1]["flags_version"]
    assert "a flagging worker process failed; flagging 2 texts in this process instead" in caplog.text


def test_threads_never_share_a_connection_pool(server):
    # One pool shared by the pull's threads let httpcore close a connection
    # another thread was reading from (a read hung until its timeout, about
    # one cold pull in 20). Each thread has its own client; all close together.
    import threading

    server.add("/f", *[Reply(200, WP)] * 8)
    http = Http(timeout=5)
    seen = {}

    def fetch(name):
        for _ in range(2):  # a thread reuses its own client from one request to the next
            assert http.get(server.url + "/f", feed=name).status == 200
            seen.setdefault(name, set()).add(id(http.client))

    threads = [threading.Thread(target=fetch, args=(f"t{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    clients = [next(iter(ids)) for ids in seen.values()]
    assert all(len(ids) == 1 for ids in seen.values()) and len(set(clients)) == 4
    kept = list(http._clients)
    http.close()
    assert len(kept) == 4 and all(c.is_closed for c in kept)


def test_a_retry_after_date_is_read_against_the_listeners_clock(tmp_path, server):
    """One clock: an HTTP-date Retry-After 90 s after the frozen now is a 90 s wait, whatever the wall clock says."""
    import email.utils

    when = email.utils.formatdate(NOW + 90, usegmt=True)
    slept: list[float] = []
    server.add("/f", Reply(503, "maintenance", {"Retry-After": when}))
    l = listener(tmp_path, [{"name": "blog", "type": "rss", "url": server.url + "/f"}], slept=slept)
    [r] = l.pull()
    assert "rate limited" in r.error and "asked to wait 90s" in r.error and slept == []
    assert l.store.fetch_state("blog")[1] == NOW + 90


def test_a_skipped_feed_reads_as_skipped_not_as_not_modified():
    from listen.models import PullResult
    from listen.render import pull_line

    assert pull_line(PullResult("ex", skipped="another listen pull is fetching it")) == \
        "ex: skipped: another listen pull is fetching it"
    assert pull_line(PullResult("ex", skipped="rate limited: next fetch after 10:00")) == \
        "ex: skipped: rate limited: next fetch after 10:00"
    assert pull_line(PullResult("ex", not_modified=True)) == "ex: not modified"
    assert pull_line(PullResult("ex", skipped="\x1b[2Jx\ny")) == "ex: skipped: ^[[2Jx y"
