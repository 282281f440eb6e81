"""Mastodon source against a local replay server, with bodies shaped like real ones."""

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
from listen.sources.mastodon import MastodonSource
from tests.replay import Reply

FIXTURES = Path(__file__).parent / "fixtures" / "mastodon"
TOKEN = "s3cret-mastodon-token"
NOTES = "/api/v1/notifications"
OWN = "/api/v1/accounts/1000/statuses"
ME = "/api/v1/accounts/verify_credentials"


def body(name: str):
    return json.loads((FIXTURES / name).read_text())


def feed(server, **options) -> MastodonSource:
    opts = {"instance": server.url, "token_env": "LISTEN_TEST_MASTODON_TOKEN", **options}
    return MastodonSource(FeedConfig(name="fedi", type="mastodon", options=opts, config_dir=Path(".")))


@pytest.fixture(autouse=True)
def token(monkeypatch):
    monkeypatch.setenv("LISTEN_TEST_MASTODON_TOKEN", TOKEN)


def script_first_pull(server):
    server.always(ME, Reply(body=body("verify_credentials.json")))
    older = f'<{server.url}{NOTES}?max_id=50&types%5B%5D=mention>; rel="next", <{server.url}{NOTES}?min_id=52>; rel="prev"'
    server.add(NOTES, Reply(body=body("notifications_page1.json"), headers={"Link": older}),
               Reply(body=body("notifications_page2.json")))
    server.add(OWN, Reply(body=body("account_statuses.json")))
    server.add("/api/v1/statuses/110000000000000602/context", Reply(body=body("status_context.json")))


def test_first_pull_pages_mentions_skips_null_status_and_finds_roots(server, http):
    script_first_pull(server)
    fetched = feed(server).fetch(http, FetchState())
    items = {i.native_id: i for i in fetched.items}

    # Notification 51 has "status": null and gives no item; page 2 came from the Link header.
    assert set(items) == {"110000000000000601", "110000000000000602", "110000000000000800", "110000000000000801"}
    question = items["110000000000000601"]
    assert question.author == "alice@other.example" and question.author_name == "Alice"
    assert question.text == "@acme does the export keep & restore tags?"
    assert question.url.endswith("/@alice/110000000000000601")
    assert question.created_at.isoformat() == "2026-03-02T10:00:00+00:00"
    assert question.ours is False and question.thread_id == "110000000000000601"

    reply = items["110000000000000602"]
    assert reply.text.startswith("bug talk\n\n@acme agreed")  # the content warning comes first
    assert reply.in_reply_to == "110000000000000500"
    assert reply.thread_id == "110000000000000500"  # from /context: the first ancestor
    assert reply.author_name is None

    assert fetched.state.cursor and json.loads(fetched.state.cursor) == {"mentions": "52", "own": "110000000000000800"}
    assert server.hits(NOTES)[0].query["types[]"] == ["mention", "quote"]
    assert server.hits(NOTES)[1].query["max_id"] == ["50"]
    assert all(h.headers["authorization"] == f"Bearer {TOKEN}" for h in server.requests)
    assert TOKEN not in json.dumps([i.raw for i in fetched.items]) + fetched.state.cursor


def test_our_replies_answer_mentions(server, http):
    script_first_pull(server)
    items = {i.native_id: i for i in feed(server).fetch(http, FetchState()).items}
    ours = items["110000000000000800"]  # from our own statuses
    assert ours.ours is True and ours.author == "acme"
    assert ours.in_reply_to == "110000000000000601"
    assert ours.thread_id == "110000000000000601"  # the mention it answers starts the thread
    found = items["110000000000000801"]  # our reply seen below the mention in its context
    assert found.ours is True and found.in_reply_to == "110000000000000602"
    assert found.thread_id == "110000000000000500"


def test_incremental_pull_asks_only_for_newer(server, http):
    server.always(ME, Reply(body=body("verify_credentials.json")))
    server.add(NOTES, Reply(body=body("notifications_new.json")))
    server.add(OWN, Reply(body=[]))
    state = FetchState(cursor=json.dumps({"mentions": "52", "own": "110000000000000800"}))
    fetched = feed(server).fetch(http, state)
    assert [i.native_id for i in fetched.items] == ["110000000000000700"]
    assert server.hits(NOTES)[0].query["since_id"] == ["52"]
    assert server.hits(OWN)[0].query["since_id"] == ["110000000000000800"]
    assert json.loads(fetched.state.cursor) == {"mentions": "53", "own": "110000000000000800"}


def test_context_lookups_are_capped(server, http):
    script_first_pull(server)
    items = {i.native_id: i for i in feed(server, max_context=0).fetch(http, FetchState()).items}
    assert not server.hits("/api/v1/statuses/110000000000000602/context")
    assert items["110000000000000602"].thread_id is None  # storage follows in_reply_to


def test_paging_stops_at_max_pages_with_a_warning(server, http):
    server.always(ME, Reply(body=body("verify_credentials.json")))
    link = f'<{server.url}{NOTES}?max_id=50>; rel="next"'
    server.always(NOTES, Reply(body=body("notifications_page2.json"), headers={"Link": link}))
    server.add(OWN, Reply(body=[]))
    fetched = feed(server, max_pages=3).fetch(http, FetchState())
    assert len(server.hits(NOTES)) == 3
    assert any("stopped after 3 pages" in w for w in fetched.warnings)


def test_link_to_another_host_is_not_followed_with_the_token(server, http):
    server.always(ME, Reply(body=body("verify_credentials.json")))
    server.add(NOTES, Reply(body=body("notifications_page2.json"),
                            headers={"Link": '<https://evil.example/api/v1/notifications?max_id=1>; rel="next"'}))
    with pytest.raises(FeedError, match="evil.example"):
        feed(server).fetch(http, FetchState())


@pytest.mark.parametrize("status", [401, 403])
def test_refused_token_names_the_env_var(server, http, status):
    server.add(ME, Reply(status, {"error": "The access token is invalid"}))
    with pytest.raises(FeedError) as e:
        feed(server).fetch(http, FetchState())
    assert "$LISTEN_TEST_MASTODON_TOKEN" in str(e.value) and f"HTTP {status}" in str(e.value)
    assert TOKEN not in str(e.value)


def test_missing_env_var_is_named(server, http, monkeypatch):
    monkeypatch.delenv("LISTEN_TEST_MASTODON_TOKEN")
    with pytest.raises(FeedError, match="LISTEN_TEST_MASTODON_TOKEN"):
        feed(server).fetch(http, FetchState())
    assert not server.requests


def test_429_with_retry_after_is_retried(server):
    slept: list[float] = []
    server.always(ME, Reply(body=body("verify_credentials.json")))
    server.add(NOTES, Reply(429, {"error": "Too many requests"}, headers={"Retry-After": "2"}),
               Reply(body=body("notifications_page2.json")))
    server.add(OWN, Reply(body=[]))
    with Http(sleep=slept.append) as http:
        fetched = feed(server).fetch(http, FetchState())
    assert slept == [2.0]
    assert [i.native_id for i in fetched.items] == ["110000000000000601"]


def test_long_retry_after_raises_rate_limited(server, http):
    server.always(ME, Reply(body=body("verify_credentials.json")))
    server.add(NOTES, Reply(429, {"error": "Too many requests"}, headers={"Retry-After": "3600"}))
    with pytest.raises(RateLimited) as e:
        feed(server).fetch(http, FetchState())
    assert e.value.retry_after == 3600 and e.value.feed == "fedi"


@pytest.mark.parametrize("reply", [
    Reply(200, "<html><body>Maintenance</body></html>", headers={"Content-Type": "text/html"}),
    Reply(200, {"error": "not a list"}),
])
def test_malformed_body_is_one_feed_error(server, http, reply):
    server.always(ME, Reply(body=body("verify_credentials.json")))
    server.add(NOTES, reply)
    server.add(OWN, Reply(body=[]))
    with pytest.raises(FeedError) as e:
        feed(server).fetch(http, FetchState())
    assert e.value.feed == "fedi"


def test_a_malformed_status_is_skipped_with_a_warning(server, http):
    """One policy in every source: an odd record costs itself, not the feed."""
    server.always(ME, Reply(body=body("verify_credentials.json")))
    notes = body("notifications_page1.json")
    server.add(NOTES, Reply(body=[{"id": "99999999", "type": "mention",
                                   "status": {"id": "77", "content": "<p>hi</p>"}}, *notes]))
    server.add(OWN, Reply(body=[]))
    fetched = feed(server, max_context=0).fetch(http, FetchState())
    assert "77" not in {i.native_id for i in fetched.items} and len(fetched.items) >= 1
    assert [w[:25] for w in fetched.warnings] == ["skipped a status ('77') w"]


def test_hashtag_without_token(server, http, monkeypatch):
    monkeypatch.delenv("LISTEN_TEST_MASTODON_TOKEN")
    server.add("/api/v1/timelines/tag/acme", Reply(body=body("tag_timeline.json")))
    src = MastodonSource(FeedConfig(name="tag", type="mastodon", config_dir=Path("."),
                                    options={"instance": server.url, "hashtag": "#acme"}))
    fetched = src.fetch(http, FetchState())
    assert [(i.native_id, i.ours) for i in fetched.items] == [("110000000000000900", None)]
    assert fetched.items[0].text == "Loving #acme so far"
    assert "authorization" not in server.requests[0].headers
    assert json.loads(fetched.state.cursor) == {"tag": "110000000000000900"}


def test_search_uses_min_id(server, http):
    server.always(ME, Reply(body=body("verify_credentials.json")))
    server.add(NOTES, Reply(body=[]))
    server.add(OWN, Reply(body=[]))
    server.add("/api/v2/search", Reply(body=body("search_v2.json")))
    state = FetchState(cursor=json.dumps({"search": "110000000000000100"}))
    fetched = feed(server, search="acme").fetch(http, state)
    assert [i.native_id for i in fetched.items] == ["110000000000000900"]
    assert server.hits("/api/v2/search")[0].query["min_id"] == ["110000000000000100"]


def test_probe(server, http):
    server.add(ME, Reply(body=body("verify_credentials.json")))
    assert feed(server).probe(http) == "authenticated as @acme@127.0.0.1"


def config(**keys):
    return {"feeds": [{"name": "fedi", "type": "mastodon", **keys}]}


def test_config_keys():
    cfg = parse(config(token_env="T", hashtag="acme"), Path("x/listen.toml"))
    assert cfg.feeds[0].options["instance"] == "https://mastodon.social"
    with pytest.raises(ConfigError, match="unknown key 'hashtags'"):
        parse(config(token_env="T", hashtags="acme"), Path("x/listen.toml"))
    with pytest.raises(ConfigError, match="token_env .* or hashtag"):
        parse(config(), Path("x/listen.toml"))
    with pytest.raises(ConfigError, match="unknown key 'token'"):
        parse(config(token="abc"), Path("x/listen.toml"))


def test_a_quote_of_our_post_is_heard_like_a_mention(server, http):
    """Mastodon 4.5+: a notification of type quote carries the quoting status."""
    server.always(ME, Reply(body=body("verify_credentials.json")))
    note = copy.deepcopy(body("notifications_page1.json")[0])
    status = note["status"]
    status.update(id="110000000000000900", in_reply_to_id=None, in_reply_to_account_id=None, spoiler_text="",
                  content="<p>Acme's new pricing is a joke. Why would anyone pay for this?</p>",
                  url="https://mastodon.example/@bob/110000000000000900",
                  quote={"state": "accepted", "quoted_status": {"id": "110000000000000800"}})
    note.update(id="60", type="quote")
    server.add(NOTES, Reply(body=[note]))
    server.add(OWN, Reply(body=[]))
    fetched = feed(server).fetch(http, FetchState())
    [item] = fetched.items
    assert (item.native_id, item.author, item.in_reply_to, item.thread_id) == (
        "110000000000000900", "bob", None, "110000000000000900")
    assert server.hits(NOTES)[0].query["types[]"] == ["mention", "quote"]
    server.add(NOTES, Reply(body=[]))
    server.add(OWN, Reply(body=[]))
    feed(server, quotes=False).fetch(http, FetchState())
    assert server.hits(NOTES)[1].query["types[]"] == ["mention"]
