"""One pull at a time per database: overlapping cron runs queue, briefly, then give way."""

from __future__ import annotations

import os
import time
from pathlib import Path

from listen.errors import Busy, ListenError

try:
    import fcntl
except ImportError:  # Windows: SQLite's own locking still keeps the data safe
    fcntl = None  # type: ignore[assignment]


class PullLock:
    def __init__(self, db_path: Path, wait: float):
        self.path = Path(str(db_path) + ".lock")
        self.wait = wait
        self.fh = None

    def __enter__(self) -> PullLock:
        if fcntl is None or str(self.path).startswith(":memory:"):
            return self
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.fh = open(self.path, "a+")
        except OSError as e:
            raise ListenError(f"cannot open the pull lock {self.path}: {e.strerror or e}") from None
        give_up = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(self.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= give_up:
                    self.fh.seek(0)
                    holder = self.fh.read().strip() or "unknown"
                    self.fh.close()
                    raise Busy(f"another `listen pull` (pid {holder}) is still running on this database; "
                               f"waited {self.wait:g}s and gave way") from None
                time.sleep(0.2)
        self.fh.seek(0)
        self.fh.truncate()
        self.fh.write(str(os.getpid()))
        self.fh.flush()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fh is not None:
            self.fh.close()  # closing releases the flock, also when the process is killed
