"""Bluesky source against a local replay server, with bodies shaped like real ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from listen.config import parse
from listen.errors import ConfigError, FeedError
from listen.http import Http, RateLimited
from listen.models import FetchState
from listen.sources import FeedConfig
from listen.sources.bluesky import BlueskySource, web_url
from tests.replay import Reply

FIXTURES = Path(__file__).parent / "fixtures" / "bluesky"
PASSWORD = "abcd-efgh-ijkl-mnop"
SESSION = "/xrpc/com.atproto.server.createSession"
REFRESH = "/xrpc/com.atproto.server.refreshSession"
NOTES = "/xrpc/app.bsky.notification.listNotifications"
OWN = "/xrpc/app.bsky.feed.getAuthorFeed"
SEARCH = "/xrpc/app.bsky.feed.searchPosts"
ME = "did:plc:acmeacmeacmeacmeacme0000"
BOB_MENTION = "at://did:plc:bobbobbobbobbobbobbob0000/app.bsky.feed.post/3lbobmention"


def body(name: str):
    return json.loads((FIXTURES / name).read_text())


def feed(server, **options) -> BlueskySource:
    opts = {"handle": "acme.bsky.social", "app_password_env": "LISTEN_TEST_BSKY_PASSWORD",
            "base_url": server.url, "notifications": True, **options}
    return BlueskySource(FeedConfig(name="sky", type="bluesky", options=opts, config_dir=Path(".")))


@pytest.fixture(autouse=True)
def password(monkeypatch):
    monkeypatch.setenv("LISTEN_TEST_BSKY_PASSWORD", PASSWORD)


def script_first_pull(server):
    server.always(SESSION, Reply(body=body("create_session.json")))
    server.add(NOTES, Reply(body=body("list_notifications_page1.json")),
               Reply(body=body("list_notifications_page2.json")))
    server.add(OWN, Reply(body=body("author_feed.json")), Reply(body={"feed": []}))


def test_first_pull_signs_in_and_pages_notifications(server, http):
    script_first_pull(server)
    fetched = feed(server).fetch(http, FetchState())
    items = {i.native_id: i for i in fetched.items}

    # The like is not something to answer; carol's repost in our feed is not ours.
    assert set(items) == {
        "at://did:plc:alicealicealicealice0000/app.bsky.feed.post/3lalicereply",
        BOB_MENTION,
        "at://did:plc:carolcarolcarolcarol0000/app.bsky.feed.post/3lcarolquote",
        f"at://{ME}/app.bsky.feed.post/3lacmereply",
    }
    reply = items["at://did:plc:alicealicealicealice0000/app.bsky.feed.post/3lalicereply"]
    assert reply.author == "alice.example.com" and reply.author_name == "Alice"
    # The DID form: still leads to the post after alice changes her handle.
    assert reply.url == "https://bsky.app/profile/did:plc:alicealicealicealice0000/post/3lalicereply"
    assert reply.in_reply_to == reply.thread_id == f"at://{ME}/app.bsky.feed.post/3lacmepost1"
    assert reply.created_at.isoformat() == "2026-03-02T11:00:00+00:00"
    assert reply.ours is False and reply.text == "Does the new release fix sync?"
    mention = items[BOB_MENTION]
    assert mention.thread_id == BOB_MENTION and mention.in_reply_to is None and mention.author_name is None

    login = server.hits(SESSION)[0]
    assert json.loads(login.body) == {"identifier": "acme.bsky.social", "password": PASSWORD}
    assert server.hits(NOTES)[0].query["reasons"] == ["mention", "reply", "quote"]
    assert server.hits(NOTES)[1].query["cursor"] == ["2026-03-02T10:00:01.000Z"]
    assert server.hits(NOTES)[0].headers["authorization"] == "Bearer ACCESS-JWT-ONE"
    assert server.hits(OWN)[0].query["actor"] == [ME]
    assert json.loads(fetched.state.cursor) == {"notifications": "2026-03-02T11:00:00.200Z",
                                                "own": "2026-03-02T10:30:00.400Z"}
    stored = fetched.state.cursor + json.dumps([i.raw for i in fetched.items])
    assert "JWT" not in stored and PASSWORD not in stored


def test_our_reply_answers_the_mention(server, http):
    script_first_pull(server)
    items = {i.native_id: i for i in feed(server).fetch(http, FetchState()).items}
    ours = items[f"at://{ME}/app.bsky.feed.post/3lacmereply"]
    assert ours.ours is True and ours.author == "acme.bsky.social"
    assert ours.in_reply_to == BOB_MENTION and ours.thread_id == BOB_MENTION


def test_incremental_pull_stops_at_the_high_water_mark(server, http):
    server.always(SESSION, Reply(body=body("create_session.json")))
    server.add(NOTES, Reply(body=body("list_notifications_new.json")))
    server.add(OWN, Reply(body=body("author_feed.json")))
    state = FetchState(cursor=json.dumps({"notifications": "2026-03-02T11:00:00.200Z",
                                          "own": "2026-03-02T10:30:00.400Z"}))
    fetched = feed(server).fetch(http, state)
    assert [i.native_id for i in fetched.items] == ["at://did:plc:bobbobbobbobbobbobbob0000/app.bsky.feed.post/3lbobnew"]
    assert len(server.hits(NOTES)) == 1  # the page held the mark: no need for the next one
    assert json.loads(fetched.state.cursor)["notifications"] == "2026-03-03T08:00:00.300Z"


def test_search_latest_since_the_mark(server, http):
    server.always(SESSION, Reply(body=body("create_session.json")))
    server.add(SEARCH, Reply(body=body("search_posts.json")), Reply(body={"posts": []}))
    server.add(OWN, Reply(body={"feed": []}))
    state = FetchState(cursor=json.dumps({"search": "2026-03-03T00:00:00.000Z"}))
    fetched = feed(server, search="acme", notifications=False).fetch(http, state)
    assert [i.author for i in fetched.items] == ["carol.bsky.social"]
    q = server.hits(SEARCH)[0].query
    assert q["q"] == ["acme"] and q["sort"] == ["latest"] and q["since"] == ["2026-03-03T00:00:00.000Z"]
    assert server.hits(SEARCH)[1].query["cursor"] == ["1"]
    assert not server.hits(NOTES)
    assert json.loads(fetched.state.cursor)["search"] == "2026-03-04T07:00:00.900Z"


def test_paging_is_bounded(server, http):
    server.always(SESSION, Reply(body=body("create_session.json")))
    server.always(NOTES, Reply(body=body("list_notifications_page1.json")))
    server.add(OWN, Reply(body={"feed": []}))
    fetched = feed(server, max_pages=2).fetch(http, FetchState())
    assert len(server.hits(NOTES)) == 2
    assert any("stopped after 2 pages" in w for w in fetched.warnings)


def test_expired_access_token_is_refreshed_once(server, http):
    server.always(SESSION, Reply(body=body("create_session.json")))
    server.add(NOTES, Reply(400, {"error": "ExpiredToken", "message": "Token has expired"}),
               Reply(body=body("list_notifications_page2.json")))
    refreshed = {**body("create_session.json"), "accessJwt": "ACCESS-JWT-TWO"}
    server.add(REFRESH, Reply(body=refreshed))
    server.add(OWN, Reply(body={"feed": []}))
    fetched = feed(server).fetch(http, FetchState())
    assert len(fetched.items) == 1
    assert server.hits(REFRESH)[0].headers["authorization"] == "Bearer REFRESH-JWT-ONE"
    assert server.hits(NOTES)[1].headers["authorization"] == "Bearer ACCESS-JWT-TWO"


@pytest.mark.parametrize("status", [401, 403])
def test_refused_app_password_names_the_env_var(server, http, status):
    server.add(SESSION, Reply(status, {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}))
    with pytest.raises(FeedError) as e:
        feed(server).fetch(http, FetchState())
    assert "$LISTEN_TEST_BSKY_PASSWORD" in str(e.value) and f"HTTP {status}" in str(e.value)
    assert PASSWORD not in str(e.value)


def test_missing_env_var_is_named(server, http, monkeypatch):
    monkeypatch.delenv("LISTEN_TEST_BSKY_PASSWORD")
    with pytest.raises(FeedError, match="LISTEN_TEST_BSKY_PASSWORD"):
        feed(server).fetch(http, FetchState())
    assert not server.requests


def test_xrpc_error_is_named(server, http):
    server.always(SESSION, Reply(body=body("create_session.json")))
    server.add(NOTES, Reply(400, {"error": "InvalidRequest", "message": "The seenAt parameter is unsupported"}))
    with pytest.raises(FeedError, match="InvalidRequest: The seenAt parameter is unsupported"):
        feed(server).fetch(http, FetchState())


def test_429_with_retry_after_is_retried(server):
    slept: list[float] = []
    server.always(SESSION, Reply(body=body("create_session.json")))
    server.add(NOTES, Reply(429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                            headers={"Retry-After": "1"}),
               Reply(body=body("list_notifications_page2.json")))
    server.add(OWN, Reply(body={"feed": []}))
    with Http(sleep=slept.append) as http:
        fetched = feed(server).fetch(http, FetchState())
    assert slept == [1.0] and len(fetched.items) == 1


def test_long_retry_after_raises_rate_limited(server, http):
    server.add(SESSION, Reply(429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                              headers={"Retry-After": "86400"}))
    with pytest.raises(RateLimited) as e:
        feed(server).fetch(http, FetchState())
    assert e.value.retry_after == 86400


@pytest.mark.parametrize("reply", [
    Reply(200, "<html>Bad gateway</html>", headers={"Content-Type": "text/html"}),
    Reply(200, {"notifications": "nope"}),
])
def test_malformed_body_is_one_feed_error(server, http, reply):
    server.always(SESSION, Reply(body=body("create_session.json")))
    server.add(NOTES, reply)
    server.add(OWN, Reply(body={"feed": []}))
    with pytest.raises(FeedError) as e:
        feed(server).fetch(http, FetchState())
    assert e.value.feed == "sky"


def test_a_malformed_post_is_skipped_with_a_warning(server, http):
    """One policy in every source: an odd record costs itself, not the feed."""
    server.always(SESSION, Reply(body=body("create_session.json")))
    page = body("list_notifications_new.json")
    undated = {"uri": "at://did:plc:x/app.bsky.feed.post/1", "reason": "mention",
               "author": {"did": "did:plc:x", "handle": "x.test"}, "record": {"text": "hi"}}
    page["notifications"] = [undated, "not an object", *page["notifications"]]
    page.pop("cursor", None)
    server.add(NOTES, Reply(body=page))
    server.add(OWN, Reply(body={"feed": []}))
    fetched = feed(server).fetch(http, FetchState())
    assert fetched.items and "at://did:plc:x/app.bsky.feed.post/1" not in {i.native_id for i in fetched.items}
    assert sorted(w[:14] for w in fetched.warnings) == ["skipped a app.", "skipped a post"]


def test_malformed_session_is_a_feed_error(server, http):
    server.add(SESSION, Reply(body={"did": ME}))
    with pytest.raises(FeedError, match="createSession did not return accessJwt"):
        feed(server).fetch(http, FetchState())


def test_probe(server, http):
    server.add(SESSION, Reply(body=body("create_session.json")))
    assert feed(server).probe(http).startswith(f"authenticated as @acme.bsky.social ({ME})")


def test_web_url_survives_a_handle_change():
    assert web_url("at://did:plc:abc/app.bsky.feed.post/3k6k") == "https://bsky.app/profile/did:plc:abc/post/3k6k"
    assert web_url("at://did:web:acme.example/app.bsky.feed.post/3k6k") == \
        "https://bsky.app/profile/did:web:acme.example/post/3k6k"
    assert web_url("at://did:plc:abc/app.bsky.feed.like/3k6k") is None
    # The APIs name posts by DID; a URI that names a handle keeps it (nothing better is known).
    assert web_url("at://x.bsky.social/app.bsky.feed.post/3k6k") == "https://bsky.app/profile/x.bsky.social/post/3k6k"


def config(**keys):
    return {"feeds": [{"name": "sky", "type": "bluesky", **keys}]}


def test_config_keys():
    cfg = parse(config(handle="acme.bsky.social", app_password_env="P", search="acme"), Path("x/listen.toml"))
    assert cfg.feeds[0].options["base_url"] == "https://bsky.social"
    with pytest.raises(ConfigError, match="unknown key 'serch'"):
        parse(config(handle="a", app_password_env="P", serch="acme"), Path("x/listen.toml"))
    with pytest.raises(ConfigError, match="missing required key 'app_password_env'"):
        parse(config(handle="a"), Path("x/listen.toml"))
    with pytest.raises(ConfigError, match="missing required key 'handle'"):
        parse(config(app_password_env="P"), Path("x/listen.toml"))
