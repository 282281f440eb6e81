"""Deferred regex compilation."""

from __future__ import annotations

import re
from typing import Any

_METHODS = ("search", "match", "fullmatch", "findall", "finditer", "sub", "subn", "split")


class LazyPattern:
    """A regex compiled on first use: `import listen.flags` must stay cheap,
    and the big cue alternations take milliseconds to compile.

    After the first use the compiled methods sit in the instance's own slots,
    so later calls cost a plain attribute lookup, not a __getattr__ call."""

    __slots__ = ("_args", "_rx") + _METHODS

    def __init__(self, pattern: str, flags: int = 0):
        self._args = (pattern, flags)
        self._rx: re.Pattern[str] | None = None

    def __getattr__(self, name: str) -> Any:
        rx = self._rx
        if rx is None:
            rx = self._rx = re.compile(*self._args)
            for method in _METHODS:
                setattr(self, method, getattr(rx, method))
        return getattr(rx, name)
