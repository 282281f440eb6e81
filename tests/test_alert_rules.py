"""Alerts, the pure parts: who is due for which target and when, and what the message says."""

from __future__ import annotations

import json
from datetime import datetime, time, timezone
from email import message_from_bytes, policy

import pytest

from listen.alerts import formats
from listen.alerts.rules import STALE_CLAIM, AlertConfig, digest_key, due, in_quiet, matches, parse_clock, parse_quiet
from listen.models import Item

# 2026-01-15 12:00 UTC, a Thursday
NOON = int(datetime(2026, 1, 15, 12, 0, tzinfo=timezone.utc).timestamp())
H = 3600


def item(i: str, waited: int, flags=("question",), feed="blog", author="ann", text="How do I export?",
         url=None, author_name=None) -> Item:
    return Item(id=i, feed=feed, network="rss", native_id=i, author=author, author_name=author_name, text=text,
                created_at=datetime.fromtimestamp(NOON - waited, timezone.utc), url=url, in_reply_to=None,
                thread_id=i, title=None, ours=False, question="question" in flags, negative="negative" in flags,
                reasons=[], state="open", snoozed_until=None, answered_at=None)


def alert(**kw) -> AlertConfig:
    return AlertConfig(name=kw.pop("name", "t"), type=kw.pop("type", "webhook"), **kw)


def target(feed: str) -> int:
    return {"blog": 4 * H}.get(feed, 24 * H)


@pytest.mark.parametrize("quiet, tz, now, expected", [
    ("22:00-07:00", "UTC", NOON, False),
    ("22:00-07:00", "UTC", NOON + 11 * H, True),  # 23:00
    ("22:00-07:00", "UTC", NOON - 6 * H, True),  # 06:00
    ("22:00-07:00", "UTC", NOON + 19 * H - 1, True),  # 06:59:59 next day
    ("22:00-07:00", "UTC", NOON + 19 * H, False),  # 07:00: quiet has ended
    ("12:00-13:00", "UTC", NOON, True),  # the start minute is quiet
    ("12:00-13:00", "Europe/Paris", NOON, False),  # 13:00 in Paris
    ("13:00-14:00", "Europe/Paris", NOON, True),
])
def test_quiet_hours(quiet, tz, now, expected):
    assert in_quiet(alert(quiet=parse_quiet(quiet), timezone=tz), now) is expected


@pytest.mark.parametrize("at, tz, now, key", [
    ("08:00", "UTC", NOON, "digest:2026-01-15"),
    ("13:00", "UTC", NOON, None),
    ("12:00", "UTC", NOON, "digest:2026-01-15"),  # at the minute itself
    ("08:00", "America/New_York", NOON, None),  # 07:00 there
    ("07:00", "America/New_York", NOON, "digest:2026-01-15"),
    ("00:30", "Pacific/Auckland", NOON, "digest:2026-01-16"),  # already tomorrow there (01:00)
])
def test_digest_key_is_the_local_day_once_its_time_has_come(at, tz, now, key):
    assert digest_key(alert(digest=parse_clock(at), timezone=tz), now) == key


@pytest.mark.parametrize("bad", ["8", "24:00", "08:60", "noon", "08:00-"])
def test_clock_and_quiet_parsing_refuse_nonsense(bad):
    with pytest.raises(ValueError):
        parse_clock(bad)
    with pytest.raises(ValueError):
        parse_quiet(f"{bad}-{bad}")


@pytest.mark.parametrize("cfg, it, expected", [
    (dict(), item("1", 0), True),
    (dict(after=2 * H), item("1", 2 * H - 1), False),
    (dict(after=2 * H), item("1", 2 * H), True),
    (dict(after=None), item("1", 4 * H - 1), False),  # "target": blog's 4h
    (dict(after=None), item("1", 4 * H), True),
    (dict(after=None), item("1", 5 * H, feed="forum"), False),  # forum's target is 24h
    (dict(when=("negative",)), item("1", H), False),
    (dict(when=("negative",)), item("1", H, flags=("negative",)), True),
    (dict(feeds=("forum",)), item("1", H), False),
    (dict(feeds=("blog",)), item("1", H), True),
])
def test_which_items_concern_an_alert(cfg, it, expected):
    assert matches(alert(**cfg), it, NOON, target) is expected


def test_due_skips_sent_and_live_claims_and_retries_failed_and_stale_ones():
    waiting = [item(str(n), H) for n in range(1, 6)]
    records = {"1": ("sent", NOON - 60), "2": ("sending", NOON - 60), "3": ("failed", NOON - 60),
               "4": ("sending", NOON - STALE_CLAIM - 1), "9": ("failed", NOON - 60), "8": ("sent", NOON - 60)}
    d = due(alert(), waiting, records, NOON, target)
    assert d.keys == ["3", "4", "5"]
    assert d.forget == ["9"]  # a failed item that no longer waits is dropped; sent records stay


def test_quiet_hours_hold_immediate_alerts_but_not_digests():
    waiting = [item("1", H)]
    quiet = parse_quiet("11:00-13:00")
    assert due(alert(quiet=quiet), waiting, {}, NOON, target).keys == []
    assert due(alert(quiet=quiet), waiting, {}, NOON + 2 * H, target).keys == ["1"]
    d = due(alert(quiet=quiet, digest=time(8, 0)), waiting, {"1": ("sent", NOON - H)}, NOON, target)
    assert d.keys == ["digest:2026-01-15"] and [i.id for i in d.items] == ["1"]  # everyone, sent before or not
    assert due(alert(digest=time(8, 0)), waiting, {"digest:2026-01-15": ("sent", NOON - H)}, NOON, target).keys == []


HOSTILE = [
    item("1", 5 * H, author="@channel", author_name="<!everyone> <@U123ABC>",
         text="@here @everyone <!channel> <!here|x> [click me](https://evil.example/) <https://evil.example|Your bank>"
              " & **bold** `code` \x1b]0;pwned\x07 \u202eevil", url="https://example.com/p?a=1&b=|2"),
    item("2", H, flags=("negative",), author="mallory\r\nBcc: victim@example.com",
         text="Subject: hi\r\n\r\nbody injection", url="javascript:alert(1)"),
]


def message(digest=False) -> formats.Message:
    return formats.build(alert(name="team"), HOSTILE, NOON, {"blog": 4 * H}, digest)


def test_slack_text_cannot_ping_or_forge_links():
    text = formats.slack_text(message())
    for bad in ("@channel", "@here", "@everyone", "<!", "<@", "<https://evil", "\x1b", "\u202e"):
        assert bad not in text, bad
    assert "&lt;https://evil.example|Your bank&gt;" in text  # shown as text
    assert "＠channel" in text
    # our own link, with Slack's escapes inside it and | taken out of the URL
    assert "<https://example.com/p?a=1&amp;b=%7C2|reply>" in text
    assert "javascript:" not in text  # not a web link: not linked, not shown
    assert "1h over target" in text


def test_mattermost_and_discord_neutralise_markdown_links_and_mentions():
    mm = formats.mattermost_text(message())
    dc = formats.discord_content(message())
    for text in (mm, dc):
        assert "[click me](https" not in text and r"\[click me\](https" in text
        assert "@everyone" not in text and "@here" not in text
    assert "<!channel>" not in mm and "<@U123ABC>" not in dc
    assert "\\<＠U123ABC\\>" in dc
    body = json.loads(formats.payload("discord", message()).body)
    assert body["allowed_mentions"] == {"parse": []}
    assert len(body["content"]) <= formats.DISCORD_LIMIT


def test_discord_content_stays_under_its_limit_with_many_items():
    many = [item(str(n), H, text="x" * 280) for n in range(60)]
    content = formats.discord_content(formats.build(alert(), many, NOON, {}, False))
    assert len(content) <= formats.DISCORD_LIMIT and "55 more in listen inbox" in content


def test_generic_webhook_carries_inbox_objects_and_defused_text():
    body = json.loads(formats.payload("webhook", message()).body)
    assert set(body) >= {"text", "items"}
    assert [r["id"] for r in body["items"]] == ["1", "2"]
    assert body["items"][0]["text"] == HOSTILE[0].text  # the inbox --json object, exactly
    assert "@here" not in body["text"] and "<!channel>" not in body["text"]


def test_generic_webhook_text_has_no_html_entities_and_cannot_ping_or_link():
    text = formats.webhook_text(message())
    for bad in ("&lt;", "&gt;", "&amp;", "@", "<!", "<@", "<https://evil", "\x1b", "\u202e", "javascript:"):
        assert bad not in text, bad
    assert "＜https://evil.example|Your bank＞ & **bold**" in text
    assert "^[]0;pwned^G <U+202E>evil" in text  # inert's visible escapes, kept as they are
    assert "reply: https://example.com/p?a=1&b=|2" in text  # our link, plain
    assert "1h over target" in text


@pytest.mark.parametrize("url,line", [
    ("https://example.com/t/1#p2", "reply: https://example.com/t/1#p2"),
    ("https://example.com/@channel?x=@here#@all", "reply: https://example.com/%40channel?x=%40here#%40all"),
    ("https://bank.example@evil.example/", "reply: (link withheld: it names a user before the host)"),
    ("https://x@everyone", "reply: (link withheld: it names a user before the host)"),
])
def test_generic_webhook_links_cannot_ping(url, line):
    assert formats._plain_link(url) == line


def test_ntfy_headers_hold_only_our_words():
    p = formats.payload("ntfy", message())
    assert p.headers["Priority"] == "high"  # a negative remark
    assert all(v.isascii() and "\n" not in v and "\r" not in v for v in p.headers.values())
    assert "mallory" not in p.headers["Title"]
    assert b"\x1b" not in p.body
    assert formats.payload("ntfy", message(digest=True)).headers["Priority"] == "default"


def test_mail_headers_cannot_be_injected():
    m = formats.email_message(alert(type="email", email={"from": "listen@example.com", "to": ("a@example.com",)}),
                              message())
    raw = m.as_bytes()
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["Bcc"] is None
    assert parsed["Date"].datetime.timestamp() == NOON and parsed["Message-ID"].endswith("@example.com>")
    assert [k for k in parsed.keys()].count("Subject") == 1
    assert "mallory" not in parsed["Subject"]
    html = parsed.get_body(("html",)).get_content()
    assert "<!everyone>" not in html and "&lt;!everyone&gt;" in html
    assert 'href="javascript' not in html
    assert "over target" in html
    plain = parsed.get_body(("plain",)).get_content()
    assert "mallory Bcc: victim@example.com" in plain  # one line, in the body only


def test_header_safe_strips_every_line_break():
    assert formats.header_safe("a\r\nb\u2028c\x85d\te") == "a b c d e"
