"""listen on PostgreSQL, against the targets of issue 13 (and the SQLite warm pull).

    python benchmarks/postgres.py              # full sizes (many minutes)
    python benchmarks/postgres.py --quick      # small sizes, labelled as such
    python benchmarks/postgres.py ingest inbox pullers warm

Starts a throwaway local PostgreSQL (tests/pgserver.py: Debian's server, fsync off,
as on a test cluster) and times `python -m listen ...` as whole processes, like
benchmarks/perf.py, whose data generators and feed server it reuses.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import perf  # noqa: E402  (benchmarks/perf.py: generators, server, process timing)
from perf import CHILD_ENV, ROWS, generate_jsonl, listen, median_runs, reset, row, server_stats, start_server  # noqa: E402

from tests.pgserver import PgServer  # noqa: E402


def pg_config(work: Path, url: str, body: str, name: str = "listen.toml") -> Path:
    cfg = work / name
    cfg.write_text(f'[identity]\nnames = ["acme", "user1"]\n[store]\nurl = "{url}"\n' + body)
    return cfg


def jsonl_feed(src: Path) -> str:
    return f'[[feeds]]\nname = "big"\ntype = "jsonl"\npath = "{src.name}"\ntimeout = "2h"\n'


def server_cpu(pg: PgServer) -> float:
    """CPU seconds of the cluster's processes that have exited (backends, reaped by the postmaster)."""
    assert pg.dir is not None
    pid = (pg.dir / "data" / "postmaster.pid").read_text().split()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")  # cutime, cstime


def bench_ingest_and_inbox(pg: PgServer, n: int, work: Path, what: set[str]) -> None:
    small, big = work / "m10k.jsonl", work / f"m{n}.jsonl"
    generate_jsonl(small, 10_000)
    generate_jsonl(big, n)
    small_cfg = pg_config(work, pg.new_database(), jsonl_feed(small), "small.toml")
    big_cfg = pg_config(work, pg.new_database(), jsonl_feed(big), "big.toml")
    listen("--config", str(small_cfg), "pull", "--quiet")
    # CPU as well as wall: on a shared machine the wall clock measures the neighbours too.
    cpu0, server0, load = os.times(), server_cpu(pg), os.getloadavg()[0]
    wall, rss, res = listen("--config", str(big_cfg), "pull", "--quiet")
    time.sleep(0.5)  # the backend exits after the client: let the postmaster reap it
    cpu1, server1 = os.times(), server_cpu(pg)
    assert res.returncode == 0, res.stderr.decode()
    if "ingest" in what:
        cpu = cpu1.children_user + cpu1.children_system - cpu0.children_user - cpu0.children_system
        row(f"ingest into PostgreSQL, jsonl of {n:,}", f"{n / wall:,.0f} mentions/s ({wall:.1f} s), peak {rss / 1024:.0f} MB;"
            f" CPU: listen {cpu:.1f} s, PostgreSQL {server1 - server0:.1f} s; load {load:.1f}",
            ">= 10,000/s", n / wall >= 10_000)
    if "inbox" in what:
        times = {}
        for label, cfg in (("10k", small_cfg), ("big", big_cfg)):
            listen("--config", str(cfg), "inbox", "--json")
            times[label] = median_runs(5, lambda cfg=cfg: listen("--config", str(cfg), "inbox", "--json")[0])
        b, s = times["big"], times["10k"]
        row(f"inbox --json on PostgreSQL, {n:,} stored", f"{b:.3f} s (10k stored: {s:.3f} s, x{b / s:.2f})",
            "<= 0.5 s and <= 1.5x", b <= 0.5 and b <= 1.5 * s)


def generated_db(pg: PgServer, n: int, now: int) -> str:
    """A database of n mentions, 500 a day up to now, written by SQL (seconds, where a pull
    of a million takes many minutes): a third answered, two in five questions, one in
    seven negative, one in five ours. The inbox's fortnight holds the same at any n."""
    url = pg.new_database()
    from listen.storage import open_store

    s = open_store(url)
    try:
        s.conn.execute(
            "INSERT INTO items (feed, network, native_id, author, author_key, text, created_at, thread_id, ours,"
            " question, negative, answered_at, first_seen, updated_at)"
            " SELECT 'big', 'jsonl', 'm' || i, 'user' || (i % 50000), 'user' || (i % 50000),"
            " 'is the export broken again? ' || i, ? - i * 172, 'm' || i, (i % 5 = 0)::int,"
            " (i % 5 IN (1, 2))::int, (i % 7 = 0)::int, CASE WHEN i % 3 = 0 THEN ? - i * 172 + 3600 END, ?, ?"
            " FROM generate_series(0, ? - 1) AS i", (now, now, now, now, n))
        s.conn.execute("ANALYZE items")
    finally:
        s.close()
    return url


def bench_inbox_generated(pg: PgServer, n: int) -> None:
    now = int(time.time())
    times = {}
    for label, size in (("10k", 10_000), ("big", n)):
        url = generated_db(pg, size, now)
        listen("--db", url, "inbox", "--json")
        times[label] = median_runs(5, lambda url=url: listen("--db", url, "inbox", "--json")[0])
    b, s = times["big"], times["10k"]
    row(f"inbox --json on PostgreSQL, {n:,} stored (rows written by SQL)",
        f"{b:.3f} s (10k stored: {s:.3f} s, x{b / s:.2f})", "<= 0.5 s and <= 1.5x", b <= 0.5 and b <= 1.5 * s)


def feeds_body(url: str, feeds: int) -> str:
    return "".join(f'[[feeds]]\nname = "blog{n}"\ntype = "rss"\nurl = "{url}/feed/{n}.xml"\n' for n in range(feeds))


def _cpu(before: os.times_result, after: os.times_result) -> float:
    """CPU seconds of the child processes reaped between the two readings (pulls and their workers)."""
    return after.children_user + after.children_system - before.children_user - before.children_system


def bench_pullers(pg: PgServer, feeds: int, pullers: int, work: Path) -> None:
    server, url = start_server(feeds, 20, 0.1)
    try:
        # One SQLite pull of the same feeds, cold: the yardstick.
        lite = work / "lite.toml"
        lite.write_text('[identity]\nnames = ["user1"]\n[store]\npath = "lite.db"\n' + feeds_body(url, feeds))
        reset(url)
        c0, load = os.times(), os.getloadavg()[0]
        one, _, res = listen("--config", str(lite), "pull", "--quiet")
        lite_cpu = _cpu(c0, os.times())
        assert res.returncode == 0, res.stderr.decode()
        row(f"one cold pull, {feeds} feeds (100 ms each), SQLite",
            f"{one:.2f} s; CPU: listen {lite_cpu:.1f} s; load {load:.1f}", "the yardstick", None)
        # One PostgreSQL pull of the same feeds, cold: what the database path costs on its own.
        single = pg_config(work, pg.new_database(), feeds_body(url, feeds), "single.toml")
        listen("--config", str(single), "feeds")  # the schema, made once
        reset(url)
        c0, s0, load = os.times(), server_cpu(pg), os.getloadavg()[0]
        wall1, _, res = listen("--config", str(single), "pull", "--quiet")
        time.sleep(0.5)  # the backend exits after the client: let the postmaster reap it
        c1, s1 = os.times(), server_cpu(pg)
        assert res.returncode == 0, res.stderr.decode()
        row(f"one cold pull, {feeds} feeds (100 ms each), PostgreSQL",
            f"{wall1:.2f} s (x{wall1 / one:.2f}); CPU: listen {_cpu(c0, c1):.1f} s, PostgreSQL {s1 - s0:.1f} s;"
            f" load {load:.1f}", "(no target)", None)
        cfg = pg_config(work, pg.new_database(), feeds_body(url, feeds), "pullers.toml")
        listen("--config", str(cfg), "feeds")  # the schema, made once
        reset(url)
        c0, s0, load = os.times(), server_cpu(pg), os.getloadavg()[0]
        t = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, "-m", "listen", "--config", str(cfg), "pull", "--quiet"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=CHILD_ENV) for _ in range(pullers)]
        outs = [p.communicate() for p in procs]
        wall = time.perf_counter() - t
        time.sleep(0.5)
        c1, s1 = os.times(), server_cpu(pg)
        assert all(p.returncode == 0 for p in procs), [e.decode()[-500:] for _, e in outs]
        fetched = server_stats(url)["200"]
        row(f"{pullers} pullers at once, {feeds} feeds (100 ms each), one PostgreSQL",
            f"{wall:.2f} s, {fetched} fetches for {feeds} feeds (one SQLite pull: {one:.2f} s, x{wall / one:.2f});"
            f" CPU: listen {_cpu(c0, c1):.1f} s, PostgreSQL {s1 - s0:.1f} s; load {load:.1f}",
            "each feed once, <= 1.5x one SQLite pull", fetched == feeds and wall <= 1.5 * one)
    finally:
        server.terminate()
        server.wait()


def bench_warm_sqlite(feeds: int, work: Path, runs: int) -> None:
    server, url = start_server(feeds, 20, 0.1)
    try:
        cfg = work / "warm.toml"
        cfg.write_text('[identity]\nnames = ["user1"]\n[store]\npath = "warm.db"\n' + feeds_body(url, feeds))
        listen("--config", str(cfg), "pull", "--quiet")
        walls, cpus, rsss = [], [], []
        for _ in range(runs):
            reset(url)
            before = os.times()
            wall, rss, res = listen("--config", str(cfg), "pull", "--quiet")
            after = os.times()
            assert res.returncode == 0, res.stderr.decode()
            walls.append(wall)
            # CPU of the pull's process (user + system): steadier than wall on a shared machine.
            cpus.append(after.children_user - before.children_user + after.children_system - before.children_system)
            rsss.append(rss)
        w = statistics.median(walls)
        load = os.getloadavg()[0]
        row(f"warm pull, {feeds} feeds unchanged, SQLite",
            f"{w:.2f} s (CPU {statistics.median(cpus):.2f} s, peak {max(rsss) / 1024:.0f} MB, load {load:.1f}), "
            f"{server_stats(url)['304']}/{feeds} answered 304", "<= 1.5 s", w <= 1.5)
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", nargs="*", help="ingest, inbox, inbox-sql, pullers, warm (default: all)")
    ap.add_argument("--quick", action="store_true", help="small sizes")
    ap.add_argument("--mentions", type=int, help="stored mentions for ingest/inbox (default 1,000,000; quick 50,000)")
    ap.add_argument("--feeds", type=int, help="feeds for pullers/warm (default 2,000; quick 200)")
    args = ap.parse_args()
    what = set(args.what or ["ingest", "inbox", "inbox-sql", "pullers", "warm"])
    n = args.mentions or (50_000 if args.quick else 1_000_000)
    feeds = args.feeds or (200 if args.quick else 2_000)
    perf.PER_DAY = getattr(perf, "PER_DAY", 500)
    work = Path(tempfile.mkdtemp(prefix="listen-bench-pg-"))
    # The warm pull is a SQLite figure: no PostgreSQL to start for it alone.
    pg = PgServer().start() if what - {"warm"} else None
    try:
        if what & {"ingest", "inbox"}:
            bench_ingest_and_inbox(pg, n, work, what)
        if "inbox-sql" in what:
            bench_inbox_generated(pg, n)
        if "pullers" in what:
            bench_pullers(pg, feeds, 4, work)
        if "warm" in what:
            bench_warm_sqlite(feeds, work, 3)
    finally:
        if pg is not None:
            pg.stop()
        shutil.rmtree(work, ignore_errors=True)
    width = max(len(r[0]) for r in ROWS) if ROWS else 10
    for workload, figure, target, verdict in ROWS:
        print(f"{workload:<{width}}  {figure}  [{target}]  {verdict}")


if __name__ == "__main__":
    main()
