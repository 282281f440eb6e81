"""RSS and Atom documents into plain entries, fast when the XML is well-formed.

Most feeds are well-formed XML, and ElementTree (expat, in C) reads them an
order of magnitude faster than feedparser. feedparser stays as the fallback
for the broken, oddly encoded and exotic ones, which it handles better than
anything we would write. Both paths produce the same `Entry`.
"""

from __future__ import annotations

import calendar
import email.utils
import html
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urljoin

ATOM = "{http://www.w3.org/2005/Atom}"
RSS1 = "{http://purl.org/rss/1.0/}"
RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
DC = "{http://purl.org/dc/elements/1.1/}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
THR = "{http://purl.org/syndication/thread/1.0}"


@dataclass
class Entry:
    id: str | None
    link: str | None
    title: str
    author: str | None
    html: str  # the body as HTML (plain-text bodies are escaped into it)
    published: datetime | None
    thr_ref: str | None = None
    thr_href: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class Doc:
    title: str | None
    updated: datetime | None
    entries: list[Entry]
    warning: str | None = None  # set when only part of a broken document could be read


class NotAFeed(ValueError):
    pass


def parse(body: bytes, url: str, content_type: str | None = None) -> Doc:
    try:
        root = ET.fromstring(body)
    except (ET.ParseError, ValueError, LookupError):
        return _with_feedparser(body, url, content_type)
    tag = root.tag
    if tag == "rss" or tag == "channel":
        channel = root.find("channel") if tag == "rss" else root
        if channel is None:
            raise NotAFeed("an <rss> document without a <channel>")
        return _rss(channel, channel.findall("item"), url)
    if tag == f"{ATOM}feed":
        return _atom(root, url)
    if tag == f"{RDF}RDF":
        return _rss(root.find(f"{RSS1}channel"), root.findall(f"{RSS1}item"), url, ns=RSS1)
    # Something well-formed we do not know (Atom 0.3, a namespaced oddity): let feedparser try.
    return _with_feedparser(body, url, content_type)


# -- the fast path --------------------------------------------------------


def _text(el: ET.Element | None) -> str:
    return "".join(el.itertext()).strip() if el is not None else ""


def _absolute(base: str, link: str) -> str:
    # Most links are absolute already; urljoin costs more than the rest of an entry.
    return link if link.startswith(("https://", "http://")) else urljoin(base, link)


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    value = value.strip()
    try:
        d = email.utils.parsedate_to_datetime(value)  # RFC 822, as RSS writes dates
    except (TypeError, ValueError, IndexError):
        try:
            d = datetime.fromisoformat(value.replace("Z", "+00:00"))  # W3C/ISO 8601, as Atom does
        except ValueError:
            return None
    # Whole seconds: that is what storage keeps, and what feedparser gives.
    return (d if d.tzinfo else d.replace(tzinfo=timezone.utc)).astimezone(timezone.utc).replace(microsecond=0)


def _rss(channel: ET.Element | None, items: list[ET.Element], url: str, ns: str = "") -> Doc:
    title = _text(channel.find(f"{ns}title")) if channel is not None else None
    updated = None
    if channel is not None:
        updated = _date(_text(channel.find("lastBuildDate")) or _text(channel.find("pubDate"))
                        or _text(channel.find(f"{DC}date")))
    entries = []
    for it in items:
        link = _text(it.find(f"{ns}link")) or None
        guid = _text(it.find("guid")) or it.get(f"{RDF}about") or None
        body = _text(it.find(f"{CONTENT}encoded")) or _text(it.find(f"{ns}description"))
        thr = it.find(f"{THR}in-reply-to")
        published = _date(_text(it.find("pubDate")) or _text(it.find(f"{DC}date")))
        entries.append(Entry(
            id=guid,
            link=_absolute(url, link) if link else None,
            title=_text(it.find(f"{ns}title")),
            author=_text(it.find(f"{DC}creator")) or _text(it.find("author")) or None,
            html=body,
            published=published,
            thr_ref=thr.get("ref") if thr is not None else None,
            thr_href=thr.get("href") if thr is not None else None,
            raw={"id": guid, "link": link, "title": _text(it.find(f"{ns}title")),
                 "published": _text(it.find("pubDate")) or _text(it.find(f"{DC}date")) or None},
        ))
    return Doc(title or None, updated, entries)


def _atom_body(el: ET.Element | None) -> str:
    if el is None:
        return ""
    kind = el.get("type", "text")
    if kind == "xhtml":
        div = next(iter(el), None)
        inner = div if div is not None else el
        return (inner.text or "") + "".join(ET.tostring(c, encoding="unicode") for c in inner)
    text = el.text or ""
    return text if kind in ("html", "text/html") else html.escape(text)


def _atom(root: ET.Element, url: str) -> Doc:
    entries = []
    for e in root.findall(f"{ATOM}entry"):
        link = None
        for ln in e.findall(f"{ATOM}link"):
            if ln.get("rel", "alternate") == "alternate" and ln.get("href"):
                link = _absolute(url, ln.get("href"))
                break
        author = e.find(f"{ATOM}author/{ATOM}name")
        thr = e.find(f"{THR}in-reply-to")
        body = _atom_body(e.find(f"{ATOM}content")) or _atom_body(e.find(f"{ATOM}summary"))
        published = _text(e.find(f"{ATOM}published")) or _text(e.find(f"{ATOM}updated"))
        title_el = e.find(f"{ATOM}title")
        title = html.unescape(_text(title_el)) if title_el is not None and title_el.get("type") == "html" else _text(title_el)
        ident = _text(e.find(f"{ATOM}id")) or None
        entries.append(Entry(
            id=ident, link=link, title=title,
            author=_text(author) or None, html=body, published=_date(published),
            thr_ref=thr.get("ref") if thr is not None else None,
            thr_href=thr.get("href") if thr is not None else None,
            raw={"id": ident, "link": link, "title": title, "published": published or None},
        ))
    return Doc(_text(root.find(f"{ATOM}title")) or None, _date(_text(root.find(f"{ATOM}updated"))), entries)


# -- the forgiving path -----------------------------------------------------


def _fp_date(d: Any, keys: tuple[str, ...]) -> datetime | None:
    for key in keys:
        # keys(): what the document really said; .get() would trip feedparser's date fallbacks
        t = d[key] if key in d.keys() else None
        if t:
            try:
                return datetime.fromtimestamp(calendar.timegm(t), timezone.utc)
            except (OverflowError, ValueError, TypeError):
                continue
    return None


def _with_feedparser(body: bytes, url: str, content_type: str | None) -> Doc:
    import feedparser  # imported only for documents the fast path cannot read

    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    parsed = feedparser.parse(body, response_headers=headers, sanitize_html=False, resolve_relative_uris=True)
    fp_entries = parsed.get("entries") or []
    warning = None
    benign = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
    if parsed.get("bozo") and not isinstance(parsed.get("bozo_exception"), benign):
        problem = str(parsed.get("bozo_exception"))[:160]
        if not fp_entries:
            raise NotAFeed(f"not well-formed XML: {problem}")
        # Real feeds are often slightly broken (a stray &nbsp;); keep what parsed, say so.
        warning = f"not well-formed XML ({problem[:120]}); kept the {len(fp_entries)} entries that could be read"
    entries = []
    for e in fp_entries:
        content = e.get("content") or [{}]
        thr = e.get("thr_in-reply-to") or {}
        detail = e.get("author_detail") or {}
        # keys() holds what the feed really said; .get("updated") would trip a feedparser fallback
        raw = {k: _s(e[k]) for k in ("id", "link", "title", "published", "updated") if k in e.keys()}
        entries.append(Entry(
            id=_s(e.get("id")) or None,
            link=_s(e.get("link")) or None,
            title=_s(e.get("title")),
            author=_s(detail.get("name")) or _s(e.get("author")) or None,
            html=_s(content[0].get("value")) or _s(e.get("summary")) or _s(e.get("description")),
            published=_fp_date(e, ("published_parsed", "updated_parsed", "created_parsed")),
            thr_ref=_s(thr.get("ref")) or None,
            thr_href=_s(thr.get("href")) or None,
            raw=raw,
        ))
    feed = parsed.get("feed", {})
    return Doc(_s(feed.get("title")) or None, _fp_date(feed, ("updated_parsed", "published_parsed")), entries, warning)


def _s(value: Any) -> str:
    """feedparser gives None, or odd types, where a broken document leaves a gap."""
    return value if isinstance(value, str) else ""
