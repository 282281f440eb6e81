"""Mastodon: mentions of our account, a public hashtag, and our own replies.

API facts (docs.joinmastodon.org): results come newest first; the `Link`
header's rel="next" is the next *older* page; `since_id` asks only for newer
ids. Ids are opaque strings that sort by (length, text). Many real mention
notifications carry `"status": null` (the post was deleted or is no longer
visible), so those are skipped.

Cursor (JSON in FetchState.cursor), one high-water id per stream:
    {"mentions": <notification id>, "own": <status id>, "tag": <status id>,
     "search": <status id>}
"""

from __future__ import annotations

import json
import time
from typing import Any, Callable
from urllib.parse import quote, urlsplit

from listen.http import Http, HttpStatusError, Response
from listen.models import Fetched, FetchState, RawItem
from listen.sources import Option, Source, next_link, parse_time
from listen.text import html_to_text

PAGE_LIMIT = 40  # the documented maximum for timelines; notifications allow 80 on 4.1+, 40 works everywhere


def id_key(native_id: str) -> tuple[int, str]:
    """Mastodon ids sort by length, then text (they are not always integers)."""
    return (len(native_id), native_id)


def newer(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return a or b
    return a if id_key(a) > id_key(b) else b


class MastodonSource(Source):
    network = "mastodon"
    options = {
        "instance": Option(str, "the server's root URL", default="https://mastodon.social"),
        "token_env": Option(str, "env var holding an access token (scope read); enables mentions"),
        "hashtag": Option(str, "a public hashtag timeline to follow, without the #"),
        "search": Option(str, "full-text status search (needs token_env and a server with search enabled)"),
        "max_pages": Option(int, "pages per stream per pull, bounding the first pull", default=5, minimum=1),
        "max_context": Option(int, "thread look-ups per pull for replies whose root is unknown", default=10, minimum=1),
        "quotes": Option(bool, "also quote posts of our posts (notifications of type quote, Mastodon 4.5+)",
                         default=True),
    }

    @classmethod
    def check(cls, options: dict[str, Any]) -> list[str]:
        problems = []
        if not options.get("token_env") and not options.get("hashtag"):
            problems.append("set token_env (mentions of your account) or hashtag (a public hashtag), or both")
        if options.get("search") and not options.get("token_env"):
            problems.append("search needs token_env: Mastodon only searches statuses for a signed-in account")
        return problems

    def __init__(self, feed: Any, clock: Callable[[], float] = time.time):
        super().__init__(feed, clock)
        self.base = str(feed.get("instance", "https://mastodon.social")).rstrip("/")
        self.max_pages = max(1, int(feed.get("max_pages", 5)))
        self.token: str | None = None  # read from the environment at fetch time, kept in memory only
        self.warnings: list[str] = []

    # -- HTTP ---------------------------------------------------------------

    def _login(self) -> None:
        # Asked at fetch time, not in __init__, so a missing variable is this
        # feed's failure (naming the variable), not a crash of the whole run.
        self.token = self.feed.secret("token_env") if self.feed.get("token_env") else None

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def _get(self, http: Http, url: str, params: Any = None) -> tuple[Any, Response]:
        self.guard(url, self.base)  # a Link header must not carry the token elsewhere
        try:
            resp = http.get(url, feed=self.feed.name, params=params, headers=self._headers())
        except HttpStatusError as e:
            if e.status in (401, 403) and self.token:
                var = self.feed.get("token_env")
                raise self.error(
                    f"HTTP {e.status}: the token in ${var} was refused; create one at "
                    f"{self.base}/settings/applications (Preferences > Development) with scope read"
                ) from None
            raise
        return resp.json(self.feed.name), resp

    def _pages(self, http: Http, path: str, params: dict[str, Any], since: str | None,
               what: str) -> list[dict]:
        """Objects newer than `since`, newest first, following rel="next" for at most max_pages."""
        url: str | None = f"{self.base}{path}"
        if since:
            params = {**params, "since_id": since}
        out: list[dict] = []
        for page in range(self.max_pages):
            body, resp = self._get(http, url, params if page == 0 else None)
            if not isinstance(body, list):
                raise self.error(f"expected a list of {what} from {path}, got {type(body).__name__}")
            fresh = [o for o in body if isinstance(o, dict) and isinstance(o.get("id"), str)
                     and (since is None or id_key(o["id"]) > id_key(since))]
            out.extend(fresh)
            url = next_link(resp)
            if not body or len(fresh) < len(body) or not url:
                return out  # reached what we saw last time, or the end
            if resp.headers.get("x-ratelimit-remaining") == "0":
                self.warnings.append(f"{what}: stopped paging, rate limit used up until "
                                     f"{resp.headers.get('x-ratelimit-reset', 'the reset')}")
                return out
        self.warnings.append(f"{what}: stopped after {self.max_pages} pages; older ones were skipped")
        return out

    # -- fetch --------------------------------------------------------------

    def fetch(self, http: Http, state: FetchState) -> Fetched:
        cursor = {k: v for k, v in self.load_cursor(state.cursor).items() if isinstance(v, str)}
        self._login()
        self.warnings = []
        me: dict | None = None
        statuses: list[dict] = []
        new_cursor = dict(cursor)

        if self.token:
            me = self._me(http)
            # A quote of our post is said to us as much as a mention is. Servers before 4.5
            # ignore a type they do not know; `quotes = false` is for those that refuse it.
            types = ["mention", "quote"] if self.feed.get("quotes", True) else ["mention"]
            notes = self._pages(http, "/api/v1/notifications", {"types[]": types, "limit": PAGE_LIMIT},
                                cursor.get("mentions"), "mentions")
            for n in notes:
                new_cursor["mentions"] = newer(new_cursor.get("mentions"), n["id"])
            # A null status is a mention we can no longer see; nothing to answer.
            statuses += [n["status"] for n in notes if isinstance(n.get("status"), dict)]
            own = self._pages(http, f"/api/v1/accounts/{quote(me['id'])}/statuses",
                              {"limit": PAGE_LIMIT, "exclude_reblogs": "true"}, cursor.get("own"), "our posts")
            new_cursor["own"] = _max_id(own, cursor.get("own"))
            statuses += own
            if self.feed.get("search"):
                found = self._search(http, cursor.get("search"))
                new_cursor["search"] = _max_id(found, cursor.get("search"))
                statuses += found

        if self.feed.get("hashtag"):
            tag = str(self.feed.get("hashtag")).lstrip("#")
            tagged = self._pages(http, f"/api/v1/timelines/tag/{quote(tag)}", {"limit": PAGE_LIMIT},
                                 cursor.get("tag"), f"#{tag}")
            new_cursor["tag"] = _max_id(tagged, cursor.get("tag"))
            statuses += tagged

        items = self._items(http, statuses, me)
        state = FetchState(cursor=json.dumps({k: v for k, v in new_cursor.items() if v}, sort_keys=True))
        return Fetched(items=items, state=state, warnings=list(self.warnings))

    def _me(self, http: Http) -> dict:
        body, _ = self._get(http, f"{self.base}/api/v1/accounts/verify_credentials")
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            raise self.error("verify_credentials did not return an account with an id")
        return body

    def _search(self, http: Http, since: str | None) -> list[dict]:
        params: dict[str, Any] = {"q": self.feed.get("search"), "type": "statuses", "limit": PAGE_LIMIT}
        if since:
            params["min_id"] = since
        body, _ = self._get(http, f"{self.base}/api/v2/search", params)
        found = body.get("statuses") if isinstance(body, dict) else None
        if not isinstance(found, list):
            raise self.error("expected {\"statuses\": [...]} from /api/v2/search")
        return [s for s in found if isinstance(s, dict) and isinstance(s.get("id"), str)
                and (since is None or id_key(s["id"]) > id_key(since))]

    def _items(self, http: Http, statuses: list[dict], me: dict | None) -> list[RawItem]:
        by_id: dict[str, dict] = {}
        for s in statuses:
            by_id[s["id"]] = s
        roots: dict[str, str] = {}
        lookups = max(0, int(self.feed.get("max_context", 10)))
        extra: list[dict] = []
        mine = me["id"] if me else None
        for s in list(by_id.values()):
            if not s.get("in_reply_to_id") or _root_in_batch(s, by_id):
                continue
            if mine and (s.get("account") or {}).get("id") == mine:
                continue  # only mentions deserve a look-up; our replies point at them anyway
            if lookups == 0:
                continue  # storage follows in_reply_to for the rest
            lookups -= 1
            extra += self._context(http, s, me, roots)
        for s in extra:
            by_id.setdefault(s["id"], s)
        items = []
        for s in by_id.values():
            item = self.map_record(lambda s: self._item(s, me, roots.get(s["id"]) or _root_in_batch(s, by_id)),
                                   s, f"a status ({str(s.get('id'))[:24]!r})", self.warnings)
            if item is not None:
                items.append(item)
        return items

    def _context(self, http: Http, s: dict, me: dict | None, roots: dict[str, str]) -> list[dict]:
        """Find the thread's root; also return our replies below it (they answer it)."""
        body, _ = self._get(http, f"{self.base}/api/v1/statuses/{quote(s['id'])}/context")
        if not isinstance(body, dict):
            raise self.error("expected {\"ancestors\": [...], \"descendants\": [...]} from a status context")
        ancestors = [a for a in body.get("ancestors") or [] if isinstance(a, dict) and a.get("id")]
        descendants = [d for d in body.get("descendants") or [] if isinstance(d, dict) and d.get("id")]
        root = ancestors[0]["id"] if ancestors else s["id"]
        roots[s["id"]] = root
        for d in descendants:
            roots[d["id"]] = root
        mine = me["id"] if me else None
        return [d for d in descendants if mine and (d.get("account") or {}).get("id") == mine]

    def _item(self, s: dict, me: dict | None, root: str | None) -> RawItem:
        account = s.get("account") or {}
        text = html_to_text(s.get("content"))
        if s.get("spoiler_text"):
            text = f"{s['spoiler_text']}\n\n{text}"
        reply_to = s.get("in_reply_to_id")
        return RawItem(
            native_id=s["id"],
            author=account["acct"],
            author_name=account.get("display_name") or None,
            text=text,
            created_at=parse_time(s["created_at"]),
            url=s.get("url") or s.get("uri"),
            in_reply_to=reply_to,
            # Unknown root of a reply: leave it to storage, which follows in_reply_to.
            thread_id=root or (None if reply_to else s["id"]),
            ours=(account.get("id") == me["id"]) if me else None,
            raw=s,
        )

    def probe(self, http: Http) -> str:
        self._login()
        if self.token:
            me = self._me(http)
            return f"authenticated as @{me.get('acct')}@{urlsplit(self.base).hostname}"
        tag = str(self.feed.get("hashtag")).lstrip("#")
        body, _ = self._get(http, f"{self.base}/api/v1/timelines/tag/{quote(tag)}", {"limit": 1})
        if not isinstance(body, list):
            raise self.error(f"the #{tag} timeline did not return a list")
        return f"#{tag} on {urlsplit(self.base).hostname} is readable without a token"


def _root_in_batch(s: dict, by_id: dict[str, dict]) -> str | None:
    """Walk in_reply_to through what this pull fetched; the top is the root if it starts the thread."""
    seen = set()
    # isinstance: a mistyped id (a list, from a broken server) must not raise outside map_record.
    while isinstance(s.get("in_reply_to_id"), str) and s["in_reply_to_id"] in by_id and s["id"] not in seen:
        seen.add(s["id"])
        s = by_id[s["in_reply_to_id"]]
    return s["id"] if not s.get("in_reply_to_id") else None


def _max_id(statuses: list[dict], current: str | None) -> str | None:
    for s in statuses:
        current = newer(current, s["id"])
    return current

