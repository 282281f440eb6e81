"""Stack Exchange source against a local replay server."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from listen.config import parse
from listen.errors import ConfigError, FeedError
from listen.http import Http, RateLimited
from listen.models import FetchState
from listen.sources import FeedConfig
from listen.sources.stackexchange import StackExchangeSource
from tests.replay import Reply

FIXTURES = Path(__file__).parent / "fixtures" / "stackexchange"
YEARS = 20 * 365 * 86400  # the fixtures are from 2024: reach back far enough for them
ANSWERS = "/questions/78600001;78600000/answers"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def empty(**extra) -> dict:
    return {"items": [], "has_more": False, "quota_max": 300, "quota_remaining": 280, **extra}


def source(server, **options) -> StackExchangeSource:
    opts = {"site": "stackoverflow", "tagged": "acme", "query": None, "user_id": None, "key_env": None,
            "base_url": server.url, "max_pages": 5, "lookback": YEARS}
    opts.update(options)
    return StackExchangeSource(FeedConfig(name="so", type="stackexchange", options=opts, config_dir=Path(".")))


def http() -> Http:
    return Http(sleep=lambda s: None)


def test_first_pull_questions_then_their_answers(server):
    # SE always compresses; Reply(gzip=True) sends Content-Encoding like the real API.
    server.always("/questions", Reply(body=load("questions_withbody.json"), gzip=True))
    server.always(ANSWERS, Reply(body=load("answers_withbody.json"), gzip=True))
    fetched = source(server).fetch(http(), FetchState())
    items = {i.native_id: i for i in fetched.items}
    assert set(items) == {"78600001", "78600000", "78600050"}
    q = items["78600001"]
    assert q.title == "How to export Acme widgets to CSV?"
    assert q.text == "How to export Acme widgets to CSV?\n\nI'm using acme 2.0 and can't find an export.\n\nacme.export()\n\nIs there a way?"
    assert q.author == "José Dev"
    assert q.url == "https://stackoverflow.com/questions/78600001/how-to-export-acme-widgets-to-csv"
    assert q.thread_id == "78600001" and q.in_reply_to is None and q.ours is None
    assert q.created_at.isoformat() == "2024-06-10T11:46:40+00:00"
    assert items["78600000"].title == 'Acme install fails with "missing wheel"'
    a = items["78600050"]
    assert a.in_reply_to == "78600001" and a.thread_id == "78600001"
    assert a.text == 'Use acme.export(format="csv"); it shipped in 2.0.'
    assert a.url == "https://stackoverflow.com/a/78600050"
    assert a.ours is None

    [hit] = server.hits("/questions")
    for key, value in {"site": "stackoverflow", "tagged": "acme", "sort": "creation", "order": "desc",
                       "filter": "withbody", "pagesize": "100", "page": "1"}.items():
        assert hit.query[key] == [value]
    assert "key" not in hit.query
    cursor = json.loads(fetched.state.cursor)
    assert cursor["questions"] == {"since": 1718020000} and cursor["answers"] == {"since": 1718024000}
    assert cursor["recent"] == [["78600001", 1718020000], ["78600000", 1718010000]]


def test_query_uses_search_advanced(server):
    server.always("/search/advanced", Reply(body=load("questions_withbody.json")))
    server.always(ANSWERS, Reply(body=empty()))
    fetched = source(server, query="export csv", tagged="acme;widgets").fetch(http(), FetchState())
    assert len(fetched.items) == 2
    hit = server.hits("/search/advanced")[0]
    assert hit.query["q"] == ["export csv"] and hit.query["tagged"] == ["acme;widgets"]


def test_incremental_pull_asks_from_the_watermark(server):
    server.always("/questions", Reply(body=empty()))
    server.always(ANSWERS, Reply(body=empty()))
    cursor = {"questions": {"since": 1718020000}, "answers": {"since": 1718024000},
              "recent": [["78600001", 1718020000], ["78600000", 1718010000]]}
    fetched = source(server).fetch(http(), FetchState(cursor=json.dumps(cursor)))
    assert fetched.items == []
    assert server.hits("/questions")[0].query["fromdate"] == ["1718020001"]
    assert server.hits(ANSWERS)[0].query["fromdate"] == ["1718024001"]
    assert json.loads(fetched.state.cursor) == cursor


def test_old_questions_leave_the_answer_watch_list(server):
    server.always("/questions", Reply(body=empty()))
    cursor = {"questions": {"since": 1718020000}, "recent": [["78600001", 1718020000]]}
    fetched = source(server, lookback=86400).fetch(http(), FetchState(cursor=json.dumps(cursor)))
    assert json.loads(fetched.state.cursor)["recent"] == []
    assert server.hits(ANSWERS) == [] and len(server.requests) == 1


def test_paging_follows_has_more_and_is_bounded(server):
    page = load("questions_withbody.json")
    page["has_more"] = True
    server.add("/questions", Reply(body=page), Reply(body=empty()))
    server.always(ANSWERS, Reply(body=empty()))
    fetched = source(server).fetch(http(), FetchState())
    assert [h.query["page"] for h in server.hits("/questions")] == [["1"], ["2"]]
    assert len(fetched.items) == 2

    server.always("/questions", Reply(body=page))
    fetched = source(server, max_pages=3).fetch(http(), FetchState())
    assert len(server.hits("/questions")) == 2 + 3
    assert any("stopped after 3 pages" in w for w in fetched.warnings)


def test_our_answer_answers_the_question(server):
    server.always("/questions", Reply(body=load("questions_withbody.json")))
    server.always(ANSWERS, Reply(body=load("answers_withbody.json")))
    server.always("/users/4242/answers", Reply(body=load("answers_withbody.json")))
    fetched = source(server, user_id=4242).fetch(http(), FetchState())
    items = {i.native_id: i for i in fetched.items}
    ours = items["78600050"]
    assert ours.ours is True and ours.author == "Acme Support"
    assert ours.in_reply_to == "78600001" == items["78600001"].native_id
    assert items["78600001"].ours is None
    assert json.loads(fetched.state.cursor)["ours"] == {"since": 1718024000}


def test_short_backoff_is_slept_long_one_is_remembered(server):
    slept = []
    page = load("questions_withbody.json")
    page.update(has_more=True, backoff=5)
    server.add("/questions", Reply(body=page), Reply(body=empty(backoff=600)))
    server.always(ANSWERS, Reply(body=empty()))
    src = source(server)
    fetched = src.fetch(Http(sleep=slept.append), FetchState())
    assert slept == [5] and len(server.hits("/questions")) == 2
    cursor = json.loads(fetched.state.cursor)
    assert cursor["not_before"]["questions"] > cursor["questions"]["since"]

    # Next pull: /questions is skipped until the backoff ends; other methods still run.
    again = src.fetch(http(), fetched.state)
    assert len(server.hits("/questions")) == 2
    assert len(server.hits(ANSWERS)) == 2
    assert any("back off questions" in w for w in again.warnings)


def test_long_backoff_mid_paging_keeps_the_watermark(server):
    page = load("questions_withbody.json")
    page.update(has_more=True, backoff=120)
    server.always("/questions", Reply(body=page))
    server.always(ANSWERS, Reply(body=empty()))
    fetched = source(server).fetch(http(), FetchState(cursor=json.dumps({"questions": {"since": 1700000000}})))
    assert len(server.hits("/questions")) == 1 and len(fetched.items) == 2
    cursor = json.loads(fetched.state.cursor)
    assert cursor["questions"] == {"since": 1700000000}  # unfinished: redone next time
    assert "questions" in cursor["not_before"]


def test_low_quota_stops_early(server):
    page = load("questions_withbody.json")
    page["quota_remaining"] = 3
    server.always("/questions", Reply(body=page))
    fetched = source(server, user_id=4242).fetch(http(), FetchState())
    assert len(fetched.items) == 2
    assert server.hits(ANSWERS) == [] and server.hits("/users/4242/answers") == []
    assert any("quota" in w for w in fetched.warnings)


def test_throttle_violation_is_rate_limited_with_its_wait(server):
    server.always("/questions", Reply(400, load("error_throttle.json")))
    with pytest.raises(RateLimited) as e:
        source(server).fetch(http(), FetchState())
    assert e.value.retry_after == 82119 and e.value.feed == "so"
    assert "throttle_violation" in str(e.value) and "82119 seconds" in str(e.value)


def test_gzip_without_content_encoding_is_decoded(server):
    body = gzip.compress(json.dumps(load("questions_withbody.json")).encode())
    server.always("/questions", Reply(body=body, headers={"Content-Type": "application/json"}))
    server.always(ANSWERS, Reply(body=gzip.compress(json.dumps(empty()).encode())))
    assert len(source(server).fetch(http(), FetchState()).items) == 2


def test_bad_key_names_the_env_var_not_the_value(server, monkeypatch):
    monkeypatch.setenv("LISTEN_SE_KEY", "s3cr3tKEYvalue((")
    server.always("/questions", Reply(400, {"error_id": 400, "error_message": "key", "error_name": "bad_parameter"},
                                      gzip=True))
    with pytest.raises(FeedError) as e:
        source(server, key_env="LISTEN_SE_KEY").fetch(http(), FetchState())
    assert "$LISTEN_SE_KEY" in str(e.value) and "bad_parameter" in str(e.value)
    assert "s3cr3tKEYvalue" not in str(e.value)
    assert server.hits("/questions")[0].query["key"] == ["s3cr3tKEYvalue(("]

    monkeypatch.delenv("LISTEN_SE_KEY")
    with pytest.raises(FeedError) as e:
        source(server, key_env="LISTEN_SE_KEY").fetch(http(), FetchState())
    assert "LISTEN_SE_KEY" in str(e.value) and "not set" in str(e.value)


def test_key_refused_with_403_status(server, monkeypatch):
    monkeypatch.setenv("LISTEN_SE_KEY", "s3cr3tKEYvalue")
    server.always("/questions", Reply(403, {"error_id": 403, "error_message": "access denied",
                                             "error_name": "access_denied"}))
    with pytest.raises(FeedError) as e:
        source(server, key_env="LISTEN_SE_KEY").fetch(http(), FetchState())
    assert "$LISTEN_SE_KEY" in str(e.value) and "s3cr3tKEYvalue" not in str(e.value)


def test_retry_after_then_rate_limited(server):
    slept = []
    server.add("/questions", Reply(429, "slow", {"Retry-After": "4"}))
    server.always("/questions", Reply(body=load("questions_withbody.json")))
    server.always(ANSWERS, Reply(body=empty()))
    assert len(source(server).fetch(Http(sleep=slept.append), FetchState()).items) == 2
    assert slept == [4.0]
    server.add("/questions", Reply(503, "busy", {"Retry-After": "7200"}))
    with pytest.raises(RateLimited):
        source(server).fetch(http(), FetchState())


@pytest.mark.parametrize("reply", [
    Reply(body=b"<html>maintenance</html>"),
    Reply(body=[1, 2]),
    Reply(body={"quota_remaining": 10}),
    Reply(body=b"\x1f\x8b not really gzip"),
    Reply(500, {"error_id": 500, "error_message": "internal error", "error_name": "internal_error"}),
])
def test_malformed_or_error_body_is_one_feed_error(server, reply):
    server.always("/questions", reply)
    with pytest.raises(FeedError) as e:
        source(server).fetch(http(), FetchState())
    assert e.value.feed == "so"


def test_answer_links_for_other_sites(server):
    assert source(server, site="unix")._domain() == "unix.stackexchange.com"
    assert source(server, site="superuser")._domain() == "superuser.com"
    assert source(server, site="meta.stackoverflow")._domain() == "meta.stackoverflow.com"


def test_probe(server):
    server.always("/info", Reply(body={"items": [{"total_questions": 1}], "has_more": False,
                                       "quota_max": 300, "quota_remaining": 250}))
    assert source(server).probe(http()) == "reachable; stackoverflow: 250 of 300 calls left today (no app key)"


def test_config_keys():
    path = Path("x/listen.toml")
    cfg = parse({"feeds": [{"name": "so", "type": "stackexchange", "site": "stackoverflow", "tagged": "acme",
                            "user_id": 4242, "key_env": "LISTEN_SE_KEY"}]}, path)
    assert cfg.feeds[0].get("base_url") == "https://api.stackexchange.com/2.3"
    with pytest.raises(ConfigError) as e:
        parse({"feeds": [{"name": "so", "type": "stackexchange", "tagged": "acme"}]}, path)
    assert "missing required key 'site'" in str(e.value)
    with pytest.raises(ConfigError) as e:
        parse({"feeds": [{"name": "so", "type": "stackexchange", "site": "stackoverflow"}]}, path)
    assert "set tagged" in str(e.value)
    with pytest.raises(ConfigError) as e:
        parse({"feeds": [{"name": "so", "type": "stackexchange", "site": "so", "tags": "acme"}]}, path)
    assert "unknown key 'tags'" in str(e.value)
    with pytest.raises(ConfigError) as e:
        parse({"feeds": [{"name": "so", "type": "stackexchange", "site": "so", "tagged": "a", "key": "x"}]}, path)
    assert "key_env" in str(e.value)
