"""Bluesky: mentions, replies and quotes of our account, keyword search, and our own posts.

API facts (atproto lexicons): every call is an XRPC `GET {pds}/xrpc/<NSID>`;
`app.bsky.*` calls made to the PDS with a session are proxied to the AppView.
Lists come newest first with an opaque `cursor` to older pages and no "since"
parameter, so each stream pages until it meets a post no newer than the
`indexedAt` high-water mark it stored last time. Post records carry their
thread (`reply.root`, `reply.parent`), so no thread look-up is needed.

Cursor (JSON in FetchState.cursor): newest `indexedAt` seen per stream,
    {"notifications": "...", "search": "...", "own": "..."}
The session (accessJwt/refreshJwt) lives on the source object only; it is
never written to the cursor.
"""

from __future__ import annotations

import json
import time
from typing import Any, Callable

from listen.http import Http, HttpStatusError
from listen.models import Fetched, FetchState, RawItem
from listen.sources import Option, Source, parse_time

REASONS = ("mention", "reply", "quote")  # what someone says to us; likes and follows need no answer
PAGE_LIMIT = 50


def web_url(uri: str) -> str | None:
    """at://<did>/app.bsky.feed.post/<rkey> -> https://bsky.app/profile/<did>/post/<rkey>.

    The DID, not the handle: a handle can change (a custom domain), and a stored link
    made with the old one then leads nowhere. bsky.app shows the profile either way;
    the handle at fetch time is kept as the item's author."""
    parts = uri.removeprefix("at://").split("/")
    if len(parts) != 3 or parts[1] != "app.bsky.feed.post":
        return None
    return f"https://bsky.app/profile/{parts[0]}/post/{parts[2]}"


class BlueskySource(Source):
    network = "bluesky"
    options = {
        "handle": Option(str, "our handle (or email) to sign in with, e.g. acme.bsky.social", required=True),
        "app_password_env": Option(str, "env var holding an app password (Settings > Privacy and security > App passwords)",
                                   required=True),
        "search": Option(str, "keyword search (searchPosts syntax); optional"),
        "notifications": Option(bool, "fetch mentions, replies and quotes of our account", default=True),
        "base_url": Option(str, "the account's PDS", default="https://bsky.social"),
        "max_pages": Option(int, "pages per stream per pull, bounding the first pull", default=5, minimum=1),
    }

    def __init__(self, feed: Any, clock: Callable[[], float] = time.time):
        super().__init__(feed, clock)
        self.base = str(feed.get("base_url", "https://bsky.social")).rstrip("/")
        self.max_pages = max(1, int(feed.get("max_pages", 5)))
        self.session: dict[str, str] | None = None  # in memory only
        self.warnings: list[str] = []

    # -- session ------------------------------------------------------------

    def _refused(self, status: int) -> Exception:
        var = self.feed.get("app_password_env")
        return self.error(
            f"HTTP {status}: the app password in ${var} was refused for {self.feed.get('handle')}; "
            "create one at bsky.app Settings > Privacy and security > App passwords"
        )

    def _login(self, http: Http) -> dict[str, str]:
        password = self.feed.secret("app_password_env")
        try:
            resp = http.request("POST", f"{self.base}/xrpc/com.atproto.server.createSession", feed=self.feed.name,
                                json_body={"identifier": self.feed.get("handle"), "password": password})
        except HttpStatusError as e:
            if e.status in (400, 401, 403) and _xrpc_error(e.body)[0] in ("AuthenticationRequired", "", None):
                raise self._refused(e.status) from None
            raise self._xrpc_failure(e) from None
        return self._keep(resp.json(self.feed.name), "createSession")

    def _refresh(self, http: Http) -> dict[str, str]:
        refresh = (self.session or {}).get("refresh", "")
        try:
            resp = http.request("POST", f"{self.base}/xrpc/com.atproto.server.refreshSession", feed=self.feed.name,
                                headers={"Authorization": f"Bearer {refresh}"})
        except HttpStatusError:
            return self._login(http)  # the refresh token expired too: sign in again
        return self._keep(resp.json(self.feed.name), "refreshSession")

    def _keep(self, body: Any, what: str) -> dict[str, str]:
        if not isinstance(body, dict) or not all(isinstance(body.get(k), str)
                                                 for k in ("accessJwt", "refreshJwt", "did")):
            raise self.error(f"{what} did not return accessJwt, refreshJwt and did")
        self.session = {"access": body["accessJwt"], "refresh": body["refreshJwt"], "did": body["did"],
                        "handle": body.get("handle") or str(self.feed.get("handle"))}
        return self.session

    def _xrpc(self, http: Http, nsid: str, params: Any) -> Any:
        """One authenticated query; an expired access token is refreshed once."""
        session = self.session or self._login(http)
        for attempt in (1, 2):
            try:
                resp = http.get(f"{self.base}/xrpc/{nsid}", feed=self.feed.name, params=params,
                                headers={"Authorization": f"Bearer {session['access']}"})
                return resp.json(self.feed.name)
            except HttpStatusError as e:
                if attempt == 1 and _xrpc_error(e.body)[0] == "ExpiredToken":
                    session = self._refresh(http)
                    continue
                if e.status in (401, 403):
                    raise self._refused(e.status) from None
                raise self._xrpc_failure(e) from None
        raise AssertionError("unreachable")

    def _xrpc_failure(self, e: HttpStatusError) -> Exception:
        if e.status == 429 or not e.body:
            return e  # RateLimited and friends keep their type
        name, message = _xrpc_error(e.body)
        return self.error(f"{e.message}: {name}: {message}" if name else e.message)

    # -- fetch --------------------------------------------------------------

    def fetch(self, http: Http, state: FetchState) -> Fetched:
        cursor = {k: v for k, v in self.load_cursor(state.cursor).items() if isinstance(v, str)}
        self.warnings = []
        session = self.session or self._login(http)
        new_cursor = dict(cursor)
        posts: dict[str, tuple[dict, dict, dict]] = {}  # uri -> (author, record, raw)

        def keep(stream: str, found: list[tuple[dict, dict, str, dict]]) -> None:
            for author, record, uri, raw in found:
                posts[uri] = (author, record, raw)
                stamp = raw.get("indexedAt")
                if stamp and (new_cursor.get(stream) is None or _later(stamp, new_cursor[stream])):
                    new_cursor[stream] = stamp

        if self.feed.get("notifications", True):
            keep("notifications", self._stream(
                http, "app.bsky.notification.listNotifications",
                {"reasons": list(REASONS), "limit": PAGE_LIMIT}, "notifications", cursor.get("notifications"),
                lambda n: (n.get("author"), n.get("record"), n.get("uri"), n) if n.get("reason") in REASONS else None))
        if self.feed.get("search"):
            params = {"q": self.feed.get("search"), "sort": "latest", "limit": PAGE_LIMIT}
            if cursor.get("search"):
                params["since"] = cursor["search"]
            keep("search", self._stream(http, "app.bsky.feed.searchPosts", params, "posts", cursor.get("search"),
                                        _from_post_view))
        # Our own posts, so our replies answer the mentions they reply to.
        keep("own", self._stream(
            http, "app.bsky.feed.getAuthorFeed",
            {"actor": session["did"], "filter": "posts_with_replies", "limit": PAGE_LIMIT},
            "feed", cursor.get("own"),
            # A repost shows someone else's post in our feed: not ours, skip it.
            lambda f: None if f.get("reason") else _from_post_view(f.get("post") or {})))

        items = []
        for uri, (author, record, raw) in posts.items():
            item = self.map_record(lambda p: self._item(*p), (uri, author, record, raw),
                                   f"a post ({uri[-40:]!r})", self.warnings)
            if item is not None:
                items.append(item)
        state = FetchState(cursor=json.dumps({k: v for k, v in new_cursor.items() if v}, sort_keys=True))
        return Fetched(items=items, state=state, warnings=list(self.warnings))

    def _stream(self, http: Http, nsid: str, params: dict[str, Any], key: str, mark: str | None,
                pick: Any) -> list[tuple[dict, dict, str, dict]]:
        """(author, record, uri, raw) of entries newer than `mark`, paging with `cursor`."""
        out = []
        page_cursor = None
        for _ in range(self.max_pages):
            body = self._xrpc(http, nsid, {**params, **({"cursor": page_cursor} if page_cursor else {})})
            entries = body.get(key) if isinstance(body, dict) else None
            if not isinstance(entries, list):
                raise self.error(f"{nsid} did not return a list of {key}")
            reached_mark = False
            for entry in entries:
                if not isinstance(entry, dict):
                    self.warnings.append(f"skipped a {nsid} entry that is not an object")
                    continue
                stamp = entry.get("indexedAt") or (entry.get("post") or {}).get("indexedAt")
                if mark and stamp and not _later(stamp, mark):
                    reached_mark = True
                    continue  # seen last time (search results need not be in indexedAt order, so keep looking)
                picked = pick(entry)
                if picked and isinstance(picked[2], str):
                    out.append((picked[0] or {}, picked[1] or {}, picked[2], picked[3]))
            page_cursor = body.get("cursor")
            if reached_mark or not entries or not page_cursor:
                return out
        self.warnings.append(f"{nsid}: stopped after {self.max_pages} pages; older posts were skipped")
        return out

    def _item(self, uri: str, author: dict, record: dict, raw: dict) -> RawItem:
        reply = record.get("reply") or {}
        did = author.get("did") or uri.removeprefix("at://").split("/")[0]
        handle = author.get("handle") or did
        return RawItem(
            native_id=uri,
            author=handle,
            author_name=author.get("displayName") or None,
            text=str(record.get("text") or ""),
            # createdAt is what the client claims; indexedAt is the server's, used when the claim is missing.
            created_at=parse_time(record.get("createdAt") or raw.get("indexedAt")),
            url=web_url(uri),
            in_reply_to=(reply.get("parent") or {}).get("uri"),
            thread_id=(reply.get("root") or {}).get("uri") or uri,
            ours=did == self.session["did"] if self.session else None,
            raw=raw,
        )

    def probe(self, http: Http) -> str:
        session = self.session or self._login(http)
        return f"authenticated as @{session['handle']} ({session['did']}) on {self.base}"


def _from_post_view(post: dict) -> tuple[dict, dict, str, dict] | None:
    if not isinstance(post, dict):
        return None
    return post.get("author"), post.get("record"), post.get("uri"), post


def _xrpc_error(body: bytes) -> tuple[str | None, str]:
    """XRPC error bodies are {"error": <name>, "message": <text>}."""
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return None, ""
    if not isinstance(data, dict):
        return None, ""
    return data.get("error"), str(data.get("message") or "")[:200]


def _later(a: str, b: str) -> bool:
    try:
        return parse_time(a) > parse_time(b)
    except ValueError:
        return a > b

