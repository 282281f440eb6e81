"""rss and jsonl sources: parsing real-shaped documents into items."""

from datetime import datetime, timezone
from pathlib import Path

import pytest

from listen.errors import FeedError
from listen.models import FetchState
from listen.sources import FeedConfig, make_source
from listen.sources.jsonl import parse_record, parse_time

FIXTURES = Path(__file__).parent / "fixtures" / "feeds"


def rss(name="blog"):
    return make_source(FeedConfig(name, "rss", {"url": "http://x/"}, FIXTURES))


def parse(fixture, url="https://blog.example.com/comments/feed/"):
    return rss().parse((FIXTURES / fixture).read_bytes(), url, "application/rss+xml")


def test_wordpress_comment_feed():
    items = {i.author: i for i in parse("wordpress_comments.xml")}
    jo, owner, kim = items["Jo"], items["Blog Owner"], items["Kim"]
    assert jo.native_id == "https://blog.example.com/?p=1#comment-2"
    assert jo.url == "https://blog.example.com/2026/01/hello-world/#comment-2"
    assert jo.created_at == datetime(2026, 2, 2, 9, 0, tzinfo=timezone.utc)
    assert jo.text == "Is the plugin free & open source?\nThanks – Jo"  # entities decoded, <script> dropped
    assert jo.title == "Hello world"
    assert jo.thread_id == owner.thread_id == "https://blog.example.com/2026/01/hello-world/"
    # "In reply to" names the parent and is not part of the text
    assert owner.in_reply_to == jo.native_id
    assert owner.text.startswith("Yes, it is!")
    # a parent outside this page of the feed still gets its guid
    assert kim.in_reply_to == "https://blog.example.com/?p=1#comment-4"
    assert jo.in_reply_to is None


def test_atom_threading_rfc4685():
    items = {i.author: i for i in parse("blogger_thread.xml", "http://www.blogger.example/feeds/42/7/comments/default")}
    reader, owner = items["Reader"], items["Owner"]
    assert reader.in_reply_to is None  # ref names the post: top level
    assert owner.in_reply_to == reader.native_id  # ref names a comment
    assert reader.thread_id == owner.thread_id == "http://test.blogspot.example/2026/01/a-post.html"
    assert reader.text == "Where can I download it?"


def test_entries_without_ids_or_dates_get_stable_ids():
    first = parse("undated_no_ids.xml")
    second = parse("undated_no_ids.xml")
    assert [i.native_id for i in first] == [i.native_id for i in second]
    assert first[0].native_id.startswith("sha1:") and first[1].native_id == "http://old.example/2"
    assert first[0].created_at is None  # storage keeps the time it first saw it


def test_entity_declarations_are_refused():
    with pytest.raises(FeedError, match="declares XML entities"):
        parse("entity_bomb.xml")


def test_malformed_xml_keeps_what_parsed_and_warns():
    warnings = []
    items = rss().parse((FIXTURES / "malformed.xml").read_bytes(), "http://x/", "application/rss+xml", warnings)
    assert len(items) == 1 and "not well-formed XML" in warnings[0]
    with pytest.raises(FeedError) as e:
        rss().parse(b"<rss><channel><title>x</tit", "http://x/", "application/rss+xml")
    assert e.value.feed == "blog" and "not well-formed" in e.value.message


def test_html_pages_name_the_feed():
    with pytest.raises(FeedError, match="not a feed: .* an HTML page"):
        rss().parse((FIXTURES / "not_a_feed.html").read_bytes(), "http://x/", "text/html")


def test_rss_local_path(tmp_path):
    (tmp_path / "c.xml").write_bytes((FIXTURES / "wordpress_comments.xml").read_bytes())
    src = make_source(FeedConfig("local", "rss", {"path": "c.xml"}, tmp_path))
    assert len(src.fetch(None, FetchState()).items) == 3
    missing = make_source(FeedConfig("gone", "rss", {"path": "nope.xml"}, tmp_path))
    with pytest.raises(FeedError, match="cannot read"):
        missing.fetch(None, FetchState())


# -- jsonl -----------------------------------------------------------------


def test_jsonl_record_fields():
    item = parse_record('{"id": 7, "author": "ann", "text": "hi?", "created_at": "2026-01-02T03:04:05+02:00",'
                        ' "url": "http://x/7", "in_reply_to": "6", "thread_id": "1", "author_name": "Ann"}')
    assert item.native_id == "7" and item.in_reply_to == "6" and item.thread_id == "1"
    assert item.created_at == datetime(2026, 1, 2, 1, 4, 5, tzinfo=timezone.utc)


@pytest.mark.parametrize("value,expected", [
    (1767225600, datetime(2026, 1, 1, tzinfo=timezone.utc)),
    ("1767225600", datetime(2026, 1, 1, tzinfo=timezone.utc)),
    ("2026-01-01T00:00:00Z", datetime(2026, 1, 1, tzinfo=timezone.utc)),
])
def test_jsonl_times(value, expected):
    assert parse_time(value) == expected


@pytest.mark.parametrize("line,message", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "expected a JSON object"),
    ('{"id": "1", "author": "a", "text": "t"}', "missing created_at"),
    ('{"id": "1", "author": "a", "text": "t", "created_at": "2026-01-01T00:00:00"}', "no UTC offset"),
    ('{"id": "1", "author": "a", "text": "t", "created_at": "yesterday"}', "not ISO 8601"),
    ('{"id": "1", "author": {"x": 1}, "text": "t", "created_at": 1}', "`author` must be a string"),
])
def test_jsonl_bad_records(line, message):
    with pytest.raises(ValueError, match=message):
        parse_record(line)


def test_jsonl_bad_lines_are_reported_with_numbers_and_skipped(tmp_path):
    p = tmp_path / "m.jsonl"
    p.write_text('{"id": "1", "author": "a", "text": "x", "created_at": 1}\n\n{oops\n'
                 '{"id": "2", "author": "b", "text": "y", "created_at": 2}\n')
    fetched = make_source(FeedConfig("ex", "jsonl", {"path": "m.jsonl"}, tmp_path)).fetch(None, FetchState())
    assert [i.native_id for i in fetched.items] == ["1", "2"]
    assert fetched.warnings == [f"{tmp_path / 'm.jsonl'} line 3, column 2: not valid JSON"
                                " (Expecting property name enclosed in double quotes); skipped"]


@pytest.mark.parametrize("path", [FIXTURES / "wordpress_comments.xml", FIXTURES / "blogger_thread.xml",
                                  FIXTURES / "undated_no_ids.xml",
                                  Path(__file__).parent.parent / "listen" / "demo" / "blog-comments.xml"])
def test_fast_parser_agrees_with_feedparser(path):
    """The ElementTree fast path and the feedparser fallback read a document the same way."""
    from listen.sources import feeddoc
    from listen.text import html_to_text

    body = path.read_bytes()
    fast = feeddoc.parse(body, "https://blog.example.com/comments/feed/")
    slow = feeddoc._with_feedparser(body, "https://blog.example.com/comments/feed/", None)
    assert fast.title == slow.title and fast.updated == slow.updated
    assert len(fast.entries) == len(slow.entries) > 0

    def view(e):
        return (e.id, e.link, e.title, e.author, e.published, e.thr_ref, e.thr_href, html_to_text(e.html))

    assert [view(e) for e in fast.entries] == [view(e) for e in slow.entries]


def test_rss1_and_atom_text_content():
    from listen.sources import feeddoc

    rdf = b"""<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
      xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
      <channel rdf:about="http://x/"><title>RDF</title><link>http://x/</link></channel>
      <item rdf:about="http://x/1"><title>One</title><link>http://x/1</link><description>Is &lt;b&gt;it&lt;/b&gt; on?</description>
      <dc:creator>Ann</dc:creator><dc:date>2026-01-02T03:04:05Z</dc:date></item></rdf:RDF>"""
    doc = feeddoc.parse(rdf, "http://x/")
    [e] = doc.entries
    assert (e.id, e.author, e.title, e.published.isoformat()) == ("http://x/1", "Ann", "One", "2026-01-02T03:04:05+00:00")
    atom = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><entry><id>urn:1</id>
      <title>t</title><content type="text">a &lt;b&gt; is not a tag here</content><author><name>Bo</name></author>
      <link href="/p/1"/><updated>2026-01-02T03:04:05+01:00</updated></entry></feed>"""
    [e] = feeddoc.parse(atom, "http://x/feed").entries
    from listen.text import html_to_text

    assert html_to_text(e.html) == "a <b> is not a tag here"
    assert e.link == "http://x/p/1" and e.published.isoformat() == "2026-01-02T02:04:05+00:00"
