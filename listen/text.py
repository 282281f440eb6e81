"""Text from strangers: HTML to plain text, and plain text made inert for a terminal."""

from __future__ import annotations

import html
import re
import unicodedata
from html.parser import HTMLParser

_BLOCK = {"p", "div", "br", "li", "ul", "ol", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "hr"}
_SKIP = {"script", "style", "head", "title", "template", "noscript"}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCK:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCK and tag != "br":
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            # In HTML a line break in the source is just a space; tags make the lines.
            self.parts.append(data.replace("\r", " ").replace("\n", " "))


_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANKS = re.compile(r"\n\s*\n+")
_LOOKS_HTML = re.compile(r"<[a-zA-Z!/][^>]*>|&[#a-zA-Z0-9]+;")


def html_to_text(markup: str | None) -> str:
    """Readable plain text from an HTML fragment: paragraphs kept, tags and entities gone."""
    if not markup:
        return ""
    if not _LOOKS_HTML.search(markup):
        return _tidy(markup)
    p = _Text()
    try:
        p.feed(markup)
        p.close()
    except Exception:  # html.parser is lenient; this is the last line of defence
        return _tidy(html.unescape(re.sub(r"<[^>]*>", " ", markup)))
    return _tidy("".join(p.parts))


def _tidy(text: str) -> str:
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


# C0/C1 controls (ESC starts every ANSI/OSC sequence), DEL, bidi overrides and
# isolates, zero-width and other invisible format characters.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]"
)


def _visible(m: re.Match[str]) -> str:
    ch = m.group(0)
    code = ord(ch)
    if code < 0x20:
        return "^" + chr(code + 64)  # ESC shows as ^[, like `cat -v`
    return f"<U+{code:04X}>"


# Only what drives a terminal: C0 controls but tab and newline, DEL, C1 controls.
CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def shown_controls(text: str) -> str:
    """`text` with its control characters (but tab and newline) shown as `inert` shows
    them (ESC as ^[, CSI as <U+009B>), and nothing else changed: for data files a
    person may print, where the rest of the text must stay as written."""
    return CONTROLS.sub(_visible, text.replace("\r\n", "\n"))


def inert(text: str | None, limit: int | None = None, one_line: bool = False) -> str:
    """Text that cannot drive a terminal: controls shown visibly, cut to `limit` characters.

    Rich markup is not this function's job: render with markup off (rich.text.Text).
    """
    if not text:
        return ""
    if limit is not None and len(text) > limit * 4:
        text = text[: limit * 4]  # no point neutralising megabytes we will not show
    if one_line:
        text = " ".join(text.split())
    text = text.replace("\t", "    ")
    text = _UNSAFE.sub(_visible, text)
    # Unassigned and private-use code points are legal; other Cc/Cf are caught above.
    if limit is not None and len(text) > limit:
        text = text[: max(0, limit - 1)].rstrip() + "…"
    return text


def normalise_name(name: str | None) -> str:
    """How identity names are compared: case-insensitive, leading @ ignored, spaces folded."""
    if not name:
        return ""
    name = unicodedata.normalize("NFKC", name).strip()
    return " ".join(name.lstrip("@").split()).casefold()


TEAM_NAME_MAX = 64


def team_name(name: str) -> str:
    """A teammate's name as `listen assign --to` stores and shows it: spaces folded and a
    leading @ dropped, otherwise as written (matching goes by `normalise_name`). Raises
    ValueError for a name that is empty, too long, or carries control or invisible
    characters: it reaches teammates' terminals, exports and webhooks, and an invisible
    character would make a second "sam" that no --mine finds."""
    bad = _UNSAFE.search(name) or re.search("[\t\n]", name)
    if bad:
        raise ValueError(f"a name cannot hold control or invisible characters (found {_visible(bad)})")
    shown = " ".join(name.strip().lstrip("@").split())
    if not normalise_name(shown):
        raise ValueError("give a name (not just spaces or @)")
    if len(shown) > TEAM_NAME_MAX:
        raise ValueError(f"a name is at most {TEAM_NAME_MAX} characters (this one has {len(shown)})")
    return shown
