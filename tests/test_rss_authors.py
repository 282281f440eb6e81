"""Commenters' e-mail addresses: a name is shown, an address never is, unless the feed's config asks."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from listen.app import Listener
from listen.config import load
from listen.sources import FeedConfig
from listen.sources.rss import RssSource
from tests.helpers import write_config

URL = "https://blog.example.com/comments/feed/"


def feed(*authors: str) -> bytes:
    items = "".join(
        f"<item><guid isPermaLink='false'>c{n}</guid><link>https://blog.example.com/p/#c{n}</link>"
        f"<author>{a}</author><pubDate>Mon, 02 Feb 2026 10:{n:02d}:00 +0000</pubDate>"
        f"<description>Why is the download link broken?</description></item>"
        for n, a in enumerate(authors))
    return f"<rss version='2.0'><channel><title>Comments</title>{items}</channel></rss>".encode()


def source(identity: tuple[str, ...] = (), **options: object) -> RssSource:
    return RssSource(FeedConfig("blog", "rss", {"url": URL, **options}, Path("."), identity=identity))


@pytest.mark.parametrize(("author", "shown"), [
    ("ann@example.com (Ann)", "Ann"),
    ("Ann &lt;ann@example.com&gt;", "Ann"),
    ("Ann", "Ann"),
    ("contact: ann@example.com", "contact:"),
])
def test_the_name_is_kept_and_the_address_dropped(author: str, shown: str) -> None:
    [item] = source().parse(feed(author), URL, None, [])
    assert item.author == shown


def test_an_address_inside_an_atom_name_is_cut_out() -> None:
    body = (b"<feed xmlns='http://www.w3.org/2005/Atom'><title>t</title><entry><id>urn:1</id>"
            b"<author><name>Ann - ann@example.com</name></author><content>hi?</content></entry></feed>")
    [item] = source().parse(body, URL, None, [])
    assert item.author == "Ann"


def test_an_address_alone_becomes_a_stable_placeholder_per_person() -> None:
    items = source().parse(feed("ann@example.com", "bo@example.com", "ANN@example.com"), URL, None, [])
    ann, bo, ann_again = (i.author for i in items)
    assert "@" not in ann and "example" not in ann and ann.startswith("anonymous (")
    assert ann != bo and ann == ann_again  # distinct people stay distinct; one person stays one
    assert not any("@" in str(v) for i in items for v in (i.raw or {}).values())


def test_the_config_can_ask_for_addresses() -> None:
    [item] = source(show_email=True).parse(feed("ann@example.com"), URL, None, [])
    assert item.author == "ann@example.com"


def test_our_own_address_in_identity_names_is_ours() -> None:
    [item] = source(identity=("Sarah", "owner@blog.example.com")).parse(feed("Owner@Blog.example.com"), URL, None, [])
    assert item.author == "owner@blog.example.com"


def test_no_address_reaches_the_database_or_the_inbox(tmp_path: Path) -> None:
    (tmp_path / "c.xml").write_bytes(feed("ann@example.com", "kim@example.com (Kim)"))
    cfg = load(write_config(tmp_path / "listen.toml", [{"name": "blog", "type": "rss", "path": "c.xml"}]))
    listener = Listener(cfg, clock=lambda: 1770030000)
    [result] = listener.pull()
    assert (result.error, result.new) == (None, 2)
    shown = [i.author for i in listener.inbox().items]
    listener.close()
    assert "Kim" in shown and not any("@" in a for a in shown)
    conn = sqlite3.connect(cfg.db_path)
    try:
        rows = "\n".join(repr(r) for r in conn.execute("SELECT * FROM items"))
    finally:
        conn.close()
    assert "Kim" in rows and "example.com" not in rows.replace("blog.example.com", "")
