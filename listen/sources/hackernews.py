"""Hacker News, through the Algolia search API (https://hn.algolia.com/api).

One request per page: `/search_by_date` (newest first) for stories and comments
matching `query`, created after a watermark. A second query fetches our own
comments (`tags=comment,author_<name>`) so that our replies are stored and
answer the people they reply to. No authentication; Algolia allows 10,000
requests an hour per IP and sends no rate-limit headers, so Http's 429 handling
is all we need.

Cursor (JSON in FetchState.cursor): {"since": <largest created_at_i seen>}.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from listen.http import Http, HttpStatusError
from listen.models import Fetched, FetchState, RawItem
from listen.sources import Option, Source, parse_time
from listen.text import html_to_text

ITEM_URL = "https://news.ycombinator.com/item?id={}"
HITS_PER_PAGE = 100
# Algolia indexes a comment a little after it is written, so a comment created
# just before the last watermark can appear only later. Asking again for a few
# minutes before the watermark catches it; storage dedupes the repeats.
OVERLAP = 300
# HN user names: 2-15 letters, digits, - or _. Identity names like
# "@acme@mastodon.social" or "Sarah Dopp" cannot be HN accounts.
_HN_USER = re.compile(r"^[A-Za-z0-9_-]{2,15}$")
MAX_OWN_NAMES = 5


class HackerNewsSource(Source):
    network = "hackernews"
    options = {
        "query": Option(str, "words to listen for in stories and comments", required=True),
        "username": Option(str, "our HN account; its comments are ours (default: [identity] names that look like HN users)"),
        "base_url": Option(str, "root of the Algolia HN API", default="https://hn.algolia.com/api/v1"),
        "max_pages": Option(int, f"at most this many pages of {HITS_PER_PAGE} per query and pull", default=5, minimum=1),
        "lookback": Option(str, "how far back the first pull reaches", default="14d", duration=True),
        "max_parents": Option(int, "look-ups per pull of the comments our replies answer, when not stored "
                                   "(one request each)", default=30, minimum=0),
    }

    @classmethod
    def check(cls, options: dict[str, Any]) -> list[str]:
        problems = []
        if options.get("query") is not None and not options["query"].strip():
            problems.append("query: must not be empty")
        name = options.get("username")
        if name and not _HN_USER.match(name.lstrip("@")):
            problems.append(f"username: {name!r} is not a Hacker News user name (2-15 letters, digits, - or _)")
        return problems

    # --- what we ask -------------------------------------------------------

    @property
    def base(self) -> str:
        return self.feed.get("base_url").rstrip("/")

    def own_names(self) -> list[str]:
        """HN accounts whose comments are ours: `username`, else the identity names that fit."""
        if self.feed.get("username"):
            return [self.feed.get("username").lstrip("@")]
        names = [n.lstrip("@") for n in self.feed.identity if _HN_USER.match(n.lstrip("@"))]
        return list(dict.fromkeys(names))[:MAX_OWN_NAMES]

    def fetch(self, http: Http, state: FetchState) -> Fetched:
        now = int(self.clock())
        warnings: list[str] = []
        cursor = self._load_cursor(state.cursor, warnings)
        if "since" in cursor:
            since = int(cursor["since"]) - OVERLAP
        else:
            since = now - int(self.feed.get("lookback"))

        hits = self._search(http, {"query": self.feed.get("query"), "tags": "(story,comment)"}, since, warnings)
        names = self.own_names()
        if names:
            # One request for all our names: a comma is AND, parentheses are OR.
            authors = ",".join(f"author_{n}" for n in names)
            hits += self._search(http, {"tags": f"comment,({authors})"}, since, warnings)

        items: dict[str, RawItem] = {}
        newest = int(cursor.get("since", since))
        for hit in hits:
            item = self.map_record(self._item, hit, f"hit {str(hit.get('objectID'))[:20]!r}", warnings)
            if item is None:
                continue
            items[item.native_id] = item
            newest = max(newest, int(item.created_at.timestamp()))
        state = FetchState(cursor=json.dumps({"since": newest}))
        return Fetched(items=list(items.values()), state=state, warnings=warnings)

    def _search(self, http: Http, params: dict[str, str], since: int, warnings: list[str]) -> list[dict]:
        """Every page of one query newer than `since`, up to max_pages."""
        hits: list[dict] = []
        max_pages = int(self.feed.get("max_pages"))
        page = 0
        while True:
            query = {**params, "numericFilters": f"created_at_i>{since}",
                     "hitsPerPage": str(HITS_PER_PAGE), "page": str(page)}
            body = http.get(f"{self.base}/search_by_date", feed=self.feed.name, params=query).json(self.feed.name)
            if not isinstance(body, dict) or not isinstance(body.get("hits"), list):
                raise self.error("Algolia answered without a `hits` list; is base_url the HN search API?")
            hits += [h for h in body["hits"] if isinstance(h, dict)]
            pages = body.get("nbPages") if isinstance(body.get("nbPages"), int) else 0
            page += 1
            if page >= pages or not body["hits"]:
                return hits
            if page >= max_pages:
                warnings.append(f"stopped after {max_pages} pages for {params.get('query') or params['tags']!r}; "
                                "older matches were skipped (raise max_pages to get them)")
                return hits

    # --- threads ------------------------------------------------------------

    fetches_parents = True

    def parents(self, http: Http, ids: list[str], warnings: list[str]) -> list[RawItem]:
        """Items by id, one /items/:id request each (Algolia has no batch look-up)."""
        found: list[RawItem] = []
        for native_id in ids:
            if not native_id.isdigit():
                continue
            try:
                body = http.get(f"{self.base}/items/{native_id}", feed=self.feed.name).json(self.feed.name)
            except HttpStatusError as e:
                if e.status == 404:  # deleted, or never was
                    continue
                raise
            if not isinstance(body, dict):
                warnings.append(f"skipped item {native_id}: Algolia answered with something that is not an item")
                continue
            item = self.map_record(self._tree_item, body, f"item {native_id}", warnings)
            if item is not None:
                found.append(item)
        return found

    def _tree_item(self, node: dict) -> RawItem | None:
        """An /items/:id node (`type`, `text`, `parent_id`, `story_id`) as a search hit, then mapped.
        Its `children` are left out: a story's whole tree can be megabytes."""
        hit = {k: v for k, v in node.items() if k != "children"}
        hit["objectID"] = str(node.get("id")) if node.get("id") is not None else None
        if node.get("type") == "comment":
            hit["_tags"] = ["comment"]
            hit["comment_text"] = node.get("text") or ""
        else:
            hit["_tags"] = [str(node.get("type") or "story")]
            hit["story_text"] = node.get("text")
        return self._item(hit)

    # --- what we keep ------------------------------------------------------

    def _item(self, hit: dict) -> RawItem | None:
        object_id = hit.get("objectID")
        created = _when(hit)
        if not object_id or created is None:
            return None
        author = hit.get("author") or "[deleted]"
        tags = hit.get("_tags") or []
        is_comment = "comment" in tags or hit.get("comment_text") is not None
        if is_comment:
            text = html_to_text(hit.get("comment_text"))
            title = hit.get("story_title")
            parent = hit.get("parent_id")
            story = hit.get("story_id")
            in_reply_to = str(parent) if parent is not None else None
            thread_id = str(story) if story is not None else in_reply_to
        else:  # a story (or poll): its title is what people read first
            title = hit.get("title")
            body = html_to_text(hit.get("story_text"))
            text = "\n\n".join(part for part in (title, body, hit.get("url")) if part)
            in_reply_to = None
            thread_id = str(object_id)
        username = self.feed.get("username")
        # With a `username` we know the account; otherwise [identity] names decide.
        ours = True if username and author.casefold() == username.lstrip("@").casefold() else None
        return RawItem(
            native_id=str(object_id),
            author=author,
            text=text,
            created_at=created,
            url=ITEM_URL.format(object_id),
            in_reply_to=in_reply_to,
            thread_id=thread_id,
            title=title,
            ours=ours,
            raw=hit,
        )

    def _load_cursor(self, text: str | None, warnings: list[str]) -> dict:
        cursor = self.load_cursor(text, warnings)
        if isinstance(cursor.get("since", 0), (int, float)):
            return cursor
        warnings.append("the saved position was unreadable; starting again from the lookback window")
        return {}

    def probe(self, http: Http) -> str:
        params = {"query": self.feed.get("query"), "tags": "(story,comment)", "hitsPerPage": "1"}
        body = http.get(f"{self.base}/search_by_date", feed=self.feed.name, params=params).json(self.feed.name)
        if not isinstance(body, dict) or not isinstance(body.get("hits"), list):
            raise self.error("Algolia answered without a `hits` list; is base_url the HN search API?")
        names = ", ".join(self.own_names()) or "none (set username)"
        return f"reachable; {body.get('nbHits', len(body['hits']))} matches for {self.feed.get('query')!r}; our accounts: {names}"


def _when(hit: dict) -> datetime | None:
    """created_at_i (epoch seconds), else the ISO created_at."""
    for value in (hit.get("created_at_i"), hit.get("created_at")):
        if value is not None:
            try:
                return parse_time(value)
            except ValueError:
                continue
    return None
