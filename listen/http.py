"""The one HTTP client of a run: timeouts, size cap, conditional GET, polite retries.

Sources call `Http.get`; every failure comes back as a FeedError naming the feed,
so one broken feed is one line of output and never a traceback.
"""

from __future__ import annotations

import email.utils
import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import urlsplit, urlunsplit

from listen import __version__, log
from listen.errors import FeedError

LOG = log.get("http")

USER_AGENT = f"listen/{__version__} (social listening CLI; +https://pypi.org/project/listen/)"
RETRY_STATUSES = {429, 503}
MAX_ATTEMPTS = 3
# Longest we sleep inside one pull for a Retry-After; longer waits become the
# feed's next allowed fetch time instead of holding up cron.
MAX_RETRY_WAIT = 30.0


if TYPE_CHECKING:
    import httpx


class ConnectionDropped(Exception):
    """A plain GET's connection died under it (closed, reset, cut short): worth one more try."""


def _stale() -> tuple[type[Exception], ...]:
    """Errors of a connection that died under a request, worth one more try for a GET."""
    import httpx

    return (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError, ConnectionDropped)


class _NotPlain(Exception):
    """The plain path cannot answer this response as httpx would (a redirect, an unknown
    encoding): the request goes through httpx instead."""


REDIRECTS = frozenset({301, 302, 303, 307, 308})
KEPT = 2  # kept-alive plain connections per thread, to the hosts it used last


class HttpStatusError(FeedError):
    def __init__(self, feed: str, status: int, message: str, body: bytes = b""):
        super().__init__(feed, message)
        self.status = status
        self.body = body


class RateLimited(HttpStatusError):
    """The server asked us to wait longer than we are willing to within one pull."""

    def __init__(self, feed: str, status: int, retry_after: float | None):
        wait = f"; asked to wait {int(retry_after)}s" if retry_after else ""
        super().__init__(feed, status, f"rate limited (HTTP {status}){wait}")
        self.retry_after = retry_after


@dataclass
class Response:
    status: int
    headers: httpx.Headers
    content: bytes
    url: str

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    def json(self, feed: str) -> Any:
        try:
            return json.loads(self.content)
        except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: absurdly deep nesting
            kind = self.headers.get("content-type", "unknown type").split(";")[0]
            raise FeedError(feed, f"expected JSON from {safe_url(self.url)}, got {kind} that does not parse") from None


def safe_url(url: str) -> str:
    """A URL fit for messages: no query string or credentials, which may hold secrets."""
    parts = urlsplit(str(url))
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """Retry-After is either seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


class Http:
    def __init__(
        self,
        timeout: float = 20.0,
        max_size: int = 20 * 1024 * 1024,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ):
        self.timeout = timeout
        self.max_size = max_size
        self.sleep = sleep
        self.clock = clock  # reads a Retry-After given as a date; the Listener's clock
        self._local = threading.local()
        # httpx is imported here, not at the top: commands that read the database
        # (inbox, show, stats) load the source modules for config checks but never
        # fetch, and httpx costs 130 ms to import.
        import httpx

        self._transport = transport
        self._clients: list[httpx.Client] = []
        self._clients_lock = threading.Lock()
        # One TLS context for every client: building one reads the CA bundle
        # (about 25 ms), and a pull may start a client in each of 128 threads.
        self._ssl = httpx.create_ssl_context() if transport is None else None
        # Plain GETs skip httpx (see _plain) unless a test plugs a transport in. Neither
        # path reads proxies from the environment: httpx does not when given a transport.
        self._plain_ok = transport is None
        self._redirected: set[str] = set()  # URLs that answered a redirect: httpx follows them
        self._conns: list[Any] = []  # every thread's plain connections, closed together

    @property
    def client(self) -> httpx.Client:
        """This thread's client. Threads never share a connection pool: with
        one shared pool, httpcore (1.0.9) could close or hand over a connection
        that another thread was reading from. With pool limits that showed as
        "Bad file descriptor"; without them, as a read that hung until its
        timeout, about 1 cold pull in 20 of 200 feeds on one host. A thread
        still reuses its own connections from one feed to the next."""
        c = getattr(self._local, "client", None)
        if c is None:
            import httpx

            transport = self._transport or httpx.HTTPTransport(verify=self._ssl if self._ssl is not None else True, retries=1)
            c = self._local.client = httpx.Client(
                headers={"User-Agent": USER_AGENT},
                timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0)),
                follow_redirects=True,
                max_redirects=5,
                transport=transport,
            )
            with self._clients_lock:
                self._clients.append(c)
        return c

    def close(self) -> None:
        with self._clients_lock:
            clients, self._clients = self._clients, []
        for c in clients:
            c.close()
        with self._clients_lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            conn.close()

    def __enter__(self) -> Http:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def set_deadline(self, deadline: float | None) -> None:
        """A wall-clock limit (time.monotonic) for every request this thread makes:
        the pipeline sets it per feed, so a source cannot forget its feed's timeout."""
        self._local.deadline = deadline

    def deadline_left(self) -> float | None:
        """Seconds left before this thread's deadline, if it has one."""
        deadline = getattr(self._local, "deadline", None)
        return None if deadline is None else deadline - time.monotonic()

    def get(self, url: str, *, feed: str, **kw: Any) -> Response:
        return self.request("GET", url, feed=feed, **kw)

    def request(
        self,
        method: str,
        url: str,
        *,
        feed: str,
        params: Any = None,
        headers: dict[str, str] | None = None,
        json_body: Any = None,
        data: dict[str, str] | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        deadline: float | None = None,
        ok: tuple[int, ...] = (200,),
    ) -> Response:
        """One request with bounded retries on 429/503. Raises FeedError on anything but `ok` or 304."""
        hdrs = dict(headers or {})
        if etag:
            hdrs["If-None-Match"] = etag
        if last_modified:
            hdrs["If-Modified-Since"] = last_modified
        deadline = deadline or getattr(self._local, "deadline", None) or (time.monotonic() + self.timeout * 3)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                resp = self._once(method, url, feed, params, hdrs, json_body, deadline, data)
            except FeedError as e:
                LOG.info("%s: %s %s: %s", feed, method, log.redact_url(url), e.message)
                raise
            if resp.status == 304:
                LOG.info("%s: not modified (304): nothing to parse", feed)
            if resp.status == 304 or resp.status in ok:
                return resp
            if resp.status in RETRY_STATUSES:
                wait = retry_after_seconds(resp.headers.get("retry-after"), self.clock())
                if wait is None:
                    wait = 2.0 ** attempt
                left = deadline - time.monotonic()
                if attempt == MAX_ATTEMPTS or wait > min(MAX_RETRY_WAIT, left):
                    LOG.info("%s: rate limited (HTTP %d), asked to wait %.0fs: giving up for this pull",
                             feed, resp.status, wait)
                    raise RateLimited(feed, resp.status, wait)
                LOG.info("%s: rate limited (HTTP %d): waiting %.1fs, then attempt %d of %d",
                         feed, resp.status, wait, attempt + 1, MAX_ATTEMPTS)
                self.sleep(wait)
                continue
            raise HttpStatusError(feed, resp.status, describe_status(resp), resp.content[:2000])
        raise AssertionError("unreachable")  # the loop returns or raises

    def _once(self, method: str, url: str, feed: str, params: Any, headers: dict[str, str],
              json_body: Any, deadline: float, data: dict[str, str] | None = None) -> Response:
        try:
            return self._attempt(method, url, feed, params, headers, json_body, deadline, data)
        except _stale() as e:
            # A kept-alive connection can die under a request (the server closed it, or
            # the pool did: see the limits above). A GET is safe to send again, once.
            if method not in ("GET", "HEAD") or deadline - time.monotonic() <= 0:
                raise FeedError(feed, f"cannot fetch {safe_url(url)}: {type(e).__name__}: {_short(e)}") from None
        try:
            return self._attempt(method, url, feed, params, headers, json_body, deadline, data)
        except _stale() as e:
            raise FeedError(feed, f"cannot fetch {safe_url(url)}: {type(e).__name__}: {_short(e)}") from None

    def _attempt(self, method: str, url: str, feed: str, params: Any, headers: dict[str, str],
                 json_body: Any, deadline: float, data: dict[str, str] | None = None) -> Response:
        left = deadline - time.monotonic()
        if left <= 0:
            raise FeedError(feed, f"timed out fetching {safe_url(url)}")
        if (method == "GET" and self._plain_ok and params is None and json_body is None and data is None
                and url not in self._redirected):
            parts = _plain_url(url)
            if parts is not None:
                try:
                    return self._plain(parts, url, feed, headers, deadline, left)
                except _NotPlain:
                    pass  # nothing read yet counts: httpx asks again and handles it
        import httpx  # already loaded by __init__: a dictionary lookup

        timeout = httpx.Timeout(min(self.timeout, left), connect=min(self.timeout, left, 10.0))
        started = time.monotonic()
        try:
            with self.client.stream(method, url, params=params, headers=headers, json=json_body,
                                    data=data, timeout=timeout) as r:
                if LOG.isEnabledFor(logging.INFO):
                    self._log(feed, method, r, started)
                declared = r.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > self.max_size:
                    raise FeedError(feed, f"response from {safe_url(url)} is {int(declared)} bytes, "
                                          f"over the {self.max_size}-byte cap")
                chunks: list[bytes] = []
                size = 0
                # Counting decoded bytes is what stops a gzip bomb.
                for chunk in r.iter_bytes():
                    size += len(chunk)
                    if size > self.max_size:
                        raise FeedError(feed, f"response from {safe_url(url)} is over the {self.max_size}-byte cap; cut off")
                    if time.monotonic() > deadline:
                        raise FeedError(feed, f"timed out reading {safe_url(url)}")
                    chunks.append(chunk)
                LOG.debug("%s: %d bytes read in %.0f ms", feed, size, (time.monotonic() - started) * 1000)
                return Response(r.status_code, r.headers, b"".join(chunks), str(r.url))
        except httpx.TimeoutException:
            raise FeedError(feed, f"timed out fetching {safe_url(url)}") from None
        except httpx.TooManyRedirects:
            raise FeedError(feed, f"too many redirects from {safe_url(url)}") from None
        except httpx.UnsupportedProtocol:
            raise FeedError(feed, f"{safe_url(url)}: only http and https URLs are fetched") from None
        except httpx.DecodingError:
            raise FeedError(feed, f"{safe_url(url)}: the response's compression is broken") from None
        except _stale():
            raise
        except httpx.HTTPError as e:
            raise FeedError(feed, f"cannot fetch {safe_url(url)}: {type(e).__name__}: {_short(e)}") from None

    def _conn(self, scheme: str, host: str, port: int, connect_timeout: float) -> Any:
        """This thread's kept-alive connection to (scheme, host, port): threads never share
        one, for the reason given at `client`."""
        import http.client

        conns: dict[tuple[str, str, int], Any] | None = getattr(self._local, "conns", None)
        if conns is None:
            conns = self._local.conns = {}
        key = (scheme, host, port)
        conn = conns.pop(key, None)
        if conn is None and len(conns) >= KEPT:
            # Feeds on many hosts must not leave every thread holding a socket to each
            # (256 threads x 2,000 hosts would outrun a 1,024-descriptor limit).
            conns.pop(next(iter(conns))).close()
        if conn is not None:
            conns[key] = conn  # the most recently used last
            if conn.sock is not None:
                return conn
        else:
            if scheme == "https":
                conn = http.client.HTTPSConnection(host, port, timeout=connect_timeout, context=self._ssl)
            else:
                conn = http.client.HTTPConnection(host, port, timeout=connect_timeout)
            conns[key] = conn
            with self._clients_lock:
                self._conns.append(conn)
        conn.timeout = connect_timeout
        return conn

    def _plain(self, parts: tuple[str, str, int, str], url: str, feed: str, headers: dict[str, str],
               deadline: float, left: float) -> Response:
        """A plain GET over http.client: a quarter of httpx's CPU per request, which is
        what a warm pull of 2,000 feeds (2,000 304s) is made of. Same guarantees as the
        httpx path: the timeouts and the deadline, the size cap counted after
        decompression, conditional GET (the caller's headers). A redirect or a
        compression this path does not decode raises _NotPlain before anything is
        returned, and httpx makes the request with its own rules (http(s) only, at
        most five hops, credentials never carried to another host)."""
        import http.client
        import ssl
        import zlib

        scheme, host, port, target = parts
        safe = safe_url(url)
        started = time.monotonic()
        conn = self._conn(scheme, host, port, min(self.timeout, left, 10.0))
        try:
            try:
                if conn.sock is None:
                    conn.connect()
            except TimeoutError:
                raise FeedError(feed, f"timed out fetching {safe}") from None
            except (OSError, ssl.SSLError) as e:
                raise FeedError(feed, f"cannot fetch {safe}: ConnectError: {_short(e)}") from None
            _read_timeout(conn.sock, self.timeout, deadline)
            try:
                conn.putrequest("GET", target, skip_accept_encoding=True)
                sent = {"User-Agent": USER_AGENT, "Accept": "*/*", "Accept-Encoding": "gzip, deflate", **headers}
                for k, v in sent.items():
                    conn.putheader(k, v)
                conn.endheaders()
            except (ValueError, UnicodeError, TypeError):  # a header http.client refuses: httpx decides
                conn.close()
                raise _NotPlain() from None
            r = conn.getresponse()
            status = r.status
            if status in REDIRECTS:
                self._redirected.add(url)
                raise _NotPlain()
            encoding = (r.getheader("content-encoding") or "identity").strip().lower()
            if encoding in ("gzip", "x-gzip"):
                decoder: Any = zlib.decompressobj(zlib.MAX_WBITS | 16)
            elif encoding == "deflate":
                decoder = _Deflate()
            elif encoding == "identity" or not encoding:
                decoder = None
            else:
                raise _NotPlain()
            resp_headers = r.getheaders()
            declared = r.getheader("content-length")
            if declared and declared.isdigit() and int(declared) > self.max_size:
                raise FeedError(feed, f"response from {safe} is {int(declared)} bytes, over the {self.max_size}-byte cap")
            chunks: list[bytes] = []
            size = 0
            cap = self.max_size
            while True:
                raw = r.read(65536)  # at the end of the body it hands the connection back
                if not raw:
                    break
                if decoder is None:
                    out = [raw]
                else:
                    try:
                        # Counting decoded bytes is what stops a gzip bomb: never more than the cap at once.
                        out = [decoder.decompress(raw, cap - size + 1)]
                        while decoder.unconsumed_tail and size + len(out[-1]) <= cap:
                            out.append(decoder.decompress(decoder.unconsumed_tail, cap - size + 1))
                    except zlib.error:
                        raise FeedError(feed, f"{safe}: the response's compression is broken") from None
                for piece in out:
                    size += len(piece)
                    if size > cap:
                        raise FeedError(feed, f"response from {safe} is over the {cap}-byte cap; cut off")
                    chunks.append(piece)
                if time.monotonic() > deadline:
                    raise FeedError(feed, f"timed out reading {safe}")
                if conn.sock is not None:
                    _read_timeout(conn.sock, self.timeout, deadline)
            if decoder is not None:
                try:
                    tail = decoder.flush()
                except zlib.error:
                    raise FeedError(feed, f"{safe}: the response's compression is broken") from None
                size += len(tail)
                if size > cap:
                    raise FeedError(feed, f"response from {safe} is over the {cap}-byte cap; cut off")
                chunks.append(tail)
            r.close()
            if r.will_close:
                conn.close()
        except TimeoutError:
            conn.close()
            raise FeedError(feed, f"timed out fetching {safe}") from None
        except (http.client.RemoteDisconnected, http.client.IncompleteRead, ConnectionError) as e:
            conn.close()
            raise ConnectionDropped(f"{type(e).__name__}: {_short(e)}") from None
        except (http.client.HTTPException, OSError) as e:
            conn.close()
            raise FeedError(feed, f"cannot fetch {safe}: RemoteProtocolError: {_short(e)}") from None
        except BaseException:
            conn.close()  # a response left half read must not be the next request's
            raise
        import httpx

        if LOG.isEnabledFor(logging.INFO):
            length = r.getheader("content-length")
            LOG.info("%s: GET %s -> %d%s in %.0f ms", feed, log.redact_url(url), status,
                     f", {length} bytes" if length else "", (time.monotonic() - started) * 1000)
        return Response(status, httpx.Headers(resp_headers), b"".join(chunks), url)

    @staticmethod
    def _log(feed: str, method: str, r: httpx.Response, started: float) -> None:
        """One line per request: where (credentials redacted), what came back, how long it took."""
        hops = "".join(f" (redirected from {log.redact_url(str(h.url))})" for h in r.history)
        length = r.headers.get("content-length")
        LOG.info("%s: %s %s -> %d%s in %.0f ms%s", feed, method, log.redact_url(str(r.url)), r.status_code,
                 f", {length} bytes" if length else "", (time.monotonic() - started) * 1000, hops)


class _Deflate:
    """Content-Encoding: deflate, which servers send both zlib-wrapped and raw (as httpx reads it)."""

    def __init__(self) -> None:
        import zlib

        self._d = zlib.decompressobj()
        self._first = True

    @property
    def unconsumed_tail(self) -> bytes:
        return self._d.unconsumed_tail

    def decompress(self, data: bytes, max_length: int) -> bytes:
        import zlib

        if self._first:
            self._first = False
            try:
                return self._d.decompress(data, max_length)
            except zlib.error:
                self._d = zlib.decompressobj(-zlib.MAX_WBITS)
        return self._d.decompress(data, max_length)

    def flush(self) -> bytes:
        return self._d.flush()


def _read_timeout(sock: Any, timeout: float, deadline: float) -> None:
    """Each read waits no longer than the timeout, nor past the deadline. Set only when
    it changes: settimeout gives up the GIL, and getting it back behind 256 busy
    threads cost more than the request's own CPU."""
    wanted = max(0.001, min(timeout, deadline - time.monotonic()))
    if sock.gettimeout() != wanted:
        sock.settimeout(wanted)


def _plain_url(url: str) -> tuple[str, str, int, str] | None:
    """(scheme, host, port, request target) of a URL the plain path may fetch as it
    stands; None for anything httpx should normalise (non-ASCII, spaces, credentials)."""
    if not url.isascii() or any(ch <= " " or ch == "\\" for ch in url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return None
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = parts.hostname
    return scheme, host, port or (443 if scheme == "https" else 80), target


def describe_status(resp: Response) -> str:
    words = {401: "unauthorized: the token is missing, wrong or expired",
             403: "forbidden: the account or token may not read this",
             404: "not found: check the URL"}
    import httpx

    reason = words.get(resp.status) or httpx.codes.get_reason_phrase(resp.status) or "error"
    return f"HTTP {resp.status} {reason} ({safe_url(resp.url)})"


def _short(e: Exception) -> str:
    text = str(e).splitlines()[0] if str(e) else ""
    return text[:200]
