"""Reddit, through the public JSON listings, and the account's inbox when logged in.

What it reads, each a "stream" with its own watermark:
  posts     `query` set: /search.json?q=..&sort=new&type=link (or /r/<sub>/search.json
            with restrict_sr when `subreddit` is set too); `subreddit` alone: /r/<sub>/new.json.
  comments  `subreddit` set: /r/<sub>/comments.json, every new comment, newest first
            (filtered locally by the words of `query` when both are set: Reddit's search
            does not search comment text).
  ours      `username` set: /user/<name>/comments.json, so our replies answer people.
  inbox     `client_id_env`, `client_secret_env` and `password_env` set (a "script" app):
            /message/inbox on oauth.reddit.com with a password-grant token: replies to our
            comments and posts and mentions of u/<username>, wherever they are.

Listings are newest first; we page with `after` until we reach an item older than the
stream's watermark (or max_pages, or lookback on a first pull). A time watermark rather
than a `before=<fullname>` anchor, because an anchor breaks when that item is deleted.

Cursor (JSON): {"posts": {"since": <created_utc>}, "comments": {...}, "ours": {...},
"not_before": {"all": <epoch seconds, set when X-Ratelimit-Remaining ran out>}}. The token lives
in memory only, never in the cursor.
"""

from __future__ import annotations

import base64
import json
import re
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable
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
_THREAD = re.compile(r"/comments/([a-z0-9]+)(?:/|$)")  # the post's id in a permalink or inbox `context`
OAUTH_KEYS = ("client_id_env", "client_secret_env", "password_env")
TOKEN_MARGIN = 60.0  # renew a token this long before Reddit says it expires
ALL = "all"  # Reddit's rate limit covers every listing: one wait for the whole feed


@dataclass(frozen=True)
class Stream:
    name: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    oauth: bool = False  # read from oauth_base_url with the bearer token


class RedditSource(Source):
    network = "reddit"
    options = {
        "query": Option(str, "words to listen for in new posts (and in comments of `subreddit`)"),
        "subreddit": Option(str, "every new post and comment in this subreddit (a+b for several)"),
        "username": Option(str, "our Reddit account: its comments are fetched and are ours"),
        "base_url": Option(str, "root of the Reddit API", default=WEB),
        "max_pages": Option(int, f"at most this many pages of {PAGE_SIZE} per stream and pull", default=5, minimum=1),
        "lookback": Option(str, "how far back the first pull reaches", default="14d", duration=True),
        "client_id_env": Option(str, "env var holding the client id of a Reddit \"script\" app; enables the inbox"),
        "client_secret_env": Option(str, "env var holding that app's secret"),
        "password_env": Option(str, "env var holding the password of `username` (the app's developer)"),
        "max_parents": Option(int, "look-ups per pull of the comments our replies answer, when not stored",
                              default=100, minimum=0),
        "oauth_base_url": Option(str, "root of the logged-in API", default="https://oauth.reddit.com"),
        "oauth_token_url": Option(str, "where tokens are granted", default="https://www.reddit.com/api/v1/access_token"),
    }

    def __init__(self, feed: Any, clock: Callable[[], float] = time.time):
        super().__init__(feed, clock)
        # For one pull (fetch, then parents), in memory only: never in the cursor, raw or messages.
        self._token: str | None = None
        self._token_until = 0.0  # clock time after which the token is renewed

    @classmethod
    def check(cls, options: dict[str, Any]) -> list[str]:
        problems = []
        query, sub, user = options.get("query"), options.get("subreddit"), options.get("username")
        oauth = [k for k in OAUTH_KEYS if options.get(k)]
        if not (query and query.strip()) and not sub and not oauth:
            problems.append("set query (posts matching words), subreddit (everything in a subreddit) "
                            "or client_id_env, client_secret_env and password_env (the account's inbox)")
        if oauth and len(oauth) < len(OAUTH_KEYS):
            missing = ", ".join(k for k in OAUTH_KEYS if k not in oauth)
            problems.append(f"client_id_env, client_secret_env and password_env go together (logging in); missing: {missing}")
        if oauth and not user:
            problems.append("username is required with client_id_env, client_secret_env and password_env: "
                            "it is the account that logs in")
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

    @property
    def oauth(self) -> bool:
        return all(self.feed.get(k) for k in OAUTH_KEYS)

    def headers(self) -> dict[str, str]:
        # Reddit throttles generic User-Agents hard; it asks for <platform>:<app>:<version> (by /u/<name>).
        by = f" (by /u/{self.username})" if self.username else " (social listening CLI)"
        return {"User-Agent": f"{sys.platform}:listen:{__version__}{by}"}

    def streams(self) -> list[Stream]:
        """The listings this feed reads."""
        query, sub = self.feed.get("query"), self.subreddit
        out = []
        # The inbox first: it is what is addressed to us, and it is counted against the
        # app's own rate limit, not the tight one of the public listings.
        if self.oauth:
            # /message/inbox rather than /message/mentions + /message/comments: one request,
            # and it also holds replies to our posts (post_reply, else /message/selfreply).
            out.append(Stream("inbox", "/message/inbox", oauth=True))
        if query and sub:
            out.append(Stream("posts", f"/r/{quote(sub)}/search.json",
                              {"q": query, "sort": "new", "type": "link", "restrict_sr": "on", "t": "all"}))
        elif query:
            out.append(Stream("posts", "/search.json", {"q": query, "sort": "new", "type": "link", "t": "all"}))
        elif sub:
            out.append(Stream("posts", f"/r/{quote(sub)}/new.json"))
        if sub:
            out.append(Stream("comments", f"/r/{quote(sub)}/comments.json"))
        if self.username:
            out.append(Stream("ours", f"/user/{quote(self.username)}/comments.json", {"sort": "new"}))
        return out

    # --- fetching ------------------------------------------------------------

    def fetch(self, http: Http, state: FetchState) -> Fetched:
        now = self.clock()
        warnings: list[str] = []
        cursor = self.load_cursor(state.cursor, warnings)
        if isinstance(cursor.get("not_before"), (int, float)):  # older cursors held one number
            cursor["not_before"] = {ALL: cursor["not_before"]}
        not_before = self.backed_off(cursor, ALL)
        if not_before is not None:
            # Reddit said the rate-limit window is used up: ask nothing until it resets.
            warnings.append(f"Reddit rate limit used up; next requests after {_iso(not_before)}")
            return Fetched(items=[], state=state, warnings=warnings)
        self.forget_backoffs(cursor)

        items: dict[str, RawItem] = {}
        for stream in self.streams():
            name = stream.name
            mark = cursor.get(name) if isinstance(cursor.get(name), dict) else {}
            since = float(mark["since"]) if isinstance(mark.get("since"), (int, float)) else now - self.feed.get("lookback")
            found, newest, complete, wait = self._walk(http, stream, since, warnings)
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
                self.back_off(cursor, ALL, now + wait)
                warnings.append(f"Reddit rate limit used up; stopped early, resuming after {_iso(now + wait)}")
                break
        return Fetched(items=list(items.values()), state=FetchState(cursor=json.dumps(cursor)), warnings=warnings)

    def _walk(self, http: Http, stream: Stream, since: float,
              warnings: list[str]) -> tuple[list[RawItem], float, bool, float | None]:
        """Pages of one listing down to `since`. Returns items, newest date, finished?, wait."""
        found: list[RawItem] = []
        newest = since
        after = None
        stop_at = since - OVERLAP
        for page in range(int(self.feed.get("max_pages"))):
            query = {**stream.params, "limit": str(PAGE_SIZE), "raw_json": "1"}
            if after:
                query["after"] = after
            resp = self._oauth_get(http, stream.path, query) if stream.oauth else self._get(http, stream.path, query)
            children, after = self._listing(resp)
            reached = False
            for child in children:
                if child.get("kind") == "t4":
                    # A private message in the inbox: not a public conversation, and our
                    # answers (in /message/sent) are not read, so it would wait forever.
                    continue
                item = self.map_record(self._item, child, f"a {str(child.get('kind', 'thing'))[:10]} in {stream.path}",
                                       warnings)
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
        warnings.append(f"stopped after {self.feed.get('max_pages')} pages of {stream.path}; older items were skipped "
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
                                 "and networks; listings are read without login (only the inbox logs in)") from None
            if e.status == 404:
                raise self.error(f"HTTP 404: Reddit has no listing at {path} (check subreddit and username)") from None
            raise

    # --- threads ------------------------------------------------------------

    fetches_parents = True

    def parents(self, http: Http, ids: list[str], warnings: list[str]) -> list[RawItem]:
        """Comments and posts by fullname, 100 a request (/api/info)."""
        found: list[RawItem] = []
        names = [i for i in ids if re.fullmatch(r"t[13]_[a-z0-9]{1,13}", i)]
        for start in range(0, len(names), PAGE_SIZE):
            params = {"id": ",".join(names[start:start + PAGE_SIZE]), "raw_json": "1"}
            resp = self._oauth_get(http, "/api/info", params) if self.oauth else self._get(http, "/api/info.json", params)
            children, _ = self._listing(resp)
            for child in children:
                item = self.map_record(self._item, child, "a parent from /api/info", warnings)
                if item is not None:
                    found.append(item)
        return found

    # --- logging in ------------------------------------------------------------

    def _login(self, http: Http) -> str:
        """A bearer token by the password grant of a "script" app."""
        client_id = self.feed.secret("client_id_env")
        client_secret = self.feed.secret("client_secret_env")
        password = self.feed.secret("password_env")
        basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode("ascii")
        try:
            resp = http.request("POST", self.feed.get("oauth_token_url"), feed=self.feed.name,
                                headers={**self.headers(), "Authorization": f"Basic {basic}"},
                                data={"grant_type": "password", "username": self.username or "",
                                      "password": password or ""})
        except HttpStatusError as e:
            if e.status in (401, 403):
                raise self.error(
                    f"HTTP {e.status}: Reddit refused the app credentials in ${self.feed.get('client_id_env')} and "
                    f"${self.feed.get('client_secret_env')}; they are the id and secret of a \"script\" app "
                    "at reddit.com/prefs/apps") from None
            raise
        body = resp.json(self.feed.name)
        body = body if isinstance(body, dict) else {}
        token = body.get("access_token")
        if body.get("error") == "invalid_grant":  # Reddit says so with HTTP 200
            raise self.error(f"Reddit refused the password in ${self.feed.get('password_env')} for u/{self.username} "
                             "(invalid_grant; the account must be the app's developer, without two-factor login)")
        if not isinstance(token, str) or not token or not (token.isascii() and token.isprintable()):
            error = body.get("error")
            why = f": {str(error)[:40]!r}" if isinstance(error, str) else ""
            raise self.error(f"Reddit granted no access token{why}")
        lifetime = body.get("expires_in")
        lifetime = float(lifetime) if isinstance(lifetime, (int, float)) else 3600.0
        self._token, self._token_until = token, self.clock() + max(0.0, lifetime - TOKEN_MARGIN)
        return token

    def _oauth_get(self, http: Http, path: str, params: dict[str, str]) -> Response:
        base = self.feed.get("oauth_base_url").rstrip("/")
        fresh = self._token is None or self.clock() >= self._token_until
        token = self._login(http) if fresh else self._token
        for attempt in (1, 2):
            try:
                return http.get(base + path, feed=self.feed.name, params=params,
                                headers={**self.headers(), "Authorization": f"bearer {token}"})
            except HttpStatusError as e:
                if e.status == 401 and attempt == 1 and not fresh:
                    token, fresh = self._login(http), True  # revoked before its time: log in once more
                    continue
                if e.status in (401, 403):
                    raise self.error(f"HTTP {e.status}: Reddit refused to show u/{self.username}'s inbox to the app "
                                     "(it needs the privatemessages scope)") from None
                raise
        raise AssertionError("unreachable")  # the loop returns or raises

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
            # Inbox comments have neither permalink nor link_id, only `context`:
            # "/r/S/comments/<post>/<slug>/<comment>/?context=3".
            context = data.get("context")
            if isinstance(context, str) and context.startswith("/"):
                url = url or WEB + context.split("?")[0]
                found = _THREAD.search(context)
                if not isinstance(thread_id, str) and found:
                    thread_id = f"t3_{found.group(1)}"
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
        said = []
        for stream in self.streams():
            if stream.name not in ("inbox", "posts"):
                continue
            params = {**stream.params, "limit": "1", "raw_json": "1"}
            if stream.oauth:
                children, _ = self._listing(self._oauth_get(http, stream.path, params))
                said.append(f"logged in as u/{self.username}; {stream.path} answered with {len(children)} item(s)")
            else:
                children, _ = self._listing(self._get(http, stream.path, params))
                said.append(f"reachable (no login); {stream.path} answered with {len(children)} item(s)")
        return "; ".join(said)


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
