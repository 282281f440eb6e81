"""A real HTTP server on 127.0.0.1 that replays scripted responses.

Tests script each path with a queue of responses (or a function of the request)
and read back what was asked. No network beyond the loopback.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (a slow or hanging server)
    gzip: bool = False
    drop: bool = False  # close the connection without answering (a dead keep-alive)

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            data = self.body
        elif isinstance(self.body, str):
            data = self.body.encode("utf-8")
        else:
            data = json.dumps(self.body).encode("utf-8")
            self.headers.setdefault("Content-Type", "application/json")
        return gzip.compress(data) if self.gzip else data


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


Handler = Callable[[Seen], Reply]


class ReplayServer:
    def __init__(self) -> None:
        self.routes: dict[str, deque[Reply | Handler]] = defaultdict(deque)
        self.sticky: dict[str, Reply | Handler] = {}
        self.prefixed: list[tuple[str, Reply | Handler]] = []
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        server = self

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body leave in two writes; with Nagle on, the body waits for the
            # client's delayed ACK (~40 ms a request on a kept-alive connection).
            disable_nagle_algorithm = True

            def log_message(self, *a: Any) -> None:  # keep test output clean
                pass

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                seen = Seen(self.command, parts.path, parse_qs(parts.query),
                            {k.lower(): v for k, v in self.headers.items()},
                            self.rfile.read(length) if length else b"")
                with server._lock:
                    server.requests.append(seen)
                    queue = server.routes.get(parts.path)
                    step = queue.popleft() if queue else server.sticky.get(parts.path)
                    if step is None:  # a path with ids in it (/2.3/posts/1;2/comments)
                        step = next((h for p, h in server.prefixed if parts.path.startswith(p)), None)
                if step is None:
                    reply = Reply(404, "no route")
                else:
                    reply = step(seen) if callable(step) else step
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.drop:
                    self.close_connection = True
                    return
                data = reply.encoded()
                try:
                    self.send_response(reply.status)
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    if reply.gzip:
                        self.send_header("Content-Encoding", "gzip")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_HEAD = _serve

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _H)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def add(self, path: str, *steps: Reply | Handler) -> None:
        """Queue replies for `path`, served once each, in order."""
        self.routes[path].extend(steps)

    def always(self, path: str, step: Reply | Handler) -> None:
        """Serve `step` for `path` whenever its queue is empty."""
        self.sticky[path] = step

    def under(self, prefix: str, step: Reply | Handler) -> None:
        """Serve `step` for any path starting with `prefix` that has no route of its own."""
        self.prefixed.append((prefix, step))

    def hits(self, path: str) -> list[Seen]:
        return [r for r in self.requests if r.path == path]

    def start(self) -> ReplayServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
