"""A local feed server for the pull benchmarks: N RSS feeds, each answered after a delay.

    python benchmarks/feedserver.py --feeds 200 --items 20 --delay 0.1 --port 0

Prints its base URL on the first line of stdout. GET /feed/<n>.xml serves a
feed (304 when If-None-Match or If-Modified-Since matches); GET /stats returns
how many 200s and 304s it has sent; POST /reset zeroes them.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LAST_MODIFIED = "Mon, 09 Nov 2026 08:00:00 GMT"
WORDS = ("listen reply question export data invoice broken thanks great help why how anyone know "
         "still waiting update login slow love the new dashboard please call me").split()


def make_feed(n: int, items: int, seed: int) -> bytes:
    rng = random.Random(seed * 1000 + n)
    base = datetime(2026, 11, 9, 8, 0, tzinfo=timezone.utc)
    parts = [f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
             f'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
             f"<channel><title>Comments for blog {n}</title><link>http://blog{n}.example/</link>"
             f"<description>bench</description><lastBuildDate>{format_datetime(base, usegmt=True)}</lastBuildDate>"]
    for i in range(items):
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 30)))
        if rng.random() < 0.3:
            text += "?"
        when = base - timedelta(minutes=37 * i + n)
        parts.append(
            f"<item><title>Comment on Post {i % 5} by user{rng.randint(1, 500)}</title>"
            f"<link>http://blog{n}.example/post-{i % 5}/#comment-{i}</link>"
            f"<dc:creator><![CDATA[user{rng.randint(1, 500)}]]></dc:creator>"
            f"<pubDate>{format_datetime(when, usegmt=True)}</pubDate>"
            f'<guid isPermaLink="false">http://blog{n}.example/?p={i % 5}#comment-{i}</guid>'
            f"<description><![CDATA[{text}]]></description>"
            f"<content:encoded><![CDATA[<p>{text}</p>]]></content:encoded></item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--feeds", type=int, default=200)
    ap.add_argument("--items", type=int, default=20)
    ap.add_argument("--delay", type=float, default=0.1)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    feeds = {n: make_feed(n, args.items, args.seed) for n in range(args.feeds)}
    counts = {"200": 0, "304": 0}
    lock = threading.Lock()

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):  # quiet
            pass

        def _send(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            with lock:
                counts["200"] = counts["304"] = 0
            self._send(204)

        def do_GET(self):
            if self.path == "/stats":
                with lock:
                    return self._send(200, json.dumps(counts).encode(), {"Content-Type": "application/json"})
            try:
                n = int(self.path.removeprefix("/feed/").removesuffix(".xml"))
                body = feeds[n]
            except (ValueError, KeyError):
                return self._send(404, b"no such feed")
            time.sleep(args.delay)  # the network and a busy blog
            etag = f'"v1-{n}"'
            if self.headers.get("If-None-Match") == etag or self.headers.get("If-Modified-Since") == LAST_MODIFIED:
                with lock:
                    counts["304"] += 1
                return self._send(304, b"", {"ETag": etag})
            with lock:
                counts["200"] += 1
            self._send(200, body, {"Content-Type": "application/rss+xml; charset=UTF-8", "ETag": etag,
                                   "Last-Modified": LAST_MODIFIED})

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 1024  # 200 clients connect at once

    srv = Server(("127.0.0.1", args.port), H)
    print(f"http://127.0.0.1:{srv.server_address[1]}", flush=True)
    try:
        srv.serve_forever(poll_interval=0.05)
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
