"""Stack Exchange (Stack Overflow and its sister sites), through API 2.3.

What it reads, each a "stream" with its own watermark (creation_date, epoch seconds):
  questions  `query` set: /search/advanced?q=..&tagged=..; else /questions?tagged=..
  answers    /questions/{ids}/answers for the questions seen within `lookback`
             (their ids are kept in the cursor, at most 100: one vectorised call)
  ours       `user_id` set: /users/{id}/answers, so our answers are stored as ours.
  ours_comments  `user_id` set: /users/{id}/comments.
  comments   (`comments`, default on) every comment on the watched questions and their
             answers: /questions/{ids}/comments and /answers/{ids}/comments, no watermark
             (comments are placed by the ones before them; see _placed). Ids "c<id>".

Every call sends fromdate=<watermark+1>, sort=creation, order=desc, pagesize=100 and
filter=withbody (the default filter has no body), and pages while `has_more`.

Stack Exchange asks clients to honour two signals: `backoff` (seconds before calling
the same method again) and `quota_remaining` (calls left today for this IP or key).
A short backoff is slept; a long one is stored as a not-before time per stream.
Errors come back as JSON with error_id/error_name/error_message, usually HTTP 400.

Cursor (JSON): {"questions": {"since": t}, "answers": {"since": t}, "ours": {"since": t},
"ours_comments": {"since": t}, "recent": [[question_id, creation_date], ...],
"answers_of": [[answer_id, question_id, creation_date], ...], "not_before": {"<stream>": t}}.
"""

from __future__ import annotations

import html
import json
import re
import zlib
from datetime import datetime, timezone
from typing import Any

from listen.errors import FeedError
from listen.http import Http, RateLimited
from listen.models import Fetched, FetchState, RawItem
from listen.sources import Option, Source
from listen.text import html_to_text

PAGE_SIZE = 100
MAX_IDS = 100  # the most ids one vectorised call takes
BACKOFF_SLEEP = 10  # a backoff up to this many seconds is waited out within the pull
QUOTA_FLOOR = 10  # stop calling when fewer calls than this are left today
# Every status that carries an error_id body we can explain; 429/503 go through Http's retries.
ERROR_STATUSES = (400, 401, 402, 403, 404, 405, 406, 409, 500, 502)
# Sites whose domain is not <site>.stackexchange.com, for answer links the API did not send.
DOMAINS = {"stackoverflow": "stackoverflow.com", "superuser": "superuser.com", "serverfault": "serverfault.com",
           "askubuntu": "askubuntu.com", "mathoverflow": "mathoverflow.net", "stackapps": "stackapps.com"}


class Throttled(RateLimited):
    """Stack Exchange's throttle_violation, with its own words."""

    def __init__(self, feed: str, status: int, retry_after: float | None, message: str):
        super().__init__(feed, status, retry_after)
        self.message = message
        self.args = (f"{feed}: {message}",)


class StackExchangeSource(Source):
    network = "stackexchange"
    options = {
        "site": Option(str, "the site's API name, e.g. stackoverflow, superuser, unix", required=True),
        "tagged": Option(str, "tags, separated by ; (questions: all of them; with query: any of them)"),
        "query": Option(str, "words to search questions for (/search/advanced q=)"),
        "user_id": Option(int, "our user id on this site: its answers are fetched and are ours"),
        "key_env": Option(str, "environment variable holding a Stack Apps key (raises the daily quota)"),
        "base_url": Option(str, "root of the Stack Exchange API", default="https://api.stackexchange.com/2.3"),
        "max_pages": Option(int, f"at most this many pages of {PAGE_SIZE} per stream and pull", default=5, minimum=1),
        "lookback": Option(str, "how far back the first pull reaches", default="14d", duration=True),
        "comments": Option(bool, "read the comments on watched questions and their answers", default=True),
        "max_parents": Option(int, "look-ups per pull of the posts our answers and comments answer, "
                                   "when not stored", default=100, minimum=0),
    }

    @classmethod
    def check(cls, options: dict[str, Any]) -> list[str]:
        problems = []
        if not (options.get("tagged") or "").strip() and not (options.get("query") or "").strip():
            problems.append("set tagged (questions with these tags) or query (questions matching words), or both")
        return problems

    @property
    def base(self) -> str:
        return self.feed.get("base_url").rstrip("/")

    def _common(self) -> dict[str, str]:
        params = {"site": self.feed.get("site")}
        if self.feed.get("key_env"):
            params["key"] = self.feed.secret("key_env")  # not secret to SE, but kept out of files anyway
        return params

    # --- fetching ------------------------------------------------------------

    def fetch(self, http: Http, state: FetchState) -> Fetched:
        now = int(self.clock())
        warnings: list[str] = []
        cursor = self._load_cursor(state.cursor, warnings)
        self.forget_backoffs(cursor)
        items: dict[str, RawItem] = {}
        run = _Run(http, warnings)

        tagged, query = self.feed.get("tagged"), self.feed.get("query")
        if query:
            path, params = "/search/advanced", {"q": query, **({"tagged": tagged} if tagged else {})}
        else:
            path, params = "/questions", {"tagged": tagged}
        for q in self._stream(run, cursor, "questions", path, params, now):
            items[q.native_id] = q

        # Keep the questions of the lookback window: their new answers are fetched every pull.
        recent = {str(i): int(t) for i, t in cursor.get("recent", []) if isinstance(t, (int, float))}
        recent.update({q.native_id: int(q.created_at.timestamp()) for q in items.values()})
        keep = sorted(((t, i) for i, t in recent.items() if t >= now - self.feed.get("lookback")), reverse=True)
        cursor["recent"] = [[i, t] for t, i in keep[:MAX_IDS]]
        if cursor["recent"]:
            ids = ";".join(i for i, _ in cursor["recent"])
            for a in self._stream(run, cursor, "answers", f"/questions/{ids}/answers", {}, now):
                items[a.native_id] = a

        # Answers of the watched questions, remembered so their comments are read every pull.
        answers = {str(a): (str(q), int(t)) for a, q, t in cursor.get("answers_of", [])}
        answers.update({i.native_id: (i.thread_id or "", int(i.created_at.timestamp()))
                        for i in items.values() if i.in_reply_to and not _is_comment(i.native_id)})
        watched = {i for i, _ in cursor["recent"]}

        ours_comments: list[RawItem] = []
        if self.feed.get("user_id") is not None:
            for a in self._stream(run, cursor, "ours", f"/users/{self.feed.get('user_id')}/answers", {}, now):
                a.ours = True
                items[a.native_id] = a
                answers[a.native_id] = (a.thread_id or "", int(a.created_at.timestamp()))
            if self.feed.get("comments"):
                ours_comments = self._stream(run, cursor, "ours_comments",
                                             f"/users/{self.feed.get('user_id')}/comments", {}, now)
        keep_answers = sorted(((t, a, q) for a, (q, t) in answers.items()
                               if q in watched and t >= now - self.feed.get("lookback")), reverse=True)
        cursor["answers_of"] = [[a, q, t] for t, a, q in keep_answers[:MAX_IDS]]
        question_of = {a: q for a, q, _ in cursor["answers_of"]}
        question_of.update({a: q for a, (q, _) in answers.items() if q})

        if self.feed.get("comments"):
            # Every comment on the watched posts (and on the posts our new comments sit on),
            # not only new ones: a comment is placed in its conversation by the comments
            # before it (reply_to_user), and there are few per post. A post under one of our
            # comments may be a question or an answer: it is asked for as both (SE leaves
            # out the ids that are not of the kind asked).
            under_ours = [str(c.raw.get("post_id")) for c in ours_comments if isinstance(c.raw, dict)]
            questions = [i for i, _ in cursor["recent"]] + under_ours
            answer_ids = [a for a, _, _ in cursor["answers_of"]] + under_ours
            comments = {c.native_id: c for c in ours_comments}
            try:
                for kind, ids in (("questions", questions), ("answers", answer_ids)):
                    for c in self._comments(run, kind, list(dict.fromkeys(p for p in ids if p.isdigit()))):
                        comments.setdefault(c.native_id, c)
            except RateLimited:
                raise
            except FeedError as e:  # the questions and answers in hand are still worth storing
                run.warnings.append(f"comments not read this pull: {e.message}")
            for c in _placed(list(comments.values()), items, question_of):
                items[c.native_id] = c

        self.forget_backoffs(cursor)
        if not cursor["answers_of"]:
            del cursor["answers_of"]
        return Fetched(items=list(items.values()), state=FetchState(cursor=json.dumps(cursor)), warnings=warnings)

    def _stream(self, run: _Run, cursor: dict, name: str, path: str, params: dict[str, str],
                now: int) -> list[RawItem]:
        """Every page of one method newer than the stream's watermark, within the limits."""
        if run.out_of_quota:
            return []
        wait_until = self.backed_off(cursor, name)
        if wait_until is not None:
            run.warnings.append(f"Stack Exchange asked us to back off {name}; next call after {_iso(wait_until)}")
            return []
        mark = cursor.get(name) if isinstance(cursor.get(name), dict) else {}
        since = int(mark["since"]) if isinstance(mark.get("since"), (int, float)) else now - self.feed.get("lookback")
        found: list[RawItem] = []
        newest = since
        max_pages = int(self.feed.get("max_pages"))
        for page in range(1, max_pages + 1):
            body = self._get(run.http, path, {**params, "fromdate": str(since + 1), "sort": "creation",
                                              "order": "desc", "pagesize": str(PAGE_SIZE), "page": str(page),
                                              "filter": "withbody"})
            for raw in body["items"]:
                item = self.map_record(self._item, raw, f"an item from {path.split('/')[1]}", run.warnings)
                if item is None:
                    continue
                found.append(item)
                newest = max(newest, int(item.created_at.timestamp()))
            more = body.get("has_more") is True and bool(body["items"])
            backoff = body.get("backoff")
            if isinstance(backoff, (int, float)) and backoff > 0:
                if more and backoff <= BACKOFF_SLEEP:
                    run.http.sleep(backoff)
                else:
                    self.back_off(cursor, name, self.clock() + backoff)
                    if more:
                        run.warnings.append(f"Stack Exchange asked for a {int(backoff)}s backoff; "
                                            f"the rest of {name} comes next pull")
                        return found  # unfinished: the watermark stays, so the next pull redoes it
            quota = body.get("quota_remaining")
            if isinstance(quota, int) and quota < QUOTA_FLOOR:
                run.out_of_quota = True
                run.warnings.append(f"Stack Exchange daily quota nearly used ({quota} calls left); stopped early"
                                    + ("" if self.feed.get("key_env") else "; an app key (key_env) raises it"))
                if more:
                    return found
            if not more:
                break
            if run.out_of_quota:
                return found
        else:
            run.warnings.append(f"stopped after {max_pages} pages of {name}; older items were skipped "
                                "(raise max_pages to get them)")
        cursor[name] = {"since": newest}
        return found

    def _comments(self, run: _Run, kind: str, posts: list[str]) -> list[RawItem]:
        """All comments on these questions or answers (`kind`), newest first, max_pages of
        100 per 100 posts: /questions/{ids}/comments, /answers/{ids}/comments."""
        found: list[RawItem] = []
        for start in range(0, len(posts), MAX_IDS):
            if run.out_of_quota:
                break
            ids = ";".join(posts[start:start + MAX_IDS])
            for page in range(1, int(self.feed.get("max_pages")) + 1):
                body = self._get(run.http, f"/{kind}/{ids}/comments",
                                 {"sort": "creation", "order": "desc", "pagesize": str(PAGE_SIZE),
                                  "page": str(page), "filter": "withbody"})
                for raw in body["items"]:
                    item = self.map_record(self._item, raw, "a comment", run.warnings)
                    if item is not None:
                        if kind == "questions":  # a question's comments belong to its conversation
                            item.thread_id = item.in_reply_to
                        found.append(item)
                if self._spent(run, body) or not (body.get("has_more") is True and body["items"]):
                    break
        return found

    def _spent(self, run: _Run, body: dict) -> bool:
        """True when the daily quota is nearly used: stop calling (and say so once)."""
        quota = body.get("quota_remaining")
        if isinstance(quota, int) and quota < QUOTA_FLOOR and not run.out_of_quota:
            run.out_of_quota = True
            run.warnings.append(f"Stack Exchange daily quota nearly used ({quota} calls left); stopped early")
        return run.out_of_quota

    # --- threads ------------------------------------------------------------

    fetches_parents = True

    def parents(self, http: Http, ids: list[str], warnings: list[str]) -> list[RawItem]:
        """Comments (c<id>) by /comments/{ids}; posts by /questions/{ids}, then /answers/{ids}
        for those that are not questions. 100 ids a request."""
        run = _Run(http, warnings)
        found: list[RawItem] = []
        comment_ids = [i[1:] for i in ids if _is_comment(i) and i[1:].isdigit()]
        post_ids = [i for i in ids if i.isdigit()]
        for path, chunk_ids in (("/comments/{}", comment_ids), ("/questions/{}", post_ids)):
            for start in range(0, len(chunk_ids), MAX_IDS):
                body = self._get(http, path.format(";".join(chunk_ids[start:start + MAX_IDS])),
                                 {"pagesize": str(PAGE_SIZE), "filter": "withbody"})
                found += [i for raw in body["items"]
                          if (i := self.map_record(self._item, raw, "a parent", warnings)) is not None]
                if self._spent(run, body):
                    return found
        rest = [i for i in post_ids if i not in {f.native_id for f in found}]
        for start in range(0, len(rest), MAX_IDS):
            body = self._get(http, f"/answers/{';'.join(rest[start:start + MAX_IDS])}",
                             {"pagesize": str(PAGE_SIZE), "filter": "withbody"})
            found += [i for raw in body["items"]
                      if (i := self.map_record(self._item, raw, "a parent", warnings)) is not None]
            if self._spent(run, body):
                break
        return found

    def _get(self, http: Http, path: str, params: dict[str, str]) -> dict:
        resp = http.get(self.base + path, feed=self.feed.name, params={**self._common(), **params},
                        ok=(200, *ERROR_STATUSES))
        body = self._decode(resp.content, http.max_size)
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise self.error(f"expected JSON from Stack Exchange {path.split('/')[1]} (HTTP {resp.status}), "
                             "got something that does not parse") from None
        if not isinstance(data, dict):
            raise self.error(f"Stack Exchange answered {path.split('/')[1]} with JSON that is not an object")
        if "error_id" in data or resp.status != 200:
            raise self._api_error(resp.status, data)
        if not isinstance(data.get("items"), list):
            raise self.error(f"Stack Exchange answered {path.split('/')[1]} without an `items` list")
        data["items"] = [i for i in data["items"] if isinstance(i, dict)]
        return data

    def _decode(self, content: bytes, limit: int) -> bytes:
        """SE compresses every response, sometimes without Content-Encoding; httpx then leaves it to us."""
        if not content.startswith(b"\x1f\x8b"):
            return content
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            data = inflater.decompress(content, limit)
        except zlib.error:
            raise self.error("Stack Exchange sent a gzip body that does not decompress") from None
        if inflater.unconsumed_tail:
            raise self.error(f"Stack Exchange response is over the {limit}-byte cap once decompressed")
        return data

    def _api_error(self, status: int, data: dict) -> Exception:
        error_id, name = data.get("error_id"), data.get("error_name") or "error"
        message = html.unescape(str(data.get("error_message") or "no message"))
        words = f"Stack Exchange error {error_id} {name} (HTTP {status}): {message}"
        if name == "throttle_violation" or error_id == 502:
            m = re.search(r"available in (\d+) seconds", message)
            return Throttled(self.feed.name, status, float(m.group(1)) if m else None, words)
        var = self.feed.options.get("key_env")
        if var and (error_id in (401, 402, 403, 405) or "key" in message.lower()):
            return self.error(f"{words}; check the app key in ${var} (register one at https://stackapps.com/apps/oauth/register)")
        if error_id == 400 and "site" in message.lower():
            return self.error(f"{words}; check `site` ({self.feed.get('site')!r}), e.g. stackoverflow or superuser")
        return self.error(words)

    # --- mapping ------------------------------------------------------------

    def _item(self, raw: dict) -> RawItem | None:
        created, question_id = raw.get("creation_date"), raw.get("question_id")
        owner = raw.get("owner") if isinstance(raw.get("owner"), dict) else {}
        author = html.unescape(str(owner.get("display_name") or "[deleted]"))
        user_id = self.feed.get("user_id")
        ours = True if user_id is not None and owner.get("user_id") == user_id else None
        if "comment_id" in raw:
            return self._comment(raw, author, ours)
        if not isinstance(created, int) or question_id is None:
            return None
        title = html.unescape(raw["title"]) if isinstance(raw.get("title"), str) else None
        body = html_to_text(raw.get("body"))
        if "answer_id" in raw:
            native_id = str(raw["answer_id"])
            text, in_reply_to = body, str(question_id)
            url = raw.get("link") or f"https://{self._domain()}/a/{native_id}"
        else:
            # What a person sees is the title above the body.
            native_id = str(question_id)
            text, in_reply_to = "\n\n".join(p for p in (title, body) if p), None
            url = raw.get("link") or f"https://{self._domain()}/q/{native_id}"
        return RawItem(
            native_id=native_id,
            author=author,
            text=text,
            created_at=datetime.fromtimestamp(created, tz=timezone.utc),
            url=url,
            in_reply_to=in_reply_to,
            thread_id=str(question_id),
            title=title,
            ours=ours,
            raw=raw,
        )

    def _comment(self, raw: dict, author: str, ours: bool | None) -> RawItem | None:
        """A comment: native id c<comment_id> (comments and posts are numbered apart).
        It answers its post until _placed finds the comment it replies to."""
        created, comment_id, post_id = raw.get("creation_date"), raw.get("comment_id"), raw.get("post_id")
        if not isinstance(created, int) or not isinstance(comment_id, int) or not isinstance(post_id, int):
            return None
        return RawItem(
            native_id=f"c{comment_id}",
            author=author,
            text=html_to_text(raw.get("body")) or html.unescape(str(raw.get("body_markdown") or "")),
            created_at=datetime.fromtimestamp(created, tz=timezone.utc),
            url=raw.get("link") or f"https://{self._domain()}/posts/comments/{comment_id}",
            in_reply_to=str(post_id),
            thread_id=str(post_id) if raw.get("post_type") == "question" else None,
            ours=ours,
            raw=raw,
        )

    def _domain(self) -> str:
        site = self.feed.get("site")
        if "." in site and not site.startswith("meta."):
            return site  # already a domain, e.g. unix.stackexchange.com
        if site.startswith("meta."):
            rest = site[len("meta."):]
            return "meta." + DOMAINS.get(rest, f"{rest}.stackexchange.com")
        return DOMAINS.get(site, f"{site}.stackexchange.com")

    def _load_cursor(self, text: str | None, warnings: list[str]) -> dict:
        cursor = self.load_cursor(text, warnings)
        recent = cursor.get("recent", [])
        if not isinstance(recent, list) or not all(isinstance(r, list) and len(r) == 2 for r in recent):
            cursor["recent"] = []
        answers = cursor.get("answers_of", [])
        if not isinstance(answers, list) or not all(isinstance(r, list) and len(r) == 3 for r in answers):
            cursor["answers_of"] = []
        return cursor

    def probe(self, http: Http) -> str:
        data = self._get(http, "/info", {})
        key = "with app key" if self.feed.get("key_env") else "no app key"
        return (f"reachable; {self.feed.get('site')}: {data.get('quota_remaining', '?')} of "
                f"{data.get('quota_max', '?')} calls left today ({key})")


class _Run:
    """What one pull shares across streams: the client, warnings, and whether the quota ran out."""

    def __init__(self, http: Http, warnings: list[str]):
        self.http = http
        self.warnings = warnings
        self.out_of_quota = False


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _is_comment(native_id: str) -> bool:
    return native_id.startswith("c")


def _who(user: Any) -> tuple[str, Any]:
    """How to recognise a person across records: the user id, else the shown name."""
    if not isinstance(user, dict):
        return ("", None)
    if isinstance(user.get("user_id"), int):
        return ("id", user["user_id"])
    return ("name", html.unescape(str(user.get("display_name") or "")))


def _placed(comments: list[RawItem], posts: dict[str, RawItem], question_of: dict[str, str]) -> list[RawItem]:
    """Comments put in their conversations: the thread is the question (an answer's comments
    belong to its question), and a comment that replies to someone (`reply_to_user`) answers
    that person's latest earlier comment on the same post, else the post when it is theirs."""
    by_post: dict[str, list[RawItem]] = {}
    for c in sorted(comments, key=lambda c: (c.created_at, c.native_id)):
        by_post.setdefault(c.in_reply_to or "", []).append(c)
    for post, thread in by_post.items():
        question = question_of.get(post) or (post if post in posts and posts[post].in_reply_to is None else None)
        for i, c in enumerate(thread):
            c.thread_id = c.thread_id or question
            target = _who(c.raw.get("reply_to_user")) if isinstance(c.raw, dict) else ("", None)
            if target[1] is None:
                continue
            earlier = [e for e in thread[:i] if isinstance(e.raw, dict) and _who(e.raw.get("owner")) == target]
            if earlier:
                c.in_reply_to = earlier[-1].native_id
    return comments
