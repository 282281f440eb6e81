"""RSS and Atom documents into plain entries, fast when the XML is plain.

Most comment feeds (WordPress, Blogger, Ghost) are well-formed UTF-8 RSS 2.0 or
Atom 1.0, and ElementTree (expat, in C) reads them an order of magnitude faster
than feedparser. feedparser is the reference: for every field listen keeps (id,
link, author, published time, text, thr:in-reply-to) the fast path must give
what feedparser gives. Where it cannot be sure -- another encoding, RSS 1.0 or
0.90, Atom 0.3, xhtml content, an element feedparser would read into one of those
fields that the fast path does not know, an e-mail in an author -- it steps
aside and feedparser reads the whole document. Dates the fast path does not
recognise go to feedparser's own date parser. docs/rss.md lists the cases;
tests/test_feeddoc_differential.py holds the two paths to agreement.
"""

from __future__ import annotations

import calendar
import html
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urljoin, urlsplit

ATOM = "{http://www.w3.org/2005/Atom}"
DC = "{http://purl.org/dc/elements/1.1/}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
THR = "{http://purl.org/syndication/thread/1.0}"
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"


@dataclass
class Entry:
    id: str | None
    link: str | None
    title: str
    author: str | None  # a name, never an e-mail address
    html: str  # the body as HTML (plain-text bodies are escaped into it)
    published: datetime | None
    thr_ref: str | None = None
    thr_href: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    author_email: str | None = None  # kept apart from the name: shown only where the config says
    base: str | None = None  # what relative links in `html` are relative to (None: already absolute)


@dataclass
class Doc:
    title: str | None
    updated: datetime | None
    entries: list[Entry]
    warning: str | None = None  # set when only part of a broken document could be read
    parser: str = "fast"  # "fast" or "feedparser": which path read the document
    why: str | None = None  # why the fast path stepped aside


class NotAFeed(ValueError):
    pass


class _Doubt(Exception):
    """The fast path cannot be sure it reads this document as feedparser would."""


def parse(body: bytes, url: str, content_type: str | None = None) -> Doc:
    why = _unusual_encoding(body, content_type)
    if why is None:
        try:
            root = ET.fromstring(body)
        except (ET.ParseError, ValueError, LookupError):
            why = "not well-formed XML"
        else:
            try:
                if root.tag == "rss":
                    return _rss(root, url)
                if root.tag == f"{ATOM}feed":
                    return _atom(root, url)
                why = f"a <{_local(root.tag)}> document (RSS 1.0/0.90, Atom 0.3 or another variant)"
            except _Doubt as e:
                why = str(e)
    doc = _with_feedparser(body, url, content_type)
    doc.parser, doc.why = "feedparser", why
    return doc


# -- the fast path --------------------------------------------------------

_CHARSET = re.compile(r";\s*charset\s*=\s*[\"']?([^\"';\s]+)", re.I)
_XML_DECL = re.compile(rb"""<\?xml[^>]*?encoding\s*=\s*["']([^"']*)["']""")


def _unusual_encoding(body: bytes, content_type: str | None) -> str | None:
    """Why the bytes might not decode as feedparser would decode them, or None for plain UTF-8."""
    if body[:2] in (b"\xff\xfe", b"\xfe\xff") or body[:4] in (b"\x00\x00\x00<", b"<\x00\x00\x00") \
            or body[:2] in (b"\x00<", b"<\x00"):
        return "UTF-16 or UTF-32"
    if content_type:
        m = _CHARSET.search(content_type)
        if m:
            if m.group(1).lower() not in ("utf-8", "utf8"):
                return f"the server says charset={m.group(1)[:20]}"
        elif content_type.strip().lower().startswith("text/"):
            # RFC 3023: text/* without a charset is US-ASCII, and feedparser follows it.
            return "a text/* content type without a charset"
    head = body[3:200] if body.startswith(b"\xef\xbb\xbf") else body[:200]
    if head.startswith(b"<?xml"):
        m = _XML_DECL.match(head)
        if m and m.group(1).lower() not in (b"utf-8", b"utf8"):
            return f"declared encoding {m.group(1)[:20].decode('ascii', 'replace')}"
    return None


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


# Elements feedparser reads into a field listen keeps. One the fast path does not
# handle where it stands means the fast path is not sure: feedparser reads the document.
_DANGEROUS_LOCAL = frozenset(
    "item entry channel feed link guid id author creator contributor name email published pubdate issued "
    "updated modified lastbuilddate date created description abstract summary content encoded body fullitem "
    "in-reply-to source url uri homepage managingeditor webmaster base".split())
_ITUNES = "{http://www.itunes.com/DTDs/PodCast-1.0.dtd}"
_DCTERMS = "{http://purl.org/dc/terms/}"
_MEDIA = "{http://search.yahoo.com/mrss/}"
_DANGEROUS_TAGS = frozenset([
    f"{DC}creator", f"{DC}author", f"{DC}date", f"{DC}description", f"{DC}contributor",
    f"{_DCTERMS}created", f"{_DCTERMS}issued", f"{_DCTERMS}modified", f"{CONTENT}encoded",
    "{http://www.w3.org/1999/xhtml}body", f"{_ITUNES}author", f"{_ITUNES}summary", f"{_ITUNES}name",
    f"{_ITUNES}email", f"{_ITUNES}owner", f"{_MEDIA}description", "{http://search.yahoo.com/mrss}description",
])
# Namespaces feedparser knows under a prefix of their own: their other elements cannot
# land in a field we keep, whatever their local name (media:content is not content).
_PREFIXED_NS = frozenset(ns.strip("{}") for ns in (
    DC, _DCTERMS, CONTENT, _ITUNES, _MEDIA, "{http://search.yahoo.com/mrss}", "{http://www.georss.org/georss}",
    "{http://purl.org/rss/1.0/modules/slash/}", "{http://purl.org/rss/1.0/modules/syndication/}",
    "{http://wellformedweb.org/CommentAPI/}", "{http://wellformedweb.org/commentAPI/}",
    "{http://a9.com/-/spec/opensearchrss/1.0/}", "{http://a9.com/-/spec/opensearch/1.1/}",
    "{http://rssnamespace.org/feedburner/ext/1.0}", "{http://schemas.google.com/g/2005}",
    "{http://www.w3.org/1999/xhtml}", "{http://purl.org/rss/1.0/modules/threading/}",
))


def _keep(got: dict[str, ET.Element], name: str | None, child: ET.Element, where: str) -> None:
    """File `child` under the field it fills. An element the fast path does not read must
    be one feedparser would not read either; a second element for the same field is
    doubt (feedparser keeps one of them, and which one is its business)."""
    if name is None:
        _check_unknown(child)
    elif name in got:
        raise _Doubt(f"two <{_local(str(child.tag))}> {where}")
    else:
        got[name] = child


def _check_unknown(el: ET.Element) -> None:
    """Raise _Doubt when feedparser could read `el`, or anything in it, into a field we keep."""
    for d in el.iter():
        tag = d.tag
        if not isinstance(tag, str):
            continue  # a comment or processing instruction
        if tag in _DANGEROUS_TAGS:
            raise _Doubt(f"<{_local(tag)}> in a namespace the fast path does not read")
        ns, _, local = tag.rpartition("}")
        if ns.lstrip("{") in _PREFIXED_NS:
            continue
        if local.lower() in _DANGEROUS_LOCAL:
            raise _Doubt(f"an element <{local}> where the fast path does not expect it")
        if "base" in d.attrib or XML_BASE in d.attrib:
            raise _Doubt("xml:base on an element the fast path does not read")


def _leaf(el: ET.Element, allowed: tuple[str, ...] = ()) -> str:
    """The text of a text-only element, as feedparser would give it."""
    if len(el):
        raise _Doubt(f"markup inside <{_local(el.tag)}>")
    for a in el.attrib:
        if a not in allowed:
            raise _Doubt(f"an attribute {_local(a)} on <{_local(el.tag)}>")
    return _fix(el.text.strip()) if el.text else ""


# feedparser maps C1 controls to the Windows-1252 characters a Latin-1 label usually hides.
_CP1252 = {c: bytes([c]).decode("cp1252", "replace") for c in range(0x80, 0xA0)}
_CP1252 = {c: ch for c, ch in _CP1252.items() if ch != "\ufffd"}


def _fix(text: str) -> str:
    """What feedparser does to every text value: UTF-8 read as Latin-1 is undone, then C1 controls mapped."""
    if text.isascii():
        return text
    try:
        text = text.encode("iso-8859-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        pass
    return text.translate(_CP1252)


_SCHEME_SLASHES = re.compile(r"^([A-Za-z][A-Za-z0-9+\-.]*://)(/*)")
_SAFE_SCHEMES = frozenset((
    "file ftp gopher h323 hdl http https imap magnet mailto mms news nntp prospero rsync rtsp rtspu sftp shttp "
    "sip sips snews svn svn+ssh telnet wais aim callto cvs facetime feed git gtalk irc ircs irc6 itms msnim "
    "skype ssh smb ymsg").split())


# An absolute http(s) link that urljoin would give back unchanged: most links, and
# urljoin costs more than the rest of an entry. Not: empty "?" or "#", ";" params,
# brackets, spaces or controls, non-ASCII -- urljoin rewrites or refuses those.
_PLAIN_ABSOLUTE = re.compile(r"https?://[!$%&'()*+,\-.0-9:=@A-Z_a-z~][!$%&'()*+,\-./0-9:=?@A-Z_a-z~#]*\Z")

_OPAQUE = re.compile(r"(?:tag|urn):(?!//)", re.I)


def _join(base: str, uri: str) -> str:
    """A link resolved the way feedparser resolves it (extra slashes after the scheme dropped)."""
    if _PLAIN_ABSOLUTE.match(uri) and not uri.endswith(("?", "#")) and "?#" not in uri:
        return uri
    if _OPAQUE.match(uri):  # Atom ids: urljoin gives back a scheme it cannot resolve against
        try:
            urlsplit(uri)  # ...once it has parsed it: "tag:/\t/[" is "tag://[" to it, no valid host
        except ValueError:
            return ""
        return uri
    if "//" in uri:
        uri = _SCHEME_SLASHES.sub(r"\1", uri)
    try:
        return urljoin(base, uri)
    except ValueError:
        return ""


def _rebase(base: str, el: ET.Element) -> str:
    """The base inside `el`: its xml:base (or bare base) resolved, and only to a safe scheme."""
    rel = el.get(XML_BASE) or el.get("base")
    if not rel:
        return base
    if not base:
        return _join(base, rel)
    uri = _join(base, rel)
    return uri if uri.strip().split(":", 1)[0] in _SAFE_SCHEMES else base


def _link_text(base: str, el: ET.Element) -> str:
    value = _leaf(el)
    if value:
        value = _join(base, value)
    if "&" in value:  # feedparser undoes what it takes for a double-escaped query string
        value = re.sub("&([A-Za-z0-9_]+);", r"&\g<1>", value.replace("&amp;", "&"))
    return value


def _permalink(el: ET.Element) -> bool:
    for a, v in el.attrib.items():
        if a.lower() == "ispermalink":
            return v == "true"
    return True


_MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
_RFC822 = re.compile(r"(?:(?:mon|tue|wed|thu|fri|sat|sun), )?([0-9]{1,2}) ([a-z]{3}) ([0-9]{4}) "
                     r"([0-9]{2}):([0-9]{2}):([0-9]{2}) (?:([+-])([0-9]{2})([0-9]{2})|gmt|utc|ut|z)\Z")
_W3DTF = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})t([0-9]{2}):([0-9]{2}):([0-9]{2}(?:\.[0-9]+)?)"
                    r"(?:z|([+-])([0-9]{2}):([0-9]{2}))\Z")


def _date(value: str) -> datetime | None:
    """A feed's date in UTC, whole seconds, exactly as feedparser reads it.

    The two shapes nearly every feed writes (RFC 822 with a numeric offset or GMT,
    W3C-DTF with Z or +hh:mm) are read here; anything else, or anything odd about
    those (a day the month does not have), goes to feedparser's own date parser.
    """
    if not value:
        return None
    try:
        m = None if value[:1].isdigit() and value[4:5] == "-" else _RFC822.match(value.lower())
        if m:
            day, mon, year, hh, mm, ss, sign, oh, om = m.groups()
            month = _MONTHS.get(mon)
            if month:
                return _utc(datetime(int(year), month, int(day), int(hh), int(mm), int(ss)), sign, oh, om)
        else:
            m = _W3DTF.match(value.lower())
            if m:
                year, month, day, hh, mm, ss, sign, oh, om = m.groups()
                # int(float()): feedparser's truncation, rounding included ("59.9999999999999999" is 60)
                return _utc(datetime(int(year), int(month), int(day), int(hh), int(mm), int(float(ss))), sign, oh, om)
    except (ValueError, OverflowError):
        pass
    return _feedparser_date(value)


def _utc(stamp: datetime, sign: str | None, hours: str | None, minutes: str | None) -> datetime:
    if sign and (hours != "00" or minutes != "00"):
        offset = timedelta(hours=int(hours or 0), minutes=int(minutes or 0))
        stamp = stamp - offset if sign == "+" else stamp + offset
    return stamp.replace(tzinfo=timezone.utc)


def _feedparser_date(value: str) -> datetime | None:
    from feedparser.datetimes import _parse_date  # only for the shapes read above

    try:
        return _from_struct(_parse_date(value))
    except (TypeError, IndexError, ValueError, OverflowError, KeyError, AttributeError):
        return None  # a handler feedparser did not guard: no date, as feedparser's pull would have it


def _from_struct(t: Any) -> datetime | None:
    if not t:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(t), timezone.utc)
    except (OverflowError, ValueError, TypeError, OSError):
        return None


def _first_date(*values: str | None) -> datetime | None:
    """feedparser's order: the published date if it parses, else the updated one, else created."""
    for v in values:
        if v:
            d = _date(v)
            if d:
                return d
    return None


def _author(text: str) -> str | None:
    if "@" in text:
        # "ann@example.com (Ann)" and its cousins: feedparser's reading of those is the reference.
        raise _Doubt("an e-mail address in an author")
    return text or None


# RSS 2.0 item children the fast path reads, by the name it files them under.
_RSS_ITEM = {
    "link": "link", "guid": "guid", "pubDate": "published", f"{DC}date": "updated",
    "description": "description", f"{CONTENT}encoded": "content", "title": "title",
    "author": "author", f"{DC}creator": "author", f"{ATOM}link": "atom_link", f"{THR}in-reply-to": "thr",
}
# Children of no interest whose names would otherwise look dangerous.
_RSS_ITEM_IGNORED = frozenset(("comments", "category", "enclosure"))
_RSS_CHANNEL = {"title": "title", "lastBuildDate": "updated", f"{DC}date": "updated", "pubDate": "published"}
_RSS_CHANNEL_IGNORED = frozenset(("link", "description", "image", "managingEditor", "webMaster", f"{ATOM}link",
                                  "language", "copyright", "generator", "docs", "ttl", "category", "cloud"))


def _rss(root: ET.Element, url: str) -> Doc:
    channels = [c for c in root if c.tag == "channel"]
    if len(channels) != 1 or len(root) != 1:
        raise _Doubt("an <rss> document without exactly one <channel> and nothing else")
    channel = channels[0]
    base = _rebase(_rebase(url, root), channel)
    seen: dict[str, ET.Element] = {}
    items = []
    for child in channel:
        tag = child.tag
        if tag == "item":
            items.append(child)
            continue
        if not isinstance(tag, str):
            continue
        if tag in _RSS_CHANNEL_IGNORED:
            if len(child) and any(_local(d.tag) in ("item", "entry") for d in child.iter() if isinstance(d.tag, str)):
                raise _Doubt(f"an item inside <{_local(tag)}>")
            continue
        _keep(seen, _RSS_CHANNEL.get(tag), child, "in the channel")
    title = _leaf(seen["title"]) if "title" in seen else ""
    updated = _first_date(*(_leaf(seen[k]) for k in ("updated", "published") if k in seen))
    return Doc(title or None, updated, [_rss_item(it, base) for it in items])


def _rss_item(it: ET.Element, base: str) -> Entry:
    base = _rebase(base, it)
    got: dict[str, ET.Element] = {}
    links = []
    for child in it:
        tag = child.tag
        if not isinstance(tag, str) or tag in _RSS_ITEM_IGNORED:
            continue
        name = _RSS_ITEM.get(tag)
        if name == "atom_link":
            links.append(child)
        else:
            _keep(got, name, child, "(or equivalents) in an item")
    guid = got.get("guid")
    ident = None
    link = None
    if guid is not None:
        ident = _leaf(guid, tuple(a for a in guid.attrib if a.lower() == "ispermalink"))
        if ident and _permalink(guid):
            ident = _join(base, ident)
            link = ident
    if links:
        if "link" in got:
            raise _Doubt("both <link> and <atom:link> in an item")
        for ln in links:
            link = _atom_link(base, ln) or link
    if "link" in got:
        link = _link_text(base, got["link"])
    author = _author(_leaf(got["author"])) if "author" in got else None
    # An empty content:encoded leaves the description to speak, as in feedparser.
    body = (_leaf(got["content"]) if "content" in got else "") or (
        _leaf(got["description"]) if "description" in got else "")
    pub = _leaf(got["published"]) if "published" in got else None
    upd = _leaf(got["updated"]) if "updated" in got else None
    title = _leaf(got["title"]) if "title" in got else ""
    thr = got.get("thr")
    return Entry(
        id=ident or None, link=link or None, title=title, author=author, html=body,
        published=_first_date(pub, upd),
        thr_ref=thr.get("ref") if thr is not None else None,
        thr_href=thr.get("href") if thr is not None else None,
        raw={"id": ident or None, "link": link or None, "title": title, "published": pub or upd or None},
        base=base,
    )


def _atom_link(base: str, ln: ET.Element) -> str | None:
    """The href of an alternate HTML link, or None for the other kinds."""
    if len(ln) or XML_BASE in ln.attrib or "base" in ln.attrib:
        raise _Doubt("an <atom:link> with content or its own xml:base")
    href = ln.get("href")
    if href is None:
        raise _Doubt("an <atom:link> without href")
    rel = ln.get("rel", "alternate").lower()
    kind = ln.get("type", "application/atom+xml" if rel == "self" else "text/html").lower()
    if rel != "alternate" or kind not in ("text/html", "html", "application/xhtml+xml", "xhtml"):
        return None
    return _join(base, href)


def _atom_body(el: ET.Element) -> str:
    if len(el):
        raise _Doubt("xhtml or inline markup in Atom content")
    for a in el.attrib:
        if a != "type":
            raise _Doubt(f"an attribute {_local(a)} on Atom content")
    kind = el.get("type", "text").lower()
    text = _fix(el.text.strip()) if el.text else ""
    if kind in ("html", "text/html"):
        return text
    if kind in ("text", "text/plain"):
        return html.escape(text, quote=False)
    raise _Doubt(f"Atom content of type {kind[:30]}")


_ATOM_ENTRY = {f"{ATOM}id": "id", f"{ATOM}published": "published", f"{ATOM}updated": "updated",
               f"{ATOM}title": "title", f"{ATOM}content": "content", f"{ATOM}summary": "summary",
               f"{ATOM}author": "author", f"{THR}in-reply-to": "thr"}
_ATOM_IGNORED = frozenset((f"{ATOM}category", f"{ATOM}rights", f"{ATOM}subtitle", f"{ATOM}generator",
                           f"{ATOM}icon", f"{ATOM}logo"))
_ATOM_FEED = {f"{ATOM}title": "title", f"{ATOM}updated": "updated", f"{ATOM}published": "published"}
_ATOM_FEED_IGNORED = frozenset((f"{ATOM}id", f"{ATOM}link", f"{ATOM}author", f"{ATOM}contributor"))


def _atom(root: ET.Element, url: str) -> Doc:
    base = _rebase(url, root)
    seen: dict[str, ET.Element] = {}
    entries = []
    for child in root:
        tag = child.tag
        if tag == f"{ATOM}entry":
            entries.append(_atom_entry(child, base))
            continue
        if not isinstance(tag, str) or tag in _ATOM_IGNORED or tag in _ATOM_FEED_IGNORED:
            continue
        _keep(seen, _ATOM_FEED.get(tag), child, "in the feed")
    title = _leaf(seen["title"], ("type",)) if "title" in seen else ""
    if title and seen["title"].get("type") == "html":
        title = html.unescape(title)
    updated = _first_date(*(_leaf(seen[k]) for k in ("updated", "published") if k in seen))
    return Doc(title or None, updated, entries)


def _atom_entry(e: ET.Element, base: str) -> Entry:
    base = _rebase(base, e)
    got: dict[str, ET.Element] = {}
    link = None
    has_link = False
    for child in e:
        tag = child.tag
        if tag == f"{ATOM}link":
            alt = _atom_link(base, child)
            if alt is not None:
                link, has_link = alt, True
            continue
        if not isinstance(tag, str) or tag in _ATOM_IGNORED:
            continue
        _keep(got, _ATOM_ENTRY.get(tag), child, "in an entry")
    ident = None
    if "id" in got:
        id_el = got["id"]
        ident = _leaf(id_el, tuple(a for a in id_el.attrib if a.lower() == "ispermalink"))
        if ident and _permalink(id_el):
            ident = _join(base, ident)
            if not has_link:
                link = ident  # feedparser takes a permalink id for the link when there is no other
    name = email = None
    if "author" in got:
        name, email = _atom_author(got["author"])
    body = _atom_body(got["content"]) if "content" in got else ""
    if not body and "summary" in got:
        body = _atom_body(got["summary"])
    pub = _leaf(got["published"]) if "published" in got else None
    upd = _leaf(got["updated"]) if "updated" in got else None
    title = ""
    if "title" in got:
        title = _leaf(got["title"], ("type",))
        if got["title"].get("type") == "html":
            title = html.unescape(title)
    thr = got.get("thr")
    return Entry(
        id=ident or None, link=link or None, title=title, author=name, html=body,
        published=_first_date(pub, upd),
        thr_ref=thr.get("ref") if thr is not None else None,
        thr_href=thr.get("href") if thr is not None else None,
        raw={"id": ident or None, "link": link or None, "title": title, "published": pub or upd or None},
        author_email=email, base=base,
    )


def _atom_author(el: ET.Element) -> tuple[str | None, str | None]:
    if (el.text and el.text.strip()) or el.attrib:
        raise _Doubt("an Atom author with text or attributes of its own")
    name = email = None
    for c in el:
        tag = c.tag
        if tag == f"{ATOM}name":
            if name is not None:
                raise _Doubt("two names in one author")
            name = _leaf(c)
        elif tag == f"{ATOM}email":
            email = _leaf(c)
        elif tag == f"{ATOM}uri":
            _leaf(c)
        elif isinstance(tag, str):
            _check_unknown(c)
    if name and "@" in name:
        raise _Doubt("an e-mail address in an author name")
    return name or None, email or None


# -- the forgiving path -----------------------------------------------------


def _fp_date(d: Any, keys: tuple[str, ...]) -> datetime | None:
    for key in keys:
        # keys(): what the document really said; .get() would trip feedparser's date fallbacks
        found = _from_struct(d[key] if key in d.keys() else None)
        if found:
            return found
    return None


def _fp_body(e: Any) -> str:
    """The entry's text as HTML: feedparser gives plain-text values unescaped, with their type beside them."""
    for part in (e.get("content") or [])[:1] + [e.get("summary_detail")]:
        if isinstance(part, dict) and _s(part.get("value")):
            value = _s(part.get("value"))
            return html.escape(value, quote=False) if part.get("type") == "text/plain" else value
    return _s(e.get("summary")) or _s(e.get("description"))


def _fp_thread(e: Any) -> dict[str, Any]:
    """thr:in-reply-to, whatever prefix the document bound the threading namespace to."""
    thr = e.get("thr_in-reply-to")
    if isinstance(thr, dict):
        return thr
    for key in e.keys():
        if isinstance(key, str) and key.endswith("_in-reply-to") and isinstance(e[key], dict):
            return e[key]
    return {}


def _with_feedparser(body: bytes, url: str, content_type: str | None) -> Doc:
    import feedparser  # imported only for documents the fast path cannot read

    # No content type (a local file, a bare server) means XML's own rules: the declaration, else UTF-8.
    # Without one, feedparser takes the headers for an HTTP reply that named no charset, and reads Latin-1.
    headers = {"content-location": url, "content-type": content_type or "application/xml"}
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
        thr = _fp_thread(e)
        detail = e.get("author_detail") or {}
        name = _s(detail.get("name")) or None
        email = _s(detail.get("email")) or None
        if name and "@" in name and not email and _EMAIL.fullmatch(name):
            name, email = None, name  # a bare address where a name should be
        # keys() holds what the feed really said; .get("updated") would trip a feedparser fallback
        raw = {k: _s(e[k]) for k in ("id", "link", "title", "published", "updated") if k in e.keys()}
        entries.append(Entry(
            id=_s(e.get("id")) or None,
            link=_s(e.get("link")) or None,
            title=_s(e.get("title")),
            author=name,
            html=_fp_body(e),
            published=_fp_date(e, ("published_parsed", "updated_parsed", "created_parsed")),
            thr_ref=_s(thr.get("ref")) or None,
            thr_href=_s(thr.get("href")) or None,
            raw=raw,
            author_email=email,
        ))
    feed = parsed.get("feed", {})
    return Doc(_s(feed.get("title")) or None, _fp_date(feed, ("updated_parsed", "published_parsed")), entries, warning,
               parser="feedparser")


_EMAIL = re.compile(r"[^@\s()<>]+@[^@\s()<>]+\.[^@\s()<>]+")


def _s(value: Any) -> str:
    """feedparser gives None, or odd types, where a broken document leaves a gap."""
    return value if isinstance(value, str) else ""
