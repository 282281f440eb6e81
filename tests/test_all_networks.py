"""One feed of every type, pulled end to end: who is waiting across all networks, and our replies answer.

Each network gets its own ReplayServer on 127.0.0.1 that answers like its API as
far as listen relies on it: it honours since_id, `since`, fromdate,
numericFilters, `updated:>=` and If-None-Match, and checks the credentials, so
a second pull gets what the real API would send. Bodies come from
fixtures/all_networks/, shaped like the real ones, with their times written
relative to now ("<iso -7200>": two hours ago), because the sources look back a
fixed window from the wall clock and the inbox drops what is older than max_age.

The story on every network: a question we answered, and one mention nobody has
answered yet (a question or a complaint). A later pull brings our replies to
those, except on the blog, whose feed has not changed (304).
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import time
from datetime import datetime, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Callable

import pytest

from listen.app import Listener
from listen.config import load
from tests.replay import ReplayServer, Reply, Seen

FIXTURES = Path(__file__).parent / "fixtures" / "all_networks"
NETWORKS = ("rss", "mastodon", "bluesky", "reddit", "hackernews", "stackexchange", "github")
SECRETS = {
    "LISTEN_MASTODON_TOKEN": "mastodon-token-s3cret",
    "LISTEN_BLUESKY_APP_PASSWORD": "abcd-efgh-ijkl-mnop",
    "LISTEN_GITHUB_TOKEN": "github_pat_s3cret",
}
ACCESS_JWT = "ACCESS-JWT-ONE"  # what create_session.json hands out
SE_ANSWERS = "/2.3/questions/78700002;78700001/answers"  # the vectorised call, newest question first
BSKY_ME = "did:plc:acmeacmeacmeacmeacme0000"

# Who is waiting after the first pull: one person per feed, where to answer them, and the flag
# that makes them wait (the detectors may see more: a question can sound negative too).
WAITING = {
    "blog": ("rss", "Kim", "https://blog.acme.example/2026/acme-3-0/#comment-13", "negative"),
    "forum": ("jsonl", "erin", "https://forum.acme.example/t/1003", "question"),
    "fediverse": ("mastodon", "bob", "https://mastodon.example/@bob/110000000000000702", "negative"),
    "bluesky": ("bluesky", "bob.bsky.social", "https://bsky.app/profile/did:plc:bobbobbobbobbobbobbob0000/post/3mbobmention",
                "question"),
    "reddit": ("reddit", "grumpy_dev",
               "https://www.reddit.com/r/acme/comments/1fexp01/how_do_i_export_widgets_from_acme/lq00003/",
               "negative"),
    "hn": ("hackernews", "hn_critic", "https://news.ycombinator.com/item?id=42000030", "negative"),
    "stackoverflow": ("stackexchange", "newbie",
                      "https://stackoverflow.com/questions/78700002/is-there-a-keyboard-shortcut-for-the-acme-search-box",
                      "question"),
    "github": ("github", "carol", "https://github.com/acme/widget/issues/14", "question"),
}
# (mention, our reply to it) by native id, answered on the first pull.
ANSWERED_FIRST = {
    "blog": ("https://blog.acme.example/?p=41#comment-11", "https://blog.acme.example/?p=41#comment-12"),
    "forum": ("fb-1001", "fb-1002"),
    "fediverse": ("110000000000000701", "110000000000000710"),
    "bluesky": ("at://did:plc:alicealicealicealice0000/app.bsky.feed.post/3malicereply",
                f"at://{BSKY_ME}/app.bsky.feed.post/3macmereply"),
    "reddit": ("t3_1fexp01", "t1_lq00002"),
    "hn": ("42000010", "42000020"),
    "stackoverflow": ("78700001", "78700050"),
    "github": ("acme/widget#12", "acme/widget#12/comment/9012"),
}
# The later pull brings our replies to the people still waiting (the blog has nothing new).
ANSWERED_LATER = {
    "forum": ("fb-1003", "fb-1004"),
    "fediverse": ("110000000000000702", "110000000000000720"),
    "bluesky": ("at://did:plc:bobbobbobbobbobbobbob0000/app.bsky.feed.post/3mbobmention",
                f"at://{BSKY_ME}/app.bsky.feed.post/3macmereply2"),
    "reddit": ("t1_lq00003", "t1_lq00004"),
    "hn": ("42000030", "42000040"),
    "stackoverflow": ("78700002", "78700060"),
    "github": ("acme/widget#14", "acme/widget#14/comment/9014"),
}
FIRST_COUNTS = {"blog": 3, "forum": 3, "fediverse": 4, "bluesky": 5, "reddit": 3, "hn": 4, "stackoverflow": 3,
                "github": 3}

CONFIG = """\
[identity]
names = ["acme", "Acme Team", "Acme Support", "acme.bsky.social", "Acme_HQ"]

[[feeds]]
name = "blog"
type = "rss"
url = "{rss}/comments/feed/"

[[feeds]]
name = "forum"
type = "jsonl"
path = "mentions.jsonl"

[[feeds]]
name = "fediverse"
type = "mastodon"
instance = "{mastodon}"
token_env = "LISTEN_MASTODON_TOKEN"

[[feeds]]
name = "bluesky"
type = "bluesky"
handle = "acme.bsky.social"
app_password_env = "LISTEN_BLUESKY_APP_PASSWORD"
search = "acme"
base_url = "{bluesky}"

[[feeds]]
name = "reddit"
type = "reddit"
query = "acme"
subreddit = "acme"
username = "Acme_HQ"
base_url = "{reddit}"

[[feeds]]
name = "hn"
type = "hackernews"
query = "acme"
base_url = "{hackernews}/api/v1"

[[feeds]]
name = "stackoverflow"
type = "stackexchange"
site = "stackoverflow"
tagged = "acme"
user_id = 4242
base_url = "{stackexchange}/2.3"

[[feeds]]
name = "github"
type = "github"
query = "acme in:title,body"
token_env = "LISTEN_GITHUB_TOKEN"
base_url = "{github}"
"""

_STAMP = re.compile(r'"<(epoch|epochf) ([-+]\d+)>"|<(iso|iso_ms|rfc822) ([-+]\d+)>')


def stamp(kind: str, t: int) -> str:
    if kind == "epoch":
        return str(t)
    if kind == "epochf":
        return f"{t}.0"  # Reddit writes created_utc as a float
    when = datetime.fromtimestamp(t, timezone.utc)
    if kind == "iso":
        return when.strftime("%Y-%m-%dT%H:%M:%SZ")
    if kind == "iso_ms":
        return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return format_datetime(when)  # RFC 822, as RSS dates are written


def fill(text: str, now: int, base: str = "") -> str:
    """A fixture's placeholders made real: times relative to `now`, API links on `base`."""
    def one(m: re.Match) -> str:
        return stamp(m.group(1) or m.group(3), now + int(m.group(2) or m.group(4)))

    return _STAMP.sub(one, text).replace("<base>", base)


def id_key(native_id: str) -> tuple[int, str]:
    return (len(native_id), native_id)  # how Mastodon ids sort


class World:
    """The networks at one moment ("first", then "later"), each on its own 127.0.0.1 server."""

    def __init__(self, folder: Path):
        self.now = int(time.time())
        self.folder = folder
        self.moment = "first"
        self.servers = {n: ReplayServer() for n in NETWORKS}
        for name, server in self.servers.items():
            getattr(self, f"_{name}")(server)
            server.start()
        (folder / "mentions.jsonl").write_text(self.text("jsonl/mentions.jsonl"))
        self.config = folder / "listen.toml"
        self.config.write_text(CONFIG.format(**{n: s.url for n, s in self.servers.items()}))

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()

    def later(self) -> None:
        """Time passes: we answered the people who were waiting, everywhere but on the blog."""
        self.moment = "later"
        with open(self.folder / "mentions.jsonl", "a") as fh:
            fh.write(self.text("jsonl/mentions_later.jsonl"))

    def text(self, name: str, base: str = "") -> str:
        return fill((FIXTURES / name).read_text(), self.now, base)

    def body(self, network: str, name: str) -> Any:
        """A response body as the API would send it now; `name_later` once time has passed, if there is one."""
        later = FIXTURES / network / f"{name}_later.json"
        file = f"{network}/{name}_later.json" if self.moment == "later" and later.exists() else f"{network}/{name}.json"
        return json.loads(self.text(file, self.servers[network].url))

    def iso(self, ago: int) -> str:
        return stamp("iso", self.now - ago)

    # -- the servers -----------------------------------------------------

    def _rss(self, s: ReplayServer) -> None:
        feed = self.text("rss/comments_feed.xml")
        headers = {"ETag": '"v1"', "Content-Type": "application/rss+xml; charset=UTF-8"}
        s.always("/comments/feed/", lambda r: Reply(304, headers={"ETag": '"v1"'})
                 if r.headers.get("if-none-match") == '"v1"' else Reply(200, feed, dict(headers)))

    def _mastodon(self, s: ReplayServer) -> None:
        def authed(handler: Callable[[Seen], Any]) -> Callable[[Seen], Reply]:
            def serve(r: Seen) -> Reply:
                if r.headers.get("authorization") != f"Bearer {SECRETS['LISTEN_MASTODON_TOKEN']}":
                    return Reply(401, self.body("mastodon", "error_401"))
                return Reply(200, handler(r))
            return serve

        def newer(objs: list[dict], r: Seen) -> list[dict]:
            since = r.query.get("since_id", [None])[0]
            return [o for o in objs if since is None or id_key(o["id"]) > id_key(since)]

        s.always("/api/v1/accounts/verify_credentials", authed(lambda r: self.body("mastodon", "verify_credentials")))
        s.always("/api/v1/notifications", authed(lambda r: newer(self.body("mastodon", "notifications"), r)))
        s.always("/api/v1/accounts/1000/statuses", authed(lambda r: newer(self.body("mastodon", "account_statuses"), r)))
        s.always("/api/v1/statuses/110000000000000702/context", authed(lambda r: self.body("mastodon", "status_context")))

    def _bluesky(self, s: ReplayServer) -> None:
        def session(r: Seen) -> Reply:
            if json.loads(r.body).get("password") != SECRETS["LISTEN_BLUESKY_APP_PASSWORD"]:
                return Reply(401, self.body("bluesky", "error_auth"))
            return Reply(200, self.body("bluesky", "create_session"))

        def authed(key: str, handler: Callable[[Seen], Any]) -> Callable[[Seen], Reply]:
            def serve(r: Seen) -> Reply:
                if r.headers.get("authorization") != f"Bearer {ACCESS_JWT}":
                    return Reply(401, {"error": "AuthenticationRequired", "message": "Authentication Required"})
                # Every list here fits one page: a cursor asks for the (empty) rest.
                return Reply(200, {key: []} if "cursor" in r.query else handler(r))
            return serve

        def search(r: Seen) -> dict:
            found = self.body("bluesky", "search_posts")
            since = r.query.get("since", [""])[0]  # inclusive, like the AppView's
            found["posts"] = [p for p in found["posts"] if p["indexedAt"] >= since]
            found["hitsTotal"] = len(found["posts"])
            return found

        s.always("/xrpc/com.atproto.server.createSession", session)
        s.always("/xrpc/app.bsky.notification.listNotifications",
                 authed("notifications", lambda r: self.body("bluesky", "list_notifications")))
        s.always("/xrpc/app.bsky.feed.getAuthorFeed", authed("feed", lambda r: self.body("bluesky", "author_feed")))
        s.always("/xrpc/app.bsky.feed.searchPosts", authed("posts", search))

    def _reddit(self, s: ReplayServer) -> None:
        s.always("/r/acme/search.json", lambda r: Reply(200, self.body("reddit", "search")))
        s.always("/r/acme/comments.json", lambda r: Reply(200, self.body("reddit", "r_acme_comments")))
        s.always("/user/Acme_HQ/comments.json", lambda r: Reply(200, self.body("reddit", "user_comments")))

    def _hackernews(self, s: ReplayServer) -> None:
        def search(r: Seen) -> Reply:
            tags = r.query["tags"][0]
            page = self.body("hackernews", "search_by_date" if tags == "(story,comment)" else "own_comments")
            since = re.fullmatch(r"created_at_i>(\d+)", r.query.get("numericFilters", ["created_at_i>0"])[0])
            hits = [h for h in page["hits"] if since and h["created_at_i"] > int(since.group(1))]
            page["hits"] = hits[: int(r.query["hitsPerPage"][0])]
            page["nbHits"], page["nbPages"] = len(hits), 1 if hits else 0
            return Reply(200, page)

        s.always("/api/v1/search_by_date", search)

    def _stackexchange(self, s: ReplayServer) -> None:
        def method(name: str, question_ids: set[int] | None = None) -> Callable[[Seen], Reply]:
            def serve(r: Seen) -> Reply:
                page = self.body("stackexchange", name)
                since = int(r.query.get("fromdate", ["0"])[0])
                page["items"] = [i for i in page["items"] if i["creation_date"] >= since
                                 and (question_ids is None or i["question_id"] in question_ids)]
                return Reply(200, page)
            return serve

        s.always("/2.3/info", lambda r: Reply(200, self.body("stackexchange", "info")))
        s.always("/2.3/questions", method("questions"))
        s.always(SE_ANSWERS, method("answers", {78700001, 78700002}))
        s.always("/2.3/users/4242/answers", method("answers"))
        empty = {"items": [], "has_more": False, "quota_max": 300, "quota_remaining": 280}
        s.always("/2.3/users/4242/comments", Reply(200, empty))
        s.under("/2.3/questions/", Reply(200, empty))  # comments on the watched questions
        s.under("/2.3/answers/", Reply(200, empty))  # and on their answers

    def _github(self, s: ReplayServer) -> None:
        def authed(handler: Callable[[Seen], Any]) -> Callable[[Seen], Reply]:
            def serve(r: Seen) -> Reply:
                if r.headers.get("authorization") != f"Bearer {SECRETS['LISTEN_GITHUB_TOKEN']}":
                    return Reply(401, self.body("github", "error_401"))
                return Reply(200, handler(r), {"X-RateLimit-Remaining": "4990"})
            return serve

        def search(r: Seen) -> dict:
            found = self.body("github", "search_issues")
            since = re.search(r"updated:>=(\S+)", r.query["q"][0])
            found["items"] = [i for i in found["items"] if not since or i["updated_at"] >= since.group(1)]
            found["total_count"] = len(found["items"])
            return found

        def comments(n: int) -> Callable[[Seen], list]:
            def serve(r: Seen) -> list:
                since = r.query.get("since", [""])[0]
                return [c for c in self.body("github", f"issue_{n}_comments") if c["updated_at"] >= since]
            return serve

        s.always("/user", authed(lambda r: self.body("github", "user")))
        s.always("/rate_limit", authed(lambda r: self.body("github", "rate_limit")))
        s.always("/search/issues", authed(search))
        s.always("/repos/acme/widget/issues/12/comments", authed(comments(12)))
        # Until we answered it, the issue had no comments (and search said "comments": 0, so none are asked for).
        s.always("/repos/acme/widget/issues/14/comments",
                 authed(lambda r: comments(14)(r) if self.moment == "later" else []))


@pytest.fixture
def world(tmp_path, monkeypatch):
    for var, value in SECRETS.items():
        monkeypatch.setenv(var, value)
    w = World(tmp_path)
    yield w
    w.stop()


def by_feed(records: list[dict]) -> dict[str, dict[str, dict]]:
    out: dict[str, dict[str, dict]] = {}
    for r in records:
        out.setdefault(r["feed"], {})[r["native_id"]] = r
    return out


def assert_waiting(inbox: list[dict], expected: dict[str, tuple]) -> None:
    got = {w["feed"]: (w["network"], w["author"], w["url"]) for w in inbox}
    assert len(inbox) == len(got), "one waiting mention per feed"
    assert got == {feed: e[:3] for feed, e in expected.items()}
    for w in inbox:
        assert expected[w["feed"]][3] in w["flags"] and set(w["flags"]) <= {"question", "negative"}, w


def assert_answered(exported: list[dict], pairs: dict[str, tuple[str, str]]) -> None:
    """Each mention is answered by our reply: linked by in_reply_to, in one conversation, stamped answered."""
    stored = by_feed(exported)
    for feed, (mention_id, reply_id) in pairs.items():
        mention, reply = stored[feed][mention_id], stored[feed][reply_id]
        assert reply["ours"] is True and mention["ours"] is False, feed
        assert reply["in_reply_to"] == mention_id, feed
        assert reply["thread_id"] == mention["thread_id"], feed
        assert mention["answered_at"] is not None, f"{feed}: {mention_id} not answered by {reply_id}"
        assert datetime.fromisoformat(mention["answered_at"]) >= datetime.fromisoformat(mention["created_at"]), feed


def test_every_network_pulls_and_our_replies_answer(world):
    listener = Listener(load(world.config))
    results = {r.feed: r for r in listener.pull()}

    assert {f: r.error for f, r in results.items()} == {f: None for f in FIRST_COUNTS}
    assert {f: r.new for f, r in results.items()} == FIRST_COUNTS
    waiting = listener.inbox().items
    assert_waiting([{"feed": i.feed, "network": i.network, "author": i.author, "url": i.url, "flags": i.flags}
                    for i in waiting], WAITING)
    assert not {(i.feed, i.native_id) for i in waiting} & {(f, m) for f, (m, _) in ANSWERED_FIRST.items()}
    exported = list(listener.export())
    assert_answered(exported, ANSWERED_FIRST)
    # The mention that replied into someone else's thread sits in that thread (found by /context).
    fedi = by_feed(exported)["fediverse"]
    assert fedi["110000000000000702"]["thread_id"] == "110000000000000690"
    # Nothing of ours waits, and a deleted Mastodon mention or a Bluesky like is no item.
    assert all(r["waiting_seconds"] is None for r in exported if r["ours"])
    assert "70" not in fedi and not any("app.bsky.feed.like" in k for k in by_feed(exported)["bluesky"])

    world.later()
    second = {r.feed: r for r in listener.pull()}

    assert {f: r.error for f, r in second.items()} == {f: None for f in FIRST_COUNTS}
    assert second["blog"].not_modified
    assert {f: (r.new, r.updated) for f, r in second.items()} == {
        f: (0 if f == "blog" else 1, 0) for f in FIRST_COUNTS}
    exported = list(listener.export())
    counts = {f: len(items) for f, items in by_feed(exported).items()}
    assert counts == {f: n + (0 if f == "blog" else 1) for f, n in FIRST_COUNTS.items()}
    assert_answered(exported, {**ANSWERED_FIRST, **ANSWERED_LATER})
    assert [(i.feed, i.author) for i in listener.inbox().items] == [("blog", "Kim")]
    listener.close()

    # Each source asked only for what is new, the way its API lets it.
    rss = world.servers["rss"].hits("/comments/feed/")
    assert "if-none-match" not in rss[0].headers and rss[1].headers["if-none-match"] == '"v1"'
    masto = world.servers["mastodon"]
    assert [h.query.get("since_id") for h in masto.hits("/api/v1/notifications")] == [None, ["72"]]
    assert [h.query.get("since_id") for h in masto.hits("/api/v1/accounts/1000/statuses")] == [
        None, ["110000000000000710"]]
    assert len(masto.hits("/api/v1/statuses/110000000000000702/context")) == 1
    sky = world.servers["bluesky"]
    # The first pull pages on to the end; the second stops where the first began.
    assert [h.query.get("cursor") is None for h in sky.hits("/xrpc/app.bsky.notification.listNotifications")] == [
        True, False, True]
    carol = world.body("bluesky", "search_posts")["posts"][0]["indexedAt"]
    assert [h.query.get("since") for h in sky.hits("/xrpc/app.bsky.feed.searchPosts")] == [None, [carol]]
    hn = world.servers["hackernews"].hits("/api/v1/search_by_date")
    first_since = {h.query["numericFilters"][0] for h in hn[:2]}
    # The first pull reaches back `lookback` (14 days) from the wall clock.
    assert len(first_since) == 1 and 0 <= int(first_since.pop().split(">")[1]) - (world.now - 14 * 86400) < 600
    newest = world.now - 2 * 3600  # hn_critic's comment, the newest hit of the first pull
    assert {h.query["numericFilters"][0] for h in hn[2:]} == {f"created_at_i>{newest - 300}"}
    assert any(h.query["tags"] == ["comment,(author_acme,author_Acme_HQ)"] for h in hn)
    se = world.servers["stackexchange"]
    assert [h.query["fromdate"] for h in se.hits("/2.3/questions")][1] == [str(world.now - 2 * 3600 + 1)]
    assert [h.query["fromdate"] for h in se.hits("/2.3/users/4242/answers")][1] == [str(world.now - 4 * 3600 + 1)]
    assert all(h.query["filter"] == ["withbody"] and h.query["site"] == ["stackoverflow"] for h in se.requests)
    gh = world.servers["github"]
    assert gh.hits("/search/issues")[1].query["q"] == [f"acme in:title,body updated:>={world.iso(2 * 3600)}"]
    assert gh.hits("/repos/acme/widget/issues/14/comments")[0].query["since"] == [world.iso(2 * 3600)]
    reddit = world.servers["reddit"].requests
    assert all(re.fullmatch(r"\w+:listen:\S+ \(by /u/Acme_HQ\)", h.headers["user-agent"]) for h in reddit)
    assert all(h.query["raw_json"] == ["1"] and h.query["limit"] == ["100"] for h in reddit)


def run(world: World, *args: str) -> subprocess.CompletedProcess:
    from tests.helpers import listen_here

    return listen_here("--config", str(world.config), *args, cwd=world.folder)


def test_cli_pull_inbox_export_and_check(world):
    pulled = run(world, "pull")
    assert pulled.returncode == 0, pulled.stderr
    assert sorted(line.split(":")[0] for line in pulled.stdout.splitlines()) == sorted(FIRST_COUNTS)

    inbox = run(world, "inbox", "--json")
    assert inbox.returncode == 0, inbox.stderr
    waiting = json.loads(inbox.stdout)
    assert_waiting(waiting, WAITING)
    assert all(w["waiting_seconds"] > 0 and w["reasons"] and w["thread_id"] for w in waiting)
    # Most urgent first: a complaint counts double, so the blog's 3-hour-old one leads.
    assert waiting[0]["feed"] == "blog"

    exported = run(world, "export", "--format", "jsonl")
    assert exported.returncode == 0, exported.stderr
    assert_answered([json.loads(line) for line in exported.stdout.splitlines()], ANSWERED_FIRST)

    checked = run(world, "feeds", "--check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    verdicts = {line[2:].split(":")[0]: line[0] for line in checked.stdout.splitlines()}
    assert verdicts == {f: "✓" for f in FIRST_COUNTS}
    assert "authenticated as @acme@127.0.0.1" in checked.stdout
    assert "authenticated as acme-bot" in checked.stdout

    # Secrets reach the servers and nowhere else.
    db = (world.folder / "listen.db").read_bytes()
    wal = world.folder / "listen.db-wal"
    stored = db + (wal.read_bytes() if wal.exists() else b"")
    said = pulled.stdout + pulled.stderr + inbox.stdout + exported.stdout + checked.stdout + checked.stderr
    for secret in SECRETS.values():
        assert secret not in said and secret.encode() not in stored


def test_refused_mastodon_token_is_named_and_other_feeds_carry_on(world, monkeypatch):
    monkeypatch.setenv("LISTEN_MASTODON_TOKEN", "revoked-token")

    checked = run(world, "feeds", "--check")
    assert checked.returncode == 1
    verdicts = {line[2:].split(":")[0]: line for line in checked.stdout.splitlines()}
    assert set(verdicts) == set(FIRST_COUNTS)
    assert verdicts["fediverse"].startswith("✗ fediverse: HTTP 401")
    assert "$LISTEN_MASTODON_TOKEN" in verdicts["fediverse"]
    assert all(line.startswith("✓") for f, line in verdicts.items() if f != "fediverse")

    pulled = run(world, "pull")
    assert pulled.returncode == 1
    assert "fediverse" in pulled.stderr and "$LISTEN_MASTODON_TOKEN" in pulled.stderr
    assert "revoked-token" not in pulled.stdout + pulled.stderr + checked.stdout
    with sqlite3.connect(world.folder / "listen.db") as db:
        counts = dict(db.execute("SELECT feed, count(*) FROM items GROUP BY feed").fetchall())
        error = db.execute("SELECT last_error FROM feeds WHERE name = 'fediverse'").fetchone()[0]
    assert counts == {f: n for f, n in FIRST_COUNTS.items() if f != "fediverse"}
    assert "$LISTEN_MASTODON_TOKEN" in error
