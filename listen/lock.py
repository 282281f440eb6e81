"""One pull at a time per database: overlapping cron runs queue, briefly, then give way."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TextIO

from listen.errors import Busy, ListenError

try:
    import fcntl
except ImportError:  # Windows: SQLite's own locking still keeps the data safe
    fcntl = None  # type: ignore[assignment]  # None marks "no flock here"; the module type cannot say so


class PullLock:
    def __init__(self, db_path: Path, wait: float):
        self.path = Path(str(db_path) + ".lock")
        self.wait = wait
        self.fh: TextIO | None = None

    def __enter__(self) -> PullLock:
        if fcntl is None or str(self.path).startswith(":memory:"):
            return self
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fh = self.fh = open(self.path, "a+")  # held open while the lock is held; closed in __exit__
        except OSError as e:
            raise ListenError(f"cannot open the pull lock {self.path}: {e.strerror or e}") from None
        give_up = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= give_up:
                    fh.seek(0)
                    holder = fh.read().strip() or "unknown"
                    fh.close()
                    raise Busy(f"another `listen pull` (pid {holder}) is still running on this database; "
                               f"waited {self.wait:g}s and gave way") from None
                time.sleep(0.2)
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fh is not None:
            self.fh.close()  # closing releases the flock, also when the process is killed
