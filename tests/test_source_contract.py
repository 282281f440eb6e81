"""The one source contract (listen/sources/__init__.py): declared abilities, the
injected clock, and the helpers every source shares."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

from listen.errors import FeedError
from listen.http import Response
from listen.models import FetchState
from listen.sources import REGISTRY, FeedConfig, Source, make_source, next_link, on_host, parse_time, source_class
from tests.replay import Reply

UTC = timezone.utc


@pytest.mark.parametrize("network, streams, apart, parents", [
    ("rss", False, True, False),
    ("jsonl", True, False, False),
    ("mastodon", False, False, False),
    ("bluesky", False, False, False),
    ("github", False, False, False),
    ("reddit", False, False, True),
    ("hackernews", False, False, True),
    ("stackexchange", False, False, True),
])
def test_abilities_are_declared_not_guessed(network, streams, apart, parents):
    cls = source_class(network)
    assert issubclass(cls, Source) and cls.network == network
    src = cls(FeedConfig(network, network, {}, Path(".")))
    assert (src.streams_items, src.parses_apart, src.fetches_parents) == (streams, apart, parents)
    assert ("max_parents" in cls.options) == parents
    assert set(REGISTRY) == {"rss", "jsonl", "mastodon", "bluesky", "github", "reddit", "hackernews", "stackexchange"}


@pytest.mark.parametrize("value, expected", [
    ("2026-01-01T00:00:00Z", datetime(2026, 1, 1, tzinfo=UTC)),
    ("2026-01-01T00:00:00.000Z", datetime(2026, 1, 1, tzinfo=UTC)),
    ("2026-01-01T02:00:00+02:00", datetime(2026, 1, 1, tzinfo=UTC)),
    ("2026-01-01T00:00:00", datetime(2026, 1, 1, tzinfo=UTC)),  # an API's naive time is UTC
    (1767225600, datetime(2026, 1, 1, tzinfo=UTC)),
    (1767225600.0, datetime(2026, 1, 1, tzinfo=UTC)),
    ("1767225600", datetime(2026, 1, 1, tzinfo=UTC)),
])
def test_parse_time(value, expected):
    assert parse_time(value) == expected


@pytest.mark.parametrize("value", [None, True, "yesterday", "", {"t": 1}, 1e20])
def test_parse_time_refuses_what_is_not_a_time(value):
    with pytest.raises(ValueError):
        parse_time(value)


def test_parse_time_refuses_a_naive_time_when_asked():
    with pytest.raises(ValueError, match="no UTC offset"):
        parse_time("2026-01-01T00:00:00", naive="refuse")


def _resp(link: str | None) -> Response:
    headers = httpx.Headers({"link": link} if link is not None else {})
    return Response(200, headers, b"", "http://x/")


@pytest.mark.parametrize("link, expected", [
    ('<https://api.github.com/repos/a/b/issues?page=2>; rel="next", <https://api.github.com/x?page=9>; rel="last"',
     "https://api.github.com/repos/a/b/issues?page=2"),
    ('<https://m.example/api/v1/notifications?max_id=1>; rel="next", <https://m.example/p?min_id=9>; rel="prev"',
     "https://m.example/api/v1/notifications?max_id=1"),
    ('<https://x/last>; rel="last"', None),
    ("", None),
    (None, None),
])
def test_next_link(link, expected):
    assert next_link(_resp(link)) == expected


@pytest.mark.parametrize("url, ok", [
    ("https://api.github.com/repos/a/b", True),
    ("https://api.github.com.evil.example/repos", False),
    ("https://evil.example/?https://api.github.com/", False),
    ("http://api.github.com/repos", False),  # not the same scheme
    ("https://api.github.com", False),  # the root itself is never a page
])
def test_guard_keeps_the_token_on_its_host(url, ok):
    assert on_host(url, "https://api.github.com") is ok
    src = make_source(FeedConfig("gh", "github", {}, Path(".")))
    if ok:
        assert src.guard(url, "https://api.github.com/") == url
    else:
        with pytest.raises(FeedError, match="refusing to follow a link off"):
            src.guard(url, "https://api.github.com/")


def test_backoff_helpers_use_the_injected_clock():
    now = [1000.0]
    src = make_source(FeedConfig("r", "reddit", {}, Path(".")), clock=lambda: now[0])
    cursor: dict = {}
    src.back_off(cursor, "posts", 1060.2)
    assert src.backed_off(cursor, "posts") == 1061 and src.backed_off(cursor, "ours") is None
    now[0] = 1062
    assert src.backed_off(cursor, "posts") is None
    src.forget_backoffs(cursor)
    assert cursor == {}


def test_a_source_reads_the_clock_it_is_given_not_the_wall_clock(server, http):
    """Hacker News's first pull looks back `lookback` from the injected now."""
    server.always("/search_by_date", Reply(body={"hits": [], "nbPages": 0}))
    opts = {"query": "acme", "base_url": server.url, "max_pages": 1, "lookback": 86400}
    src = make_source(FeedConfig("hn", "hackernews", opts, Path(".")), clock=lambda: 1_600_000_000)
    fetched = src.fetch(http, FetchState())
    assert server.hits("/search_by_date")[0].query["numericFilters"] == [f"created_at_i>{1_600_000_000 - 86400}"]
    assert json.loads(fetched.state.cursor) == {"since": 1_600_000_000 - 86400}
    # Nothing is kept between calls: the same state asks the same question again.
    src.fetch(http, FetchState())
    assert server.hits("/search_by_date")[1].query == server.hits("/search_by_date")[0].query
