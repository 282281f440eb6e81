"""How figures read, the same in the terminal (stats_view) and the HTML report (report)."""

from __future__ import annotations

from typing import Any

from listen.durations import humanize

NONE = "—"  # a figure that does not exist yet (no answers, no broadcasts)


def human(seconds: int | float | None) -> str:
    """A duration as a person reads it ("2h 40m"), or a dash when there is none."""
    return NONE if seconds is None else humanize(seconds)


def share(x: float | None) -> str:
    """A fraction as a whole percentage."""
    return NONE if x is None else f"{x * 100:.0f}%"


def ratio(block: dict[str, Any]) -> str:
    """Talk:listen, our broadcasts per reply: infinite when we broadcast and never reply."""
    r = block.get("talk_listen_ratio")
    if r is None:
        return "∞" if block["our_posts"]["broadcasts"] else NONE
    return f"{r:.1f}:1"


def noun(n: int, one: str, many: str | None = None) -> str:
    """The word for `n` things, number apart (a card shows it large): 1 person, 2 people, 0 questions."""
    return one if n == 1 else (many if many is not None else one + "s")
