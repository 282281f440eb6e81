"""What the per-pull parent look-up (Store.missing_parents, issue 12) costs on a big feed.

    python benchmarks/parents.py --items 200000 --ours-every 10 --days 365

Builds one feed in a throwaway SQLite file: `items` messages spread over `days`,
every `ours-every`-th one a reply of ours (a few to parents never stored), then
times missing_parents over the inbox window (14 days) and over all time.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from listen.flags import FlagSettings
from listen.models import RawItem
from listen.rows import to_row
from listen.storage import open_store
from listen.waiting import Identity, answered_times

NOW = 1_770_000_000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=200_000)
    ap.add_argument("--ours-every", type=int, default=10)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    identity, flags = Identity(["acme"]), FlagSettings()
    with tempfile.TemporaryDirectory() as d:
        store = open_store(Path(d) / "bench.db")
        span, n = args.days * 86400, args.items
        rows = []
        for i in range(n):
            t = NOW - int(span * (n - i) / n)
            ours = i % args.ours_every == 0
            # Every 97th reply of ours answers a parent that was never stored.
            parent = f"gone{i}" if ours and i % 97 == 0 else (f"m{i - 1}" if i % 3 else None)
            item = RawItem(native_id=f"{'o' if ours else 'm'}{i}", author="acme" if ours else f"user{i % 500}",
                           text="thanks" if ours else "is the export broken?",
                           created_at=datetime.fromtimestamp(t, timezone.utc), in_reply_to=parent)
            rows.append(to_row(item, identity, flags, NOW))
            if len(rows) == 20_000:
                store.save_batch("f", "reddit", rows, None, answered_times, NOW)
                rows = []
        store.save_batch("f", "reddit", rows, None, answered_times, NOW)
        for label, since in (("14-day window", NOW - 14 * 86400), ("all time", 0)):
            best = float("inf")
            for _ in range(args.repeat):
                start = time.perf_counter()
                found = store.missing_parents("f", since, 100)
                best = min(best, time.perf_counter() - start)
            print(f"missing_parents, {label}: {len(found)} ids in {best * 1000:.1f} ms (best of {args.repeat})")
        store.close()


if __name__ == "__main__":
    main()
