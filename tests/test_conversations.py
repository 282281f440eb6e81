"""Whole conversations on Reddit, Hacker News and Stack Exchange (issue 12).

The story on each network: someone posts a complaint, adds a follow-up under their
own post (which does not mention us, so no search finds it), and we answer the
follow-up. Our reply is fetched (our own comments), its parent is not: the puller
asks the source for it, and the complaint leaves the inbox.

Bodies are built in the shape of the recordings in ../shared/fixtures/ (and the
fixtures under tests/fixtures/ written from them), served by a real HTTP server on
127.0.0.1; pulls go through Listener into a real SQLite file.
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Callable

import pytest

from listen.app import Listener
from listen.config import load as load_config
from listen.pull import ParentChase
from tests.helpers import T0, raw, save, write_config
from tests.replay import Reply, Seen

FIXTURES = Path(__file__).parent / "fixtures"
NOW = int(time.time())  # the sources look back from the wall clock


def fixture(path: str) -> dict:
    return json.loads((FIXTURES / path).read_text())


def listener(tmp_path: Path, feed: dict, names: tuple[str, ...] = ("acme",)) -> Listener:
    return Listener(load_config(write_config(tmp_path / "listen.toml", [feed], names)))


def waiting_authors(ltn: Listener) -> list[str]:
    return [i.author for i in ltn.inbox(include_unflagged=True).items]


# --- Reddit --------------------------------------------------------------------


def reddit_listing(*children: dict) -> dict:
    return {"kind": "Listing", "data": {"after": None, "dist": len(children), "modhash": "", "geo_filter": "",
                                        "children": list(children), "before": None}}


def reddit_comment(cid: str, author: str, parent: str, body: str, t: int) -> dict:
    child = copy.deepcopy(fixture("reddit/user_comments.json")["data"]["children"][0])
    child["data"].update(id=cid, name=f"t1_{cid}", author=author, parent_id=parent, link_id="t3_cmp0001",
                         body=body, body_html=None, created_utc=float(t), created=float(t),
                         permalink=f"/r/acme/comments/cmp0001/acme_export_is_broken/{cid}/")
    return child


def serve_reddit_follow_up(server, now: int) -> None:
    """The story on Reddit: grumpy_dev posts a complaint (3h ago) and follows it up under
    their own post (2h ago); we, Acme_HQ, answer the follow-up (1h ago). Search finds the
    post, our comments are ours; the follow-up is served only by /api/info."""
    post = copy.deepcopy(fixture("reddit/search_new.json")["data"]["children"][0])
    post["data"].update(id="cmp0001", name="t3_cmp0001", author="grumpy_dev", title="Acme export is broken",
                        selftext="Acme export has been broken for a week. Does anyone at Acme even read this?",
                        selftext_html=None, created_utc=float(now - 3 * 3600), created=float(now - 3 * 3600),
                        permalink="/r/acme/comments/cmp0001/acme_export_is_broken/")
    follow_up = reddit_comment("fu00001", "grumpy_dev", "t3_cmp0001", "Still broken on 2.1. Any news?", now - 2 * 3600)
    ours = reddit_comment("ou00001", "Acme_HQ", "t1_fu00001", "Fixed in 2.1.1, sorry for the wait.", now - 3600)
    server.always("/search.json", Reply(body=reddit_listing(post)))
    server.always("/user/Acme_HQ/comments.json", Reply(body=reddit_listing(ours)))

    def info(r: Seen) -> Reply:
        wanted = r.query["id"][0].split(",")
        return Reply(body=reddit_listing(*[c for c in (follow_up,) if c["data"]["name"] in wanted]))

    server.always("/api/info.json", info)


def test_reddit_answer_under_the_follow_up_answers_the_complaint(tmp_path, server):
    serve_reddit_follow_up(server, NOW)
    ltn = listener(tmp_path, {"name": "reddit", "type": "reddit", "query": "acme", "username": "Acme_HQ",
                            "base_url": server.url}, ("Acme_HQ",))
    try:
        [result] = ltn.pull()
        assert result.error is None, result.error
        assert [h.query["id"] for h in server.hits("/api/info.json")] == [["t1_fu00001"]]
        assert waiting_authors(ltn) == []
        # Stored now: the next pull does not ask again.
        ltn.pull()
        assert len(server.hits("/api/info.json")) == 1
    finally:
        ltn.close()


def test_reddit_without_the_parent_the_complaint_still_waits(tmp_path, server):
    """The control: with look-ups off, the same story leaves the complaint waiting."""
    post = copy.deepcopy(fixture("reddit/search_new.json")["data"]["children"][0])
    post["data"].update(id="cmp0001", name="t3_cmp0001", author="grumpy_dev", title="Acme export is broken",
                        selftext="Acme export has been broken for a week. Does anyone at Acme even read this?",
                        selftext_html=None, created_utc=float(NOW - 3 * 3600), created=float(NOW - 3 * 3600))
    ours = reddit_comment("ou00001", "Acme_HQ", "t1_fu00001", "Fixed in 2.1.1.", NOW - 3600)
    server.always("/search.json", Reply(body=reddit_listing(post)))
    server.always("/user/Acme_HQ/comments.json", Reply(body=reddit_listing(ours)))
    ltn = listener(tmp_path, {"name": "reddit", "type": "reddit", "query": "acme", "username": "Acme_HQ",
                            "base_url": server.url, "max_parents": 0}, ("Acme_HQ",))
    try:
        [result] = ltn.pull()
        assert result.error is None
        assert server.hits("/api/info.json") == []
        assert waiting_authors(ltn) == ["grumpy_dev"]
    finally:
        ltn.close()


# --- Hacker News -----------------------------------------------------------------


def hn_page(*hits: dict) -> dict:
    page = fixture("hackernews/search_by_date_page0.json")
    page.update(hits=list(hits), nbHits=len(hits), nbPages=1 if hits else 0, page=0)
    return page


def test_hackernews_answer_under_the_follow_up_answers_the_complaint(tmp_path, server):
    story = {"_tags": ["story", "author_sad_user", "story_43000000", "ask_hn"], "author": "sad_user",
             "title": "Ask HN: Is Acme abandoned? Export crashes every time", "story_text": None, "url": None,
             "created_at_i": NOW - 3 * 3600, "objectID": "43000000", "story_id": 43000000, "points": 3,
             "num_comments": 2}
    ours = {"_tags": ["comment", "author_acme", "story_43000000"], "author": "acme",
            "comment_text": "Sorry about that; 2.1.1 fixes the crash.", "created_at_i": NOW - 3600,
            "objectID": "43000002", "parent_id": 43000001, "story_id": 43000000,
            "story_title": "Ask HN: Is Acme abandoned? Export crashes every time"}
    follow_up = {"id": 43000001, "created_at": "2026-01-01T00:00:00.000Z", "created_at_i": NOW - 2 * 3600,
                 "type": "comment", "author": "sad_user", "title": None, "url": None,
                 "text": "<p>Still crashing on 2.1. Anyone?</p>", "points": None, "parent_id": 43000000,
                 "story_id": 43000000, "children": [], "options": []}

    def search(r: Seen) -> Reply:
        return Reply(body=hn_page(ours) if "author_acme" in r.query["tags"][0] else hn_page(story))

    server.always("/api/v1/search_by_date", search)
    server.always("/api/v1/items/43000001", Reply(body=follow_up))
    ltn = listener(tmp_path, {"name": "hn", "type": "hackernews", "query": "acme", "username": "acme",
                            "base_url": server.url + "/api/v1"})
    try:
        [result] = ltn.pull()
        assert result.error is None, result.error
        assert len(server.hits("/api/v1/items/43000001")) == 1
        assert waiting_authors(ltn) == []
        stored = ltn.store.conn.execute("SELECT author, in_reply_to, thread_id FROM items WHERE native_id = '43000001'")
        assert [tuple(r) for r in stored] == [("sad_user", "43000000", "43000000")]
    finally:
        ltn.close()


def test_hackernews_a_deleted_parent_costs_one_lookup_and_no_error(tmp_path, server):
    ours = {"_tags": ["comment", "author_acme"], "author": "acme", "comment_text": "Fixed in 2.1.1.",
            "created_at_i": NOW - 3600, "objectID": "43000002", "parent_id": 43000001, "story_id": 43000000}
    server.always("/api/v1/search_by_date",
                  lambda r: Reply(body=hn_page(ours) if "author_acme" in r.query["tags"][0] else hn_page()))
    server.always("/api/v1/items/43000001", Reply(404, {"status": 404, "error": "Not Found"}))
    ltn = listener(tmp_path, {"name": "hn", "type": "hackernews", "query": "acme", "username": "acme",
                            "base_url": server.url + "/api/v1"})
    try:
        [result] = ltn.pull()
        assert result.error is None and len(server.hits("/api/v1/items/43000001")) == 1
    finally:
        ltn.close()


# --- Stack Exchange ---------------------------------------------------------------

SE_EMPTY = {"items": [], "has_more": False, "quota_max": 300, "quota_remaining": 280}
ASKER = {"account_id": 31, "reputation": 11, "user_id": 3101, "user_type": "registered", "display_name": "newbie",
         "link": "https://stackoverflow.com/users/3101/newbie"}
US = {"account_id": 999, "reputation": 1520, "user_id": 4242, "user_type": "registered",
      "display_name": "Acme Support", "link": "https://stackoverflow.com/users/4242/acme-support"}


def se(*items: dict) -> dict:
    return {**SE_EMPTY, "items": list(items)}


def se_question(qid: int, t: int, title: str, body: str) -> dict:
    q = copy.deepcopy(fixture("stackexchange/questions_withbody.json")["items"][0])
    q.update(question_id=qid, creation_date=t, last_activity_date=t, title=title, body=body, owner=ASKER,
             link=f"https://stackoverflow.com/questions/{qid}")
    return q


def se_comment(cid: int, post: int, t: int, owner: dict, body: str, reply_to: dict | None = None,
               on: str = "question") -> dict:
    # "_on" is the stand-in's own note of what the post is; the API does not send it.
    c = {"owner": owner, "edited": False, "score": 0, "creation_date": t, "post_id": post, "comment_id": cid,
         "content_license": "CC BY-SA 4.0", "body": body, "_on": on}
    if reply_to:
        c["reply_to_user"] = reply_to
    return c


def se_world(server, questions: dict, comments: list[dict], our_answers: dict = SE_EMPTY,
             our_comments: dict = SE_EMPTY) -> None:
    server.always("/2.3/questions", Reply(body=questions))
    server.always("/2.3/users/4242/answers", Reply(body=our_answers))
    server.always("/2.3/users/4242/comments", Reply(body=our_comments))

    def under(kind: str) -> Callable[[Seen], Reply]:
        def serve(r: Seen) -> Reply:
            posts = {int(p) for p in r.path.split("/")[3].split(";")}
            if not r.path.endswith("/comments"):
                return Reply(body=SE_EMPTY)  # the answers of the watched questions
            return Reply(body=se(*[c for c in comments if c["post_id"] in posts and c["_on"] == kind]))
        return serve

    server.under("/2.3/questions/", under("question"))
    server.under("/2.3/answers/", under("answer"))


def se_feed(server) -> dict:
    return {"name": "so", "type": "stackexchange", "site": "stackoverflow", "tagged": "acme", "user_id": 4242,
            "base_url": server.url + "/2.3"}


def test_stackexchange_answer_under_the_follow_up_answers_the_complaint(tmp_path, server):
    q = se_question(79000001, NOW - 3 * 3600, "Acme export broken?", "<p>Why is Acme export broken again?</p>")
    follow_up = se_comment(5001, 79000001, NOW - 2 * 3600, ASKER, "Same on 2.1; is there any workaround?")
    ours = se_comment(5002, 79000001, NOW - 3600, US, "@newbie 2.1.1 fixes it.", reply_to=ASKER)
    se_world(server, se(q), [follow_up, ours], our_comments=se(ours))
    ltn = listener(tmp_path, se_feed(server), ("Acme Support",))
    try:
        [result] = ltn.pull()
        assert result.error is None, result.error
        assert waiting_authors(ltn) == []
        rows = dict(ltn.store.conn.execute("SELECT native_id, in_reply_to FROM items").fetchall())
        assert rows == {"79000001": None, "c5001": "79000001", "c5002": "c5001"}
    finally:
        ltn.close()


def test_stackexchange_a_question_in_a_comment_under_our_answer_waits(tmp_path, server):
    q = se_question(79000001, NOW - 5 * 3600, "How to export Acme widgets?", "<p>How do I export widgets?</p>")
    answer = copy.deepcopy(fixture("stackexchange/answers_withbody.json")["items"][0])
    answer.update(answer_id=79000050, question_id=79000001, creation_date=NOW - 4 * 3600, owner=US)
    thanks = se_comment(5101, 79000050, NOW - 3600, ASKER,
                        "Thanks, that works! How do I also export the widget colours?", reply_to=US, on="answer")
    se_world(server, se(q), [thanks], our_answers=se(answer))
    ltn = listener(tmp_path, se_feed(server), ("Acme Support",))
    try:
        [result] = ltn.pull()
        assert result.error is None, result.error
        [item] = ltn.inbox().items
        assert (item.native_id, item.author, item.flags) == ("c5101", "newbie", ["question"])
        assert item.thread_id == ltn.store.conn.execute(
            "SELECT thread_id FROM items WHERE native_id = '79000001'").fetchone()[0]
        assert item.url == "https://stackoverflow.com/posts/comments/5101"
        asked = [h.path for h in server.requests if h.path.startswith("/2.3/answers/")]
        assert asked == ["/2.3/answers/79000050/comments"]
    finally:
        ltn.close()


def test_stackexchange_our_answer_to_an_unwatched_question_fetches_it(tmp_path, server):
    answer = copy.deepcopy(fixture("stackexchange/answers_withbody.json")["items"][0])
    answer.update(answer_id=79000060, question_id=79000009, creation_date=NOW - 3600, owner=US)
    q = se_question(79000009, NOW - 2 * 3600, "Acme crashes on start, why?", "<p>Why does it crash?</p>")
    se_world(server, SE_EMPTY, [], our_answers=se(answer))
    server.always("/2.3/questions/79000009", Reply(body=se(q)))
    ltn = listener(tmp_path, se_feed(server), ("Acme Support",))
    try:
        [result] = ltn.pull()
        assert result.error is None, result.error
        assert len(server.hits("/2.3/questions/79000009")) == 1
        assert ltn.store.conn.execute("SELECT answered_at IS NOT NULL FROM items WHERE native_id = '79000009'"
                                    ).fetchone()[0] == 1
    finally:
        ltn.close()


# --- the chase rule ----------------------------------------------------------------


@pytest.mark.parametrize("budget, missing, rounds, expected", [
    (10, [["p1", "p2"]], 1, [["p1", "p2"]]),
    (1, [["p1", "p2"]], 1, [["p1"]]),  # the budget caps a pull
    (10, [["p1"], ["p1", "p2"]], 2, [["p1"], ["p2"]]),  # a parent never comes back: asked once
    (0, [["p1"]], 1, [[]]),
    (3, [["a"], ["b"], ["c"], ["d"]], 4, [["a"], ["b"], ["c"], []]),
])
def test_parent_chase_asks_each_id_once_within_the_budget(budget, missing, rounds, expected):
    class Store:
        calls = iter(missing)

        def missing_parents(self, feed: str, since: int, limit: int) -> list[str]:
            return next(self.calls, [])[:limit]

    chase = ParentChase(Store(), since=0)
    assert [chase.next_ids("f", budget) for _ in range(rounds)] == expected


def test_missing_parents_are_our_replies_parents_not_stored(tmp_path):
    from listen.storage import open_store

    store = open_store(tmp_path / "x.db")
    try:
        save(store, "f", [raw("m1", "kim", "hi?", T0 - 50), raw("o1", "acme", "yes", T0 - 40, reply="m1"),
                          raw("o2", "acme", "sure", T0 - 30, reply="gone"),
                          raw("o3", "acme", "old", T0 - 10_000, reply="older"),
                          raw("m2", "kim", "and?", T0 - 20, reply="elsewhere")])
        assert store.missing_parents("f", since=T0 - 1000, limit=10) == ["gone"]
        assert store.missing_parents("other", since=0, limit=10) == []
        assert store.missing_parents("f", since=0, limit=10) == ["gone", "older"]
    finally:
        store.close()


def test_a_version_1_database_gets_the_our_replies_index(tmp_path):
    """Databases made before issue 12 are upgraded in place when opened."""
    from listen.storage import open_store, schema
    from tests.helpers import make_v1_database

    path = tmp_path / "old.db"
    make_v1_database(path)
    store = open_store(path)
    try:
        names = {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert "items_our_replies" in names
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == schema.VERSION >= 2
        save(store, "f", [raw("o1", "acme", "yes", T0 - 40, reply="gone")])
        assert store.missing_parents("f", since=0, limit=5) == ["gone"]
        plan = " ".join(str(tuple(r)) for r in store.conn.execute(
            "EXPLAIN QUERY PLAN SELECT in_reply_to FROM items WHERE feed = 'f' AND ours = 1"
            " AND in_reply_to IS NOT NULL AND created_at >= 0"))
        assert "items_our_replies" in plan
    finally:
        store.close()


def test_stackexchange_comments_failing_cost_only_the_comments(tmp_path, server):
    q = se_question(79000001, NOW - 3 * 3600, "Acme export broken?", "<p>Why is Acme export broken again?</p>")
    server.under("/2.3/questions/79000001/comments",
                 Reply(404, {"error_id": 404, "error_name": "no_method", "error_message": "no method found"}))
    se_world(server, se(q), [])
    ltn = listener(tmp_path, se_feed(server), ("Acme Support",))
    try:
        [result] = ltn.pull()
        assert result.error is None and result.new == 1
        assert any(w.startswith("comments not read this pull: Stack Exchange error 404 no_method")
                   for w in result.warnings), result.warnings
        assert waiting_authors(ltn) == ["newbie"]
    finally:
        ltn.close()


def test_a_failed_parent_lookup_is_a_warning_not_the_feeds_error(tmp_path, server):
    ours = reddit_comment("ou00001", "Acme_HQ", "t1_fu00001", "Fixed in 2.1.1.", NOW - 3600)
    server.always("/search.json", Reply(body=reddit_listing()))
    server.always("/user/Acme_HQ/comments.json", Reply(body=reddit_listing(ours)))
    server.always("/api/info.json", Reply(500, "<html>oops</html>"))
    ltn = listener(tmp_path, {"name": "reddit", "type": "reddit", "query": "acme", "username": "Acme_HQ",
                            "base_url": server.url}, ("Acme_HQ",))
    try:
        [result] = ltn.pull()
        assert result.error is None and result.new == 1
        assert [w[:48] for w in result.warnings] == ["could not fetch the messages our replies answer:"]
        assert ltn.store.feed_statuses()["reddit"].last_error is None  # the feed itself worked
    finally:
        ltn.close()
