"""Bad lines of a jsonl file, as a jsonl feed and `listen import` report them, and ids given twice.

One wording for both: `m.jsonl line 33, column 12: not valid JSON (Expecting ',' delimiter)`,
and one limit on how often the same complaint is repeated. Pure: no I/O.
"""

from __future__ import annotations

import json
import re
from array import array
from dataclasses import dataclass, field

SHOWN = 3  # lines shown in full for each kind of complaint; the rest are counted


class BadLine(ValueError):
    """Why one line was skipped; `column` (1-based, within the line) when it is known."""

    def __init__(self, reason: str, column: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.column = column


def bad_json(e: json.JSONDecodeError) -> BadLine:
    """The line's column and json's own words, without json's "line 2 column 1 (char 48)".

    json counts lines inside the text it was given, so a line read with its newline and
    cut short reads as "line 2": the file's line number is the only line number we give.
    `pos` is the offset in the decoded text; that is the column in the file's line
    (json's `colno` restarts after any newline the text holds)."""
    return BadLine(f"not valid JSON ({e.msg})", e.pos + 1)


def not_json(e: Exception) -> BadLine:
    """A line json could not read for a reason other than its syntax."""
    if isinstance(e, json.JSONDecodeError):
        return bad_json(e)
    if isinstance(e, UnicodeDecodeError):
        return BadLine("not UTF-8")
    if isinstance(e, RecursionError):  # "[[[[..." nested deeper than the parser goes
        return BadLine("not valid JSON (nested too deeply)")
    return BadLine(f"not valid JSON ({str(e)[:80]})")


def at(where: str, line: int, column: int | None = None) -> str:
    """`where line N` or `where line N, column C`."""
    return f"{where} line {line}" + (f", column {column}" if column else "")


def located(where: str, line: int, e: Exception) -> str:
    return f"{at(where, line, getattr(e, 'column', None))}: {e}"


_VARYING = re.compile(r"'[^']*'|\"[^\"]*\"|\d+")


def kind_of(reason: str) -> str:
    """What makes two complaints "the same": the reason without the values it quotes
    (an id, a time) or counts, so 30 lines of "time 'x' is not ISO 8601" are one kind."""
    return _VARYING.sub("…", reason)


@dataclass
class Repeats:
    """Show the first SHOWN lines of each kind of complaint, count the rest.

    A file of the wrong shape (a feed's mentions given to `listen import`) otherwise
    prints one identical long line per line of the file."""

    shown: int = SHOWN
    seen: dict[str, list[int]] = field(default_factory=dict)  # kind -> [first line, lines hidden]

    def show(self, line: int, reason: str) -> bool:
        """Whether this line's complaint is shown; if not, it is counted for `summary`."""
        entry = self.seen.setdefault(kind_of(reason), [line, -self.shown])
        entry[1] += 1
        return entry[1] <= 0

    def summary(self, where: str) -> list[str]:
        """One line per kind that had lines hidden: `where: … and N more lines like line L`."""
        return [f"{where}: … and {hidden} more line{'s' if hidden != 1 else ''} like line {first}"
                for first, hidden in self.seen.values() if hidden > 0]


class SeenIds:
    """Which ids a fetch has given, and where: 12 bytes an id, not a set's 90.

    A jsonl file of a million lines is streamed so that it never sits in memory;
    remembering its ids as Python strings would hold 90 MB (measured). This keeps
    their 64-bit hashes in an open-addressing table of machine integers: 24 MB for a
    million. Two different ids sharing a hash (odds about 1 in 40 million for a
    million ids; str hashes are salted per process, so a file cannot aim for one)
    would be reported as a repeat naming both lines, never dropped silently.
    """

    def __init__(self) -> None:
        self.keys = array("Q", bytes(8 * 16))  # 0: an empty slot
        self.where = array("I", bytes(4 * 16))  # line numbers: 4 bytes hold 4 billion
        self.count = 0

    def add(self, key: str, where: int) -> int | None:
        """Remember `key` at `where` (a line number); if it was seen before, return where, and keep the first."""
        h = (hash(key) & 0xFFFF_FFFF_FFFF_FFFF) or 1
        keys = self.keys
        mask = len(keys) - 1
        i = h & mask
        while True:
            k = keys[i]
            if k == 0:
                break
            if k == h:
                return int(self.where[i])
            i = (i + 1) & mask
        keys[i] = h
        self.where[i] = where
        self.count += 1
        if self.count * 3 > len(keys) * 2:  # at most 2/3 full
            self._grow()
        return None

    def _grow(self) -> None:
        keys, where = self.keys, self.where
        size = len(keys) * 2
        self.keys = array("Q", bytes(8 * size))
        self.where = array("I", bytes(4 * size))
        mask = size - 1
        for h, w in zip(keys, where, strict=True):
            if h:
                i = h & mask
                while self.keys[i]:
                    i = (i + 1) & mask
                self.keys[i] = h
                self.where[i] = w
