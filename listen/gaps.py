"""Gaps in what we hear: the pure rule for "this feed has been blind". No I/O.

An inbox that lists nobody is only good news if every feed was read. A feed is a
gap when it is enabled, has been tried, and its last successful pull is older than
`[inbox] stale_after` (1h by default), or it has never succeeded at all. The
inbox, `listen stats` and the HTML report name each gap, with the last error in
words, because what was said there meanwhile is neither listed nor counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Mapping

from listen.durations import humanize
from listen.models import FeedStatus


@dataclass(frozen=True)
class Gap:
    feed: str
    last_success: int | None  # unix seconds; None: never succeeded
    failing_since: int | None  # unix seconds of the first failure since the last success
    error: str | None  # the last error, as the pull recorded it (a stranger's server wrote part of it)

    def blind_for(self, now: int) -> int | None:
        """Seconds since the last success, or None when there never was one."""
        return None if self.last_success is None else max(0, now - self.last_success)

    def words(self, now: int) -> str:
        """One line for a person: how long, and why. `error` is not made inert here."""
        if self.last_success is None:
            since = f" (failing for {humanize(now - self.failing_since)})" if self.failing_since is not None else ""
            head = f"{self.feed} has never been fetched successfully{since}"
        else:
            head = f"{self.feed} not fetched for {humanize(now - self.last_success)}"
        if self.error:
            return f"{head}: {self.error}"
        return f"{head}: no pull since then (is the cron job running?)"


def _ts(when: datetime | None) -> int | None:
    return None if when is None else int(when.timestamp())


def find_gaps(feeds: Iterable[tuple[str, bool]], statuses: Mapping[str, FeedStatus], now: int,
              stale_after: int) -> list[Gap]:
    """The gaps among `feeds` ((name, enabled) in config order), longest blind first.

    A feed never tried is not a gap yet (it was just added); a disabled one is not
    expected to be read.
    """
    out: list[Gap] = []
    for name, enabled in feeds:
        st = statuses.get(name)
        if not enabled or st is None or (st.last_attempt is None and st.last_success is None):
            continue
        success = _ts(st.last_success)
        if success is not None and now - success < stale_after:
            continue
        out.append(Gap(name, success, _ts(st.error_since), st.last_error))
    # Never succeeded first, then the longest blind; config order breaks ties.
    return sorted(out, key=lambda g: -1 if g.last_success is None else g.last_success)


def _iso(ts: int | None) -> str | None:
    from datetime import timezone

    return None if ts is None else datetime.fromtimestamp(ts, timezone.utc).isoformat()


def feed_record(name: str, network: str, st: FeedStatus | None) -> dict[str, object]:
    """`listen feeds --json`: one feed's health, as ../shared/CONTRACT.md lists it.

    A pull that succeeds clears the error, so `last_error_at` is the last attempt
    while the feed is failing and null once it works again.
    """
    failing = st is not None and st.last_error is not None
    return {
        "name": name,
        "type": network,
        "items": st.items if st is not None else 0,
        "last_success": _iso(_ts(st.last_success)) if st is not None else None,
        "last_error_at": _iso(_ts(st.last_attempt)) if failing and st is not None else None,
        "last_error": st.last_error if failing and st is not None else None,
        "failing_since": _iso(_ts(st.error_since)) if failing and st is not None else None,
    }


def gap_record(gap: Gap, now: int) -> dict[str, object]:
    """A gap for `listen stats --json`."""
    return {"feed": gap.feed, "last_success": _iso(gap.last_success), "failing_since": _iso(gap.failing_since),
            "last_error": gap.error, "blind_seconds": gap.blind_for(now)}
