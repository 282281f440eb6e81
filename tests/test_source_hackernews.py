"""Hacker News (Algolia) source against a local replay server."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from listen.config import parse
from listen.errors import ConfigError, FeedError
from listen.http import Http, RateLimited
from listen.models import FetchState
from listen.sources import FeedConfig
from listen.sources.hackernews import HackerNewsSource
from tests.replay import Reply

FIXTURES = Path(__file__).parent / "fixtures" / "hackernews"
PATH = "/search_by_date"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def empty() -> dict:
    body = load("own_comments.json")
    body.update(hits=[], nbHits=0, nbPages=0)
    return body


YEARS = 20 * 365 * 86400  # the fixtures are from 2024: reach back far enough for them


def source(server, identity=("acme", "Sarah Dopp", "@acme@mastodon.social"), **options) -> HackerNewsSource:
    opts = {"query": "acme", "username": None, "base_url": server.url, "max_pages": 5, "lookback": YEARS}
    opts.update(options)
    return HackerNewsSource(FeedConfig(name="hn", type="hackernews", options=opts, config_dir=Path("."),
                                       identity=identity))


def route(mentions, own=None):
    """Answer the keyword query with `mentions` and the author query with `own`."""
    def reply(seen):
        if seen.query.get("tags", [""])[0].startswith("comment,("):
            return Reply(body=own if own is not None else empty())
        return Reply(body=mentions)
    return reply


def http() -> Http:
    return Http(sleep=lambda s: None)


def test_first_pull_maps_stories_and_comments(server):
    server.always(PATH, route(load("search_by_date_page0.json")))
    fetched = source(server).fetch(http(), FetchState())
    items = {i.native_id: i for i in fetched.items}
    assert set(items) == {"41000010", "41000001"}
    comment, story = items["41000010"], items["41000001"]
    assert comment.author == "jdoe"
    assert comment.text == "Does acme support SSO yet? We're evaluating it.\n\nThanks!"
    assert comment.url == "https://news.ycombinator.com/item?id=41000010"
    assert comment.in_reply_to == "41000001" and comment.thread_id == "41000001"
    assert comment.title == "Show HN: Acme widgets 2.0"
    assert comment.created_at.isoformat() == "2024-06-10T12:05:00+00:00"
    assert comment.raw["objectID"] == "41000010"
    assert story.thread_id == "41000001" and story.in_reply_to is None
    assert story.text.startswith("Show HN: Acme widgets 2.0")
    assert story.ours is None  # no username key: [identity] names decide
    # The first pull is bounded by lookback; the cursor is the newest date seen.
    query = server.hits(PATH)[0].query
    assert query["query"] == ["acme"] and query["tags"] == ["(story,comment)"]
    assert query["numericFilters"][0].startswith("created_at_i>")
    assert json.loads(fetched.state.cursor) == {"since": 1718021100}


def test_incremental_pull_asks_only_for_newer(server):
    server.always(PATH, route(empty()))
    src = source(server)
    fetched = src.fetch(http(), FetchState(cursor=json.dumps({"since": 1718021100})))
    assert fetched.items == []
    assert {h.query["numericFilters"][0] for h in server.hits(PATH)} == {f"created_at_i>{1718021100 - 300}"}
    # Nothing new: the watermark stays where it was.
    assert json.loads(fetched.state.cursor) == {"since": 1718021100}


def test_paging_follows_nbpages_and_is_bounded(server):
    base = load("search_by_date_page0.json")
    pages = []
    for n in range(4):
        body = copy.deepcopy(base)
        for hit in body["hits"]:
            hit["objectID"] = f"{hit['objectID']}{n}"
        body.update(page=n, nbPages=4)
        pages.append(body)

    def reply(seen):
        if seen.query["tags"][0].startswith("comment,("):
            return Reply(body=empty())
        return Reply(body=pages[int(seen.query["page"][0])])
    server.always(PATH, reply)

    fetched = source(server).fetch(http(), FetchState())
    assert len(fetched.items) == 8
    fetched = source(server, max_pages=2).fetch(http(), FetchState())
    assert len(fetched.items) == 4
    assert any("stopped after 2 pages" in w for w in fetched.warnings)


def test_our_reply_answers_the_mention(server):
    server.always(PATH, route(load("search_by_date_page0.json"), load("own_comments.json")))
    fetched = source(server, username="acme").fetch(http(), FetchState())
    items = {i.native_id: i for i in fetched.items}
    reply = items["41000020"]
    assert reply.ours is True
    assert reply.in_reply_to == "41000010" and reply.thread_id == "41000001"
    assert reply.text == "Yes: SSO shipped in 2.0, see the docs."
    assert items["41000010"].ours is None
    assert json.loads(fetched.state.cursor) == {"since": 1718022600}
    own = [h for h in server.hits(PATH) if h.query["tags"][0].startswith("comment,")]
    assert own[0].query["tags"] == ["comment,(author_acme)"]


def test_own_names_come_from_identity_when_no_username(server):
    src = source(server, identity=("acme", "Sarah Dopp", "@acme@mastodon.social", "acme.bsky.social", "acme_hq"))
    assert src.own_names() == ["acme", "acme_hq"]
    assert source(server, identity=()).own_names() == []
    server.always(PATH, route(empty()))
    source(server, identity=()).fetch(http(), FetchState())
    assert len(server.hits(PATH)) == 1  # no author query without names


def test_retry_after_is_honoured_then_gives_up(server):
    slept = []
    server.add(PATH, Reply(429, "slow down", {"Retry-After": "2"}))
    server.always(PATH, route(load("search_by_date_page0.json")))
    fetched = source(server, identity=()).fetch(Http(sleep=slept.append), FetchState())
    assert slept == [2.0] and len(fetched.items) == 2

    server.add(PATH, Reply(429, "slow down", {"Retry-After": "3600"}))
    with pytest.raises(RateLimited) as e:
        source(server, identity=()).fetch(http(), FetchState())
    assert e.value.retry_after == 3600


@pytest.mark.parametrize("body", [b"<html>oops</html>", {"message": "no hits"}, {"hits": "nope"}])
def test_malformed_body_is_one_feed_error(server, body):
    server.always(PATH, Reply(body=body))
    with pytest.raises(FeedError) as e:
        source(server).fetch(http(), FetchState())
    assert e.value.feed == "hn"


def test_hits_without_id_are_skipped_with_a_warning(server):
    body = load("search_by_date_page0.json")
    body["hits"].append({"author": "x", "comment_text": "no id"})
    server.always(PATH, route(body))
    fetched = source(server).fetch(http(), FetchState(cursor="not json"))
    assert len(fetched.items) == 2
    assert len(fetched.warnings) == 2  # the bad hit and the unreadable cursor


def test_http_errors_name_the_feed(server):
    server.always(PATH, Reply(403, "forbidden"))
    with pytest.raises(FeedError) as e:
        source(server).fetch(http(), FetchState())
    assert e.value.feed == "hn" and "403" in str(e.value)


def test_probe(server):
    server.always(PATH, Reply(body=load("search_by_date_page0.json")))
    assert source(server).probe(http()).startswith("reachable; 2 matches for 'acme'")


def test_config_keys(tmp_path):
    cfg = parse({"feeds": [{"name": "hn", "type": "hackernews", "query": "acme", "username": "acme"}]},
                Path("x/listen.toml"))
    feed = cfg.feeds[0]
    assert feed.get("base_url") == "https://hn.algolia.com/api/v1"
    assert feed.get("max_pages") == 5 and feed.get("lookback") == 14 * 86400

    with pytest.raises(ConfigError) as e:
        parse({"feeds": [{"name": "hn", "type": "hackernews", "query": "acme", "qurey": "x"}]}, Path("x/listen.toml"))
    assert "unknown key 'qurey'" in str(e.value)
    with pytest.raises(ConfigError) as e:
        parse({"feeds": [{"name": "hn", "type": "hackernews"}]}, Path("x/listen.toml"))
    assert "missing required key 'query'" in str(e.value)
    with pytest.raises(ConfigError) as e:
        parse({"feeds": [{"name": "hn", "type": "hackernews", "query": "a", "username": "a b@c"}]},
              Path("x/listen.toml"))
    assert "username" in str(e.value)
