"""`listen report --html`: a self-contained page, strangers' text inert, and a real browser draws it."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from collections import Counter
from html.parser import HTMLParser
from importlib.resources import files
from pathlib import Path

import pytest
from typer.testing import CliRunner

from listen import report
from listen.app import Listener
from listen.cli import app
from listen.config import load
from listen.demo import CONFIG, DEMO_NOW, SAMPLES
from tests.helpers import jsonl, listen_here

D = 86400
NOW = int(DEMO_NOW)

HOSTILE = [
    # (native id, author, text, url) from people who would like the page to do something
    ("h1", "<script>alert('author')</script>", 'Why? "><img src=x onerror=alert(1)> </textarea><svg onload=alert(2)>',
     "javascript:alert(document.cookie)"),
    ("h2", "mallory\u202eevil", "Is this broken?\x1b[31m </style><style>body{display:none}</style>",
     "data:text/html,<script>alert(3)</script>"),
    ("h3", "eve", "Any help? <a href=\"https://phish.example\">click</a>", "file:///etc/passwd"),
    ("h4", "trent", "Where is the invoice?", ' JaVaScRiPt:alert(4)'),
    ("h5", "peggy", "How do I log in?", 'https://ok.example/t?a=1&b="2"><script>x</script>'),
    ("h6", "victor", "Why is this so slow?", "HTTPS://Forum.Example/t/9?x=1&y=2"),
]


@pytest.fixture
def demo(tmp_path):
    """The demo feeds, plus a feed of hostile mentions, pulled into a real database at the demo's clock."""
    for name in SAMPLES:
        (tmp_path / name).write_bytes(files("listen.demo").joinpath(name).read_bytes())
    jsonl(tmp_path / "hostile.jsonl", [
        {"id": nid, "author": author, "text": text, "url": url, "created_at": NOW - (i + 1) * 3600,
         "title": "</title><script>alert('title')</script>"}
        for i, (nid, author, text, url) in enumerate(HOSTILE)])
    (tmp_path / "listen.toml").write_text(
        CONFIG + '\n[[feeds]]\nname = "<b>hostile</b>"\ntype = "jsonl"\npath = "hostile.jsonl"\n')
    listener = Listener(load(tmp_path / "listen.toml"), clock=lambda: DEMO_NOW)
    assert not any(r.error for r in listener.pull())
    yield listener
    listener.close()


def page_of(listener: Listener, since: int = 30 * D) -> str:
    return report.build(listener.inbox(), listener.stats(since))


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: Counter[str] = Counter()
        self.attrs: list[tuple[str, str, str]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags[tag] += 1
        self.attrs += [(tag, k, v or "") for k, v in attrs]

    def handle_data(self, data):
        self.text.append(data)


def parse(page: str) -> _Tags:
    p = _Tags()
    p.feed(page)
    p.close()
    return p


# Everything the page is allowed to be made of.
ALLOWED_TAGS = {"html", "head", "meta", "title", "style", "body", "main", "header", "h1", "h2", "h3", "p", "section",
                "div", "span", "article", "b", "a", "code", "table", "thead", "tbody", "tfoot", "tr", "th", "td",
                "svg", "line", "text", "rect", "polyline", "circle", "footer"}


def test_hostile_text_cannot_add_markup_scripts_or_links(demo):
    page = page_of(demo)
    tags = parse(page)
    assert set(tags.tags) <= ALLOWED_TAGS, set(tags.tags) - ALLOWED_TAGS
    assert not [a for a in tags.attrs if a[1].startswith("on")]  # no event handler survived
    assert tags.tags["style"] == 1 and tags.tags["script"] == 0 and tags.tags["img"] == 0
    hrefs = [v for tag, k, v in tags.attrs if k == "href"]
    assert hrefs and all(h.lower().startswith(("https://", "http://")) for h in hrefs)
    assert "javascript:" not in " ".join(hrefs).lower() and not any(h.startswith(("data:", "file:")) for h in hrefs)
    # The plain https link is a link, its quotes escaped inside the attribute; the other schemes are text.
    assert "HTTPS://Forum.Example/t/9?x=1&y=2" in hrefs
    assert 'href="HTTPS://Forum.Example/t/9?x=1&amp;y=2"' in page
    text = "".join(tags.text)
    for shown in ("javascript:alert(document.cookie)", "file:///etc/passwd", "data:text/html,<script>alert(3)</script>",
                  "<script>alert('author')</script>", '"><img src=x onerror=alert(1)>', "</style><style>"):
        assert shown in text  # quoted as received, visible as text
    assert "(not a web link)" in page
    # The https URL with a quote in it is refused as a link rather than trusted to escaping alone.
    assert not any("ok.example" in h for h in hrefs) and 'https://ok.example/t?a=1&amp;b=&quot;2&quot;' in page
    # Controls that could reorder or colour the page are shown, not obeyed.
    assert "mallory<U+202E>evil" in text and "\u202e" not in page and "\x1b" not in page and "^[[31m" in text
    assert "<b>hostile</b>" in text  # a feed name is text too


@pytest.mark.parametrize("url, ok", [
    ("https://example.com/a?b=c#d", True),
    ("http://example.com", True),
    ("HTTP://EXAMPLE.COM/", True),
    ("javascript:alert(1)", False),
    (" javascript:alert(1)", False),
    ("java\tscript:alert(1)", False),
    ("https:alert(1)", False),
    ("https://", False),
    ("https://exa mple.com", False),
    ("https://example.com/\"onmouseover=x", False),
    ("//example.com/x", False),
    ("data:text/html,hi", False),
    ("file:///etc/passwd", False),
    ("vbscript:msgbox", False),
    ("", False),
    (None, False),
])
def test_only_plain_web_urls_become_links(url, ok):
    assert (report.web_url(url) is not None) is ok


def test_page_is_self_contained_and_shows_inbox_and_stats(demo):
    page = page_of(demo)
    tags = parse(page)
    # Nothing to fetch: no src, no external stylesheet, no CSS url(), a CSP that forbids loading.
    assert not [a for a in tags.attrs if a[1] in ("src", "srcset", "data", "action", "formaction")]
    assert "url(" not in page and "@import" not in page and "<link" not in page
    assert "default-src 'none'" in page
    text = " ".join(tags.text)
    # The inbox, most urgent first (Dev Patel's five-day-old complaint leads the demo inbox).
    view = demo.inbox()
    assert view.items[0].author == "Dev Patel"
    assert text.index("Dev Patel") < text.index("kai@fosstodon.org")
    assert f"{view.summary['people']} people waiting" in text
    assert "NEGATIVE" in text and "QUESTION" in text and "waiting 5d" in text
    assert "why: negative tone" in text
    assert 'href="https://sarahdopp.example/2026/02/five-signs/#comment-991"' in page
    # The stats, overall and per feed, with the figures compute() gave.
    stats = demo.stats(30 * D)
    o = stats["overall"]
    assert f'<span class="n">{o["mentions"]}</span><span class="l">mentions</span>' in page
    assert set(stats["feeds"]) == {"blog-comments", "community", "<b>hostile</b>"}
    for name in ("blog-comments", "community", "all feeds"):
        assert f"<td>{name}</td>" in page
    assert "talk:listen" in text and "median first response" in text
    for bucket in ("&lt;1h", "1-4h", "4-8h", "8-24h", "&gt;24h"):
        assert f'<span class="k">{bucket}</span>' in page
    # Week by week: one bar per week of the period, labelled, and the median line.
    assert tags.tags["svg"] == 1 and tags.tags["polyline"] == 1
    weeks = stats["weeks"]
    assert tags.tags["rect"] >= len(weeks) and weeks[-1]["week"] in text


def test_empty_store_gives_a_calm_page(tmp_path):
    (tmp_path / "listen.toml").write_text('[[feeds]]\nname = "blog"\ntype = "rss"\nurl = "http://127.0.0.1:9/feed"\n')
    listener = Listener(load(tmp_path / "listen.toml"), clock=lambda: DEMO_NOW)
    try:
        page = page_of(listener)
    finally:
        listener.close()
    assert "Nobody is waiting for a reply" in page and "nobody waiting" in page
    assert "<polyline" not in page and "First response" not in page  # nothing answered, no histogram
    parse(page)


def test_report_command_writes_the_file_and_fails_cleanly(tmp_path):
    jsonl(tmp_path / "m.jsonl", [{"id": "1", "author": "ann", "text": "How do I export my data?",
                                  "created_at": "2026-01-01T10:00:00Z"}])
    (tmp_path / "listen.toml").write_text('[[feeds]]\nname = "ex"\ntype = "jsonl"\npath = "m.jsonl"\n')
    env = {**os.environ, "NO_COLOR": "1"}

    def listen(*args):
        return listen_here("--config", str(tmp_path / "listen.toml"), *args, env=env)

    assert listen("pull").returncode == 0
    out = tmp_path / "report.html"
    r = listen("report", "--html", str(out), "--since", "400d")
    assert r.returncode == 0, r.stderr
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>") and "ann" in out.read_text()
    assert oct(out.stat().st_mode & 0o777) == "0o644" and not list(tmp_path.glob(".report.html.*"))
    r = listen("report", "--html", "-")
    assert r.returncode == 0 and r.stdout.startswith("<!DOCTYPE html>")
    r = listen("report", "--html", str(tmp_path / "missing" / "r.html"))
    assert r.returncode == 1 and "cannot write the report" in r.stderr and "Traceback" not in r.stderr
    runner = CliRunner()
    r = runner.invoke(app, ["--config", str(tmp_path / "listen.toml"), "report", "--html", str(out), "--since", "soon"])
    assert r.exit_code == 2 and "not a duration" in r.output
    assert runner.invoke(app, ["report", "--help"]).exit_code == 0
    assert runner.invoke(app, ["import", "--help"]).exit_code == 0


# -- a real browser ----------------------------------------------------------


def read_png(path: Path, rows: int) -> tuple[int, int, list[bytes]]:
    """(width, height, the first `rows` rows of RGB pixels) of an 8-bit RGB/RGBA PNG, every chunk CRC checked."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, []
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + n]
        (crc,) = struct.unpack(">I", data[pos + 8 + n : pos + 12 + n])
        assert zlib.crc32(kind + body) == crc, kind
        chunks.append((kind, body))
        pos += 12 + n
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert depth == 8 and colour in (2, 6) and interlace == 0
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride = 1 + width * bpp
    assert len(raw) == height * stride  # every row there, none extra
    out, prev = [], bytes(width * bpp)
    for y in range(min(rows, height)):
        f, line = raw[y * stride], bytearray(raw[y * stride + 1 : (y + 1) * stride])
        if f == 2:  # up: bytewise add without carries between bytes, on whole rows at once
            a, b = int.from_bytes(line, "big"), int.from_bytes(prev, "big")
            low, high = int.from_bytes(b"\x7f" * len(line), "big"), int.from_bytes(b"\x80" * len(line), "big")
            line = bytearray((((a & low) + (b & low)) ^ ((a ^ b) & high)).to_bytes(len(line), "big"))
        elif f in (1, 3, 4):
            for i in range(len(line)):
                left = line[i - bpp] if i >= bpp else 0
                if f == 1:
                    line[i] = (line[i] + left) & 255
                elif f == 3:
                    line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
                else:
                    up, corner = prev[i], prev[i - bpp] if i >= bpp else 0
                    p = left + up - corner
                    pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                    pred = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
                    line[i] = (line[i] + pred) & 255
        else:
            assert f == 0, f"unknown filter {f}"
        prev = bytes(line)
        out.append(bytes(b for j, b in enumerate(prev) if j % bpp < 3) if bpp == 4 else prev)
    return width, height, out


def near(colours: Counter, rgb: tuple[int, int, int], tolerance: int = 6) -> int:
    return sum(n for c, n in colours.items() if max(abs(a - b) for a, b in zip(c, rgb, strict=True)) <= tolerance)


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")
def test_headless_chromium_renders_the_report(demo, tmp_path):
    page = tmp_path / "report.html"
    report.write(page, page_of(demo))
    png = tmp_path / "report.png"
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    r = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", f"--screenshot={png}", "--window-size=1200,2000", page.as_uri()],
        capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert png.exists() and png.stat().st_size > 20_000  # a blank 1200x2000 page is a few kB
    # The top of the page: title, the inbox's figures (red "people waiting" card), the first complaint.
    width, height, rows = read_png(png, 420)
    assert (width, height) == (1200, 2000)
    colours = Counter(bytes(row[i : i + 3]) for row in rows for i in range(0, len(row), 3))
    colours = Counter({tuple(c): n for c, n in colours.items()})
    assert len(colours) > 50  # text is anti-aliased: a drawn page has many shades
    assert colours.most_common(1)[0][0] == (0xF5, 0xF6, 0xF8)  # the page background: the CSS applied
    assert near(colours, (0xFD, 0xEC, 0xEA)) > 1000  # the alert card behind "people waiting"
    assert near(colours, (0xC6, 0x28, 0x28)) > 100  # the NEGATIVE badge and the complaint's red edge
    assert near(colours, (0xFF, 0xFF, 0xFF)) > 10_000  # the white item cards


def test_cards_count_one_in_the_singular(tmp_path):
    # QA: "1 people waiting", "1 questions".
    jsonl(tmp_path / "one.jsonl", [{"id": "1", "author": "ann", "text": "Why is this broken again? Terrible, awful.",
                                   "created_at": NOW - 3600}])
    (tmp_path / "listen.toml").write_text('[[feeds]]\nname = "one"\ntype = "jsonl"\npath = "one.jsonl"\n')
    listener = Listener(load(tmp_path / "listen.toml"), clock=lambda: DEMO_NOW)
    try:
        assert not any(r.error for r in listener.pull())
        s = listener.inbox().summary
        page = page_of(listener)
    finally:
        listener.close()
    assert (s["people"], s["questions"], s["negative"]) == (1, 1, 1), s
    card = '<span class="n">1</span><span class="l">{}</span>'
    for label in ("person waiting", "question", "negative remark", "mention"):
        assert card.format(label) in page, label
    for wrong in ("people waiting", "questions", "negative remarks", "mentions"):
        assert card.format(wrong) not in page, wrong
