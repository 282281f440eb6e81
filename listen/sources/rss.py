"""RSS 0.9x/1.0/2.0 and Atom feeds, with blog comment feeds in mind.

A comment's conversation is the post it was left on: the comment's permalink
without its #fragment. Its parent comment, when the feed says, comes from
Atom threading (RFC 4685 thr:in-reply-to) or from WordPress's "In reply to
<a href=...#comment-N>" line.
"""

from __future__ import annotations

import calendar
import hashlib
import re
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from listen.http import Http
from listen.models import Fetched, FetchState, RawItem
from listen.sources import Option, Source
from listen.text import html_to_text

# WordPress prefixes a threaded comment with this line in its feeds.
_WP_REPLY = re.compile(r"^\s*<p>\s*In reply to\s*<a[^>]*href=['\"]([^'\"]+)['\"][^>]*>.*?</a>\.?\s*</p>\s*", re.I | re.S)
_WP_TITLE = re.compile(r"^Comment on (?P<post>.+) by (?P<author>.+)$", re.S)
# Internal entity declarations are how "billion laughs" documents blow up; no real feed needs one.
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.I)
_FEEDISH = re.compile(rb"<(rss|feed|rdf:RDF|channel)[\s>]", re.I)


class RssSource(Source):
    network = "rss"
    options = {
        "url": Option(str, "the feed's address, e.g. https://blog.example.com/comments/feed/"),
        "path": Option(str, "or a local feed file, relative to the config file"),
    }

    @classmethod
    def check(cls, options: dict[str, Any]) -> list[str]:
        if bool(options.get("url")) == bool(options.get("path")):
            return ["set either `url` or `path` (exactly one)"]
        return []

    def fetch(self, http: Http, state: FetchState) -> Fetched:
        if self.feed.get("path"):
            path = self.feed.path("path")
            try:
                body = path.read_bytes()
            except OSError as e:
                raise self.error(f"cannot read {path}: {e.strerror or e}") from None
            fetched = Fetched(state=state)
            fetched.items = self.parse(body, path.as_uri(), None, fetched.warnings)
            return fetched
        url = self.feed.get("url")
        resp = http.get(url, feed=self.feed.name, etag=state.etag, last_modified=state.last_modified)
        if resp.not_modified:
            return Fetched(state=state, not_modified=True)
        new_state = FetchState(resp.headers.get("etag"), resp.headers.get("last-modified"), state.cursor)
        fetched = Fetched(state=new_state)
        fetched.items = self.parse(resp.content, resp.url, resp.headers.get("content-type"), fetched.warnings)
        return fetched

    def parse(self, body: bytes, url: str, content_type: str | None,
              warnings: list[str] | None = None) -> list[RawItem]:
        import feedparser  # imported here: only pulls of rss feeds pay for it

        head = body[:4096]
        if _ENTITY_DECL.search(body[:65536]):
            raise self.error("refused: the feed declares XML entities (a known way to exhaust memory)")
        if not _FEEDISH.search(body[:65536]):
            kind = (content_type or "").split(";")[0] or "a document"
            what = "an HTML page" if re.search(rb"<html", head, re.I) else kind
            raise self.error(f"not a feed: {url} returned {what}, not RSS or Atom")
        headers = {"content-location": url}
        if content_type:
            headers["content-type"] = content_type
        parsed = feedparser.parse(body, response_headers=headers, sanitize_html=False, resolve_relative_uris=True)
        entries = parsed.get("entries") or []
        if parsed.get("bozo") and not entries:
            exc = parsed.get("bozo_exception")
            raise self.error(f"the feed at {url} is not well-formed XML: {str(exc)[:160]}")
        if parsed.get("bozo") and warnings is not None:
            # Real feeds are often slightly broken (a stray &nbsp;); keep what parsed, say so.
            warnings.append(f"not well-formed XML ({str(parsed.get('bozo_exception'))[:120]}); "
                            f"kept the {len(entries)} entries that could be read")
        feed_title = parsed.get("feed", {}).get("title")
        feed_date = _timestamp(parsed.get("feed", {}), ("updated_parsed", "published_parsed"))
        by_link = {}
        for e in entries:
            if e.get("link"):
                by_link[e["link"]] = _native_id(e)
        return [self._item(e, feed_title, feed_date, by_link) for e in entries]

    def _item(self, e: Any, feed_title: str | None, feed_date: datetime | None, by_link: dict[str, str]) -> RawItem:
        native_id = _native_id(e)
        link = e.get("link")
        html = ""
        if e.get("content"):
            html = e["content"][0].get("value", "")
        html = html or e.get("summary", "") or e.get("description", "")
        parent = None
        m = _WP_REPLY.match(html)
        if m:
            html = html[m.end():]
            parent = _wordpress_parent(m.group(1), native_id, by_link)
        thr = e.get("thr_in-reply-to")
        if thr and not parent:
            ref, href = thr.get("ref"), thr.get("href", "")
            # A ref naming another comment is a parent; a ref naming the post is top level.
            if ref and (ref in by_link.values() or urlsplit(href).fragment):
                parent = by_link.get(href, ref)
        author_detail = e.get("author_detail") or {}
        author = author_detail.get("name") or e.get("author") or "anonymous"
        title = e.get("title") or ""
        wp = _WP_TITLE.match(title)
        if wp:
            title = wp.group("post")
        elif title.startswith("By: "):
            title = feed_title.removeprefix("Comments on: ") if feed_title else None
        return RawItem(
            native_id=native_id,
            author=author.strip(),
            author_name=None,
            text=html_to_text(html) or html_to_text(e.get("title", "")),
            created_at=_timestamp(e, ("published_parsed", "updated_parsed", "created_parsed")) or feed_date,
            url=link,
            in_reply_to=parent,
            thread_id=_conversation(link) if link else None,
            title=title or feed_title,
            # keys() holds what the feed really said; .get("updated") would trip a feedparser fallback
            raw={k: e[k] for k in ("id", "link", "title", "author", "published", "updated", "summary")
                 if k in e.keys()},
        )


def _native_id(e: Any) -> str:
    """The entry's guid/id, else its link, else a hash of what it says: stable across pulls."""
    if e.get("id"):
        return str(e["id"])
    if e.get("link"):
        return str(e["link"])
    basis = "\x1f".join(str(e.get(k, "")) for k in ("title", "author", "published", "summary"))
    return "sha1:" + hashlib.sha1(basis.encode("utf-8", "replace")).hexdigest()


def _timestamp(d: Any, keys: tuple[str, ...]) -> datetime | None:
    for key in keys:
        t = d.get(key)
        if t:
            try:
                return datetime.fromtimestamp(calendar.timegm(t), timezone.utc)
            except (OverflowError, ValueError, TypeError):
                continue
    return None


def _conversation(link: str) -> str:
    """The post a comment belongs to: its permalink without #fragment or Blogger's showComment."""
    parts = urlsplit(link)
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "showComment"])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def _wordpress_parent(href: str, own_id: str, by_link: dict[str, str]) -> str:
    if href in by_link:
        return by_link[href]
    # Parent not in this page of the feed: WordPress guids are "<post guid>#comment-N",
    # and a parent sits on the same post, so its guid shares our prefix.
    frag = urlsplit(href).fragment
    if frag and "#" in own_id:
        return own_id.split("#", 1)[0] + "#" + frag
    return href
