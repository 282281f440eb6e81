"""RSS 0.9x/1.0/2.0 and Atom feeds, with blog comment feeds in mind.

A comment's conversation is the post it was left on: the comment's permalink
without its #fragment. Its parent comment, when the feed says, comes from
Atom threading (RFC 4685 thr:in-reply-to) or from WordPress's "In reply to
<a href=...#comment-N>" line.
"""

from __future__ import annotations

import hashlib
import html
import re
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from listen.http import Http
from listen.models import Download, Fetched, FetchState, RawItem
from listen.sources import Option, Source, feeddoc
from listen.text import html_to_text, normalise_name

# WordPress prefixes a threaded comment with this line in its feeds.
_WP_REPLY = re.compile(r"^\s*<p>\s*In reply to\s*<a[^>]*href=['\"]([^'\"]+)['\"][^>]*>.*?</a>\.?\s*</p>\s*", re.I | re.S)
_WP_TITLE = re.compile(r"^Comment on (?P<post>.+) by (?P<author>.+)$", re.S)
# Internal entity declarations are how "billion laughs" documents blow up; no real feed needs one.
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.I)
_FEEDISH = re.compile(rb"<(rss|feed|rdf:RDF|channel)[\s>]", re.I)
_EMAIL = re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+")
_WIDE = (b"\xff\xfe", b"\xfe\xff", b"\x00<", b"<\x00")


class RssSource(Source):
    network = "rss"
    options = {
        "url": Option(str, "the feed's address, e.g. https://blog.example.com/comments/feed/"),
        "path": Option(str, "or a local feed file, relative to the config file"),
        "show_email": Option(bool, "where a feed gives a commenter's e-mail address and no name, store and show "
                                   "the address (off: a stable placeholder, so that no address is shown)",
                             default=False),
    }

    @classmethod
    def check(cls, options: dict[str, Any]) -> list[str]:
        if bool(options.get("url")) == bool(options.get("path")):
            return ["set either `url` or `path` (exactly one)"]
        return []

    def fetch(self, http: Http, state: FetchState) -> Fetched:
        got = self.download(http, state)
        return got if isinstance(got, Fetched) else self.parse_download(got)

    def download(self, http: Http, state: FetchState) -> Download | Fetched:
        if self.feed.get("path"):
            path = self.feed.path("path")
            try:
                return Download(path.read_bytes(), path.as_uri(), None, state)
            except OSError as e:
                raise self.error(f"cannot read {path}: {e.strerror or e}") from None
        resp = http.get(self.feed.get("url"), feed=self.feed.name, etag=state.etag, last_modified=state.last_modified)
        if resp.not_modified:
            return Fetched(state=state, not_modified=True)
        new_state = FetchState(resp.headers.get("etag"), resp.headers.get("last-modified"), state.cursor)
        return Download(resp.content, resp.url, resp.headers.get("content-type"), new_state)

    def parse_download(self, got: Download) -> Fetched:
        fetched = Fetched(state=got.state)
        fetched.items = self.parse(got.body, got.url, got.content_type, fetched.warnings)
        return fetched

    def parse(self, body: bytes, url: str, content_type: str | None,
              warnings: list[str] | None = None) -> list[RawItem]:
        if body[:2] in _WIDE:
            # UTF-16/32: the checks below look for ASCII bytes, so they read the decoded text.
            body_text = _ascii_view(body)
        else:
            body_text = body
        head = body_text[:4096]
        if _ENTITY_DECL.search(body_text):  # the whole body: a long comment can push the DOCTYPE past any prefix
            raise self.error("refused: the feed declares XML entities (a known way to exhaust memory)")
        if not _FEEDISH.search(body_text[:65536]):
            kind = (content_type or "").split(";")[0] or "a document"
            what = "an HTML page" if re.search(rb"<html", head, re.I) else kind
            raise self.error(f"not a feed: {url} returned {what}, not RSS or Atom")
        try:
            doc = feeddoc.parse(body, url, content_type)
        except feeddoc.NotAFeed as e:
            raise self.error(f"the feed at {url} is {e}") from None
        except (ValueError, LookupError, RecursionError) as e:  # feedparser trips on e.g. "&#x110000;"
            raise self.error(f"the feed at {url} could not be read ({type(e).__name__}: {str(e)[:120]})") from None
        if doc.warning and warnings is not None:
            warnings.append(doc.warning)
        by_link = {e.link: _native_id(e) for e in doc.entries if e.link}
        return [self._item(e, doc.title, doc.updated, by_link) for e in doc.entries]

    def _item(self, e: feeddoc.Entry, feed_title: str | None, feed_date: datetime | None,
              by_link: dict[str, str]) -> RawItem:
        native_id = _native_id(e)
        body = e.html
        parent = None
        m = _WP_REPLY.match(body)
        if m:
            body = body[m.end():]
            href = html.unescape(m.group(1))  # an attribute value: "&amp;" in it is "&"
            href = _join(e.base, href) if e.base else href
            parent = _wordpress_parent(href, native_id, by_link)
        if e.thr_ref and not parent:
            # A ref naming another comment is a parent; a ref naming the post is top level.
            if e.thr_ref in by_link.values() or urlsplit(e.thr_href or "").fragment:
                parent = by_link.get(e.thr_href or "", e.thr_ref)
        # feedparser makes an id the link when there is no other ("tag:...", "urn:uuid:..."):
        # nothing a person can open, nor the page a conversation lives on.
        link = e.link if e.link and "://" in e.link else None
        title = e.title
        wp = _WP_TITLE.match(title)
        if wp:
            title = wp.group("post")
        elif title.startswith("By: "):
            title = feed_title.removeprefix("Comments on: ") if feed_title else ""
        return RawItem(
            native_id=native_id,
            author=self._author(e),
            author_name=None,
            text=html_to_text(body) or html_to_text(e.title),
            created_at=e.published or feed_date,
            url=link,
            in_reply_to=parent,
            thread_id=_conversation(link) if link else None,
            title=title or feed_title,
            raw={k: v for k, v in e.raw.items() if v is not None},
        )


    def _author(self, e: feeddoc.Entry) -> str:
        """The commenter's name; never an e-mail address unless the feed's config asks for it."""
        name, email = (e.author or "").strip(), (e.author_email or "").strip()
        if _EMAIL.search(name):  # an address inside a name ("contact: ann@example.com") goes too
            email = email or _EMAIL.search(name).group(0)
            name = " ".join(_EMAIL.sub(" ", name).replace("()", " ").replace("<>", " ").split()).strip(" :,;-")
        if name:
            return name
        if not email:
            return "anonymous"
        for name in self.feed.identity:  # our own replies stay ours, named as [identity] names us
            if normalise_name(name) == normalise_name(email):
                return name
        if self.feed.get("show_email"):
            return email
        # Distinct people stay distinct (a follow-up is matched by author) without showing who they are.
        tag = hashlib.sha256(f"{self.feed.name}\x1f{email.casefold()}".encode("utf-8", "replace")).hexdigest()[:6]
        return f"anonymous ({tag})"


def _ascii_view(body: bytes) -> bytes:
    """UTF-16/32 bytes as the ASCII-compatible bytes the feed checks read (what cannot be said becomes '?')."""
    for codec in ("utf-32", "utf-16"):
        try:
            return body.decode(codec).encode("ascii", "replace")
        except (UnicodeDecodeError, UnicodeError):
            continue
    return body


def _join(base: str, href: str) -> str:
    try:
        return urljoin(base, href)
    except ValueError:
        return href


def _native_id(e: feeddoc.Entry) -> str:
    """The entry's guid/id, else its link, else a hash of what it says: stable across pulls."""
    if e.id:
        return e.id
    if e.link:
        return e.link
    # The body's text, not its markup: feedparser re-serialises markup, and both parsers must give one id.
    basis = "\x1f".join((e.title, e.author or e.author_email or "", e.published.isoformat() if e.published else "",
                          html_to_text(e.html)))
    return "sha1:" + hashlib.sha1(basis.encode("utf-8", "replace")).hexdigest()


def _conversation(link: str) -> str:
    """The post a comment belongs to: its permalink without #fragment or Blogger's showComment."""
    if "showComment" not in link:  # the common case, without parsing the URL
        return link.split("#", 1)[0]
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
