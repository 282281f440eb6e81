"""Flags that fit the feed and learn from corrections, through the config file and the CLI."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from listen.cli import app
from listen.config import load
from listen.errors import ConfigError
from listen.flags import FlagSettings, classify
from listen.storage import open_store, schema
from tests.helpers import jsonl, make_v1_database, write_config

NOW = int(time.time())

# Complaints about invoices that score under the general threshold: plain, no insult.
INVOICE = [
    "The invoice for March still shows the old plan",
    "My invoice lists two seats, we have one",
    "the invoice amount looks off this month",
    "invoice still says the old VAT number",
    "the new invoice has the old company name on it",
    "the invoice total still includes the seat we removed",
    "the invoice for May shows the discount twice, then removes it",
    "invoice sent to the old email address again",
    "the invoice PDF still lists our old address",
]


def cli(cfg: Path, *args: str, input: str | None = None):
    r = CliRunner().invoke(app, ["--config", str(cfg), *args], input=input)
    return r


def inbox(cfg: Path, *extra: str) -> dict[str, dict]:
    r = cli(cfg, "inbox", "--json", "--all", *extra)
    assert r.exit_code == 0, r.output
    return {x["text"]: x for x in json.loads(r.stdout)}


def records(texts: list[str], prefix: str = "m", author: str = "user") -> list[dict]:
    return [{"id": f"{prefix}{i}", "author": f"{author}{i}", "text": t, "created_at": NOW - 3600 - i * 60}
            for i, t in enumerate(texts)]


# -- [identity] names reach the detectors --------------------------------------

def test_identity_names_reach_the_question_detector_through_the_config(tmp_path):
    jsonl(tmp_path / "m.jsonl", records(["is acme's new version out?", "is the new version out?"]))
    cfg = write_config(tmp_path / "listen.toml", [{"name": "ex", "type": "jsonl", "path": "m.jsonl"}],
                       names=("acme",))
    assert load(cfg).flags.our_names == ("acme",)
    assert cli(cfg, "pull").exit_code == 0
    got = inbox(cfg)
    assert got["is acme's new version out?"]["addressed_to_us"] is True
    assert got["is the new version out?"]["addressed_to_us"] is False


# -- feed kinds and their keys -------------------------------------------------

@pytest.mark.parametrize("feed, problem", [
    ({"kind": "suport"}, "kind: 'suport' (did you mean 'support'?)"),
    ({"negative_threshold": 1.5}, "negative_threshold: expected a number from 0 to 1"),
    ({"question_threshold": "high"}, "question_threshold: expected float"),
    ({"bots": 3}, "bots: expected a list of strings"),
])
def test_feed_flag_keys_are_validated(tmp_path, feed, problem):
    cfg = write_config(tmp_path / "listen.toml", [{"name": "ex", "type": "jsonl", "path": "m.jsonl", **feed}])
    with pytest.raises(ConfigError) as e:
        load(cfg)
    assert problem in str(e.value) and "feeds[0] (ex)" in str(e.value)


def test_feed_kinds_default_and_override(tmp_path):
    cfg = write_config(tmp_path / "listen.toml", [
        {"name": "blog", "type": "rss", "url": "https://blog.example.com/comments/feed/"},
        {"name": "help", "type": "jsonl", "path": "m.jsonl", "kind": "support"},
        {"name": "help2", "type": "jsonl", "path": "m.jsonl", "kind": "support", "negative_threshold": 0.2,
         "bots": ["Zendesk"]},
        {"name": "masto", "type": "mastodon", "instance": "https://m.example", "hashtag": "acme"},
    ], extra='bots = ["NotifyBot"]\n')
    c = load(cfg)
    assert c.flags_for("blog").kind == "blog" and c.flags_for("blog").negative_threshold > 0.5
    assert c.flags_for("help").negative_threshold < 0.5
    assert c.flags_for("help2").negative_threshold == 0.2
    assert c.flags_for("help2").bots == ("NotifyBot", "Zendesk")  # [identity] bots and the feed's own
    assert c.flags_for("masto").kind == "mentions" and c.flags_for("masto").negative_threshold == 0.5


def _between(texts: list[str], lo: float, hi: float) -> str:
    """A text whose shipped negative score lies in [lo, hi): chosen by the model of the day, not hard-coded."""
    for t in texts:
        if lo <= classify(t, FlagSettings(negative_threshold=1.0)).negative_score < hi:
            return t
    pytest.fail(f"no candidate text scores between {lo} and {hi}; add one")


def test_a_support_inbox_flags_the_plain_complaint_a_mention_stream_lets_pass(tmp_path):
    text = _between(INVOICE + ["we were promised a call back on Monday"], 0.3, 0.5)
    jsonl(tmp_path / "a.jsonl", [{"id": "1", "author": "ann", "text": text, "created_at": NOW - 600}])
    cfg = write_config(tmp_path / "listen.toml", [
        {"name": "help", "type": "jsonl", "path": "a.jsonl", "kind": "support"},
        {"name": "mentions", "type": "jsonl", "path": "a.jsonl"}])
    cli(cfg, "pull")
    assert "negative" in inbox(cfg, "--feed", "help")[text]["flags"]
    assert "negative" not in inbox(cfg, "--feed", "mentions")[text]["flags"]


# -- not every comment is a person ------------------------------------------------

def test_pingbacks_and_bots_never_wait_but_show_with_a_reason(tmp_path):
    texts = ["[…] how do you measure response time, asks Sarah in her post? […]",
             "Build failed: why is the test broken again?",
             "Why is the export button broken again?"]
    jsonl(tmp_path / "m.jsonl", [
        {"id": "1", "author": "Another Blog", "text": texts[0], "created_at": NOW - 900},
        {"id": "2", "author": "ci[bot]", "text": texts[1], "created_at": NOW - 800},
        {"id": "3", "author": "ann", "text": texts[2], "created_at": NOW - 700}])
    cfg = write_config(tmp_path / "listen.toml", [{"name": "ex", "type": "jsonl", "path": "m.jsonl"}])
    cli(cfg, "pull")
    waiting = {x["text"] for x in json.loads(cli(cfg, "inbox", "--json").stdout)}
    assert waiting == {texts[2]}
    everything = inbox(cfg)
    assert everything[texts[0]]["reasons"] == ["pingback: not a person"]
    assert everything[texts[1]]["reasons"] == ["bot: not a person (ci[bot])"]
    # The user knows better: a mark wins over the rule.
    assert cli(cfg, "mark", everything[texts[1]]["id"], "--question").exit_code == 0
    assert texts[1] in {x["text"] for x in json.loads(cli(cfg, "inbox", "--json").stdout)}


# -- corrections ------------------------------------------------------------------

@pytest.fixture
def support(tmp_path):
    others = ["thanks, that fixed it", "great service today", "love the new dashboard"]
    jsonl(tmp_path / "m.jsonl", records(INVOICE + others))
    cfg = write_config(tmp_path / "listen.toml", [{"name": "help", "type": "jsonl", "path": "m.jsonl",
                                                   "negative_threshold": 0.5}])
    assert cli(cfg, "pull").exit_code == 0
    return tmp_path, cfg


def test_mark_sets_flags_at_once_and_pulls_keep_them(support):
    tmp, cfg = support
    item = inbox(cfg)["great service today"]
    r = cli(cfg, "mark", item["id"], "--negative", "--question")
    assert r.exit_code == 0 and "marked: question, negative" in r.stdout
    got = inbox(cfg)["great service today"]
    assert set(got["flags"]) == {"question", "negative"} and "marked by you" in got["reasons"]
    # The author edits the text; the pull stores the edit and keeps the mark.
    recs = [json.loads(line) for line in (tmp / "m.jsonl").read_text().splitlines()]
    for rec in recs:
        if rec["text"] == "great service today":
            rec["text"] = "great service today!!"
    jsonl(tmp / "m.jsonl", recs)
    assert cli(cfg, "pull").exit_code == 0
    got = inbox(cfg)["great service today!!"]
    assert set(got["flags"]) == {"question", "negative"} and got["reasons"][0] == "marked by you"
    assert cli(cfg, "reflag").exit_code == 0
    assert set(inbox(cfg)["great service today!!"]["flags"]) == {"question", "negative"}
    # Marking one flag later keeps what the first mark said of the other.
    cli(cfg, "mark", item["id"], "--not-question")
    assert inbox(cfg)["great service today!!"]["flags"] == ["negative"]


def test_a_mark_is_in_the_items_history_with_who_made_it(support, monkeypatch):
    _, cfg = support
    item = inbox(cfg)["great service today"]
    monkeypatch.setenv("LISTEN_USER", "kim")
    assert cli(cfg, "mark", item["id"], "--negative", "--not-question").exit_code == 0
    shown = cli(cfg, "show", item["id"]).stdout
    assert "kim mark not question, negative" in shown


def test_mark_needs_a_flag_and_a_known_id(support):
    _, cfg = support
    assert cli(cfg, "mark", "1").exit_code == 2
    r = cli(cfg, "mark", "999", "--negative")
    assert r.exit_code != 0


def test_corrections_teach_the_other_mentions(support):
    """End to end: pull, mark, reflag, and another mention's flag changes."""
    tmp, cfg = support
    before = inbox(cfg)
    held_out = INVOICE[-1]
    assert "negative" not in before[held_out]["flags"]
    marked = [before[t]["id"] for t in INVOICE[:-1]]
    assert cli(cfg, "mark", *marked, "--negative").exit_code == 0
    cli(cfg, "mark", before["thanks, that fixed it"]["id"], before["love the new dashboard"]["id"], "--not-negative")
    # Marking changes the marked items only; reflag spreads what it taught.
    assert "negative" not in inbox(cfg)[held_out]["flags"]
    r = cli(cfg, "reflag")
    assert r.exit_code == 0 and r.stdout.startswith("re-flagged")
    after = inbox(cfg)[held_out]
    assert "negative" in after["flags"]
    assert any("learned from your corrections" in x for x in after["reasons"])
    assert "negative" not in inbox(cfg)["great service today"]["flags"]  # a compliment stays one
    # `listen classify` with the same config learns the same.
    out = json.loads(cli(cfg, "classify", "--jsonl", "--feed", "help", held_out).stdout)
    assert out["negative"] is True
    # `listen flags` lists the corrections and the feed's learned threshold, with P/R on them.
    report = json.loads(cli(cfg, "flags", "--json").stdout)
    assert len(report["corrections"]) == len(INVOICE) + 1
    feed = report["feeds"][0]
    assert feed["feed"] == "help" and feed["negative_learned"] < feed["negative_threshold"]
    m = report["measures"]["negative"]
    assert m["examples"] == len(INVOICE) + 1 and m["before"]["recall"] < 0.5
    assert m["after"]["recall"] > m["before"]["recall"]
    text = cli(cfg, "flags").stdout
    assert "Thresholds per feed" in text and "precision" in text and "invoice" in text


def test_a_pull_spreads_what_corrections_taught_to_the_inbox(support):
    tmp, cfg = support
    before = inbox(cfg)
    cli(cfg, "mark", *[before[t]["id"] for t in INVOICE[:-1]], "--negative")
    assert cli(cfg, "pull", "--quiet").exit_code == 0  # no `listen reflag`
    assert "negative" in inbox(cfg)[INVOICE[-1]]["flags"]


def test_flags_decided_anew_are_not_counted_as_updates(tmp_path):
    """A mark or a config edit re-decides flags; the pull's "updated" counts only what the source changed."""
    jsonl(tmp_path / "m.jsonl", records(["where is my refund?", "this is broken", "thanks a lot",
                                         "invoice is wrong again", "love it"]))
    cfg = write_config(tmp_path / "listen.toml", [{"name": "f", "type": "jsonl", "path": "m.jsonl"}])
    assert "f: 5 new, 0 updated" in cli(cfg, "pull").stdout
    cli(cfg, "mark", inbox(cfg)["invoice is wrong again"]["id"], "--not-negative")
    r = cli(cfg, "pull")
    assert "f: 0 new, 0 updated" in r.stdout, r.stdout
    assert "marked by you" in inbox(cfg)["invoice is wrong again"]["reasons"]
    # The source edits one text: that one is an update.
    jsonl(tmp_path / "m.jsonl", records(["where is my refund?", "this is broken", "thanks a lot!",
                                         "invoice is wrong again", "love it"]))
    assert "f: 0 new, 1 updated" in cli(cfg, "pull").stdout


def test_export_and_import_keep_corrections(support, tmp_path):
    _, cfg = support
    ids = inbox(cfg)
    cli(cfg, "mark", ids["great service today"]["id"], "--negative")
    cli(cfg, "mark", ids[INVOICE[0]]["id"], "--not-negative")
    out = cli(cfg, "export", "--format", "jsonl").stdout
    recs = {r["text"]: r for r in map(json.loads, out.splitlines())}
    assert recs["great service today"]["marked_negative"] is True
    assert recs["great service today"]["marked_question"] is None
    assert recs[INVOICE[0]]["marked_negative"] is False
    assert recs["thanks, that fixed it"]["marked_negative"] is None
    (tmp_path / "export.jsonl").write_text(out)
    other = tmp_path / "other"
    other.mkdir()
    cfg2 = write_config(other / "listen.toml", [{"name": "help", "type": "jsonl", "path": "m.jsonl"}])
    assert cli(cfg2, "import", str(tmp_path / "export.jsonl")).exit_code == 0
    report = json.loads(cli(cfg2, "flags", "--json").stdout)
    assert {(c["text"], c["negative"]) for c in report["corrections"]} == {("great service today", True),
                                                                           (INVOICE[0], False)}
    cli(cfg2, "reflag")  # imported flags have no detector version: all re-run, marks kept
    assert "negative" in inbox(cfg2)["great service today"]["flags"]
    assert "negative" not in inbox(cfg2)[INVOICE[0]]["flags"]


def test_a_bad_mark_in_an_import_names_the_line(tmp_path):
    rec = {"feed": "f", "native_id": "1", "author": "a", "text": "t", "created_at": NOW, "marked_negative": "yes"}
    (tmp_path / "x.jsonl").write_text(json.dumps(rec) + "\n")
    cfg = write_config(tmp_path / "listen.toml", [])
    r = cli(cfg, "import", str(tmp_path / "x.jsonl"))
    assert r.exit_code == 1 and "x.jsonl line 1: `marked_negative` must be true, false or null" in r.stderr


def test_a_version_1_database_gains_the_corrections_table(tmp_path):
    path = tmp_path / "old.db"
    make_v1_database(path, ("INSERT INTO meta (key, value) VALUES ('identity', 'x')", ()))
    store = open_store(path)
    try:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == schema.VERSION >= 4
        store.save_marks([{"feed": "f", "native_id": "1", "question": 1, "negative": None, "marked_at": NOW}])
        store.save_marks([{"feed": "f", "native_id": "1", "question": None, "negative": 0, "marked_at": NOW + 1}])
        (c,) = store.corrections()
        assert (c["question"], c["negative"], c["text"]) == (1, 0, None)  # the item is not stored yet
    finally:
        store.close()


WP_COMMENTS = """<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"
  xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
  <title>Comments for Sarah Dopp</title>
  <link>https://sarahdopp.example</link>
  <generator>https://wordpress.org/?v=6.7</generator>
  <item>
    <title>Comment on Five signs by Another Blog on Listening</title>
    <link>https://sarahdopp.example/2026/02/five-signs/#comment-1201</link>
    <dc:creator><![CDATA[Another Blog on Listening]]></dc:creator>
    <pubDate>{date}</pubDate>
    <guid isPermaLink="false">https://sarahdopp.example/?p=790#comment-1201</guid>
    <description><![CDATA[[&#8230;] who answers first when a customer asks why nobody replied? Sarah Dopp has five signs [&#8230;]]]></description>
    <content:encoded><![CDATA[<p>[&#8230;] who answers first when a customer asks why nobody replied? Sarah Dopp has five signs [&#8230;]</p>]]></content:encoded>
  </item>
  <item>
    <title>Comment on Five signs by Priya N.</title>
    <link>https://sarahdopp.example/2026/02/five-signs/#comment-1202</link>
    <dc:creator><![CDATA[Priya N.]]></dc:creator>
    <pubDate>{date}</pubDate>
    <guid isPermaLink="false">https://sarahdopp.example/?p=790#comment-1202</guid>
    <description><![CDATA[Could you share the checklist from the talk?]]></description>
    <content:encoded><![CDATA[<p>Could you share the checklist from the talk?</p>]]></content:encoded>
  </item>
</channel>
</rss>
"""


def test_a_wordpress_pingback_in_a_comment_feed_never_waits(tmp_path):
    from email.utils import formatdate

    (tmp_path / "comments.xml").write_text(WP_COMMENTS.replace("{date}", formatdate(NOW - 3600)))
    cfg = write_config(tmp_path / "listen.toml", [{"name": "blog", "type": "rss", "path": "comments.xml"}])
    assert cli(cfg, "pull").exit_code == 0
    waiting = json.loads(cli(cfg, "inbox", "--json").stdout)
    assert [x["author"] for x in waiting] == ["Priya N."]
    ping = [x for x in json.loads(cli(cfg, "inbox", "--json", "--all").stdout) if x["author"].startswith("Another")]
    assert ping and ping[0]["reasons"] == ["pingback: not a person"] and ping[0]["flags"] == []
    # Without the rule the excerpt's question would wait for a reply:
    assert classify(ping[0]["text"]).question


def test_listen_flags_before_any_correction_and_with_hostile_text(tmp_path):
    jsonl(tmp_path / "m.jsonl", [{"id": "1", "author": "eve", "created_at": NOW - 60,
                                  "text": "\u001b]0;pwned\u0007 why is this \u001b[2J broken?"}])
    cfg = write_config(tmp_path / "listen.toml", [{"name": "ex", "type": "jsonl", "path": "m.jsonl"}])
    cli(cfg, "pull")
    r = cli(cfg, "flags")
    assert r.exit_code == 0 and "No corrections yet" in r.stdout
    assert json.loads(cli(cfg, "flags", "--json").stdout)["measures"] == {}
    cli(cfg, "mark", "1", "--not-negative")
    out = cli(cfg, "flags").stdout
    assert "\u001b" not in out and "\u0007" not in out and "broken" in out
