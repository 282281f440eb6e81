"""What alerts add to a pull: a first run that sends everything waiting, then runs with nothing new.

    python benchmarks/alerts_perf.py                 # 5,000 waiting mentions, 3 webhook targets
    python benchmarks/alerts_perf.py --n 20000 --targets 5

A real SQLite file and a real HTTP receiver on 127.0.0.1 (answering at once);
mentions stored through the project's own rows and storage, flagged by the real
detectors. Prints the wall time of `Listener.alert()`:
- "flood": the first run, every waiting mention due for every target (claims,
  one message per target, marks);
- "steady": the next runs, nothing due (what every cron pull pays), median of --runs;
- "one new": a run after one new mention arrived (median of --runs).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from listen.app import Listener  # noqa: E402
from listen.config import load  # noqa: E402
from listen.flags import FlagSettings  # noqa: E402
from listen.rows import to_row  # noqa: E402
from listen.waiting import Identity, answered_times  # noqa: E402
from tests.helpers import raw  # noqa: E402

TEXTS = ["How do I export my data to CSV?", "Your app is broken and nobody answers. Terrible.",
         "Where is the invoice for March?", "This update is awful, everything is slow."]


def receiver() -> tuple[ThreadingHTTPServer, list[int]]:
    sizes: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            sizes.append(len(self.rfile.read(int(self.headers.get("Content-Length") or 0))))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, sizes


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=5000, help="waiting mentions")
    ap.add_argument("--targets", type=int, default=3)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    server, sizes = receiver()
    url = f"http://127.0.0.1:{server.server_port}/hook"
    os.environ["BENCH_HOOK"] = url
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "listen.toml"
        cfg.write_text('[identity]\nnames = ["acme"]\n[[feeds]]\nname = "ex"\ntype = "jsonl"\npath = "m.jsonl"\n'
                       + "".join(f'[[alerts]]\nname = "t{i}"\ntype = "{("webhook", "slack", "discord")[i % 3]}"\n'
                                 'url_env = "BENCH_HOOK"\n' for i in range(args.targets)))
        now = int(time.time())
        listener = Listener(load(cfg), clock=lambda: now)
        rows = [to_row(raw(f"m{i}", f"user{i}", TEXTS[i % 4], now - 60 - (i * 7) % (13 * 86400)),
                       Identity(["acme"]), FlagSettings(), now) for i in range(args.n)]
        listener.store.save_batch("ex", "jsonl", rows, None, answered_times, now)
        waiting = listener.store.inbox_summary(now, max_age=14 * 86400)["items"]

        t = time.perf_counter()
        results = listener.alert()
        flood = time.perf_counter() - t
        assert all(r.sent for r in results), [r.error for r in results]
        steady = []
        for _ in range(args.runs):
            t = time.perf_counter()
            listener.alert()
            steady.append(time.perf_counter() - t)
        one_new = []
        for k in range(args.runs):
            listener.store.save_batch("ex", "jsonl", [to_row(raw(f"new{k}", "zed", TEXTS[0], now - 30),
                                                             Identity(["acme"]), FlagSettings(), now)],
                                      None, answered_times, now)
            t = time.perf_counter()
            listener.alert()
            one_new.append(time.perf_counter() - t)
        listener.close()
    print(f"{waiting} waiting mentions, {args.targets} targets")
    print(f"flood:   {flood:.3f} s (largest message {max(sizes[:args.targets]) / 1e6:.2f} MB)")
    print(f"steady:  {statistics.median(steady):.3f} s (median of {args.runs})")
    print(f"one new: {statistics.median(one_new):.3f} s (median of {args.runs})")
    server.shutdown()


if __name__ == "__main__":
    main()
