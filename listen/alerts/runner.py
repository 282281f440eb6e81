"""One alert run: for each [[alerts]] target, what is due, claimed, sent and recorded.

Claim before send: the keys of a message are claimed ('sending') in their own
committed transaction, then the message goes out, then they are marked 'sent'
(or 'failed', to be retried by the next run). Two runs at once cannot both
hold a key, so overlapping pulls never send an item twice. A run killed
between its claim and its 'sent' leaves a 'sending' row: after STALE_CLAIM
the next run sends those items again. So a message is repeated only when the
run died after the target had accepted it and before the 'sent' commit, a
window of one SQLite commit (milliseconds); one killed before or during the
send is delivered late, not twice. See docs/alerts.md.
"""

from __future__ import annotations

import secrets as _secrets
from dataclasses import dataclass, field
from typing import Any, Callable

from listen.alerts.formats import Message, build
from listen.alerts.rules import STALE_CLAIM, AlertConfig, due, in_quiet, matches
from listen.models import Item


@dataclass
class AlertResult:
    """What one target got in this run. A failure is a result, not a crash."""

    alert: str
    type: str
    items: list[Item] = field(default_factory=list)
    digest: str | None = None
    error: str | None = None
    message: Message | None = None  # what was (or, in a dry run, would be) sent
    skipped: list[str] = field(default_factory=list)  # due but held by another run's claim
    config: AlertConfig | None = None
    note: str | None = None  # why nothing went out, when it is not "nothing due"

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def sent(self) -> bool:
        return self.message is not None and self.error is None


def run(alerts: list[AlertConfig], store: Any, waiting: list[Item], now: int, targets: dict[str, int],
        default_target: int, *, dry_run: bool = False, max_age: int = 14 * 86400,
        deliver: Callable[[AlertConfig, Message], None] | None = None) -> list[AlertResult]:
    """Send what each target is owed now. `waiting` is the inbox; `targets` each feed's reply_within."""
    from listen import log
    from listen.alerts.send import secrets

    for alert in alerts:  # one target's error may quote another's URL: all are redacted from every error
        log.REDACT.watch(secrets(alert))
    sender = None
    if deliver is None:
        from listen.alerts.send import Sender

        deliver = sender = Sender()
    try:
        return _run(alerts, store, waiting, now, targets, default_target, dry_run, max_age, deliver)
    finally:
        if sender is not None:
            sender.close()


def _run(alerts: list[AlertConfig], store: Any, waiting: list[Item], now: int, targets: dict[str, int],
         default_target: int, dry_run: bool, max_age: int, deliver: Callable[[AlertConfig, Message], None]
         ) -> list[AlertResult]:
    results = []
    claimed = False

    def reply_within(feed: str) -> int:
        return targets.get(feed, default_target)

    for alert in alerts:
        records = store.alert_records(alert.name)
        d = due(alert, waiting, records, now, reply_within)
        result = AlertResult(alert.name, alert.type, d.items, d.digest, config=alert)
        if not d.keys:
            if alert.digest is None and in_quiet(alert, now) and any(
                    matches(alert, i, now, reply_within) and i.id not in records for i in waiting):
                result.note = "held by quiet hours"
            if d.forget and not dry_run:
                store.forget_alerts(alert.name, d.forget)  # answered, done or ignored: never sent
            results.append(result)
            continue
        if dry_run:
            result.message = build(alert, d.items, now, {f: reply_within(f) for f in {i.feed for i in d.items}},
                                   digest=d.digest is not None)
            results.append(result)
            continue
        if d.forget:
            store.forget_alerts(alert.name, d.forget)
        token = _secrets.token_hex(8)
        held = set(store.claim_alerts(alert.name, d.keys, token, now, now - STALE_CLAIM))
        claimed = True
        if not held:
            result.items, result.skipped = [], d.keys
            results.append(result)
            continue
        items = d.items if d.digest else [i for i in d.items if i.id in held]
        result.items = items
        result.skipped = [k for k in d.keys if k not in held]
        keys = [k for k in d.keys if k in held]
        if d.digest and not items:
            store.finish_alerts(alert.name, keys, token, "sent", now)  # nobody waiting: no message today
            results.append(result)
            continue
        msg = build(alert, items, now, {f: reply_within(f) for f in {i.feed for i in items}}, d.digest is not None)
        result.message = msg
        try:
            deliver(alert, msg)
        except Exception as e:
            from listen.alerts.send import AlertError, redact

            result.error = e.message if isinstance(e, AlertError) else redact(f"{type(e).__name__}: {e}", alert)
            store.finish_alerts(alert.name, keys, token, "failed", now, error=result.error)
        else:
            store.finish_alerts(alert.name, keys, token, "sent", now)
        results.append(result)
    if claimed:
        # Records of items that left the inbox's window can never matter again. Pruned
        # only by runs that write anyway: a run with nothing due takes no write lock.
        store.prune_alerts(now - max_age - 2 * 86400)
    return results
