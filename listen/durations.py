"""Durations as people write them in config and on the command line: 90s, 30m, 12h, 14d, 2w."""

from __future__ import annotations

import re

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])", re.I)


def parse_duration(text: str) -> int:
    """Seconds in `text` ("14d", "1h30m"). Raises ValueError with the expected form."""
    s = str(text).strip().lower()
    pos, total = 0, 0.0
    for m in _PART.finditer(s):
        if s[pos : m.start()].strip():
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if not s or pos == 0 or s[pos:].strip():
        raise ValueError(f"{text!r} is not a duration; write it like 90s, 30m, 12h, 14d or 2w")
    return int(total)


def humanize(seconds: float) -> str:
    """A short, honest age: '45s', '12m', '3h 20m', '4d 2h', '3w'."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        h, m = divmod(s // 60, 60)
        return f"{h}h {m}m" if m and h < 10 else f"{h}h"
    if s < 14 * 86400:
        d, h = divmod(s // 3600, 24)
        return f"{d}d {h}h" if h else f"{d}d"
    return f"{s // 604800}w"
