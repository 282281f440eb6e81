"""GitHub source against a local replay server, with bodies shaped like real ones."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from listen.config import parse
from listen.errors import ConfigError, FeedError
from listen.http import Http, RateLimited
from listen.models import FetchState
from listen.sources import FeedConfig
from listen.sources.github import GitHubSource
from tests.replay import Reply

FIXTURES = Path(__file__).parent / "fixtures" / "github"
TOKEN = "ghp_s3cretTokenValue"
ISSUES = "/repos/acme/widget/issues"
COMMENTS = "/repos/acme/widget/issues/comments"
SEARCH = "/search/issues"


@pytest.fixture
def load(server):
    """Fixture bodies name https://api.github.com; the replay server stands in for it."""
    def load(name: str):
        return json.loads((FIXTURES / name).read_text().replace("https://api.github.com", server.url))
    return load


def feed(server, **options) -> GitHubSource:
    opts = {"base_url": server.url, "token_env": "LISTEN_TEST_GITHUB_TOKEN", **options}
    return GitHubSource(FeedConfig(name="gh", type="github", options=opts, config_dir=Path(".")))


@pytest.fixture(autouse=True)
def token(monkeypatch):
    monkeypatch.setenv("LISTEN_TEST_GITHUB_TOKEN", TOKEN)


def script_repo(server, load):
    server.always("/user", Reply(body=load("user.json")))
    link = f'<{server.url}{ISSUES}?page=2>; rel="next", <{server.url}{ISSUES}?page=2>; rel="last"'
    server.add(ISSUES, Reply(body=load("repo_issues_page1.json"), headers={"Link": link}),
               Reply(body=load("repo_issues_page2.json")))
    server.add(COMMENTS, Reply(body=load("repo_comments.json")))


def test_repo_first_pull_pages_issues_and_comments(server, http, load):
    script_repo(server, load)
    fetched = feed(server, repo="acme/widget").fetch(http, FetchState())
    items = {i.native_id: i for i in fetched.items}
    assert set(items) == {"acme/widget#12", "acme/widget#13", "acme/widget#11",
                          "acme/widget#12/comment/501", "acme/widget#12/comment/502"}
    issue = items["acme/widget#12"]
    assert issue.author == "alice" and issue.title == "Sync fails on large files"
    assert issue.text == "How do I sync files over 2 GB?" and issue.thread_id == "acme/widget#12"
    assert issue.url == "https://github.com/acme/widget/issues/12" and issue.in_reply_to is None
    assert issue.created_at.isoformat() == "2026-03-02T09:00:00+00:00" and issue.ours is None
    assert items["acme/widget#13"].text == "Release 2.1"  # an empty body falls back to the title
    assert items["acme/widget#13"].ours is True

    comment = items["acme/widget#12/comment/501"]
    assert comment.in_reply_to == "acme/widget#12" and comment.thread_id == "acme/widget#12"
    assert comment.url.endswith("/issues/12#issuecomment-501") and comment.title == "Sync fails on large files"

    first = server.hits(ISSUES)[0].query
    assert first["state"] == ["all"] and first["sort"] == ["updated"] and "since" in first
    assert server.hits(ISSUES)[1].query == {"page": ["2"]}
    assert all(h.headers["authorization"] == f"Bearer {TOKEN}" for h in server.requests)
    cursor = json.loads(fetched.state.cursor)
    assert cursor["issues"] == "2026-03-02T12:00:00Z" and cursor["comments"] == "2026-03-02T11:00:00Z"
    assert TOKEN not in fetched.state.cursor + json.dumps([i.raw for i in fetched.items])


def test_our_comment_answers_the_one_before_it(server, http, load):
    script_repo(server, load)
    items = {i.native_id: i for i in feed(server, repo="acme/widget").fetch(http, FetchState()).items}
    ours = items["acme/widget#12/comment/502"]
    assert ours.ours is True and ours.author == "acme-bot"
    assert ours.in_reply_to == "acme/widget#12/comment/501"
    assert ours.thread_id == "acme/widget#12"


def test_an_at_mention_answers_that_person_even_when_someone_spoke_in_between(server, http, load):
    server.always("/user", Reply(body=load("user.json")))
    server.add(ISSUES, Reply(body=load("repo_issues_page1.json")))
    by_id = {c["id"]: c for c in load("repo_comments.json")}
    alice, ours = by_id[501], by_id[502]
    assert alice["user"]["login"] == "alice" and ours["user"]["login"] == "acme-bot"
    bob = {**alice, "id": 777, "user": {**alice["user"], "login": "bob"}, "body": "+1, same here",
           "created_at": "2026-03-02T10:45:00Z"}
    ours = {**ours, "body": "@Alice fixed in 2.1.1, thanks for the report", "created_at": "2026-03-02T11:00:00Z"}
    server.add(COMMENTS, Reply(body=[alice, bob, ours]))
    items = {i.native_id: i for i in feed(server, repo="acme/widget").fetch(http, FetchState()).items}
    assert items["acme/widget#12/comment/777"].in_reply_to == "acme/widget#12/comment/501"  # follows alice
    assert items["acme/widget#12/comment/502"].in_reply_to == "acme/widget#12/comment/501"  # answers alice


def test_incremental_pull_uses_since_and_keeps_the_chain(server, http, load):
    script_repo(server, load)
    first = feed(server, repo="acme/widget").fetch(http, FetchState())
    server.add(ISSUES, Reply(body=[]))
    server.add(COMMENTS, Reply(body=load("repo_comments_new.json")))
    second = feed(server, repo="acme/widget").fetch(http, first.state)
    items = {i.native_id: i for i in second.items}
    assert server.hits(ISSUES)[2].query["since"] == ["2026-03-02T12:00:00Z"]
    assert server.hits(COMMENTS)[1].query["since"] == ["2026-03-02T11:00:00Z"]
    # 502 comes again (since is inclusive) and answers what it answered before.
    assert items["acme/widget#12/comment/502"].in_reply_to == "acme/widget#12/comment/501"
    assert items["acme/widget#12/comment/503"].in_reply_to == "acme/widget#12/comment/502"
    assert json.loads(second.state.cursor)["comments"] == "2026-03-03T09:00:00Z"


def test_search_reads_comments_of_matching_issues(server, http, load, monkeypatch):
    monkeypatch.delenv("LISTEN_TEST_GITHUB_TOKEN")
    server.add(SEARCH, Reply(body=load("search_issues.json")))
    server.add("/repos/other/app/issues/7/comments", Reply(body=load("issue_comments.json")))
    src = GitHubSource(FeedConfig(name="gh", type="github", config_dir=Path("."),
                                  options={"base_url": server.url, "query": "acme in:title,body,comments"}))
    fetched = src.fetch(http, FetchState(cursor=json.dumps({"search": "2026-03-01T00:00:00Z"})))
    assert {i.native_id for i in fetched.items} == {"other/app#7", "other/app#7/comment/601"}
    q = server.hits(SEARCH)[0].query
    assert q["q"] == ["acme in:title,body,comments updated:>=2026-03-01T00:00:00Z"] and q["sort"] == ["updated"]
    assert "authorization" not in server.hits(SEARCH)[0].headers  # no token: unauthenticated works
    assert not server.hits("/user")
    assert json.loads(fetched.state.cursor)["search"] == "2026-03-03T08:00:00Z"


def test_paging_is_bounded(server, http, load):
    server.always("/user", Reply(body=load("user.json")))
    server.always(ISSUES, Reply(body=load("repo_issues_page2.json"),
                                headers={"Link": f'<{server.url}{ISSUES}?page=9>; rel="next"'}))
    server.add(COMMENTS, Reply(body=[]))
    fetched = feed(server, repo="acme/widget", max_pages=2).fetch(http, FetchState())
    assert len(server.hits(ISSUES)) == 2
    assert any("stopped after 2 pages" in w for w in fetched.warnings)


@pytest.mark.parametrize("status", [401, 403])
def test_refused_token_names_the_env_var(server, http, status):
    server.add("/user", Reply(status, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}))
    with pytest.raises(FeedError) as e:
        feed(server, repo="acme/widget").fetch(http, FetchState())
    assert "$LISTEN_TEST_GITHUB_TOKEN" in str(e.value) and f"HTTP {status}" in str(e.value)
    assert TOKEN not in str(e.value)


def test_primary_rate_limit_403_says_when_it_resets(server, http, load):
    server.always("/user", Reply(body=load("user.json")))
    reset = int(time.time()) + 600
    server.add(ISSUES, Reply(403, {"message": "API rate limit exceeded for user ID 9000."},
                             headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)}))
    with pytest.raises(RateLimited) as e:
        feed(server, repo="acme/widget").fetch(http, FetchState())
    assert 590 <= e.value.retry_after <= 600


def test_429_with_retry_after_is_retried(server, load):
    slept: list[float] = []
    server.always("/user", Reply(body=load("user.json")))
    server.add(ISSUES, Reply(429, {"message": "You have exceeded a secondary rate limit."}, headers={"Retry-After": "3"}),
               Reply(body=load("repo_issues_page2.json")))
    server.add(COMMENTS, Reply(body=[]))
    with Http(sleep=slept.append) as http:
        fetched = feed(server, repo="acme/widget").fetch(http, FetchState())
    assert slept == [3.0] and [i.native_id for i in fetched.items] == ["acme/widget#11"]


def test_long_retry_after_raises_rate_limited(server, http, load):
    server.always("/user", Reply(body=load("user.json")))
    server.add(ISSUES, Reply(429, {"message": "secondary rate limit"}, headers={"Retry-After": "900"}))
    with pytest.raises(RateLimited):
        feed(server, repo="acme/widget").fetch(http, FetchState())


@pytest.mark.parametrize("reply", [
    Reply(200, "<html>Unicorn!</html>", headers={"Content-Type": "text/html"}),
    Reply(200, {"message": "not a list"}),
])
def test_malformed_body_is_one_feed_error(server, http, load, reply):
    server.always("/user", Reply(body=load("user.json")))
    server.add(ISSUES, reply)
    server.add(COMMENTS, Reply(body=[]))
    with pytest.raises(FeedError) as e:
        feed(server, repo="acme/widget").fetch(http, FetchState())
    assert e.value.feed == "gh"


def test_a_malformed_record_is_skipped_with_a_warning(server, http, load):
    """One policy in every source: an odd record costs itself, not the feed."""
    server.always("/user", Reply(body=load("user.json")))
    good = load("repo_issues_page1.json")
    bad = [{"url": "https://example/none", "title": "x"}, {**good[0], "created_at": "yesterday"}]
    server.add(ISSUES, Reply(body=bad + good))
    server.add(COMMENTS, Reply(body=[{"issue_url": "nope", "id": 1}]))
    fetched = feed(server, repo="acme/widget").fetch(http, FetchState())
    assert len(fetched.items) == len(good) > 0
    assert [w.split(" with ")[0] for w in fetched.warnings] == ["skipped an issue"] * 2 + ["skipped a comment"]


def test_probe(server, http, load):
    server.add("/rate_limit", Reply(body={"resources": {"core": {"limit": 5000, "remaining": 4999}}}))
    server.add("/user", Reply(body=load("user.json")))
    assert feed(server, repo="acme/widget").probe(http) == "authenticated as acme-bot; 4999 of 5000 requests left this hour"


def config(**keys):
    return {"feeds": [{"name": "gh", "type": "github", **keys}]}


def test_config_keys():
    cfg = parse(config(query="acme in:title,body", token_env="T"), Path("x/listen.toml"))
    assert cfg.feeds[0].options["base_url"] == "https://api.github.com"
    assert parse(config(repo="acme/widget"), Path("x/listen.toml")).feeds[0].options["token_env"] is None
    with pytest.raises(ConfigError, match="unknown key 'repository'"):
        parse(config(repository="acme/widget"), Path("x/listen.toml"))
    with pytest.raises(ConfigError, match="set query .* or repo"):
        parse(config(), Path("x/listen.toml"))
    with pytest.raises(ConfigError, match="expected owner/name"):
        parse(config(repo="https://github.com/acme/widget"), Path("x/listen.toml"))


# -- Discussions (GraphQL) ----------------------------------------------------------


def _author(login):
    return {"login": login}


def _discussions_page(nodes, has_next=False, end=None):
    # The shape of GitHub's GraphQL answers: data.repository.discussions.{pageInfo, nodes}.
    return {"data": {"repository": {"discussions": {"pageInfo": {"hasNextPage": has_next, "endCursor": end},
                                                    "nodes": nodes}}}}


def _discussion(number, login, title, body, created, updated, comments=()):
    return {"id": f"D_kwDOA{number}", "number": number, "title": title, "body": body,
            "url": f"https://github.com/acme/widget/discussions/{number}", "createdAt": created,
            "updatedAt": updated, "author": _author(login), "comments": {"nodes": list(comments)}}


def _comment(cid, login, body, created, replies=()):
    return {"id": cid, "body": body, "url": f"https://github.com/acme/widget/discussions/1#discussioncomment-{cid}",
            "createdAt": created, "author": _author(login), "replies": {"nodes": list(replies)}}


def test_discussions_are_read_with_their_comments_and_replies(tmp_path, server, load):
    from listen.app import Listener
    from listen.config import load as load_config
    from tests.helpers import write_config

    now = time.time()

    def iso(ago):
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - ago))

    complaint = _discussion(1, "carol", "Sync is broken again", "Why does sync keep failing since 2.1?",
                            iso(5 * 3600), iso(3600), [
                                _comment("DC_1", "carol", "Still failing today. Any news?", iso(4 * 3600), [
                                    _comment("DC_2", "acme-bot", "@carol fixed in 2.1.1, sorry.", iso(3600))]),
                            ])
    question = _discussion(2, "dave", "Export to CSV?", "How do I export widgets to CSV?", iso(2 * 3600),
                           iso(2 * 3600))
    asked = []

    def graphql(r):
        asked.append(json.loads(r.body))
        assert r.method == "POST" and r.headers["authorization"] == f"Bearer {TOKEN}"
        return Reply(body=_discussions_page([complaint, question]))

    server.always("/graphql", graphql)
    server.always("/user", Reply(body=load("user.json")))
    server.always(ISSUES, Reply(body=[]))
    server.always(COMMENTS, Reply(body=[]))
    cfg = write_config(tmp_path / "listen.toml", [{
        "name": "gh", "type": "github", "repo": "acme/widget", "discussions": True, "base_url": server.url,
        "token_env": "LISTEN_TEST_GITHUB_TOKEN"}], ("acme-bot",))
    l = Listener(load_config(cfg))
    try:
        [result] = l.pull()
        assert result.error is None and result.new == 4, result  # two discussions, a comment, a reply
        # carol's complaint is answered under her own follow-up; dave's question waits.
        assert [(i.author, i.native_id) for i in l.inbox().items] == [("dave", "acme/widget/discussions/2")]
        reply = l.store.conn.execute("SELECT in_reply_to, thread_id FROM items WHERE author = 'acme-bot'").fetchone()
        assert tuple(reply) == ("acme/widget/discussions/1/comment/DC_1", "acme/widget/discussions/1")
        assert asked[0]["variables"] == {"owner": "acme", "name": "widget", "after": None}
        assert "orderBy: {field: UPDATED_AT, direction: DESC}" in asked[0]["query"]
        cursor = json.loads(l.store.fetch_state("gh")[0].cursor)
        assert cursor["discussions"] == iso(3600)
    finally:
        l.close()


def test_discussions_graphql_errors_are_the_feeds_error_and_odd_nodes_are_skipped(server, http, load):
    server.always("/user", Reply(body=load("user.json")))
    server.always(ISSUES, Reply(body=[]))
    server.always(COMMENTS, Reply(body=[]))
    server.add("/graphql", Reply(body={"data": None, "errors": [{"type": "NOT_FOUND",
                                                                  "message": "Could not resolve to a Repository"}]}))
    with pytest.raises(FeedError, match="Could not resolve to a Repository"):
        feed(server, repo="acme/widget", discussions=True).fetch(http, FetchState())
    recent = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3600))
    good = _discussion(3, "erin", "Docs?", "Where are the docs?", recent, recent)
    server.add("/graphql", Reply(body=_discussions_page([{"number": "x"}, good])))
    fetched = feed(server, repo="acme/widget", discussions=True).fetch(http, FetchState())
    assert [i.native_id for i in fetched.items] == ["acme/widget/discussions/3"]
    assert fetched.warnings == ["skipped a discussion with a bad field: invalid literal for int() with base 10: 'x'"]


def test_discussions_need_a_repo_and_a_token():
    with pytest.raises(ConfigError, match="discussions needs repo"):
        parse(config(query="acme", discussions=True, token_env="T"), Path("x/listen.toml"))
    with pytest.raises(ConfigError, match="discussions needs repo"):
        parse(config(repo="acme/widget", discussions=True), Path("x/listen.toml"))
