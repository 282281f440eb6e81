"""Gaps named (issue 12): a feed that has been blind is said at the top of the inbox,
in `listen stats`, in the report, and in `listen feeds --json` for scripts."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import pytest

from listen.app import Listener
from listen.config import load
from listen.gaps import Gap, feed_record, find_gaps
from listen.models import FeedStatus
from tests.helpers import write_config
from tests.replay import Reply
from tests.test_crash import invoke

NOW = int(time.time())  # the CLI reads the wall clock
H = 3600


def status(success: int | None, error: str | None = None, since: int | None = None,
           attempt: int | None = None) -> FeedStatus:
    def dt(t: int | None) -> datetime | None:
        return None if t is None else datetime.fromtimestamp(t, timezone.utc)

    attempt = attempt if attempt is not None else (since if error else success)
    return FeedStatus("x", "rss", dt(attempt), dt(success), error, dt(since), 3)


T = 1_770_000_000


@pytest.mark.parametrize("st, enabled, limit, expected", [
    (status(T - 600), True, H, None),  # read ten minutes ago
    (status(T - 2 * H), True, H, Gap("x", T - 2 * H, None, None)),  # no pull since: cron stopped?
    (status(T - 2 * H), True, 3 * H, None),  # within a longer limit
    (status(T - 1200, "HTTP 500", T - 600), True, H, None),  # a short failure after a success
    (status(T - 26 * H, "HTTP 401", T - 25 * H), True, H, Gap("x", T - 26 * H, T - 25 * H, "HTTP 401")),
    (status(None, "connection refused", T - 60), True, H, Gap("x", None, T - 60, "connection refused")),
    (status(None, "connection refused", T - 60), False, H, None),  # disabled: not expected to be read
    (None, True, H, None),  # never tried: just added
])
def test_find_gaps(st, enabled, limit, expected):
    gaps = find_gaps([("x", enabled)], {"x": st} if st else {}, T, limit)
    assert gaps == ([expected] if expected else [])


def test_gaps_never_succeeded_first_then_longest_blind():
    statuses = {"a": status(T - 2 * H), "b": status(None, "refused", T - 60), "c": status(T - 9 * H, "401", T - H)}
    order = [g.feed for g in find_gaps([("a", True), ("b", True), ("c", True)], statuses, T, H)]
    assert order == ["b", "c", "a"]


@pytest.mark.parametrize("gap, words", [
    (Gap("blog", T - 26 * H, T - 25 * H, "HTTP 404 Not Found"), "blog not fetched for 1d 2h: HTTP 404 Not Found"),
    (Gap("hn", None, T - 2 * H, "connection refused"),
     "hn has never been fetched successfully (failing for 2h): connection refused"),
    (Gap("so", T - 3 * H, None, None), "so not fetched for 3h: no pull since then (is the cron job running?)"),
])
def test_gap_words(gap, words):
    assert gap.words(T) == words


def test_feed_record_is_the_contract_shape():
    failing = feed_record("blog", "rss", status(T - 26 * H, "HTTP 404", T - 25 * H, attempt=T - 60))
    assert failing == {"name": "blog", "type": "rss", "items": 3,
                       "last_success": "2026-02-01T00:40:00+00:00", "last_error_at": "2026-02-02T02:39:00+00:00",
                       "last_error": "HTTP 404", "failing_since": "2026-02-01T01:40:00+00:00"}
    healthy = feed_record("blog", "rss", status(T - 60))
    assert healthy["last_error"] is healthy["last_error_at"] is healthy["failing_since"] is None
    assert feed_record("new", "jsonl", None) == {"name": "new", "type": "jsonl", "items": 0, "last_success": None,
                                                 "last_error_at": None, "last_error": None, "failing_since": None}


def test_a_feed_failing_for_a_day_is_named_at_the_top_of_the_inbox(tmp_path, server, capsys):
    (tmp_path / "forum.jsonl").write_text(json.dumps(
        {"id": "f1", "author": "ann", "text": "Is anyone from acme there? The export is broken.",
         "created_at": NOW - 600}) + "\n")
    line = json.dumps({"id": "b1", "author": "kim", "text": "Thanks!", "created_at": NOW - 27 * H}) + "\n"
    server.add("/export.jsonl", Reply(body=line),
               Reply(404, "<html>\x1b[2J gone</html>"), Reply(404, "<html>\x1b[2J gone</html>"))
    cfg = write_config(tmp_path / "listen.toml", [
        {"name": "forum", "type": "jsonl", "path": "forum.jsonl"},
        {"name": "blog", "type": "jsonl", "url": server.url + "/export.jsonl"},
    ])
    for when in (NOW - 26 * H, NOW - 24 * H, NOW - 60):  # worked, then failing for a day
        ltn = Listener(load(cfg), clock=lambda when=when: when)
        ltn.pull()
        ltn.close()

    r = invoke(capsys, "--config", str(cfg), "inbox")
    first = r.stdout.splitlines()[0]
    assert first.startswith("⚠ blog not fetched for 1d 2h: ") and "404" in first, r.stdout
    assert "\x1b" not in r.stdout and "ann" in r.stdout

    r = invoke(capsys, "--config", str(cfg), "inbox", "--json")
    assert [i["author"] for i in json.loads(r.stdout)] == ["ann"]  # still an array
    assert "blog not fetched for 1d 2h" in r.stderr and "\x1b" not in r.stderr

    r = invoke(capsys, "--config", str(cfg), "feeds", "--json")
    assert r.returncode == 0
    blog, forum = sorted(json.loads(r.stdout), key=lambda f: f["name"])
    assert set(blog) == {"name", "type", "items", "last_success", "last_error_at", "last_error", "failing_since"}
    assert (blog["type"], blog["items"]) == ("jsonl", 1) and "404" in blog["last_error"]
    assert datetime.fromisoformat(blog["last_success"]).timestamp() == NOW - 26 * H
    assert datetime.fromisoformat(blog["failing_since"]).timestamp() == NOW - 24 * H
    assert datetime.fromisoformat(blog["last_error_at"]).timestamp() == NOW - 60
    assert forum["last_error"] is None and forum["failing_since"] is None and forum["items"] == 1

    r = invoke(capsys, "--config", str(cfg), "stats")
    assert r.stdout.splitlines()[0].startswith("⚠ blog not fetched for 1d 2h")
    r = invoke(capsys, "--config", str(cfg), "stats", "--json")
    [gap] = json.loads(r.stdout)["gaps"]
    assert gap["feed"] == "blog" and "404" in gap["last_error"] and gap["blind_seconds"] >= 26 * H

    r = invoke(capsys, "--config", str(cfg), "report", "--html", "-")
    assert "blog not fetched for 1d 2h" in r.stdout and "\x1b" not in r.stdout
