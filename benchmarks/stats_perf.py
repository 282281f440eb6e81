"""Speed of `listen stats` and `listen report --html` on a big database, as whole processes.

    python benchmarks/stats_perf.py                       # 1,000,000 mentions over 2 years, in a temp dir
    python benchmarks/stats_perf.py --n 300000            # a smaller history
    python benchmarks/stats_perf.py --db /tmp/s.db        # keep the database (generated once) between runs
    python benchmarks/stats_perf.py --db /tmp/s.db --json-out before.json   # also save frozen-clock JSON

The database is generated with a fixed seed straight through the project's
storage (`listen.storage.open_store` creates the schema, rows go in with one
executemany): a pull of the same history would spend minutes flagging texts,
which is not what is measured here. Rows look like pulled ones: several feeds
and networks, our own broadcasts and replies, conversations (in_reply_to,
thread_id), mentions answered fast, slowly, late or never, flagged or not,
done, ignored or snoozed, with text, URL and raw payload. A mention's
answered_at is our first reply to it (the rule's "a reply to someone's later
message answers their earlier ones too" is left out: it changes no cost).

`--days 30` packs all N items into the last 30 days: every command then reads
all of them, and the inbox holds the last 14 days' worth.

Each figure is the median wall time of `--runs` (default 3) runs of
`python -m listen --config CFG ...` in a fresh process, after one warm-up run.

`--json-out FILE` writes `stats --json` for several periods with the clock
frozen at the database's own "now" (time.time patched in the child before listen
is imported), so that the outputs of two versions of the code can be compared
byte for byte.
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from perf import mention_text  # noqa: E402  (the same varied texts as the ingest benchmark)

from listen.storage import open_store  # noqa: E402

D = 86400
# (name, network, share of the traffic)
FEEDS = [("forum", "discourse", 0.30), ("fediverse", "mastodon", 0.25), ("reddit", "reddit", 0.20),
         ("blog", "rss", 0.15), ("hn", "hackernews", 0.10)]
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
COLUMNS = ("id", "feed", "network", "native_id", "author", "author_name", "author_key", "text", "created_at", "url",
           "in_reply_to", "thread_id", "title", "ours_hint", "ours", "question", "negative", "addressed",
           "question_score", "negative_score", "reasons", "flags_version", "state", "snoozed_until", "triaged_at",
           "first_seen", "updated_at", "raw")


# -- the database -------------------------------------------------------------


class _History:
    """Generates rows in time order and remembers, per mention, our first answer."""

    def __init__(self, n: int, days: int, now: int, seed: int):
        self.rng = random.Random(seed)
        self.n, self.now, self.start = n, now, now - days * D
        # per feed, the mentions so far (id, native id, thread, time) and their times, for bisect
        self.pools: dict[str, list[tuple[int, str, str, int]]] = {f: [] for f, _, _ in FEEDS}
        self.times: dict[str, list[int]] = {f: [] for f, _, _ in FEEDS}
        self.answered: dict[int, int] = {}  # row id -> our first reply's time

    def rows(self):
        rng = self.rng
        names = [f for f, _, _ in FEEDS]
        nets = {f: net for f, net, _ in FEEDS}
        weights = [w for _, _, w in FEEDS]
        times = sorted(rng.randrange(self.start, self.now + 1) for _ in range(self.n))
        for i, t in enumerate(times):
            feed = rng.choices(names, weights)[0]
            yield self._row(i + 1, feed, nets[feed], t)

    def _target(self, feed: str, t: int) -> tuple[int, str, str, int]:
        """The latest mention of `feed` posted some time before t: mostly hours, now and then
        weeks (slow and late answers). Time-based, so response times do not depend on n."""
        times, pool = self.times[feed], self.pools[feed]
        delay = self.rng.uniform(0, 30 * D) if self.rng.random() < 0.05 else self.rng.expovariate(1 / (5 * 3600))
        return pool[max(0, bisect.bisect_right(times, t - delay) - 1)]

    def _remember(self, feed: str, entry: tuple[int, str, str, int]) -> None:
        times, pool = self.times[feed], self.pools[feed]
        times.append(entry[3])
        pool.append(entry)
        if len(pool) > 100_000 and times[0] < entry[3] - 40 * D:  # forget what no reply reaches any more
            cut = bisect.bisect_left(times, entry[3] - 31 * D)
            del times[:cut], pool[:cut]

    def _row(self, rid: int, feed: str, network: str, t: int) -> tuple:
        rng, pool = self.rng, self.pools[feed]
        nid = f"{feed[:2]}{rid}"
        ours = rng.random() < 0.3 and bool(pool)
        reply_to = thread = None
        question = negative = addressed = 0
        state, snoozed, triaged = "open", None, None
        if ours:
            author, text = "acme", "Thanks for asking: here is how."
            if rng.random() < 0.8:  # a reply to someone; the rest are broadcasts
                target_id, reply_to, thread, _ = self._target(feed, t)
                self.answered[target_id] = min(self.answered.get(target_id, t), t)
        else:
            author, text = f"user{rng.randint(1, 50_000)}", mention_text(rng)
            if pool and rng.random() < 0.45:
                _, reply_to, thread, _ = rng.choice(pool[-300:])
            question, negative = int(rng.random() < 0.35), int(rng.random() < 0.12)
            addressed = int(question and rng.random() < 0.3)
            r = rng.random()
            if r < 0.07:
                state, triaged = "done", t + 3600
            elif r < 0.12:
                state, triaged = "ignored", t + 600
            elif r < 0.125:
                snoozed, triaged = t + 3 * D, t + 600
            self._remember(feed, (rid, nid, thread or nid, t))
        reasons = json.dumps((["question: asks how"] if question else []) + (["negative: 'broken'"] if negative else []))
        raw = json.dumps({"id": nid, "author": author, "text": text, "created_at": t, "in_reply_to": reply_to})
        return (rid, feed, network, nid, author, None, author.lower(), text, t, f"https://{feed}.example/p/{nid}",
                reply_to, thread or nid, None, None, int(ours), question, negative, addressed,
                0.9 if question else 0.1, 0.8 if negative else 0.05, reasons, "bench", state, snoozed, triaged,
                t + 60, t + 60, raw)


def generate(db: Path, n: int, days: int, seed: int) -> int:
    """A database of n items over `days` days up to now; returns that now."""
    now = int(time.time())
    history = _History(n, days, now, seed)
    store = open_store(db)  # the real schema, indexes and pragmas
    conn = store.conn
    conn.execute("BEGIN")
    conn.executemany(f"INSERT INTO items ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                     history.rows())
    # answered_at as storage derives it: our first reply's time (never before the mention).
    conn.executemany("UPDATE items SET answered_at = max(?, created_at) WHERE id = ?",
                     ((at, rid) for rid, at in history.answered.items()))
    conn.executemany("INSERT INTO feeds (name, network, last_attempt, last_success) VALUES (?, ?, ?, ?)",
                     [(f, net, now, now) for f, net, _ in FEEDS])
    conn.execute("COMMIT")
    store.close()
    return now


def prepare(db: Path, n: int, days: int, seed: int) -> tuple[Path, int]:
    """The config for `db`, generating the database unless one made with the same settings is there."""
    meta_path = db.with_name(db.name + ".bench.json")
    wanted = {"n": n, "days": days, "seed": seed}
    meta = json.loads(meta_path.read_text()) if meta_path.exists() and db.exists() else {}
    if {k: meta.get(k) for k in wanted} != wanted:
        for f in db.parent.glob(db.name + "*"):
            f.unlink()
        t = time.perf_counter()
        now = generate(db, n, days, seed)
        print(f"generated {n:,} items over {days} days in {time.perf_counter() - t:.1f} s: {db}", file=sys.stderr)
        meta = {**wanted, "now": now}
        meta_path.write_text(json.dumps(meta))
    cfg = db.with_name(db.name + ".toml")
    feeds = "".join(f'[[feeds]]\nname = "{f}"\ntype = "jsonl"\npath = "{db.name}.{f}.jsonl"\n' for f, _, _ in FEEDS)
    cfg.write_text(f'[identity]\nnames = ["acme"]\n[store]\npath = {json.dumps(str(db.resolve()))}\n{feeds}')
    return cfg, meta["now"]


# -- timing -------------------------------------------------------------------


def run(args: list[str], frozen: int | None = None) -> tuple[float, bytes]:
    """One `python -m listen ...` process: (wall seconds, stdout). With `frozen`, time.time() returns it."""
    if frozen is None:
        cmd = [sys.executable, "-m", "listen", *args]
    else:
        boot = (f"import time, runpy, sys; time.time = lambda: {frozen}.0; sys.argv = ['listen'] + sys.argv[1:];"
                " runpy.run_module('listen', run_name='__main__')")
        cmd = [sys.executable, "-c", boot, *args]
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, env=CHILD_ENV, cwd=HERE.parent)
    wall = time.perf_counter() - t
    if p.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr.decode()}")
    return wall, p.stdout


def median_of(runs: int, args: list[str]) -> tuple[float, list[float]]:
    run(args)  # warm the page cache and the bytecode cache
    walls = [run(args)[0] for _ in range(runs)]
    return statistics.median(walls), walls


def frozen_json(cfg: Path, now: int, days: int) -> dict[str, object]:
    """`stats --json` for several periods and filters, at the database's clock."""
    out = {}
    for extra in (["--since", "30d"], ["--since", "365d"], ["--since", f"{days + 1}d"], ["--since", "3d"],
                  ["--since", "90d", "--feed", "forum", "--feed", "hn"]):
        out[" ".join(extra)] = run(["--config", str(cfg), "stats", "--json", *extra], frozen=now)[1].decode()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000, help="items in the database (default 1,000,000)")
    ap.add_argument("--days", type=int, default=730, help="history spread over this many days (default 730)")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--runs", type=int, default=3, help="timed runs per command (median reported)")
    ap.add_argument("--db", type=Path, help="keep the database here (reused when n, days and seed match)")
    ap.add_argument("--json-out", type=Path, help="write frozen-clock `stats --json` outputs here, for comparison")
    ap.add_argument("--only", nargs="*", help="labels of the commands to time: 'stats 30d', 'stats 365d',"
                    " 'stats --json', 'report', 'report all' (default: all; an unknown label times nothing)")
    args = ap.parse_args()

    tmp = None if args.db else Path(tempfile.mkdtemp(prefix="listen-bench-stats-"))
    db = args.db.resolve() if args.db else tmp / "stats.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    try:
        cfg, now = prepare(db, args.n, args.days, args.seed)
        if args.json_out:
            args.json_out.write_text(json.dumps(frozen_json(cfg, now, args.days), indent=1, sort_keys=True))
            print(f"wrote {args.json_out}", file=sys.stderr)
        out_html = db.with_name(db.name + ".report.html")
        c = ["--config", str(cfg)]
        commands = [
            ("stats 30d", [*c, "stats", "--since", "30d"]),
            ("stats 365d", [*c, "stats", "--since", "365d"]),
            ("stats --json", [*c, "stats", "--json"]),
            ("report", [*c, "report", "--html", str(out_html)]),
            ("report all", [*c, "report", "--html", str(out_html), "--since", f"{args.days + 1}d"]),
        ]
        print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version};"
              f" {args.n:,} items over {args.days} days; median of {args.runs} runs", file=sys.stderr)
        rows = []
        for label, cmd in commands:
            if args.only and label not in args.only:
                continue
            med, walls = median_of(args.runs, cmd)
            rows.append((label, f"{med:.3f} s", " ".join(f"{w:.3f}" for w in walls),
                         "python -m listen " + " ".join(cmd)))
            print(f"  {label}: {med:.3f} s", file=sys.stderr, flush=True)
        widths = [max(len(r[i]) for r in rows + [("what", "median", "runs", "")]) for i in range(3)]
        print(f"{'what':<{widths[0]}}  {'median':>{widths[1]}}  {'runs':<{widths[2]}}  command")
        for r in rows:
            print(f"{r[0]:<{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}")
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
