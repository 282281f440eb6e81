"""One clock, from the Listener down: a frozen `now` gives the same times everywhere listen prints one.

$LISTEN_NOW freezes the clock of every command; the tests below run the whole loop
at an instant far from the test machine's date and check each time printed.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

from tests.helpers import jsonl, write_config
from tests.test_crash import invoke

NOW = int(datetime(2033, 7, 14, 10, 0, tzinfo=timezone.utc).timestamp())  # far from any test run's wall clock
H = 3600

RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>Blog comments</title><link>https://b.example/</link>
<item><title>Comment by Lena</title><link>https://b.example/p#c1</link><guid isPermaLink="false">c1</guid><dc:creator xmlns:dc="http://purl.org/dc/elements/1.1/">Lena</dc:creator>
<pubDate>{when}</pubDate><description>Why does the signup page keep failing?</description></item>
</channel></rss>"""


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds")


def test_the_whole_loop_under_a_frozen_clock(tmp_path, capsys, monkeypatch):
    import email.utils

    monkeypatch.setenv("LISTEN_NOW", str(NOW))
    asked, answered, waiting = NOW - 30 * H, NOW - 27 * H, NOW - 5 * H
    jsonl(tmp_path / "m.jsonl", [
        {"id": "q1", "author": "ann", "text": "How do I export my data?", "created_at": asked},
        {"id": "a1", "author": "acme", "text": "Settings, then Data.", "created_at": answered, "in_reply_to": "q1"},
        {"id": "q2", "author": "bob", "text": "Is the API down again?", "created_at": waiting},
    ])
    rss_at = NOW - 50 * H
    (tmp_path / "blog.xml").write_text(RSS.format(when=email.utils.format_datetime(
        datetime.fromtimestamp(rss_at, timezone.utc))))
    cfg = write_config(tmp_path / "listen.toml", [{"name": "m", "type": "jsonl", "path": "m.jsonl"},
                                                  {"name": "blog", "type": "rss", "path": "blog.xml"}])
    c = ("--config", str(cfg))
    assert invoke(capsys, *c, "pull").returncode == 0

    # inbox --json: waiting_seconds is now minus created_at, to the second
    inbox = json.loads(invoke(capsys, *c, "inbox", "--json").stdout)
    got = {i["author"]: (i["created_at"], i["waiting_seconds"]) for i in inbox}
    assert got == {"bob": (_iso(waiting), 5 * H), "Lena": (_iso(rss_at), 50 * H)}

    # show: the absolute time and how long ago, from the same clock
    bob = next(i["id"] for i in inbox if i["author"] == "bob")
    shown = invoke(capsys, *c, "show", bob).stdout
    assert datetime.fromtimestamp(waiting, timezone.utc).strftime("%Y-%m-%d %H:%M UTC") in shown
    assert "5h ago" in shown

    # stats --json: the period ends now; the answer took 3h
    stats = json.loads(invoke(capsys, *c, "stats", "--json").stdout)
    assert stats["until"] == _iso(NOW)
    assert stats["since"] == _iso(NOW - 30 * 86400)
    assert stats["overall"]["first_response_seconds"] == {"median": 3 * H, "p90": 3 * H}
    assert stats["overall"]["waiting"] == 2

    # export: the same waiting_seconds as the inbox, and the answer's time
    exported = {r["native_id"]: r for r in map(json.loads, invoke(capsys, *c, "export").stdout.splitlines())}
    assert exported["q2"]["waiting_seconds"] == 5 * H
    assert exported["c1"]["waiting_seconds"] == 50 * H
    assert exported["q1"]["waiting_seconds"] is None and exported["q1"]["answered_at"] == _iso(answered)
    assert exported["q1"]["created_at"] == _iso(asked)

    # report: dated now, each waiting person "since" their mention
    page = invoke(capsys, *c, "report", "--html", "-").stdout
    assert "Thu 14 Jul 2033 10:00 UTC" in page
    assert "since 2033-07-14 05:00 UTC" in page  # bob
    assert "since 2033-07-12 08:00 UTC" in page  # Lena
    assert "2033-06-14 to 2033-07-14" in page

    # feeds: the last success is the frozen now
    feeds = invoke(capsys, *c, "feeds").stdout
    assert re.search(r"blog .* 0s ago", feeds), feeds


def test_a_kept_demo_shows_its_people_and_figures_on_any_date(tmp_path, capsys, monkeypatch):
    """`listen demo --keep d && cd d && listen inbox && listen stats && listen report --html r.html`."""
    monkeypatch.setenv("LISTEN_NOW", str(NOW))
    d = tmp_path / "d"
    r = invoke(capsys, "demo", "--keep", str(d))
    assert r.returncode == 0 and "Thu 14 Jul 2033" in r.stdout
    monkeypatch.chdir(d)
    monkeypatch.setenv("LISTEN_NOW", str(NOW + 2 * H))  # a little later, as a newcomer would go on
    inbox = invoke(capsys, "inbox").stdout
    assert "7 people waiting" in inbox
    assert "Dev Patel" in inbox and "Priya N." in inbox
    stats = json.loads(invoke(capsys, "stats", "--json").stdout)
    assert stats["overall"]["mentions"] == 15 and stats["overall"]["answered"] == 5
    assert stats["overall"]["first_response_seconds"]["median"] > 0
    assert invoke(capsys, "report", "--html", "r.html").returncode == 0
    page = (d / "r.html").read_text()
    assert "Dev Patel" in page and "Priya N." in page
    assert "7 people waiting" in page


def test_the_demo_reads_the_same_on_every_date(capsys, monkeypatch):
    outs = []
    for now in (NOW, NOW + 400 * 86400 + 12345):
        monkeypatch.setenv("LISTEN_NOW", str(now))
        out = invoke(capsys, "demo").stdout
        # The dates differ, and only the dates: the first line names the day, the conversation stamps each message.
        out = re.sub(r"\(\d+\.\ds\)", "(TIME)", out)  # how long each feed took to pull: the machine's, not the clock's
        outs.append(re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", "DATE", out.split("\n", 1)[1]))
    assert outs[0] == outs[1]
    assert "Dev Patel" in outs[0] and "DATE" in outs[0]
