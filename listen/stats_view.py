"""`listen stats` for people: the terminal view of `storage.stats.compute()`'s object (the maths lives there)."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from listen import present
from listen.durations import humanize
from listen.text import inert

__all__ = ["render", "sparkline"]

SPARKS = "▁▂▃▄▅▆▇█"
BAR = 30


def sparkline(values: list[int | None]) -> str:
    """One block character per value, scaled to the largest; None is a gap."""
    top = max((v for v in values if v is not None), default=0)
    out = []
    for v in values:
        if v is None:
            out.append(" ")
        elif top <= 0:
            out.append(SPARKS[0])
        else:
            out.append(SPARKS[min(len(SPARKS) - 1, round(v / top * (len(SPARKS) - 1)))])
    return "".join(out)


def _bar(n: int, top: int, width: int = BAR) -> str:
    if n <= 0 or top <= 0:
        return ""
    return "█" * max(1, round(n / top * width))


def _headline(stats: dict[str, Any]) -> Text:
    o = stats["overall"]
    since, until = stats["since"][:10], stats["until"][:10]
    t = Text(f"{since} → {until}: ", style="bold")
    n = o["mentions"]
    t.append(f"{n} mention{'s' if n != 1 else ''}, {o['flagged']} flagged, {o['answered']} answered, "
             f"{o['waiting']} waiting", style="bold")
    fr = o["first_response_seconds"]
    if fr:
        t.append(f"\nFirst response: median {humanize(fr['median'])}, p90 {humanize(fr['p90'])}")
        if o["answered_within_target"] is not None:
            target = "each feed's target" if _targets_vary(stats) else humanize(o["reply_within_seconds"])
            t.append(f" · {present.share(o['answered_within_target'])} within {target}")
    return t


def _oldest(o: dict[str, Any] | None) -> Text | None:
    if not o:
        return None
    t = Text("Oldest waiting: ", style="bold")
    t.append(Text(inert(o["author"], limit=60, one_line=True), style="cyan"))
    t.append(" on ")
    t.append(Text(str(o["feed"])))
    t.append(f" (#{o['id']}), waiting {humanize(o['waiting_seconds'])}", style="")
    return t


def _targets_vary(stats: dict[str, Any]) -> bool:
    """Does some feed have its own reply target (`[[feeds]] reply_within`)?"""
    default = stats.get("reply_within_seconds", 86400)
    return any(b.get("reply_within_seconds", default) != default for b in stats["feeds"].values())


def _feed_table(stats: dict[str, Any]) -> Table:
    vary = _targets_vary(stats)
    within = "target" if vary else humanize(stats.get("reply_within_seconds", 86400))
    # Fits 80 columns: one space between columns, and "answered late" is in the
    # headline already.
    table = Table(title="By feed", title_justify="left", show_footer=len(stats["feeds"]) > 1, box=None,
                  pad_edge=False, padding=(0, 1))
    headers = ["feed", "mentions", "flagged", "answered", "waiting", "median", "p90", f"≤{within}", "talk"]
    for i, (header, footer) in enumerate(zip(headers, _feed_cells("all feeds", stats["overall"]), strict=True)):
        table.add_column(Text(header), footer=footer, justify="left" if i == 0 else "right", no_wrap=True,
                         min_width=min(16, max(len(n) for n in [*stats["feeds"], "all feeds"])) if i == 0 else None)
    for name, b in stats["feeds"].items():
        cells = _feed_cells(name, b)
        if vary:  # each feed's share is against its own target: say which
            cells[7].append(f" ≤{humanize(b['reply_within_seconds'])}", style="dim")
        table.add_row(*cells)
    return table


def _feed_cells(name: str, b: dict[str, Any]) -> list[Text]:
    fr = b["first_response_seconds"] or {}
    return [Text(str(name), style="bold"), Text(str(b["mentions"])), Text(str(b["flagged"])),
            Text(str(b["answered"])), Text(str(b["waiting"]), style="red" if b["waiting"] else ""),
            Text(present.human(fr.get("median"))), Text(present.human(fr.get("p90"))),
            Text(present.share(b["answered_within_target"])), Text(present.ratio(b))]


def _buckets(o: dict[str, Any]) -> Table:
    buckets = o["response_buckets"]
    total = sum(buckets.values())
    top = max(buckets.values(), default=0)
    table = Table(title="First response", title_justify="left", box=None, show_header=False, pad_edge=False)
    table.add_column(justify="right", no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column(justify="right", no_wrap=True)
    for name, n in buckets.items():
        pct = f"{n / total * 100:.0f}%" if total else ""
        table.add_row(Text(name), Text(_bar(n, top), style="green"), Text(f"{n}  {pct}".rstrip()))
    return table


def _trend(weeks: list[dict[str, Any]]) -> RenderableType:
    mentions = [w["mentions"] for w in weeks]
    answered = [w["answered"] for w in weeks]
    medians = [w["median_first_response_seconds"] for w in weeks]
    spark = Table(title="Week by week", title_justify="left", box=None, show_header=False, pad_edge=False)
    spark.add_column(no_wrap=True)
    spark.add_column(no_wrap=True)
    spark.add_column(no_wrap=True)
    first, last = (weeks[0]["week"], weeks[-1]["week"]) if weeks else ("", "")
    spark.add_row(Text("mentions"), Text(sparkline(mentions), style="cyan"), Text(f"max {max(mentions, default=0)}"))
    spark.add_row(Text("answered"), Text(sparkline(answered), style="green"), Text(f"max {max(answered, default=0)}"))
    known = [m for m in medians if m is not None]
    spark.add_row(Text("median response"), Text(sparkline(medians), style="yellow"),
                  Text(f"max {present.human(max(known)) if known else '—'}"))
    spark.add_row(Text(""), Text(f"{first} … {last}" if len(weeks) > 1 else first, style="dim"), Text(""))

    table = Table(box=None, pad_edge=False)
    table.add_column(Text("week"), no_wrap=True)
    table.add_column(Text("mentions"), justify="right", no_wrap=True)
    table.add_column(Text("answered of mentions"), no_wrap=True)
    table.add_column(Text("median"), justify="right", no_wrap=True)
    table.add_column(Text("in target"), justify="right", no_wrap=True)
    top = max(mentions, default=0)
    for w in weeks[-12:]:  # the table shows the latest weeks; the sparklines show them all
        # answered in full blocks, the rest of the week's mentions in light shade
        done = _bar(w["answered"], top, 20)
        bar = Text(done, style="green")
        bar.append("░" * max(0, len(_bar(w["mentions"], top, 20)) - len(done)), style="dim")
        bar.append(f" {w['answered']}/{w['mentions']}")
        table.add_row(Text(w["week"]), Text(str(w["mentions"])), bar, Text(present.human(w["median_first_response_seconds"])),
                      Text(present.share(w.get("answered_within_target"))))
    return Group(spark, Text(""), table)


def render(stats: dict[str, Any]) -> RenderableType:
    """A terminal report of a `compute()` result. Strangers' text (authors) is made inert."""
    o = stats["overall"]
    parts: list[RenderableType] = [_headline(stats)]
    oldest = _oldest(o["oldest_waiting"])
    if oldest is not None:
        parts.append(oldest)
    posts = o["our_posts"]
    parts.append(Text(f"Our posts: {posts['broadcasts']} broadcast{'s' if posts['broadcasts'] != 1 else ''}, "
                      f"{posts['replies']} repl{'ies' if posts['replies'] != 1 else 'y'} "
                      f"(talk:listen {present.ratio(o)}); answered after leaving the inbox: {o['answered_late']}",
                      style="dim"))
    if stats["feeds"]:
        parts += [Text(""), _feed_table(stats)]
    if o["answered"]:
        parts += [Text(""), _buckets(o)]
    if stats["weeks"]:
        parts += [Text(""), _trend(stats["weeks"])]
    return Group(*parts)
