"""GitHub: issues and pull requests (and their comments) matching a search, or everything in a repo.

API facts (docs.github.com REST): lists page with a `Link` header
(rel="next"); `/repos/{o}/{r}/issues` and `/repos/{o}/{r}/issues/comments`
take `since` (updated at or after); search takes `updated:>=` in `q` and
returns issues, never comments, so the comments of matching issues are
fetched per issue (bounded). Pull requests are issues here too.

Ids: an issue is "owner/repo#12" (the thread root); a comment is
"owner/repo#12/comment/987654". GitHub comments are flat, so a comment is
taken to answer the comment before it in the same issue (or the issue itself
when it is the first one we know of).

Cursor (JSON in FetchState.cursor): newest `updated_at` per stream, plus the
last comment seen per issue so the next pull can chain replies:
    {"issues": "...", "comments": "...", "search": "...", "last": {"o/r#12": "o/r#12/comment/9"}}
"""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import Any, Callable
from urllib.parse import urlsplit

from listen.http import Http, HttpStatusError, RateLimited, Response
from listen.models import Fetched, FetchState, RawItem
from listen.sources import BAD_FIELD, Option, Source, next_link, parse_time

FIRST_PULL_DAYS = 14  # a first pull looks back this far, no further
PER_PAGE = 100
KEEP_LAST = 300  # issues remembered for reply chaining; the oldest are forgotten
_ISSUE_API = re.compile(r"/repos/([^/]+)/([^/]+)/issues/(\d+)$")


def issue_id(api_url: str) -> str:
    """https://api.github.com/repos/o/r/issues/12 -> "o/r#12"."""
    m = _ISSUE_API.search(urlsplit(api_url).path)
    if not m:
        raise ValueError(f"not an issue URL: {api_url!r}")
    return f"{m.group(1)}/{m.group(2)}#{m.group(3)}"


class GitHubSource(Source):
    network = "github"
    options = {
        "query": Option(str, "search terms, e.g. 'acme in:title,body,comments' (issues and PRs)"),
        "repo": Option(str, "owner/name: every issue, PR and comment in one repository"),
        "token_env": Option(str, "env var holding a token (optional; raises the rate limit, reads private repos)"),
        "base_url": Option(str, "the API root (GitHub Enterprise: https://HOST/api/v3)", default="https://api.github.com"),
        "max_pages": Option(int, "pages per list per pull, bounding the first pull", default=5, minimum=1),
        "max_threads": Option(int, "search results whose comments are fetched, per pull", default=10, minimum=1),
        "discussions": Option(bool, "also the Discussions of `repo`, with their comments and replies "
                                    "(GraphQL; needs token_env)", default=False),
        "graphql_url": Option(str, "the GraphQL endpoint (default: from base_url; GitHub Enterprise: "
                                   "https://HOST/api/graphql)"),
    }

    @classmethod
    def check(cls, options: dict[str, Any]) -> list[str]:
        problems = []
        if not options.get("query") and not options.get("repo"):
            problems.append("set query (a GitHub issue search) or repo (owner/name), or both")
        repo = options.get("repo")
        if repo and not re.fullmatch(r"[\w.-]+/[\w.-]+", repo):
            problems.append(f"repo: expected owner/name, got {repo!r}")
        if options.get("discussions") and not (repo and options.get("token_env")):
            problems.append("discussions needs repo (whose Discussions) and token_env: GitHub's GraphQL API "
                            "answers only with a token")
        return problems

    def __init__(self, feed: Any, clock: Callable[[], float] = time.time):
        super().__init__(feed, clock)
        self.base = str(feed.get("base_url", "https://api.github.com")).rstrip("/")
        self.max_pages = max(1, int(feed.get("max_pages", 5)))
        self.token: str | None = None  # read at fetch time, kept in memory only
        self.warnings: list[str] = []

    # -- HTTP ---------------------------------------------------------------

    def _get(self, http: Http, url: str, params: Any = None) -> tuple[Any, Response]:
        self.guard(url, self.base)  # a Link header must not carry the token elsewhere
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        # 403 is read here: GitHub says "rate limited" with a 403 and headers Http does not keep.
        resp = self._answer(lambda: http.get(url, feed=self.feed.name, params=params, headers=headers, ok=(200, 403)))
        if resp.status == 403:
            raise self.error(f"HTTP 403 forbidden ({urlsplit(url).path}): {_message(resp)}")
        return resp.json(self.feed.name), resp

    def _answer(self, send: Callable[[], Response]) -> Response:
        """GitHub's answer, with a refused token and a rate limit (401, or 403 with its headers)
        turned into errors. A 403 without a token comes back for the caller to word."""
        try:
            resp = send()
        except HttpStatusError as e:
            if e.status == 401:
                raise self._refused(401) from None
            raise
        if resp.status == 403:
            wait = _rate_limit_wait(resp, self.clock())
            if wait is not None:
                raise RateLimited(self.feed.name, 403, wait)
            if self.token:
                raise self._refused(403)
        return resp

    def _refused(self, status: int) -> Exception:
        var = self.feed.get("token_env")
        return self.error(
            f"HTTP {status}: the token in ${var} was refused or may not read this; create one at "
            "github.com/settings/tokens (public repositories need no scope; private ones need Issues: read)"
        )

    def _pages(self, http: Http, url: str, params: dict[str, Any], what: str, key: str | None = None) -> list[dict]:
        out: list[dict] = []
        next_url: str | None = url
        for page in range(self.max_pages):
            body, resp = self._get(http, next_url, params if page == 0 else None)
            entries = body.get(key) if key and isinstance(body, dict) else body
            if not isinstance(entries, list):
                raise self.error(f"expected a list of {what} from {urlsplit(next_url).path}, got {type(body).__name__}")
            out += [e for e in entries if isinstance(e, dict)]
            next_url = next_link(resp)
            if not entries or not next_url:
                return out
            if resp.headers.get("x-ratelimit-remaining") == "0":
                self.warnings.append(f"{what}: stopped paging, the rate limit is used up")
                return out
        self.warnings.append(f"{what}: stopped after {self.max_pages} pages; older ones were skipped")
        return out

    # -- fetch --------------------------------------------------------------

    def fetch(self, http: Http, state: FetchState) -> Fetched:
        cursor = self.load_cursor(state.cursor)
        self.token = self.feed.secret("token_env") if self.feed.get("token_env") else None
        self.warnings = []
        first = (datetime.fromtimestamp(self.clock(), timezone.utc)
                 - timedelta(days=FIRST_PULL_DAYS)).strftime("%Y-%m-%dT%H:%M:%SZ")
        login = self._login(http) if self.token else None
        issues: list[dict] = []
        comments: list[dict] = []
        new_cursor = dict(cursor)

        if self.feed.get("repo"):
            repo = f"{self.base}/repos/{self.feed.get('repo')}"
            found = self._pages(http, f"{repo}/issues", {"state": "all", "sort": "updated", "direction": "desc",
                                "since": cursor.get("issues", first), "per_page": PER_PAGE}, "issues")
            new_cursor["issues"] = _newest(found, cursor.get("issues"))
            issues += found
            found = self._pages(http, f"{repo}/issues/comments", {"sort": "updated", "direction": "desc",
                                "since": cursor.get("comments", first), "per_page": PER_PAGE}, "comments")
            new_cursor["comments"] = _newest(found, cursor.get("comments"))
            comments += found

        if self.feed.get("query"):
            since = cursor.get("search", first)
            q = f"{self.feed.get('query')} updated:>={since}"
            found = self._pages(http, f"{self.base}/search/issues",
                                {"q": q, "sort": "updated", "order": "desc", "per_page": PER_PAGE},
                                "search results", key="items")
            new_cursor["search"] = _newest(found, cursor.get("search"))
            issues += found
            # Search finds issues, not comments: read the comments of the busiest few.
            talked = [i for i in found if isinstance(i.get("comments"), int) and i["comments"] > 0
                      and isinstance(i.get("comments_url"), str)]
            limit = max(0, int(self.feed.get("max_threads", 10)))
            if len(talked) > limit:
                self.warnings.append(f"comments read for {limit} of {len(talked)} matching issues (max_threads)")
            for issue in talked[:limit]:
                comments += self._pages(http, issue["comments_url"], {"since": since, "per_page": PER_PAGE},
                                        "comments")

        issues = [i for i in issues if self._usable(i, "url", "an issue")]
        comments = [c for c in comments if self._usable(c, "issue_url", "a comment")]
        items = self._items(issues, comments, login, new_cursor)
        if self.feed.get("discussions") and self.feed.get("repo"):
            found, new_cursor["discussions"] = self._discussions(http, cursor.get("discussions", first), login)
            items += found
        state = FetchState(cursor=json.dumps({k: v for k, v in new_cursor.items() if v}, sort_keys=True))
        return Fetched(items=items, state=state, warnings=list(self.warnings))

    # -- Discussions (GraphQL) ------------------------------------------------

    @property
    def graphql_url(self) -> str:
        url = self.feed.get("graphql_url")
        if url:
            return str(url)
        # GitHub Enterprise serves REST at /api/v3 and GraphQL at /api/graphql.
        return self.base[: -len("/v3")] + "/graphql" if self.base.endswith("/api/v3") else self.base + "/graphql"

    def _graphql(self, http: Http, query: str, variables: dict[str, Any]) -> dict:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/vnd.github+json"}
        resp = self._answer(lambda: http.request("POST", self.graphql_url, feed=self.feed.name, headers=headers,
                                                 json_body={"query": query, "variables": variables}, ok=(200, 403)))
        if resp.status == 403:  # GraphQL always has a token: a bare 403 is the token's
            raise self._refused(403)
        body = resp.json(self.feed.name)
        data = body.get("data") if isinstance(body, dict) else None
        errors = body.get("errors") if isinstance(body, dict) else None
        said = "; ".join(str(e.get("message"))[:160] for e in errors if isinstance(e, dict))[:400] \
            if isinstance(errors, list) else ""
        if not isinstance(data, dict):
            raise self.error(f"GitHub GraphQL answered without data{': ' + said if said else ''}")
        if said:  # partial data: keep what came, say what did not
            self.warnings.append(f"GitHub GraphQL: {said}")
        return data

    def _discussions(self, http: Http, since: str, login: str | None) -> tuple[list[RawItem], str | None]:
        """Discussions updated since `since` (newest first), each with its latest comments and
        their replies. Returns the items and the newest updatedAt seen."""
        owner, name = str(self.feed.get("repo")).split("/", 1)
        items: list[RawItem] = []
        newest: str | None = since
        after: str | None = None
        for _ in range(self.max_pages):
            data = self._graphql(http, DISCUSSIONS_QUERY, {"owner": owner, "name": name, "after": after})
            repo = data.get("repository")
            page = repo.get("discussions") if isinstance(repo, dict) else None
            nodes = page.get("nodes") if isinstance(page, dict) else None
            if not isinstance(nodes, list):
                raise self.error(f"GitHub GraphQL returned no discussions for {owner}/{name} (is the repo right, "
                                 "and are Discussions turned on?)")
            reached = False
            for node in nodes:
                stamp = node.get("updatedAt") if isinstance(node, dict) else None
                if isinstance(stamp, str) and stamp < since:
                    reached = True  # ISO times in one format: text order is time order
                    break
                if isinstance(stamp, str) and (newest is None or stamp > newest):
                    newest = stamp
                items += self._discussion_items(node, f"{owner}/{name}", login)
            info = page.get("pageInfo") if isinstance(page.get("pageInfo"), dict) else {}
            after = info.get("endCursor") if info.get("hasNextPage") else None
            if reached or not after:
                return items, newest
        self.warnings.append(f"discussions: stopped after {self.max_pages} pages; older ones were skipped")
        return items, newest

    def _discussion_items(self, node: Any, repo: str, login: str | None) -> list[RawItem]:
        """One discussion and its comments. Top-level comments chain like an issue's (each
        answers the one before it); a reply answers the reply before it under the same
        comment, or that comment."""
        root = self.map_record(lambda n: self._discussion_item(n, f"{repo}/discussions/{int(n['number'])}", None,
                                                                None, login), node, "a discussion", self.warnings)
        if root is None:
            return []
        out = [root]
        thread, title = root.native_id, root.title
        comments = ((node.get("comments") or {}).get("nodes") or []) if isinstance(node, dict) else []
        before = thread
        for comment in sorted((c for c in comments if isinstance(c, dict)), key=lambda c: str(c.get("createdAt"))):
            item = self.map_record(partial(self._comment_item, reply_to=before, thread=thread, login=login, title=title),
                                   comment, "a discussion comment", self.warnings)
            if item is None:
                continue
            out.append(item)
            before = prev = item.native_id
            replies = (comment.get("replies") or {}).get("nodes") or []
            for reply in sorted((r for r in replies if isinstance(r, dict)), key=lambda r: str(r.get("createdAt"))):
                got = self.map_record(partial(self._comment_item, reply_to=prev, thread=thread, login=login, title=title),
                                      reply, "a discussion reply", self.warnings)
                if got is not None:
                    out.append(got)
                    prev = got.native_id
        return out

    def _comment_item(self, obj: dict, *, reply_to: str, thread: str, login: str | None, title: str | None) -> RawItem:
        """A discussion comment or reply: its id lives under the discussion's."""
        return self._discussion_item(obj, f"{thread}/comment/{obj['id']}", reply_to, thread, login, title)

    def _discussion_item(self, obj: dict, native: str, reply_to: str | None, thread: str | None,
                         login: str | None, title: str | None = None) -> RawItem:
        author = (obj.get("author") or {}).get("login") or "ghost"  # a deleted account shows as null
        if not isinstance(obj.get("id"), str) and thread is not None:
            raise ValueError("a comment without an id")
        body = str(obj.get("body") or "").strip()
        own_title = obj.get("title") if thread is None else None
        return RawItem(
            native_id=native,
            author=str(author),
            text=body or str(own_title or ""),
            created_at=parse_time(obj["createdAt"]),
            url=obj.get("url") if isinstance(obj.get("url"), str) else None,
            in_reply_to=reply_to,
            thread_id=thread or native,
            title=(own_title or title) or None,
            ours=True if login and str(author).lower() == login.lower() else None,
            raw=obj,
        )

    def _login(self, http: Http) -> str:
        body, _ = self._get(http, f"{self.base}/user")
        if not isinstance(body, dict) or not isinstance(body.get("login"), str):
            raise self.error("GET /user did not return a login")
        return body["login"]

    def _items(self, issues: list[dict], comments: list[dict], login: str | None,
               cursor: dict[str, Any]) -> list[RawItem]:
        items: dict[str, RawItem] = {}
        titles: dict[str, str] = {}
        # (issue, login) -> that person's newest message in the issue, for "@login" replies.
        latest_by: dict[tuple[str, str], str] = {}
        for issue in issues:
            native = issue_id(issue["url"])
            titles[native] = issue.get("title") or ""
            latest_by[(native, str(issue["user"]["login"]).lower())] = native
            body = (issue.get("body") or "").strip()
            items[native] = self._item(native, issue, text=body or titles[native], login=login,
                                       title=titles[native], reply_to=None, thread=native)
        # Chain each issue's comments oldest first: each answers the one before it.
        # last[issue] = [newest comment id, its created_at, what it answers], kept across pulls.
        last: dict[str, list[str]] = {k: v for k, v in (cursor.get("last") or {}).items()
                                      if isinstance(v, list) and len(v) == 3}
        done: set[str] = set()
        for c in sorted(comments, key=lambda c: str(c["created_at"])):
            issue = issue_id(c["issue_url"])
            native = f"{issue}/comment/{c['id']}"
            if native in done:
                continue
            done.add(native)
            created = str(c["created_at"])
            known = last.get(issue)
            if known and known[0] == native:
                reply_to = known[2]  # sent again (since is inclusive): same answer as last time
            elif known and created <= known[1]:
                reply_to = issue  # an old comment, edited: what it followed is not known here
            else:
                # "@alice thanks, fixed" answers alice even when bob spoke in between;
                # otherwise a comment follows the one before it.
                reply_to = _addressed(c.get("body"), issue, latest_by) or (known[0] if known else issue)
                last.pop(issue, None)
                last[issue] = [native, created, reply_to]  # re-inserted: the newest end up last
            latest_by[(issue, str(c["user"]["login"]).lower())] = native
            items[native] = self._item(native, c, text=(c.get("body") or "").strip(), login=login,
                                       title=titles.get(issue), reply_to=reply_to, thread=issue)
        cursor["last"] = dict(list(last.items())[-KEEP_LAST:])
        return list(items.values())

    def _usable(self, obj: dict, key: str, what: str) -> bool:
        """Whether _items can read `obj`; if not, it is skipped with a warning, like any
        malformed record, and the rest of the pull is kept."""
        try:
            issue_id(obj[key])
            str(obj["user"]["login"])
            parse_time(obj["created_at"])
            if key == "issue_url":
                int(obj["id"])
        except BAD_FIELD as e:
            self.warnings.append(f"skipped {what} with a bad field: {str(e)[:80]}")
            return False
        return True

    def _item(self, native: str, obj: dict, *, text: str, login: str | None, title: str | None,
              reply_to: str | None, thread: str) -> RawItem:
        author = obj["user"]["login"]
        return RawItem(
            native_id=native,
            author=author,
            text=text,
            created_at=parse_time(obj["created_at"]),
            url=obj.get("html_url"),
            in_reply_to=reply_to,
            thread_id=thread,
            title=title or None,
            # The token's own account is surely us; anyone else is left to [identity] names.
            ours=True if login and author.lower() == login.lower() else None,
            raw=obj,
        )

    def probe(self, http: Http) -> str:
        self.token = self.feed.secret("token_env") if self.feed.get("token_env") else None
        body, _ = self._get(http, f"{self.base}/rate_limit")
        resources = body.get("resources") if isinstance(body, dict) else None
        core = resources.get("core") if isinstance(resources, dict) else None
        core = core if isinstance(core, dict) else {}
        left = f"{core.get('remaining', '?')} of {core.get('limit', '?')} requests left this hour"
        if self.token:
            return f"authenticated as {self._login(http)}; {left}"
        return f"unauthenticated; {left}"


# Newest discussions first; for each, its latest comments and their latest replies.
# 20 x 50 x 20 nodes stays far below GraphQL's 500,000-node limit.
DISCUSSIONS_QUERY = """
query($owner: String!, $name: String!, $after: String) {
  repository(owner: $owner, name: $name) {
    discussions(first: 20, after: $after, orderBy: {field: UPDATED_AT, direction: DESC}) {
      pageInfo { hasNextPage endCursor }
      nodes {
        id number title body url createdAt updatedAt author { login }
        comments(last: 50) {
          nodes {
            id body url createdAt author { login }
            replies(last: 20) { nodes { id body url createdAt author { login } } }
          }
        }
      }
    }
  }
}
"""

_MENTION = re.compile(r"(?<![\w.@/])@([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\b")


def _addressed(body: Any, issue: str, latest_by: dict[tuple[str, str], str]) -> str | None:
    """The newest message in `issue` by the first person a comment @mentions, if we have it."""
    for login in _MENTION.findall(body if isinstance(body, str) else ""):
        target = latest_by.get((issue, login.lower()))
        if target:
            return target
    return None


def _rate_limit_wait(resp: Response, now: float) -> float | None:
    """Seconds to wait when a 403 is a rate limit (primary: Remaining 0; secondary: Retry-After)."""
    retry = resp.headers.get("retry-after")
    if retry and retry.strip().isdigit():
        return float(retry)
    if resp.headers.get("x-ratelimit-remaining") == "0":
        reset = resp.headers.get("x-ratelimit-reset", "")
        return max(0.0, float(reset) - now) if reset.isdigit() else None
    return None


def _message(resp: Response) -> str:
    try:
        return str(json.loads(resp.content).get("message"))[:200]
    except (ValueError, AttributeError):
        return "no reason given"


def _newest(objs: list[dict], current: str | None) -> str | None:
    for o in objs:
        stamp = o.get("updated_at")
        if isinstance(stamp, str) and (current is None or stamp > current):
            current = stamp  # GitHub writes every time as YYYY-MM-DDTHH:MM:SSZ, so text order is time order
    return current

