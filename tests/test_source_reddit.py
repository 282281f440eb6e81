"""Reddit source against a local replay server.

The fixtures are written for these tests, in the shape of the Reddit answers recorded
in ../shared/fixtures/reddit (same fields and nesting; our own users and text).
"""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from listen.app import Listener
from listen.config import load as load_config
from listen.config import parse
from listen.errors import ConfigError, FeedError
from listen.http import Http, RateLimited
from listen.models import FetchState
from listen.sources import FeedConfig
from listen.sources.reddit import RedditSource
from tests.helpers import write_config
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
    assert cursor["not_before"]["all"] > cursor["posts"]["since"] and "ours" not in cursor
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


# --- logged in: the inbox -----------------------------------------------------------

SECRETS = {"REDDIT_ID": "id-Kx81pq", "REDDIT_SECRET": "sec-9QzLwVb", "REDDIT_PW": "pw-Hunter22"}
TOKEN = "tok-7fJ2mZq0"
LOGIN = {"client_id_env": "REDDIT_ID", "client_secret_env": "REDDIT_SECRET", "password_env": "REDDIT_PW"}


@pytest.fixture
def secrets(monkeypatch):
    for var, value in SECRETS.items():
        monkeypatch.setenv(var, value)


def granted() -> Reply:
    body = load("oauth_access_token.json")
    body["access_token"] = TOKEN
    return Reply(body=body)


def logged_in(server, **options) -> RedditSource:
    return source(server, username="acme_hq", oauth_base_url=server.url,
                  oauth_token_url=server.url + "/api/v1/access_token", **LOGIN, **options)


def leaks(*outputs: object) -> list[str]:
    """The secrets (or the basic-auth header built from them) found in what we keep or say."""
    basic = base64.b64encode(f"{SECRETS['REDDIT_ID']}:{SECRETS['REDDIT_SECRET']}".encode()).decode()
    text = json.dumps(outputs, default=str)
    return [s for s in (*SECRETS.values(), TOKEN, basic) if s in text]


def test_inbox_logs_in_by_password_grant_and_pages(server, secrets):
    server.add("/api/v1/access_token", granted())
    page1 = load("message_inbox_page1.json")  # 2 private messages, then 3 replies to our comment
    server.add("/message/inbox", Reply(body=page1), Reply(body=EMPTY))
    server.always("/user/acme_hq/comments.json", Reply(body=EMPTY))
    fetched = logged_in(server).fetch(http(), FetchState())

    [grant] = server.hits("/api/v1/access_token")
    assert grant.method == "POST"
    assert grant.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(grant.body.decode()) == {"grant_type": ["password"], "username": ["acme_hq"],
                                             "password": ["pw-Hunter22"]}
    scheme, _, value = grant.headers["authorization"].partition(" ")
    assert scheme == "Basic" and base64.b64decode(value) == b"id-Kx81pq:sec-9QzLwVb"
    assert grant.headers["user-agent"].endswith(":listen:0.1.0 (by /u/acme_hq)")

    first, second = server.hits("/message/inbox")
    assert first.headers["authorization"] == f"bearer {TOKEN}" == second.headers["authorization"]
    assert first.query["raw_json"] == ["1"] and first.query["limit"] == ["100"] and "after" not in first.query
    assert second.query["after"] == ["t1_kq0003"]

    items = {i.native_id: i for i in fetched.items}
    assert sorted(items) == ["t1_kq0003", "t1_kq0004", "t1_kq0005"]
    reply = items["t1_kq0005"]
    assert reply.author == "sync_sam" and reply.text == "Still failing after the update, any idea why?"
    assert reply.ours is None
    # Inbox comments carry neither link_id nor permalink: both come from `context`.
    assert reply.in_reply_to == "t1_kp9001" and reply.thread_id == "t3_1q2w3e"
    assert reply.url == "https://www.reddit.com/r/acmewidgets/comments/1q2w3e/widget_sync_keeps_failing/kq0005/"
    assert reply.title == "Widget sync keeps failing"
    assert fetched.warnings == []  # private messages (t4) are left out without a word
    cursor = json.loads(fetched.state.cursor)
    assert cursor["inbox"] == {"since": 1750351619.0}
    assert leaks(fetched.state.cursor, [i.raw for i in fetched.items], fetched.warnings) == []


def test_inbox_is_incremental_and_the_token_is_reused(server, secrets):
    server.always("/api/v1/access_token", granted())
    page = load("message_inbox_acme.json")
    page["data"]["after"] = "t1_m1b0002"  # more pages exist, but older than the watermark
    server.always("/message/inbox", Reply(body=page))
    server.always("/user/acme_hq/comments.json", Reply(body=EMPTY))
    src = logged_in(server)
    state = FetchState(cursor=json.dumps({"inbox": {"since": 1718030000.0}}))
    fetched = src.fetch(http(), state)
    assert [i.native_id for i in fetched.items] == ["t1_m1a0003"]  # the mention is 4000 s older
    assert len(server.hits("/message/inbox")) == 1
    assert json.loads(fetched.state.cursor)["inbox"] == {"since": 1718030000.0}

    src.fetch(http(), fetched.state)
    assert len(server.hits("/api/v1/access_token")) == 1 and len(server.hits("/message/inbox")) == 2


def test_a_revoked_token_is_renewed_once(server, secrets):
    server.always("/api/v1/access_token", granted())
    server.always("/user/acme_hq/comments.json", Reply(body=EMPTY))
    server.always("/message/inbox", Reply(body=load("message_inbox_acme.json")))
    src = logged_in(server)
    src.fetch(http(), FetchState())
    server.add("/message/inbox", Reply(401, {"message": "Unauthorized", "error": 401}))
    fetched = src.fetch(http(), FetchState())
    assert {i.native_id for i in fetched.items} == {"t1_m1a0003", "t1_m1b0002"}
    assert len(server.hits("/api/v1/access_token")) == 2

    server.always("/message/inbox", Reply(403, {"message": "Forbidden", "error": 403}))
    with pytest.raises(FeedError) as e:
        src.fetch(http(), FetchState())
    assert "u/acme_hq's inbox" in str(e.value) and "privatemessages" in str(e.value)


def test_our_reply_answers_an_inbox_reply(tmp_path, server, secrets):
    server.always("/api/v1/access_token", granted())
    server.always("/message/inbox", Reply(body=load("message_inbox_acme.json")))
    ours = load("user_comments.json")
    answer = copy.deepcopy(ours["data"]["children"][0])
    answer["data"].update(id="m1c0001", name="t1_m1c0001", parent_id="t1_m1a0003", created_utc=1718031000.0,
                          body="Colours are in the next release.", body_html=None,
                          permalink="/r/acme/comments/1d9xyz0/how_do_i_export_widgets_from_acme/m1c0001/")
    ours["data"]["children"].insert(0, answer)
    server.always("/user/Acme_HQ/comments.json", Reply(body=ours))
    feed = {"name": "reddit", "type": "reddit", "username": "Acme_HQ", "base_url": server.url,
            "oauth_base_url": server.url, "oauth_token_url": server.url + "/api/v1/access_token",
            "lookback": "3650d", **LOGIN}
    l = Listener(load_config(write_config(tmp_path / "listen.toml", [feed], ("Acme_HQ",))), clock=lambda: 1718040000)
    try:
        [result] = l.pull()
        assert result.error is None and result.new == 4
        waiting = l.inbox(include_unflagged=True).items
        # widget_fan's reply to us is answered; the mention elsewhere waits.
        assert [i.author for i in waiting] == ["gizmo_guy"]
        stored = "\n".join(l.store.conn.iterdump())
        assert "t1_m1a0003" in stored and leaks(stored) == []
    finally:
        l.close()


def test_login_failures_name_the_variables_not_the_values(server, secrets):
    server.add("/api/v1/access_token", Reply(401, {"message": "Unauthorized", "error": 401}))
    with pytest.raises(FeedError) as e:
        logged_in(server).fetch(http(), FetchState())
    assert "HTTP 401" in str(e.value) and "$REDDIT_ID" in str(e.value) and "$REDDIT_SECRET" in str(e.value)
    assert leaks(str(e.value), repr(e.value)) == []
    assert server.hits("/message/inbox") == []

    server.add("/api/v1/access_token", Reply(body={"error": "invalid_grant"}))  # Reddit's answer to a wrong password
    with pytest.raises(FeedError) as e:
        logged_in(server).fetch(http(), FetchState())
    assert "$REDDIT_PW" in str(e.value) and "u/acme_hq" in str(e.value) and leaks(str(e.value)) == []

    server.add("/api/v1/access_token", Reply(body={"token_type": "bearer"}))
    with pytest.raises(FeedError) as e:
        logged_in(server).fetch(http(), FetchState())
    assert "no access token" in str(e.value)


def test_login_without_the_variable_set_says_which(server, secrets, monkeypatch):
    monkeypatch.delenv("REDDIT_PW")
    with pytest.raises(FeedError) as e:
        logged_in(server).fetch(http(), FetchState())
    assert "REDDIT_PW" in str(e.value) and "not set" in str(e.value)
    assert server.requests == []


def test_probe_logged_in(server, secrets):
    server.always("/api/v1/access_token", granted())
    server.always("/message/inbox", Reply(body=load("message_inbox_acme.json")))
    server.always("/search.json", Reply(body=load("search_new.json")))
    said = logged_in(server, query="acme").probe(http())
    assert said.startswith("logged in as u/acme_hq; /message/inbox answered with 3 item(s)")
    assert "reachable (no login); /search.json" in said and leaks(said) == []


def test_config_login_keys_go_together():
    path = Path("x/listen.toml")
    feed = {"name": "r", "type": "reddit", "username": "acme_hq", **LOGIN}
    cfg = parse({"feeds": [feed]}, path)  # the inbox alone is enough to listen to
    assert cfg.feeds[0].get("oauth_base_url") == "https://oauth.reddit.com"
    assert cfg.feeds[0].get("oauth_token_url") == "https://www.reddit.com/api/v1/access_token"

    with pytest.raises(ConfigError) as e:
        parse({"feeds": [{"name": "r", "type": "reddit", "query": "acme", "username": "acme_hq",
                          "client_id_env": "REDDIT_ID"}]}, path)
    assert "missing: client_secret_env, password_env" in str(e.value)
    with pytest.raises(ConfigError) as e:
        parse({"feeds": [{k: v for k, v in feed.items() if k != "username"}]}, path)
    assert "username is required" in str(e.value)
    with pytest.raises(ConfigError) as e:
        parse({"feeds": [{"name": "r", "type": "reddit", "username": "acme_hq"}]}, path)
    assert "set query" in str(e.value) and "client_id_env" in str(e.value)
