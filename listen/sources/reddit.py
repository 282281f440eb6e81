"""Reddit, through the public JSON listings (no login).

What it reads, each a "stream" with its own watermark:
  posts     `query` set: /search.json?q=..&sort=new&type=link (or /r/<sub>/search.json
            with restrict_sr when `subreddit` is set too); `subreddit` alone: /r/<sub>/new.json.
  comments  `subreddit` set: /r/<sub>/comments.json, every new comment, newest first
            (filtered locally by the words of `query` when both are set: Reddit's search
            does not search comment text).
  ours      `username` set: /user/<name>/comments.json, so our replies answer people.

Listings are newest first; we page with `after` until we reach an item older than the
stream's watermark (or max_pages, or lookback on a first pull). A time watermark rather
than a `before=<fullname>` anchor, because an anchor breaks when that item is deleted.

Cursor (JSON): {"posts": {"since": <created_utc>}, "comments": {...}, "ours": {...},
"not_before": <epoch seconds, set when X-Ratelimit-Remaining ran out>}.
"""

from __future__ import annotations

import json
import re
import sys
import time
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from listen import __version__
from listen.http import Http, HttpStatusError, Response
from listen.models import Fetched, FetchState, RawItem
from listen.sources import Option, Source
from listen.text import html_to_text

WEB = "https://www.reddit.com"  # where people read and reply, whatever base_url says
PAGE_SIZE = 100  # Reddit's largest `limit`
# Search results appear in the index a little after posting; look again this far
# behind the watermark so a late arrival is not skipped. Storage dedupes repeats.
OVERLAP = 600.0
_SUBREDDIT = re.compile(r"^[A-Za-z0-9_]{2,21}(\+[A-Za-z0-9_]{2,21})*$")  # "acme" or "acme+acmehelp"
_USERNAME = re.compile(r"^[A-Za-z0-9_-]{3,20}$")


class RedditSource(Source):
    network = "reddit"
    options = {
        "query": Option(str, "words to listen for in new posts (and in comments of `subreddit`)"),
        "subreddit": Option(str, "every new post and comment in this subreddit (a+b for several)"),
        "username": Option(str, "our Reddit account: its comments are fetched and are ours"),
        "base_url": Option(str, "root of the Reddit API", default=WEB),
        "max_pages": Option(int, f"at most this many pages of {PAGE_SIZE} per stream and pull", default=5, minimum=1),
        "lookback": Option(str, "how far back the first pull reaches", default="14d", duration=True),
    }

    @classmethod
    def check(cls, options: dict[str, Any]) -> list[str]:
        problems = []
        query, sub, user = options.get("query"), options.get("subreddit"), options.get("username")
        if not (query and query.strip()) and not sub:
            problems.append("set query (posts matching words) or subreddit (everything in a subreddit), or both")
        if sub and not _SUBREDDIT.match(_strip_prefix(sub, "r/")):
            problems.append(f"subreddit: {sub!r} is not a subreddit name (like \"acme\" or \"acme+acmehelp\")")
        if user and not _USERNAME.match(_strip_prefix(user, "u/")):
            problems.append(f"username: {user!r} is not a Reddit user name")
        return problems

    # --- settings ------------------------------------------------------------

    @property
    def base(self) -> str:
        return self.feed.get("base_url").rstrip("/")

    @property
    def subreddit(self) -> str | None:
        sub = self.feed.get("subreddit")
        return _strip_prefix(sub, "r/") if sub else None

    @property
    def username(self) -> str | None:
        user = self.feed.get("username")
        return _strip_prefix(user, "u/") if user else None

    def headers(self) -> dict[str, str]:
        # Reddit throttles generic User-Agents hard; it asks for <platform>:<app>:<version> (by /u/<name>).
        by = f" (by /u/{self.username})" if self.username else " (social listening CLI)"
        return {"User-Agent": f"{sys.platform}:listen:{__version__}{by}"}

    def streams(self) -> list[tuple[str, str, dict[str, str]]]:
        """(name, path, params) for each listing this feed reads."""
        query, sub = self.feed.get("query"), self.subreddit
        out = []
        if query and sub:
            out.append(("posts", f"/r/{quote(sub)}/search.json",
                        {"q": query, "sort": "new", "type": "link", "restrict_sr": "on", "t": "all"}))
        elif query:
            out.append(("posts", "/search.json", {"q": query, "sort": "new", "type": "link", "t": "all"}))
        else:
            out.append(("posts", f"/r/{quote(sub)}/new.json", {}))
        if sub:
            out.append(("comments", f"/r/{quote(sub)}/comments.json", {}))
        if self.username:
            out.append(("ours", f"/user/{quote(self.username)}/comments.json", {"sort": "new"}))
        return out

    # --- fetching ------------------------------------------------------------

    def fetch(self, http: Http, state: FetchState) -> Fetched:
        now = time.time()
        warnings: list[str] = []
        cursor = self.load_cursor(state.cursor, warnings)
        not_before = cursor.get("not_before")
        if isinstance(not_before, (int, float)) and now < not_before:
            # Reddit said the rate-limit window is used up: ask nothing until it resets.
            warnings.append(f"Reddit rate limit used up; next requests after {_iso(not_before)}")
            return Fetched(items=[], state=state, warnings=warnings)
        cursor.pop("not_before", None)

        items: dict[str, RawItem] = {}
        for name, path, params in self.streams():
            mark = cursor.get(name) if isinstance(cursor.get(name), dict) else {}
            since = float(mark["since"]) if isinstance(mark.get("since"), (int, float)) else now - self.feed.get("lookback")
            found, newest, complete, wait = self._walk(http, path, params, since, warnings)
            for item in found:
                if name == "comments" and not self._matches(item.text):
                    continue
                if name == "ours":
                    item.ours = True
                items[item.native_id] = item
            if complete:
                # Only a finished walk moves the watermark: an interrupted one is redone next time.
                cursor[name] = {"since": max(newest, since)}
            if wait is not None:
                cursor["not_before"] = now + wait
                warnings.append(f"Reddit rate limit used up; stopped early, resuming after {_iso(now + wait)}")
                break
        return Fetched(items=list(items.values()), state=FetchState(cursor=json.dumps(cursor)), warnings=warnings)

    def _walk(self, http: Http, path: str, params: dict[str, str], since: float,
              warnings: list[str]) -> tuple[list[RawItem], float, bool, float | None]:
        """Pages of one listing down to `since`. Returns items, newest date, finished?, wait."""
        found: list[RawItem] = []
        newest = since
        after = None
        stop_at = since - OVERLAP
        for page in range(int(self.feed.get("max_pages"))):
            query = {**params, "limit": str(PAGE_SIZE), "raw_json": "1"}
            if after:
                query["after"] = after
            resp = self._get(http, path, query)
            children, after = self._listing(resp)
            reached = False
            for child in children:
                item = self.map_record(self._item, child, f"a {str(child.get('kind', 'thing'))[:10]} in {path}", warnings)
                if item is None:
                    continue
                created = item.created_at.timestamp()
                if created < stop_at:
                    reached = True
                    break
                newest = max(newest, created)
                found.append(item)
            wait = _exhausted(resp)
            if reached or not after:
                return found, newest, True, wait
            if wait is not None:
                return found, newest, False, wait
        warnings.append(f"stopped after {self.feed.get('max_pages')} pages of {path}; older items were skipped "
                        "(raise max_pages to get them)")
        return found, newest, True, _exhausted(resp)

    def _get(self, http: Http, path: str, params: dict[str, str]) -> Response:
        try:
            return http.get(self.base + path, feed=self.feed.name, params=params, headers=self.headers())
        except HttpStatusError as e:
            if e.status == 403:
                reason = _json_field(e.body, "reason")
                if reason == "private":
                    raise self.error(f"HTTP 403: r/{self.subreddit} is private; listen reads public subreddits only") from None
                raise self.error("HTTP 403: Reddit refused the request. It blocks some unauthenticated clients "
                                 "and networks; logging in (OAuth) is not supported yet") from None
            if e.status == 404:
                raise self.error(f"HTTP 404: Reddit has no listing at {path} (check subreddit and username)") from None
            raise

    def _listing(self, resp: Response) -> tuple[list[dict], str | None]:
        body = resp.json(self.feed.name)
        data = body.get("data") if isinstance(body, dict) else None
        children = data.get("children") if isinstance(data, dict) else None
        if not isinstance(children, list):
            raise self.error("Reddit answered with something that is not a Listing (no data.children)")
        after = data.get("after")
        return [c for c in children if isinstance(c, dict)], after if isinstance(after, str) and after else None

    def _matches(self, text: str) -> bool:
        """Local filter for subreddit comments: every word of `query`, any case."""
        query = self.feed.get("query")
        if not query:
            return True
        words = [w.strip('"').casefold() for w in query.split() if w.upper() not in ("AND", "OR")]
        text = text.casefold()
        return all(w in text for w in words if w)

    # --- mapping ------------------------------------------------------------

    def _item(self, child: dict) -> RawItem | None:
        kind, data = child.get("kind"), child.get("data")
        if kind not in ("t1", "t3") or not isinstance(data, dict):
            return None
        name, created = data.get("name"), data.get("created_utc")
        if not isinstance(name, str) or not isinstance(created, (int, float)):
            return None
        author = data.get("author") or "[deleted]"
        permalink = data.get("permalink")
        url = WEB + permalink.split("?")[0] if isinstance(permalink, str) and permalink.startswith("/") else None
        if kind == "t1":
            text = html_to_text(data.get("body_html")) or (data.get("body") or "")
            in_reply_to, thread_id, title = data.get("parent_id"), data.get("link_id"), data.get("link_title")
        else:  # a post: the title is what people read first
            title = data.get("title") or ""
            body = html_to_text(data.get("selftext_html")) or (data.get("selftext") or "")
            link = None if data.get("is_self", True) else data.get("url")
            text = "\n\n".join(part for part in (title, body, link) if part)
            in_reply_to, thread_id = None, name
        user = self.username
        return RawItem(
            native_id=name,  # fullnames (t1_x, t3_y) everywhere, so parent_id and link_id resolve
            author=author,
            text=text,
            created_at=datetime.fromtimestamp(created, tz=timezone.utc),
            url=url,
            in_reply_to=in_reply_to if isinstance(in_reply_to, str) else None,
            thread_id=thread_id if isinstance(thread_id, str) else name,
            title=title or None,
            ours=True if user and author.casefold() == user.casefold() else None,
            raw=child,
        )

    def probe(self, http: Http) -> str:
        name, path, params = self.streams()[0]
        children, _ = self._listing(self._get(http, path, {**params, "limit": "1", "raw_json": "1"}))
        return f"reachable (no login); {path} answered with {len(children)} item(s)"


def _strip_prefix(value: str, prefix: str) -> str:
    value = value.strip().lstrip("/")
    return value[len(prefix):] if value.lower().startswith(prefix) else value


def _exhausted(resp: Response) -> float | None:
    """Seconds until the window resets when X-Ratelimit-Remaining says none are left."""
    try:
        remaining = float(resp.headers.get("x-ratelimit-remaining", "inf"))
    except ValueError:
        return None
    if remaining >= 1:
        return None
    try:
        return max(1.0, float(resp.headers.get("x-ratelimit-reset", "60")))
    except ValueError:
        return 60.0


def _json_field(body: bytes, key: str) -> Any:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return data.get(key) if isinstance(data, dict) else None


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
