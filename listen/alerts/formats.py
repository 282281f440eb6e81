"""Alert messages, per target type: the pure part. No I/O.

Everything a stranger wrote (author, name, title, text, reasons, URL) is hostile:
- it never reaches a mail header or an HTTP header: subjects and titles are
  our own words (counts, the alert's name) with control characters removed;
- in chat it cannot ping: every "@" becomes a full-width "＠" (no @channel,
  @here, @everyone, @all or @user), and Slack's own escapes (& < >) leave
  no <!channel>, <@U123> or <url|label> to forge; the generic webhook's plain
  text (read by programs: no entities) has full-width < > instead;
- in Markdown dialects (Mattermost, Discord) the characters that build links
  and formatting are backslash-escaped, so "[text](url)" stays text;
- controls and bidi overrides are made visible (listen.text.inert).
Our own links are built only from plain http(s) URLs (listen.report.web_url).
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Callable

from listen.alerts.rules import AlertConfig, over_target, waited
from listen.durations import humanize
from listen.export import waiting_record
from listen.models import Item
from listen.text import inert

LISTED = 20  # items spelled out in a chat message; the JSON carries them all
EXCERPT = 280
DISCORD_LIMIT = 2000
NTFY_LIMIT = 4000  # ntfy turns a longer body into an attachment


@dataclass
class Message:
    alert: str
    title: str  # our words only
    digest: bool
    items: list[Item]
    now: int
    targets: dict[str, int]  # feed -> reply_within seconds
    records: list[dict[str, Any]] = field(default_factory=list)  # inbox --json objects

    def over(self, item: Item) -> int:
        return over_target(item, self.now, self.targets.get(item.feed, 86400))


@dataclass
class Payload:
    """An HTTP request body and headers for one webhook-like target."""

    body: bytes
    headers: dict[str, str]


def build(alert: AlertConfig, items: list[Item], now: int, targets: dict[str, int], digest: bool) -> Message:
    people = len({(i.feed, i.author.lower()) for i in items})
    neg = sum(1 for i in items if i.negative)
    if digest:
        day = datetime.fromtimestamp(now, alert.zone).strftime("%a %d %b")
        head = f"listen digest ({alert.name}), {day}: "
    else:
        head = f"listen ({alert.name}): "
    who = "nobody" if not items else f"{people} {'person' if people == 1 else 'people'}"
    title = head + f"{who} waiting for a reply" + (f", {neg} negative" if neg else "")
    return Message(alert.name, header_safe(title), digest, items, now, targets,
                   [waiting_record(i, now) for i in items])


_HEADER_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def header_safe(text: str, limit: int = 200) -> str:
    """One line for a header: no CR, LF or other control, no line separators."""
    return " ".join(_HEADER_UNSAFE.sub(" ", text).split())[:limit]


# -- neutralisers --------------------------------------------------------------


def _one(text: str | None, limit: int = EXCERPT) -> str:
    return inert(text, limit=limit, one_line=True)


def no_ping(text: str) -> str:
    return text.replace("@", "\uff20")


def slack_escape(text: str) -> str:
    """Slack's three escapes (https://api.slack.com/reference/surfaces/formatting#escaping)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Stranger text is one line, always after a prefix of ours: no line-start syntax
# (#, >, lists) can form, so escaping what builds links, mentions and emphasis is enough.
_MD = re.compile(r"([\\`*_~\[\]<>|])")


_MD_NO_ANGLES = re.compile(r"([\\`*_~\[\]|])")


def md_escape(text: str, angles: bool = True) -> str:
    """Backslash-escape Markdown; `angles=False` leaves < and > to Slack's &lt; &gt; (Mattermost)."""
    return (_MD if angles else _MD_NO_ANGLES).sub(r"\\\1", text)


def _web(url: str | None) -> str | None:
    from listen.report import web_url

    return web_url(url)


def _flag_words(item: Item) -> str:
    return ", ".join(f.upper() for f in item.flags) or "unflagged"


def _meta(msg: Message, item: Item) -> str:
    over = msg.over(item)
    late = f", {humanize(over)} over target" if over else ""
    return f"{_flag_words(item)} · waiting {humanize(waited(item, msg.now))}{late} · {item.feed} ({item.network}) · #{item.id}"


def _who(item: Item) -> str:
    who = _one(item.author, 60)
    if item.author_name and item.author_name != item.author:
        who += f" ({_one(item.author_name, 60)})"
    return who


def _lines(msg: Message, esc: Callable[[str], str], link: Callable[[str], str], limit: int | None = None) -> str:
    """The message as text lines, each stranger's value passed through `esc`, our links through `link`."""
    out = [esc(msg.title)]
    if not msg.items:
        out.append(esc("Nobody is waiting for a reply. Inbox zero."))
    shown = 0
    for item in msg.items[:LISTED]:
        block = [f"• {esc(_meta(msg, item))}", f"  {esc(_who(item))}: {esc(_one(item.text))}"]
        url = _web(item.url)
        if url:
            block.append(f"  {link(url)}")
        candidate = "\n".join(out + block)
        if limit is not None and len(candidate) + 40 > limit:
            break
        out += block
        shown += 1
    if shown < len(msg.items):
        out.append(esc(f"… and {len(msg.items) - shown} more in listen inbox"))
    return "\n".join(out)


def plain_text(msg: Message) -> str:
    """Mail and ntfy bodies: inert text, no markup language to forge."""
    return _lines(msg, lambda s: s, lambda url: f"reply: {url}")


def _url_part(url: str, forbidden: str) -> str:
    for ch in forbidden:
        url = url.replace(ch, f"%{ord(ch):02X}")
    return url


def slack_text(msg: Message) -> str:
    return _lines(msg, lambda s: slack_escape(no_ping(s)),
                  lambda url: f"<{slack_escape(_url_part(url, '|'))}|reply>")


def mattermost_text(msg: Message) -> str:
    # Mattermost reads Markdown and Slack's <url|label> links alike: both are disarmed.
    return _lines(msg, lambda s: slack_escape(md_escape(no_ping(s), angles=False)),
                  lambda url: f"<{slack_escape(_url_part(url, '|'))}|reply>")


def discord_content(msg: Message) -> str:
    return _lines(msg, lambda s: md_escape(no_ping(s)),
                  lambda url: f"[reply](<{_url_part(url, '<>()')}>)", limit=DISCORD_LIMIT)


# A stranger's < and > as their full-width forms: relayed to a chat, no <!channel>,
# <@U123>, <#C1> or <url|label> can form. listen's own visible escapes (<U+202E>,
# from inert) are kept: they spell a code point and can neither ping nor link.
_ANGLES = re.compile(r"(<U\+[0-9A-F]{4,6}>)|[<>]")
_FULL_WIDTH = {"<": "\uff1c", ">": "\uff1e"}


def no_tags(text: str) -> str:
    return _ANGLES.sub(lambda m: m.group(1) or _FULL_WIDTH[m.group(0)], text)


def webhook_text(msg: Message) -> str:
    """The "text" of a generic webhook: plain text, no markup language's escapes (a JSON
    reader gets no &lt;), yet inert if a relay posts it to a chat: every @ and every
    < > of a stranger full-width, so it cannot ping or forge a link or mention."""
    return _lines(msg, lambda s: no_tags(no_ping(s)), _plain_link)


def _plain_link(url: str) -> str:
    # A stranger's URL, printed bare: an @ in its path would ping once relayed
    # ("https://x.example/@channel"), so it is percent-encoded, which means the same.
    # A user part ("https://bank.example@evil.example") is a phishing trick: not linked.
    scheme, rest = url.split("://", 1)
    cut = min([i for i in (rest.find(c) for c in "/?#") if i >= 0] or [len(rest)])
    if "@" in rest[:cut]:
        return "reply: (link withheld: it names a user before the host)"
    return f"reply: {scheme}://{rest[:cut]}{rest[cut:].replace('@', '%40')}"


def payload(kind: str, msg: Message, priority: str = "high") -> Payload:
    """The HTTP body and headers for webhook, slack, mattermost, discord or ntfy."""
    js = {"Content-Type": "application/json"}
    if kind == "webhook":
        body: Any = {"text": webhook_text(msg), "alert": msg.alert, "digest": msg.digest, "items": msg.records}
    elif kind in ("slack", "mattermost"):
        # Slack's own link detection off (unfurls of strangers' links too).
        text = slack_text(msg) if kind == "slack" else mattermost_text(msg)
        body = {"text": text, "unfurl_links": False, "unfurl_media": False}
    elif kind == "discord":
        # allowed_mentions parse=[]: Discord pings nobody, whatever the text says;
        # flags 4 (SUPPRESS_EMBEDS): no preview of a stranger's link.
        body = {"content": discord_content(msg), "allowed_mentions": {"parse": []}, "flags": 4}
    elif kind == "ntfy":
        text = plain_text(msg).encode("utf-8")[:NTFY_LIMIT].decode("utf-8", "ignore")
        neg = any(i.negative for i in msg.items)
        return Payload(text.encode("utf-8"), {
            "Content-Type": "text/plain; charset=utf-8",
            "Title": msg.title.encode("ascii", "replace").decode("ascii"),
            "Priority": header_safe(priority, 20) if neg and not msg.digest else "default",
            "Tags": "speech_balloon",
        })
    else:
        raise ValueError(kind)
    return Payload(json.dumps(body, ensure_ascii=False).encode("utf-8"), js)


def command_input(msg: Message) -> bytes:
    """What a command target reads on stdin: the generic webhook's object, the items as inbox --json prints them."""
    return json.dumps({"text": plain_text(msg), "alert": msg.alert, "digest": msg.digest, "items": msg.records},
                      ensure_ascii=False).encode("utf-8")


def email_message(alert: AlertConfig, msg: Message) -> EmailMessage:
    """A plain-text mail with an HTML alternative styled like the report. Headers are ours only."""
    from listen.report import CSS, _item

    m = EmailMessage()  # its default policy refuses CR/LF in any header: the last line of defence
    m["Subject"] = header_safe(msg.title)
    m["From"] = header_safe(alert.email["from"])
    m["To"] = ", ".join(header_safe(a) for a in alert.email["to"])
    m["Date"] = formatdate(msg.now, usegmt=True)
    sender_domain = alert.email["from"].rsplit("@", 1)[-1].strip(" >") or "listen.invalid"
    m["Message-ID"] = make_msgid("listen", domain=header_safe(sender_domain, 100))
    m["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies to a robot
    m.set_content(plain_text(msg) + "\n\n-- \nSent by listen. Run `listen inbox` for the whole inbox.\n")
    cards = "".join(_item(i, msg.now, msg.over(i)) for i in msg.items) or '<div class="empty">Nobody is waiting.</div>'
    page = ("<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(msg.title)}</title><style>{CSS}</style></head><body><main>"
            f"<header><h1>{html.escape(msg.title)}</h1><p>{_stamp(msg.now)}</p></header>"
            f"<section>{cards}</section><footer>Sent by listen.</footer></main></body></html>")
    m.add_alternative(page, subtype="html")
    return m


def _stamp(now: int) -> str:
    return datetime.fromtimestamp(now, timezone.utc).strftime("%a %d %b %Y %H:%M UTC")
