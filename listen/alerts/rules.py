"""Which waiting items are due for which alert target, and when: the pure rules.

Functions of config, items, what was recorded, and `now`; no I/O. The runner
(listen.alerts.run) reads the store, asks these, claims, sends and records.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from datetime import time as dtime
from typing import Any, Callable, Sequence
from zoneinfo import ZoneInfo

from listen.models import Item

TYPES = ("webhook", "slack", "mattermost", "discord", "ntfy", "email", "command")
URL_TYPES = ("webhook", "slack", "mattermost", "discord", "ntfy")
FLAGS = ("negative", "question")
TARGET = "target"  # after = "target": once the item is past its feed's reply_within

# A claim this old belongs to a run that died (killed, machine off): its items
# are sent again. Far longer than any send may take (timeouts are capped at
# MAX_TIMEOUT, and one send makes at most a handful of round trips).
STALE_CLAIM = 15 * 60
MAX_TIMEOUT = 60

_CLOCK = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


@dataclass(frozen=True)
class AlertConfig:
    """One [[alerts]] entry, validated (listen.config.parse_alerts)."""

    name: str
    type: str
    when: tuple[str, ...] = FLAGS
    after: int | None = 0  # seconds; None means "target"
    feeds: tuple[str, ...] = ()
    digest: dtime | None = None
    timezone: str = "UTC"
    quiet: tuple[dtime, dtime] | None = None
    timeout: int = 10
    url_env: str | None = None
    priority: str = "high"  # ntfy
    email: dict[str, Any] = field(default_factory=dict)  # to, from, smtp_host, smtp_port, *_env, starttls, ssl
    command: tuple[str, ...] = ()
    config_dir: str = "."

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def parse_clock(text: str) -> dtime:
    """'08:00' -> time(8, 0). Raises ValueError in words."""
    m = _CLOCK.fullmatch(str(text).strip())
    if not m:
        raise ValueError(f"{text!r} is not a time of day; write it like 08:00 or 17:30")
    return dtime(int(m.group(1)), int(m.group(2)))


def parse_quiet(text: str) -> tuple[dtime, dtime]:
    """'22:00-07:00' -> (22:00, 07:00); the range may wrap midnight."""
    parts = str(text).split("-")
    if len(parts) != 2:
        raise ValueError(f"{text!r} is not a range of hours; write it like 22:00-07:00")
    start, end = parse_clock(parts[0]), parse_clock(parts[1])
    if start == end:
        raise ValueError(f"{text!r} starts and ends at the same minute; leave quiet out for no quiet hours")
    return start, end


def local(now: int, zone: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(now, zone)


def in_quiet(alert: AlertConfig, now: int) -> bool:
    """True while `now` (in the alert's timezone) is inside its quiet hours: [start, end)."""
    if alert.quiet is None:
        return False
    start, end = alert.quiet
    t = local(now, alert.zone).time().replace(second=0, microsecond=0)
    return start <= t < end if start < end else (t >= start or t < end)


def digest_key(alert: AlertConfig, now: int) -> str | None:
    """The key of today's digest once its time has come ('digest:YYYY-MM-DD', local date), else None.

    A digest missed at its minute (no pull ran then) goes out at the first run
    after it that same local day; a day with no run at all after that time has none.
    """
    if alert.digest is None:
        return None
    t = local(now, alert.zone)
    if t.time() < alert.digest:
        return None
    return f"digest:{t.date().isoformat()}"


def waited(item: Item, now: int) -> int:
    return max(0, now - int(item.created_at.timestamp()))


def matches(alert: AlertConfig, item: Item, now: int, reply_within: Callable[[str], int]) -> bool:
    """Does this waiting item concern the alert: its flags, its feed, and has it waited long enough?"""
    if alert.feeds and item.feed not in alert.feeds:
        return False
    if not ((item.negative and "negative" in alert.when) or (item.question and "question" in alert.when)):
        return False
    after = reply_within(item.feed) if alert.after is None else alert.after
    # At the breach itself: a target of 4h is breached once 4h have passed.
    return waited(item, now) >= after


def over_target(item: Item, now: int, target: int) -> int:
    """Seconds past the reply target (0 when within it)."""
    return max(0, waited(item, now) - target)


@dataclass
class Due:
    """What one alert target should be sent now."""

    alert: AlertConfig
    items: list[Item]  # what the message lists
    keys: list[str]  # what to claim and record: item ids, or the digest's key
    digest: str | None = None  # the digest's key when this is a digest
    forget: list[str] = field(default_factory=list)  # pending records whose items no longer wait


def due(alert: AlertConfig, waiting: Sequence[Item], records: dict[str, tuple[str, int]], now: int,
        reply_within: Callable[[str], int]) -> Due:
    """The message this target is owed now, given what it was already sent (`records`).

    `waiting` is the inbox (flagged, unanswered, open, not snoozed, in max_age).
    An item recorded 'sent' is never due again; one whose claim failed, or whose
    claim is older than STALE_CLAIM, is. A digest lists everyone matching, sent
    before or not, once per local day. Quiet hours hold immediate alerts back
    (they go out at the first run after); digests ignore them.
    """
    wanted = [i for i in waiting if matches(alert, i, now, reply_within)]
    ids = {i.id for i in waiting}
    forget = [k for k, (state, _) in records.items()
              if state != "sent" and not k.startswith("digest:") and k not in ids]
    if alert.digest is not None:
        key = digest_key(alert, now)
        if key is None or not _claimable(records.get(key), now):
            return Due(alert, [], [], None, forget)
        return Due(alert, wanted, [key], key, forget)
    if in_quiet(alert, now):
        return Due(alert, [], [], None, forget)
    fresh = [i for i in wanted if _claimable(records.get(i.id), now)]
    return Due(alert, fresh, [i.id for i in fresh], None, forget)


def _claimable(record: tuple[str, int] | None, now: int) -> bool:
    if record is None:
        return True
    state, claimed_at = record
    return state == "failed" or (state == "sending" and claimed_at < now - STALE_CLAIM)
