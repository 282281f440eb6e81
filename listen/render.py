"""What a person sees. Rich renderables built from plain data; strangers' text is always inert.

Every string that came from the network goes through `inert()` and into a
rich Text as plain text (never parsed as markup), so neither escape
sequences nor `[bold]`-style markup can reach the terminal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from listen.durations import humanize
from listen.gaps import Gap
from listen.models import FeedStatus, Item, PullResult
from listen.present import noun
from listen.text import inert

if TYPE_CHECKING:
    from listen.alerts.runner import AlertResult
    from listen.sources import FeedConfig

EXCERPT = 240
FULL_TEXT = 4000


def _indent(renderable: RenderableType, pad: tuple[int, int, int, int]) -> Padding:
    # expand=False: no trailing spaces when the output goes to a file or a pipe
    return Padding(renderable, pad, expand=False)


def _t(text: str | None, style: str = "", limit: int | None = None, one_line: bool = False) -> Text:
    return Text(inert(text, limit=limit, one_line=one_line), style=style)


def headline(summary: dict[str, int], max_age: int | None = None, filters: Sequence[str] = (),
             everyone: dict[str, int] | None = None) -> Text:
    n = summary["items"]
    if n == 0 and filters and everyone and everyone["items"]:
        # A filtered view that is empty is not inbox zero: say what the filter hid.
        people = everyone["people"]
        return (Text(f"Nothing waiting {inert(' and '.join(filters), limit=200, one_line=True)}. ", style="bold")
                + Text(f"({people:,} {noun(people, 'person', 'people')} {'is' if people == 1 else 'are'}"
                       " waiting in all; `listen inbox` shows them.)"))
    if n == 0:
        # Say the window: stats may still count older mentions nobody answered.
        window = f" from the last {humanize(max_age)}" if max_age else ""
        return (Text(f"Nobody is waiting for a reply{window}. ", style="bold green")
                + Text("Inbox zero: enjoy your coffee."))
    people = summary["people"]
    parts = [f"{people} {'person' if people == 1 else 'people'} waiting",
             f"{n} message{'s' if n != 1 else ''}" if n != people else None,
             f"oldest {humanize(summary['oldest_seconds'])}",
             f"{summary['negative']} negative" if summary["negative"] else None,
             f"{summary['questions']} question{'s' if summary['questions'] != 1 else ''}" if summary["questions"] else None]
    return Text(" · ".join(p for p in parts if p), style="bold")


def stale_warnings(stale: list[Gap], now: int) -> list[Text]:
    """One line per blind feed (listen.gaps), the feed's last error made inert."""
    return [Text("⚠ ", style="bold red") + _t(gap.words(now), "bold red", limit=220, one_line=True)
            for gap in stale]


def inbox(items: list[Item], summary: dict[str, int], now: int, stale: list[Gap],
          max_age: int | None = None, over: Callable[[Item], int] | None = None,
          filters: Sequence[str] = (), everyone: dict[str, int] | None = None) -> RenderableType:
    """`over(item)`: seconds past its reply target, shown as "3h over". `filters` (words) and
    `everyone` (the unfiltered summary) explain an empty filtered view."""
    parts: list[RenderableType] = [*stale_warnings(stale, now), headline(summary, max_age, filters, everyone)]
    for item in items:
        parts.append(Text(""))
        parts.append(waiting_block(item, now, over(item) if over else 0))
    hidden = summary["items"] - len(items)
    if hidden > 0:
        parts += [Text(""), Text(f"… and {hidden} more (use --limit to see them)", style="dim")]
    return Group(*parts)


def waiting_block(item: Item, now: int, over: int = 0) -> RenderableType:
    waited = now - int(item.created_at.timestamp())
    top = Text()
    top.append(f"#{item.id} ", style="bold cyan")
    if item.negative:
        top.append(" NEGATIVE ", style="bold white on red")
        top.append(" ")
    if item.question:
        top.append(" QUESTION ", style="bold black on yellow")
        top.append(" ")
    if not item.flags:
        top.append(" unflagged ", style="dim")
    top.append(f" waiting {humanize(waited)}", style="bold" if waited > 86400 else "")
    if over > 0:
        top.append(f" ({humanize(over)} over)", style="bold red")
    top.append("  ")
    top.append_text(_t(f"{item.feed} ({item.network})", "dim"))
    if item.assignee:  # so a team does not answer the same person twice
        top.append("  → ", style="magenta")
        top.append_text(_t(item.assignee, "bold magenta", limit=40, one_line=True))

    who = Text()
    who.append_text(_t(item.author, "bold", limit=60, one_line=True))
    if item.author_name and item.author_name != item.author:
        who.append(" (")
        who.append_text(_t(item.author_name, "", limit=60, one_line=True))
        who.append(")")
    if item.title:
        who.append(" on ")
        who.append_text(_t(item.title, "italic", limit=80, one_line=True))
    if item.addressed:
        who.append("  → asks us directly", style="yellow")

    lines: list[RenderableType] = [top, _indent(who, (0, 0, 0, 2)),
                                   _indent(_t(item.text, "", limit=EXCERPT, one_line=True), (0, 0, 0, 2))]
    if item.reasons:
        lines.append(_indent(Text("why: ", style="dim") + _t(" · ".join(item.reasons), "dim", limit=200,
                                                              one_line=True), (0, 0, 0, 2)))
    if item.url:
        lines.append(_indent(Text("reply: ", style="dim") + _t(item.url, "blue", limit=300, one_line=True),
                             (0, 0, 0, 2)))
    return Group(*lines)


def conversation(focus: Item, items: list[Item], now: int) -> RenderableType:
    depth: dict[str, int] = {}
    parts: list[RenderableType] = []
    if focus.title:
        parts.append(_t(focus.title, "bold", limit=120, one_line=True))
    parts.append(Text(f"{focus.feed} ({focus.network}) · {len(items)} message{'s' if len(items) != 1 else ''}",
                      style="dim"))
    parts.append(Rule(style="dim"))
    for it in items:
        d = depth.get(it.in_reply_to or "", -1) + 1 if it.in_reply_to in depth else 0
        depth[it.native_id] = min(d, 6)
        head = Text()
        head.append("▶ " if it.id == focus.id else "  ", style="bold cyan")
        head.append(f"#{it.id} ", style="cyan")
        head.append_text(_t(it.author, "bold green" if it.ours else "bold", limit=60, one_line=True))
        if it.ours:
            head.append(" (us)", style="green")
        head.append(f"  {it.created_at:%Y-%m-%d %H:%M} UTC · {humanize(now - int(it.created_at.timestamp()))} ago",
                    style="dim")
        if it.flags:
            head.append("  " + " ".join(f.upper() for f in it.flags), style="yellow")
        status = _status(it)
        if status:
            head.append(f"  [{status}]", style="magenta")
        if it.edited:
            head.append("  (edited)", style="dim")
        body: list[RenderableType] = [head, _indent(_t(it.text, "", limit=FULL_TEXT), (0, 0, 0, 4))]
        if it.id == focus.id and it.reasons:
            body.append(_indent(Text("why: ", style="dim") + _t(" · ".join(it.reasons), "dim"), (0, 0, 0, 4)))
        if it.url:
            body.append(_indent(_t(it.url, "blue", limit=300, one_line=True), (0, 0, 0, 4)))
        parts.append(_indent(Group(*body), (0, 0, 1, 2 * depth[it.native_id])))
    return Group(*parts)


def _status(it: Item) -> str:
    if it.ours:
        return ""
    if it.state != "open":
        return it.state
    if it.snoozed_until:
        return f"snoozed until {it.snoozed_until:%Y-%m-%d %H:%M} UTC"
    if it.answered_at:
        return "answered"
    return ""


def triaged(items: list[Item], action: str) -> Text:
    out = Text()
    for it in items:
        out.append(f"#{it.id} ", style="cyan")
        out.append_text(_t(it.author, "bold", limit=40, one_line=True))
        out.append(": ")
        out.append_text(_t(it.text, "", limit=60, one_line=True))
        out.append(f"  → {action}\n", style="green")
    return out


def feeds_table(rows: Sequence[tuple[FeedConfig, FeedStatus | None]], now: int) -> Table:
    t = Table(show_edge=False, header_style="bold")
    for col in ("feed", "type", "items", "last success", "status"):
        t.add_column(col)
    for feed, st in rows:
        if st is None:
            t.add_row(feed.name, feed.type, "0", "never", Text("not pulled yet", style="dim"))
            continue
        ok = f"{humanize(now - int(st.last_success.timestamp()))} ago" if st.last_success else "never"
        status = (_t(st.last_error, "red", limit=120, one_line=True) if st.last_error
                  else Text("ok", style="green"))
        if not feed.enabled:
            status = Text("disabled", style="dim")
        t.add_row(feed.name, feed.type, str(st.items), ok, status)
    return t


def pull_line(r: PullResult) -> str:
    if r.error:
        return f"{r.feed}: failed: {inert(r.error, limit=300, one_line=True)}"
    if r.skipped:  # nothing was asked of the source: one line, not "not modified"
        return f"{r.feed}: skipped: {inert(r.skipped, limit=160, one_line=True)}"
    if r.not_modified:
        return f"{r.feed}: not modified" + (f" ({inert(r.warnings[0], limit=160, one_line=True)})" if r.warnings else "")
    return f"{r.feed}: {r.new} new, {r.updated} updated ({r.seconds:.1f}s)"


def history(item: Item, rows: list[dict[str, object]]) -> RenderableType:
    """`listen show`'s triage history: who did what to the item, and when (UTC)."""
    from datetime import datetime, timezone

    parts: list[RenderableType] = [Rule("history", style="dim")]
    if item.assignee:
        parts.append(Text.assemble(("assigned to ", "dim"), _t(item.assignee, "bold", limit=60, one_line=True)))
    for r in rows:
        when = datetime.fromtimestamp(int(r["at"]), timezone.utc).strftime("%Y-%m-%d %H:%M UTC")  # type: ignore[call-overload]
        line = Text(f"{when}  ", style="dim")
        line.append_text(_t(str(r["actor"] or "someone"), "bold", limit=40, one_line=True))
        line.append(f" {r['action']}")
        if r["detail"]:
            detail = str(r["detail"])
            if r["action"] == "snooze" and detail.isdigit():
                detail = "until " + datetime.fromtimestamp(int(detail), timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
            line.append(" ")
            line.append_text(_t(detail, "", limit=80, one_line=True))
        parts.append(line)
    return Group(*parts)


def alert_line(r: AlertResult) -> str:
    """One alert target's outcome as a line for the terminal."""
    name = inert(r.alert, limit=60, one_line=True)
    n = len(r.items)
    if r.error:
        return f"alert {name}: failed: {inert(r.error, limit=300, one_line=True)} (retried on the next run)"
    if r.message is not None:
        return f"alert {name}: sent " + (f"digest ({n} waiting)" if r.digest else f"{n} item{'s' if n != 1 else ''}")
    return f"alert {name}: nothing due" + (f" ({r.note})" if r.note else "")


def dry_run(r: AlertResult) -> str:
    """What `listen alert --dry-run` shows of one target: the message exactly as it would go out."""
    from listen.alerts.formats import command_input, email_message, payload

    head = f"── alert {inert(r.alert, limit=60, one_line=True)} ({r.type})"
    if r.message is None or r.config is None:
        return head + ": nothing due" + (f" ({r.note})" if r.note else "")
    msg, alert = r.message, r.config
    if r.type == "command":
        body = command_input(msg).decode("utf-8")
    elif r.type == "email":
        plain = email_message(alert, msg).get_body(("plain",))
        text = plain.get_content() if plain is not None else ""
        body = f"Subject: {msg.title}\nTo: {', '.join(alert.email['to'])}\n\n{text}"
    else:
        p = payload(r.type, msg, alert.priority)
        body = "".join(f"{k}: {v}\n" for k, v in p.headers.items()) + "\n" + p.body.decode("utf-8")
    return f"{head}: would send\n{inert(body)}"
