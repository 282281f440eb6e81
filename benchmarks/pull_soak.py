"""Run many cold pulls in a row and count the ones that fail or stall.

    python benchmarks/pull_soak.py [--runs 60] [--feeds 200]

A race shows up once in dozens of pulls, never in one timed run: this is
how the shared-connection-pool hang was found (3 pulls in 60 stalled for
20 s before each thread had its own client; 0 in 80 after). Every pull is a
whole `listen pull --quiet` process against benchmarks/feedserver.py on
127.0.0.1, on a fresh database.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from perf import CHILD_ENV, start_server  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=60)
    ap.add_argument("--feeds", type=int, default=200)
    ap.add_argument("--stall", type=float, default=5.0, help="seconds after which a pull counts as stalled")
    args = ap.parse_args()
    server, url = start_server(args.feeds, 20, 0.1)
    work = Path(tempfile.mkdtemp(prefix="listen-soak-"))
    cfg = work / "listen.toml"
    cfg.write_text('[identity]\nnames = ["user1"]\n' + "".join(
        f'[[feeds]]\nname = "blog{n}"\ntype = "rss"\nurl = "{url}/feed/{n}.xml"\n' for n in range(args.feeds)))
    walls, bad = [], 0
    try:
        for i in range(args.runs):
            for f in work.glob("listen.db*"):
                f.unlink()
            t = time.perf_counter()
            r = subprocess.run([sys.executable, "-m", "listen", "--config", str(cfg), "pull", "--quiet"],
                               capture_output=True, text=True, env=CHILD_ENV)
            wall = time.perf_counter() - t
            walls.append(wall)
            if r.returncode or wall > args.stall:
                bad += 1
                print(f"pull {i}: exit {r.returncode}, {wall:.1f} s: {r.stderr.strip()[:200]}", flush=True)
    finally:
        server.terminate()
        server.wait()
    print(f"{args.runs} cold pulls of {args.feeds} feeds: {bad} failed or stalled; "
          f"median {statistics.median(walls):.2f} s, slowest {max(walls):.2f} s")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
