"""Reddit source against a local replay server."""

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
from listen.sources.reddit import RedditSource
from tests.replay import Reply

FIXTURES = Path(__file__).parent / "fixtures" / "reddit"
YEARS = 20 * 365 * 86400  # the fixtures are from 2024: reach back far enough for them
EMPTY = {"kind": "Listing", "data": {"after": None, "dist": 0, "modhash": "", "geo_filter": "",
                                     "children": [], "before": None}}


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def source(server, **options) -> RedditSource:
    opts = {"query": None, "subreddit": None, "username": None, "base_url": server.url,
            "max_pages": 5, "lookback": YEARS}
    opts.update(options)
    return RedditSource(FeedConfig(name="reddit", type="reddit", options=opts, config_dir=Path(".")))


def http() -> Http:
    return Http(sleep=lambda s: None)


def test_query_pull_maps_posts(server):
    server.always("/search.json", Reply(body=load("search_new.json")))
    fetched = source(server, query="acme").fetch(http(), FetchState())
    [post] = fetched.items
    assert post.native_id == "t3_1d9xyz0" and post.thread_id == "t3_1d9xyz0" and post.in_reply_to is None
    assert post.author == "widget_fan"
    assert post.title == "How do I export widgets from Acme?"
    assert post.text == "How do I export widgets from Acme?\n\nIs there a way to export widgets from Acme? The docs don't say."
    assert post.url == "https://www.reddit.com/r/acme/comments/1d9xyz0/how_do_i_export_widgets_from_acme/"
    assert post.created_at.isoformat() == "2024-06-10T11:46:40+00:00"
    assert post.raw["kind"] == "t3"
    [hit] = server.hits("/search.json")
    assert hit.query["q"] == ["acme"] and hit.query["sort"] == ["new"] and hit.query["type"] == ["link"]
    assert hit.query["raw_json"] == ["1"] and hit.query["limit"] == ["100"]
    assert ":listen:0.1.0 (social listening CLI)" in hit.headers["user-agent"]
    assert json.loads(fetched.state.cursor) == {"posts": {"since": 1718020000.0}}


def test_subreddit_pull_reads_posts_and_comments_and_pages(server):
    server.always("/r/acme/new.json", Reply(body=load("search_new.json")))
    page2 = copy.deepcopy(EMPTY)
    server.add("/r/acme/comments.json", Reply(body=load("r_sub_comments.json")), Reply(body=page2))
    fetched = source(server, subreddit="r/acme").fetch(http(), FetchState())
    items = {i.native_id: i for i in fetched.items}
    assert set(items) == {"t3_1d9xyz0", "t1_l7c0003", "t1_l7c0002"}
    comment = items["t1_l7c0003"]
    assert comment.in_reply_to == "t3_1d9xyz0" and comment.thread_id == "t3_1d9xyz0"
    assert comment.title == "How do I export widgets from Acme?"
    assert comment.text == "Same question. Acme support never answered my ticket either."
    assert comment.url == "https://www.reddit.com/r/acme/comments/1d9xyz0/how_do_i_export_widgets_from_acme/l7c0003/"
    hits = server.hits("/r/acme/comments.json")
    assert "after" not in hits[0].query and hits[1].query["after"] == ["t1_l7c0002"]
    cursor = json.loads(fetched.state.cursor)
    assert cursor["comments"] == {"since": 1718021000.0}


def test_paging_is_bounded_by_max_pages(server):
    server.always("/r/acme/new.json", Reply(body=EMPTY))
    server.always("/r/acme/comments.json", Reply(body=load("r_sub_comments.json")))  # always "more"
    fetched = source(server, subreddit="acme", max_pages=3).fetch(http(), FetchState())
    assert len(server.hits("/r/acme/comments.json")) == 3
    assert any("stopped after 3 pages" in w for w in fetched.warnings)


def test_incremental_pull_stops_at_the_watermark(server):
    server.always("/r/acme/new.json", Reply(body=EMPTY))
    server.always("/r/acme/comments.json", Reply(body=load("r_sub_comments.json")))
    cursor = json.dumps({"posts": {"since": 1718020000.0}, "comments": {"since": 1718021000.0}})
    fetched = source(server, subreddit="acme").fetch(http(), FetchState(cursor=cursor))
    # The older comment (1718015000) is past the watermark: one page, no paging further.
    assert [i.native_id for i in fetched.items] == ["t1_l7c0003"]
    assert len(server.hits("/r/acme/comments.json")) == 1
    assert json.loads(fetched.state.cursor)["comments"] == {"since": 1718021000.0}


def test_query_and_subreddit_filter_comments_locally(server):
    server.always("/r/acme/search.json", Reply(body=load("search_new.json")))
    server.always("/r/acme/comments.json", Reply(body=load("r_sub_comments.json")))
    server.add("/r/acme/comments.json", Reply(body=load("r_sub_comments.json")), Reply(body=EMPTY))
    fetched = source(server, subreddit="acme", query="acme").fetch(http(), FetchState())
    assert {i.native_id for i in fetched.items} == {"t3_1d9xyz0", "t1_l7c0003"}
    assert server.hits("/r/acme/search.json")[0].query["restrict_sr"] == ["on"]


def test_our_reply_answers_the_post(server):
    server.always("/search.json", Reply(body=load("search_new.json")))
    server.always("/user/acme_hq/comments.json", Reply(body=load("user_comments.json")))
    fetched = source(server, query="acme", username="u/acme_hq").fetch(http(), FetchState())
    items = {i.native_id: i for i in fetched.items}
    reply = items["t1_l7c0009"]
    assert reply.ours is True and reply.author == "Acme_HQ"
    assert reply.in_reply_to == "t3_1d9xyz0" == items["t3_1d9xyz0"].native_id
    assert reply.text == "Settings > Export > CSV. Sorry the docs are thin there; fixing that now."
    assert items["t3_1d9xyz0"].ours is None
    ua = server.hits("/search.json")[0].headers["user-agent"]
    assert ua.endswith(":listen:0.1.0 (by /u/acme_hq)")


def test_403_says_what_reddit_refused(server):
    server.always("/search.json", Reply(403, {"message": "Forbidden", "error": 403}))
    with pytest.raises(FeedError) as e:
        source(server, query="acme").fetch(http(), FetchState())
    assert e.value.feed == "reddit" and "HTTP 403" in str(e.value) and "unauthenticated" in str(e.value)

    server.always("/r/secret/new.json", Reply(403, {"reason": "private", "message": "Forbidden", "error": 403}))
    with pytest.raises(FeedError) as e:
        source(server, subreddit="secret").fetch(http(), FetchState())
    assert "r/secret is private" in str(e.value)


def test_retry_after_then_rate_limited(server):
    slept = []
    server.add("/search.json", Reply(429, "slow", {"Retry-After": "5"}))
    server.always("/search.json", Reply(body=load("search_new.json")))
    fetched = source(server, query="acme").fetch(Http(sleep=slept.append), FetchState())
    assert slept == [5.0] and len(fetched.items) == 1

    server.add("/search.json", Reply(429, "slow", {"Retry-After": "900"}))
    with pytest.raises(RateLimited):
        source(server, query="acme").fetch(http(), FetchState())


def test_used_up_ratelimit_window_pauses_the_feed(server):
    headers = {"x-ratelimit-remaining": "0.0", "x-ratelimit-reset": "120", "x-ratelimit-used": "100"}
    server.always("/search.json", Reply(body=load("search_new.json"), headers=headers))
    server.always("/user/acme_hq/comments.json", Reply(body=load("user_comments.json")))
    src = source(server, query="acme", username="acme_hq")
    fetched = src.fetch(http(), FetchState())
    assert len(fetched.items) == 1  # the search page; the user stream waits for the window
    assert server.hits("/user/acme_hq/comments.json") == []
    cursor = json.loads(fetched.state.cursor)
    assert cursor["not_before"] > cursor["posts"]["since"] and "ours" not in cursor
    again = src.fetch(http(), fetched.state)
    assert again.items == [] and again.state == fetched.state and "rate limit" in again.warnings[0]
    assert len(server.hits("/search.json")) == 1


@pytest.mark.parametrize("body", [b"<html>blocked</html>", {"kind": "Listing"}, [1, 2], {"data": {"children": 3}}])
def test_malformed_body_is_one_feed_error(server, body):
    server.always("/search.json", Reply(body=body))
    with pytest.raises(FeedError) as e:
        source(server, query="acme").fetch(http(), FetchState())
    assert e.value.feed == "reddit"


def test_malformed_children_are_skipped(server):
    body = load("search_new.json")
    body["data"]["children"].append({"kind": "t3", "data": {"title": "no name"}})
    body["data"]["children"].append({"kind": "more", "data": {}})
    server.always("/search.json", Reply(body=body))
    fetched = source(server, query="acme").fetch(http(), FetchState())
    assert len(fetched.items) == 1 and len(fetched.warnings) == 2


def test_probe(server):
    server.always("/search.json", Reply(body=load("search_new.json")))
    assert source(server, query="acme").probe(http()).startswith("reachable")


def test_config_keys():
    path = Path("x/listen.toml")
    cfg = parse({"feeds": [{"name": "r", "type": "reddit", "query": "acme"}]}, path)
    assert cfg.feeds[0].get("base_url") == "https://www.reddit.com"
    assert cfg.feeds[0].get("lookback") == 14 * 86400
    parse({"feeds": [{"name": "r", "type": "reddit", "subreddit": "acme+acmehelp", "username": "acme_hq"}]}, path)

    with pytest.raises(ConfigError) as e:
        parse({"feeds": [{"name": "r", "type": "reddit"}]}, path)
    assert "set query" in str(e.value) and "subreddit" in str(e.value)
    with pytest.raises(ConfigError) as e:
        parse({"feeds": [{"name": "r", "type": "reddit", "query": "acme", "subreddits": "x"}]}, path)
    assert "unknown key 'subreddits'" in str(e.value)
    with pytest.raises(ConfigError) as e:
        parse({"feeds": [{"name": "r", "type": "reddit", "subreddit": "not a sub"}]}, path)
    assert "subreddit" in str(e.value)
