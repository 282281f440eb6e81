"""Deferred regex compilation."""

from __future__ import annotations

import re


class LazyPattern:
    """A regex compiled on first use: `import listen.flags` must stay cheap,
    and the big cue alternations take milliseconds to compile."""

    __slots__ = ("_args", "_rx")

    def __init__(self, pattern: str, flags: int = 0):
        self._args = (pattern, flags)
        self._rx: re.Pattern[str] | None = None

    def __getattr__(self, name: str):
        rx = self._rx
        if rx is None:
            rx = self._rx = re.compile(*self._args)
        return getattr(rx, name)
