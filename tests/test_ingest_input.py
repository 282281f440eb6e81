"""How feeds and `listen import` take input they should not get: an id given twice, a
"jsonl" URL that answers with an HTML page, a line json cannot read, a file of the
wrong kind. Real files, real parsers, a real database; the CLI run in-process."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from listen.lines import Repeats, SeenIds, kind_of
from listen.models import FetchState, RawItem
from listen.rows import valid
from listen.sources import FeedConfig, make_source
from listen.threads import plan_batch
from tests.helpers import jsonl, listen_here, write_config
from tests.replay import Reply


def listen(cfg: Path, *args: str, stdin: str | None = None):
    return listen_here("--config", str(cfg), "--db", str(cfg.parent / "x.db"), *args, stdin=stdin)


def inbox(cfg: Path) -> list[dict]:
    r = listen(cfg, "inbox", "--all", "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


# -- 1. an id given twice within one feed ---------------------------------------------


def test_a_repeated_jsonl_id_is_stored_once_named_and_steady_over_pulls(tmp_path):
    now = int(time.time())
    jsonl(tmp_path / "m.jsonl", [
        {"id": "1", "author": "ann", "text": "where is my refund?", "created_at": now - 3600},
        {"id": "1", "author": "bob", "text": "thanks!", "created_at": now - 60},
        {"id": "2", "author": "cy", "text": "is it down?", "created_at": now - 30},
    ])
    cfg = write_config(tmp_path / "listen.toml", [{"name": "m", "type": "jsonl", "path": "m.jsonl"}])
    seen = []
    for _ in range(3):
        r = listen(cfg, "pull")
        assert r.returncode == 0, r.stderr
        seen.append((r.stdout.split(" (")[0], sorted((i["author"], i["text"]) for i in inbox(cfg))))
        # The repeat is named: the file, its line, and the line it repeats.
        assert f"{tmp_path / 'm.jsonl'} line 2: id '1' repeats line 1; skipped" in r.stderr
    # The first line wins, and a pull of unchanged input changes nothing.
    assert seen[0] == ("m: 2 new, 0 updated", [("ann", "where is my refund?"), ("cy", "is it down?")])
    assert seen[1] == seen[2] == ("m: 0 new, 0 updated", seen[0][1])
    assert "(edited)" not in listen(cfg, "inbox", "--all").stdout
    check = listen(cfg, "feeds", "--check")
    assert "m: reachable; 2 items available" in check.stdout + check.stderr


def test_a_repeated_id_far_apart_in_a_streamed_file_is_kept_once(tmp_path):
    """Lines 1 and 2,500 lie in different batches of a streamed pull (BATCH 2,000): the
    first is stored before the second is read, so only a whole-file check keeps it steady."""
    now = int(time.time())
    records = [{"id": f"m{i}", "author": f"u{i}", "text": f"hello {i}", "created_at": now - 5000 + i}
               for i in range(2600)]
    records[2500] = {"id": "m0", "author": "bob", "text": "thanks!", "created_at": now - 10}
    jsonl(tmp_path / "m.jsonl", records)
    cfg = write_config(tmp_path / "listen.toml", [{"name": "m", "type": "jsonl", "path": "m.jsonl"}])
    outs = [listen(cfg, "pull") for _ in range(2)]
    assert [o.stdout.split(" (")[0] for o in outs] == ["m: 2599 new, 0 updated", "m: 0 new, 0 updated"]
    assert "line 2501: id 'm0' repeats line 1" in outs[1].stderr
    r = listen(cfg, "export", "--format", "jsonl")
    m0 = [json.loads(line) for line in r.stdout.splitlines() if json.loads(line)["native_id"] == "m0"]
    assert [(x["author"], x["text"]) for x in m0] == [("u0", "hello 0")]


def _item(nid: str, author: str, t: int) -> RawItem:
    return RawItem(native_id=nid, author=author, text=f"{author} says hi", created_at=datetime.fromtimestamp(t, timezone.utc))


def test_any_source_giving_an_id_twice_in_one_fetch_stores_it_once(tmp_path, fake_source):
    """The puller's guard (rows.valid), for sources that do not check themselves."""
    from tests.fakes import fake_feed

    now = int(time.time())
    items = [_item("a", "ann", now - 100), _item("b", "cy", now - 90), _item("a", "bob", now - 10)]
    cfg = write_config(tmp_path / "listen.toml", [fake_feed("f", items)])
    outs = [listen(cfg, "pull") for _ in range(3)]
    assert [o.stdout.split(" (")[0] for o in outs] == ["f: 2 new, 0 updated"] + ["f: 0 new, 0 updated"] * 2
    assert "skipped 1 item repeating an id given earlier in the same fetch ('a'); the first of each is kept" \
        in outs[0].stderr
    assert sorted((i["author"], i["text"]) for i in inbox(cfg)) == [("ann", "ann says hi"), ("cy", "cy says hi")]


RSS_TWICE = """<?xml version="1.0"?>
<rss version="2.0"><channel><title>c</title><link>https://blog.example.com/</link>
<item><guid>https://blog.example.com/c/1</guid><title>x</title><dc:creator xmlns:dc="http://purl.org/dc/elements/1.1/">ann</dc:creator>
<description>where is my refund?</description><pubDate>{early}</pubDate></item>
<item><guid>https://blog.example.com/c/1</guid><title>x</title><dc:creator xmlns:dc="http://purl.org/dc/elements/1.1/">bob</dc:creator>
<description>thanks!</description><pubDate>{late}</pubDate></item>
</channel></rss>
"""


def test_an_rss_feed_repeating_a_guid_stores_the_item_once_and_steadily(tmp_path):
    from email.utils import formatdate

    now = time.time()
    (tmp_path / "c.xml").write_text(RSS_TWICE.format(early=formatdate(now - 3600), late=formatdate(now - 60)))
    cfg = write_config(tmp_path / "listen.toml", [{"name": "blog", "type": "rss", "path": "c.xml"}])
    outs = [listen(cfg, "pull") for _ in range(3)]
    assert [o.stdout.split(" (")[0] for o in outs] == ["blog: 1 new, 0 updated"] + ["blog: 0 new, 0 updated"] * 2
    assert "skipped 1 item repeating an id given earlier in the same fetch ('https://blog.example.com/c/1')" \
        in outs[0].stderr
    assert [i["author"] for i in inbox(cfg)] == ["ann"]
    check = listen(cfg, "feeds", "--check")
    assert "blog: reachable; 1 items available" in check.stdout + check.stderr


def _row(nid: str, author: str, t: int) -> dict:
    return {"native_id": nid, "author": author, "author_name": None, "text": author, "created_at": t, "url": None,
            "in_reply_to": None, "thread_id": None, "title": None, "ours": 0, "flags_version": "v"}


@pytest.mark.parametrize("rows,expected", [
    ([_row("1", "ann", 10), _row("1", "bob", 20)], [("1", "ann")]),
    ([_row("1", "bob", 20), _row("1", "ann", 10)], [("1", "bob")]),  # the first given, whatever its date
    ([_row("1", "ann", 10), _row("2", "cy", 5), _row("1", "bob", 1)], [("2", "cy"), ("1", "ann")]),
    ([_row("1", "ann", 10), _row("2", "cy", 20)], [("1", "ann"), ("2", "cy")]),
])
def test_plan_batch_plans_one_row_per_native_id(rows, expected):
    plan = plan_batch("f", "jsonl", rows, {}, {}, 100)
    assert [(v["native_id"], v["author"]) for v in plan.inserts] == expected
    assert plan.counts == (len(expected), 0)


def test_valid_keeps_the_first_of_each_id_and_counts_the_rest():
    items = [_item("a", "ann", 1), _item("a", "bob", 2), _item("b", "cy", 3), _item("a", "dee", 4)]
    warnings: list[str] = []
    assert [(i.native_id, i.author) for i in valid(items, warnings)] == [("a", "ann"), ("b", "cy")]
    assert warnings == ["skipped 2 items repeating an id given earlier in the same fetch ('a', 'a');"
                        " the first of each is kept"]
    assert len(list(valid(items, [], once=False))) == 4


def test_seen_ids_remembers_where_each_id_was_first_seen_across_growth():
    seen = SeenIds()
    assert all(seen.add(f"id{n}", n) is None for n in range(1, 50_001))
    assert [seen.add(f"id{n}", 0) for n in (1, 777, 50_000)] == [1, 777, 50_000]
    assert seen.add("id50001", 9) is None and seen.add("id50001", 10) == 9
    assert len(seen.keys) <= 4 * 50_001  # machine integers, at most 2/3 full


# -- 2. a jsonl feed of which no line is a record ----------------------------------------


def test_a_jsonl_url_answering_html_fails_the_feed_and_loses_nothing(tmp_path, server):
    now = int(time.time())
    good = "".join(json.dumps({"id": str(n), "author": "ann", "text": f"question {n}?", "created_at": now - 600 + n})
                   + "\n" for n in range(3))
    page = "<!DOCTYPE html>\n<html><head><title>Sign in</title></head>\n<body>" + "<p>log in</p>\n" * 40 + "</body></html>\n"
    server.add("/m.jsonl", Reply(200, good), Reply(200, page, {"Content-Type": "text/html"}),
               Reply(200, page, {"Content-Type": "text/html"}))
    jsonl(tmp_path / "other.jsonl", [{"id": "o1", "author": "cy", "text": "hi?", "created_at": now - 5}])
    cfg = write_config(tmp_path / "listen.toml", [{"name": "web", "type": "jsonl", "url": server.url + "/m.jsonl"},
                                                  {"name": "other", "type": "jsonl", "path": "other.jsonl"}])
    first = listen(cfg, "pull")
    assert first.returncode == 0 and "web: 3 new" in first.stdout, first.stderr
    second = listen(cfg, "pull")
    assert second.returncode == 1  # as for any failed feed
    assert f"web: failed: {server.url}/m.jsonl returned an HTML page, not jsonl" in second.stderr
    assert "other: 0 new, 0 updated" in second.stdout  # the other feed was still pulled
    assert "log in" not in second.stderr  # one line about the feed, not 40 about its lines
    assert sorted(i["text"] for i in inbox(cfg)) == ["hi?", "question 0?", "question 1?", "question 2?"]  # nothing lost
    feeds = listen(cfg, "feeds", "--json")
    status = {f["name"]: f for f in json.loads(feeds.stdout)}
    assert "HTML page" in (status["web"].get("last_error") or ""), status["web"]
    check = listen(cfg, "feeds", "--check")
    assert check.returncode == 1 and "returned an HTML page, not jsonl" in check.stdout + check.stderr


@pytest.mark.parametrize("body,message", [
    ('{"id": "1"\n{"id": 2, "author": "x"}\n',
     "no line of {w} is a usable record (2 bad lines); the first, line 1, column 11: not valid JSON"
     " (Expecting ',' delimiter)"),
    ('<?xml version="1.0"?>\n<rss></rss>\n',
     "no line of {w} is a usable record (2 bad lines); the first, line 1, column 1: not valid JSON"
     " (Expecting value)"),
    ("\n  <html><body>oops</body></html>\n", "{w} is an HTML page, not jsonl"),
    ('{"id": "1", "author": "a", "text": "t"}\n', "no line of {w} is a usable record (1 bad line);"
     " the first, line 1: missing created_at"),
])
def test_a_jsonl_file_without_one_usable_line_is_the_feeds_error(tmp_path, body, message):
    from listen.errors import FeedError

    (tmp_path / "m.jsonl").write_text(body)
    source = make_source(FeedConfig("m", "jsonl", {"path": "m.jsonl"}, tmp_path))
    with pytest.raises(FeedError) as e:
        source.fetch(None, FetchState())
    assert e.value.message == message.format(w=tmp_path / "m.jsonl")


@pytest.mark.parametrize("body,ids", [
    ("", []),  # an empty file is a feed with nothing in it yet, not an error
    ("\n\n", []),
    ('{oops\n{"id": "1", "author": "a", "text": "t", "created_at": 1}\n', ["1"]),  # one good line: as before
])
def test_a_jsonl_file_with_a_usable_line_or_none_at_all_is_not_an_error(tmp_path, body, ids):
    (tmp_path / "m.jsonl").write_text(body)
    fetched = make_source(FeedConfig("m", "jsonl", {"path": "m.jsonl"}, tmp_path)).fetch(None, FetchState())
    assert [i.native_id for i in fetched.items] == ids


# -- 3. where json's error is ---------------------------------------------------------


@pytest.mark.parametrize("line,expected", [
    # Cut short: json read the newline too and called it "line 2 column 1".
    (b'{"id": "1", "author": "a" "text": "t"}\n', "line 2, column 27: not valid JSON (Expecting ',' delimiter)"),
    (b'{"id": "1", "author": "a", "text": "t"\n', "line 2, column 39: not valid JSON (Expecting ',' delimiter)"),
    (b'{"id": "1", "author": "a", "text": "t"\r\n', "line 2, column 39: not valid JSON (Expecting ',' delimiter)"),
    (b'{"text": "\xff"}\n', "line 2: not UTF-8"),
    (b"[" * 100_000 + b"\n", "line 2: not valid JSON (nested too deeply)"),
])
def test_a_bad_json_line_is_named_by_the_files_line_and_column(tmp_path, line, expected):
    good = b'{"id": "0", "author": "a", "text": "t", "created_at": 1}\n'
    (tmp_path / "m.jsonl").write_bytes(good + line)
    fetched = make_source(FeedConfig("m", "jsonl", {"path": "m.jsonl"}, tmp_path)).fetch(None, FetchState())
    assert fetched.warnings == [f"{tmp_path / 'm.jsonl'} {expected}; skipped"]


@pytest.mark.parametrize("line,expected", [
    ('{"native_id": "1", "feed": "f" "author": "a"}', "line 1, column 32: not valid JSON (Expecting ',' delimiter)"),
    ('{"native_id": "1", "feed": "f"', "line 1, column 31: not valid JSON (Expecting ',' delimiter)"),
    ("[" * 100_000, "line 1: not valid JSON (nested too deeply)"),  # was a crash
])
def test_import_words_a_bad_json_line_as_a_feed_does(tmp_path, line, expected):
    cfg = write_config(tmp_path / "listen.toml", [])
    r = listen(cfg, "import", "-", stdin=line + "\n")
    assert r.returncode == 1
    assert r.stderr.splitlines() == [f"listen: standard input {expected}; skipped"]


# -- 4. the same complaint, many times -----------------------------------------------


def test_import_of_a_feeds_mentions_says_so_three_times_and_counts_the_rest(tmp_path):
    cfg = write_config(tmp_path / "listen.toml", [])
    lines = "".join(json.dumps({"id": str(n), "author": "ann", "text": "hi", "created_at": 1}) + "\n" for n in range(36))
    r = listen(cfg, "import", "-", stdin=lines + "{oops\n")
    assert r.returncode == 1
    err = r.stderr.splitlines()
    assert [e.split(":")[1] for e in err[:3]] == [" standard input line 1", " standard input line 2",
                                                  " standard input line 3"]
    assert all("this looks like a jsonl feed's mention" in e for e in err[:3])
    assert err[3:] == ["listen: standard input line 37, column 2: not valid JSON (Expecting property name enclosed"
                       " in double quotes); skipped",
                       "listen: standard input: … and 33 more lines like line 1; skipped"]
    assert r.stdout.strip() == "imported 0 items (0 new, 0 updated); skipped 37 bad lines"


def test_a_pulls_bad_lines_of_one_kind_are_shown_three_times_then_counted(tmp_path):
    lines = [{"id": str(n), "author": "ann", "text": "hi", "created_at": f"2026-01-0{n % 9 + 1}T00:00:00"}
             for n in range(10)]
    lines.append({"id": "ok", "author": "ann", "text": "hi", "created_at": 1})
    jsonl(tmp_path / "m.jsonl", lines)
    fetched = make_source(FeedConfig("m", "jsonl", {"path": "m.jsonl"}, tmp_path)).fetch(None, FetchState())
    where = tmp_path / "m.jsonl"
    assert [i.native_id for i in fetched.items] == ["ok"]
    assert fetched.warnings == [
        f"{where} line 1: `created_at` '2026-01-01T00:00:00' has no UTC offset (add Z or +hh:mm); skipped",
        f"{where} line 2: `created_at` '2026-01-02T00:00:00' has no UTC offset (add Z or +hh:mm); skipped",
        f"{where} line 3: `created_at` '2026-01-03T00:00:00' has no UTC offset (add Z or +hh:mm); skipped",
        f"{where}: … and 7 more lines like line 1; skipped",
    ]


@pytest.mark.parametrize("reasons,shown,summary", [
    (["a"] * 5, [True, True, True, False, False], ["f: … and 2 more lines like line 1"]),
    (["a", "b", "a", "a", "a"], [True, True, True, True, False], ["f: … and 1 more line like line 1"]),
    (["time '1' bad", "time '2' bad", "time 'x' bad", "time 'y' bad"], [True] * 3 + [False],
     ["f: … and 1 more line like line 1"]),
    (["x"] * 3, [True] * 3, []),
])
def test_repeats_shows_three_of_a_kind_then_counts(reasons, shown, summary):
    r = Repeats()
    assert [r.show(n, reason) for n, reason in enumerate(reasons, 1)] == shown
    assert r.summary("f") == summary


def test_kind_of_ignores_quoted_values_and_numbers():
    assert kind_of("`created_at` '2026-01-01' has no UTC offset") == kind_of("`created_at` 'x' has no UTC offset")
    assert kind_of("missing author") != kind_of("missing text")


def test_a_batch_given_to_the_store_with_an_id_twice_keeps_the_first_on_every_backend(store):
    """The save path's own guard (threads.plan_batch), for a caller that bypasses the puller."""
    from tests.helpers import T0, raw, save

    batch = [raw("1", "ann", "where is my refund?", T0 - 3600), raw("1", "bob", "thanks!", T0 - 60)]
    assert [save(store, "f", batch, now=T0 + k) for k in range(3)] == [(1, 0), (0, 0), (0, 0)]
    assert [(i["author"], i["text"], i["edits"]) for i in store.iter_items()] == [("ann", "where is my refund?", 0)]
