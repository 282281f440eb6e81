"""Not every comment is a person: pingbacks, trackbacks and bots are never waiting.

WordPress posts a pingback as a comment whose author is the linking site's
title and whose text is an excerpt of the linking post wrapped in ellipses
("[…] as Sarah argues in her post […]"); its REST API and export formats give
it `type` "pingback" or "trackback". GitHub names app accounts `name[bot]`;
Reddit's AutoModerator posts in every subreddit that enables it. Pure: the
caller gives what it knows about the item.
"""

from __future__ import annotations

import json
import re

# "[…]", "[...]", "[&#8230;]" as text: WordPress's pingback excerpt markers.
_ELLIPSIS = r"\[\s*(?:…|\.\.\.|&#8230;|&hellip;)\s*\]"
_PINGBACK = re.compile(rf"^\s*{_ELLIPSIS}.*{_ELLIPSIS}\s*$", re.S)
_PING_TYPES = ("pingback", "trackback")

# Accounts that are bots on the network that hosts them.
KNOWN_BOTS: dict[str, frozenset[str]] = {
    "reddit": frozenset({"automoderator"}),
}


def _key(name: str | None) -> str:
    return (name or "").strip().lstrip("@").casefold()


_MAY_BE_PING = re.compile("pingback|trackback", re.I)


def may_be_ping(raw: str | None) -> bool:
    """A cheap test first: most payloads never mention pings and are never parsed."""
    return bool(raw) and _MAY_BE_PING.search(raw) is not None  # type: ignore[arg-type]


def comment_type(raw: str | None) -> str | None:
    """The `type` or `comment_type` a stored payload gives a comment, when it is a ping."""
    if not may_be_ping(raw):
        return None
    assert raw is not None
    try:
        blob = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(blob, dict):
        return None
    for key in ("type", "comment_type"):
        value = blob.get(key)
        if isinstance(value, str) and value.lower() in _PING_TYPES:
            return value.lower()
    return None


def not_a_person(network: str, author: str | None, author_name: str | None, text: str,
                 kind: str | None = None, bots: tuple[str, ...] = ()) -> str | None:
    """Why this item was not written by a person, or None. `kind` is the
    comment type the source reported (e.g. "pingback")."""
    if kind in _PING_TYPES:
        return f"{kind}: not a person"
    if _PINGBACK.match(text or ""):
        return "pingback: not a person"
    who = _key(author)
    if who.endswith("[bot]"):
        return f"bot: not a person ({author})"
    names = {who, _key(author_name)} - {""}
    if names & KNOWN_BOTS.get(network, frozenset()) or names & {_key(b) for b in bots}:
        return f"bot: not a person ({author})"
    return None
