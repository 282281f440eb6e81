"""`listen report --html`: the inbox and the stats as one self-contained HTML page.

A team reads it in a browser or an email, so the page carries everything it
needs: inline CSS, charts drawn as inline SVG and CSS bars, no script, no
font, no image, nothing fetched (a Content-Security-Policy says so to the
browser too).

Most of what the page shows was written by strangers: authors, texts, titles,
reasons quoting them, URLs, even feed errors echo remote servers. Every such
value goes through `_t()` (controls made visible by `listen.text.inert`, then
`html.escape(quote=True)`), and a URL becomes a link only when it is plainly
http(s); anything else (javascript:, data:, file:) is shown as text.
"""

from __future__ import annotations

import html
import os
import re
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from listen import __version__, present
from listen.durations import humanize
from listen.errors import ListenError
from listen.text import inert

EXCERPT = 1200  # characters of a mention's text shown; the reply link leads to the rest
URL_SHOWN = 90
_WEB_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f\"'<>\\`]+\Z", re.I)

CSS = """
:root { color-scheme: light; --ink: #1d2433; --soft: #5b6475; --line: #e3e6ec; --bg: #f5f6f8;
  --card: #fff; --neg: #c62828; --neg-bg: #fdecea; --q: #8a5a00; --q-bg: #fff4d6; --ok: #2e7d32;
  --ok-bg: #e6f4ea; --accent: #2f5bd3; --mention: #c9d3e6; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1080px; margin: 0 auto; padding: 28px 24px 48px; }
header h1 { margin: 0; font-size: 26px; letter-spacing: -0.01em; }
header p { margin: 4px 0 0; color: var(--soft); }
h2 { font-size: 19px; margin: 34px 0 12px; }
h3 { font-size: 15px; margin: 22px 0 8px; color: var(--soft); text-transform: uppercase; letter-spacing: .04em; }
.cards { display: grid; grid-template-columns: repeat(4, 1fr); gap: 10px; margin-bottom: 12px; }
@media (max-width: 640px) { .cards, .two { grid-template-columns: 1fr 1fr; } }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; }
.card .n { font-size: 24px; font-weight: 650; display: block; font-variant-numeric: tabular-nums; }
.card .l { color: var(--soft); font-size: 13px; }
.card.alert { border-color: #f3b8b2; background: var(--neg-bg); }
.card.alert .n { color: var(--neg); }
.warn { background: var(--q-bg); border: 1px solid #f0d48a; border-radius: 8px; padding: 8px 12px; margin: 10px 0; }
.item { background: var(--card); border: 1px solid var(--line); border-left: 5px solid var(--mention);
  border-radius: 10px; padding: 12px 16px; margin: 10px 0; }
.item.negative { border-left-color: var(--neg); }
.item.question { border-left-color: #e0a800; }
.top { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; font-size: 13px; color: var(--soft); }
.id { font-weight: 650; color: var(--accent); }
.badge { font-size: 11px; font-weight: 700; letter-spacing: .05em; padding: 2px 7px; border-radius: 4px; }
.badge.negative { background: var(--neg); color: #fff; }
.badge.question { background: #ffd54f; color: #3d2c00; }
.badge.plain { background: var(--line); color: var(--soft); }
.wait { font-weight: 650; color: var(--ink); }
.wait.long { color: var(--neg); }
.who { margin: 6px 0 2px; }
.who b, .text, .why, .title, .reply { unicode-bidi: isolate; }
.title { font-style: italic; }
.direct { color: var(--q); font-size: 13px; }
.text { white-space: pre-wrap; overflow-wrap: anywhere; margin: 6px 0; }
.why { color: var(--soft); font-size: 13px; }
.reply { font-size: 13px; overflow-wrap: anywhere; }
.reply a { color: var(--accent); }
.reply code { background: var(--bg); padding: 1px 4px; border-radius: 3px; }
.empty { background: var(--ok-bg); border: 1px solid #b7dfc0; border-radius: 10px; padding: 14px 16px; }
table { border-collapse: collapse; width: 100%; background: var(--card); border: 1px solid var(--line);
  border-radius: 10px; overflow: hidden; font-variant-numeric: tabular-nums; }
th, td { padding: 7px 10px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
th { background: #eef1f6; font-size: 13px; color: var(--soft); font-weight: 600; }
th:first-child, td:first-child { text-align: left; }
tfoot td { font-weight: 650; background: #fafbfc; }
td.bad { color: var(--neg); font-weight: 650; }
.bars { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 10px 14px; }
.bar { display: grid; grid-template-columns: 60px 1fr 90px; gap: 10px; align-items: center; margin: 5px 0; }
.bar .k { text-align: right; color: var(--soft); font-size: 13px; }
.bar .track { background: var(--bg); border-radius: 4px; height: 16px; }
.bar .fill { background: var(--ok); border-radius: 4px; height: 16px; min-width: 2px; }
.bar .v { font-size: 13px; font-variant-numeric: tabular-nums; }
.chart { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 10px 14px; }
.chart svg { width: 100%; height: auto; display: block; }
.legend { font-size: 13px; color: var(--soft); display: flex; gap: 16px; margin: 4px 0 0; }
.sw { display: inline-block; width: 11px; height: 11px; border-radius: 2px; vertical-align: -1px; margin-right: 4px; }
.two { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.note { color: var(--soft); font-size: 13px; }
footer { margin-top: 40px; color: var(--soft); font-size: 12px; }
"""


def _t(value: Any, limit: int | None = None, one_line: bool = False) -> str:
    """Any value for HTML text or an attribute: controls made visible, then escaped."""
    return html.escape(inert(str(value) if value is not None else "", limit=limit, one_line=one_line), quote=True)


def web_url(url: str | None) -> str | None:
    """The URL when it is a plain http(s) address a browser may follow, else None."""
    if not url or len(url) > 4000 or not _WEB_URL.match(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _iso_day(ts: str) -> str:
    return html.escape(ts[:16].replace("T", " "))


# -- the inbox ------------------------------------------------------------------


def _card(number: str, label: str, alert: bool = False) -> str:
    cls = "card alert" if alert else "card"
    return f'<div class="{cls}"><span class="n">{number}</span><span class="l">{label}</span></div>'


def _reply(url: str | None) -> str:
    if not url:
        return ""
    link = web_url(url)
    shown = _t(url, limit=URL_SHOWN, one_line=True)
    if link is None:
        return f'<div class="reply">reply at: <code>{shown}</code> (not a web link)</div>'
    return (f'<div class="reply">reply: <a href="{html.escape(link, quote=True)}" rel="noopener noreferrer nofollow"'
            f' target="_blank">{shown}</a></div>')


def _item(item: Any, now: int, over: int = 0) -> str:
    waited = max(0, now - int(item.created_at.timestamp()))
    flags = item.flags
    kind = "negative" if item.negative else ("question" if item.question else "")
    badges = "".join(f'<span class="badge {f}">{f.upper()}</span>' for f in flags) \
        or '<span class="badge plain">UNFLAGGED</span>'
    who = f"<b>{_t(item.author, 80, True)}</b>"
    if item.author_name and item.author_name != item.author:
        who += f" ({_t(item.author_name, 80, True)})"
    if item.title:
        who += f' on <span class="title">{_t(item.title, 160, True)}</span>'
    if item.addressed:
        who += ' <span class="direct">→ asks us directly</span>'
    why = f'<div class="why">why: {_t(" · ".join(item.reasons), 400, True)}</div>' if item.reasons else ""
    return (
        f'<article class="item {kind}">'
        f'<div class="top"><span class="id">#{_t(item.id)}</span>{badges}'
        f'<span class="wait{" long" if waited > 86400 else ""}">waiting {humanize(waited)}</span>'
        + (f'<span class="wait long">{humanize(over)} over target</span>' if over > 0 else "") +
        f'<span>{_t(item.feed, 80, True)} ({_t(item.network, 40, True)})</span>'
        f'<span>since {_iso_day(item.created_at.astimezone(timezone.utc).isoformat())} UTC</span></div>'
        f'<div class="who">{who}</div>'
        f'<div class="text">{_t(item.text, EXCERPT)}</div>{why}{_reply(item.url)}</article>'
    )


def _gaps(gaps: list[Any], now: int) -> list[str]:
    """Feeds blind for a while (listen.gaps): people there may be waiting unheard, and the
    figures below do not count them."""
    return [f'<div class="warn">{_t(g.words(now), 400, True)}. People there may be waiting unheard, and the'
            ' figures do not count them.</div>' for g in gaps]


def _inbox(view: Any) -> str:
    s = view.summary
    parts = ['<section id="inbox"><h2>Who is waiting</h2>']
    parts += _gaps(view.stale, view.now)
    if not s["items"]:
        parts.append(f'<div class="empty">Nobody is waiting for a reply from the last {humanize(view.max_age)}:'
                     ' every flagged mention there is answered, done or snoozed. (The figures below count'
                     ' the whole period, older mentions included.)</div></section>')
        return "".join(parts)
    parts.append('<div class="cards">')
    parts.append(_card(str(s["people"]), present.noun(s["people"], "person", "people") + " waiting", alert=True))
    parts.append(_card(humanize(s["oldest_seconds"]), "oldest waiting"))
    parts.append(_card(str(s["negative"]), present.noun(s["negative"], "negative remark"), alert=s["negative"] > 0))
    parts.append(_card(str(s["questions"]), present.noun(s["questions"], "question")))
    parts.append("</div>")
    over = getattr(view, "over", lambda item: 0)
    parts += [_item(i, view.now, over(i)) for i in view.items]
    hidden = s["items"] - len(view.items)
    if hidden > 0:
        parts.append(f'<p class="note">… and {_plural(hidden, "more mention")} waiting, not shown here'
                     f' (see <code>listen inbox</code>).</p>')
    parts.append("</section>")
    return "".join(parts)


# -- the stats ------------------------------------------------------------------


def _headline(stats: dict[str, Any]) -> str:
    o = stats["overall"]
    fr = o["first_response_seconds"] or {}
    default = o.get("reply_within_seconds")
    vary = any(b.get("reply_within_seconds", default) != default for b in stats["feeds"].values())
    within = "each feed's target" if vary else present.human(default)
    posts = o["our_posts"]
    cards = [
        _card(str(o["mentions"]), present.noun(o["mentions"], "mention")),
        _card(str(o["flagged"]), "needed a reply"),
        _card(str(o["answered"]), "answered"),
        _card(str(o["waiting"]), "flagged, still unanswered", alert=o["waiting"] > 0),
        _card(present.human(fr.get("median")), "median first response"),
        _card(present.human(fr.get("p90")), "90th percentile"),
        _card(present.share(o["answered_within_target"]), f"answered within {within}"),
        _card(present.ratio(o), f"talk:listen ({_plural(posts['broadcasts'], 'broadcast')},"
                        f" {_plural(posts['replies'], 'reply', 'replies')})"),
    ]
    out = [f'<div class="cards">{"".join(cards)}</div>']
    old = o.get("oldest_waiting")
    if old:
        out.append(f'<p>Oldest still waiting: <b>{_t(old["author"], 80, True)}</b> on {_t(old["feed"], 80, True)}'
                   f' (#{_t(old["id"])}), for {humanize(old["waiting_seconds"])}.</p>')
    out.append(f'<p class="note">Answered after they had dropped out of the inbox: {o["answered_late"]}.'
               ' Talk:listen is our broadcasts per reply to someone else.</p>')
    return "".join(out)


def _feed_table(stats: dict[str, Any]) -> str:
    default = stats.get("reply_within_seconds")
    vary = any(b.get("reply_within_seconds", default) != default for b in stats["feeds"].values())
    within = "target" if vary else present.human(default)
    head = ["feed", "mentions", "flagged", "answered", "waiting", "median", "p90", f"≤ {within}", "late",
            "broadcasts", "replies", "talk:listen"]

    def cells(name: str, b: dict[str, Any], tag: str = "td", own_target: bool = True) -> str:
        fr = b["first_response_seconds"] or {}
        waiting = f'<td class="bad">{b["waiting"]}</td>' if b["waiting"] else "<td>0</td>"
        return (f"<{tag}>{_t(name, 60, True)}</{tag}><td>{b['mentions']}</td><td>{b['flagged']}</td>"
                f"<td>{b['answered']}</td>{waiting}<td>{present.human(fr.get('median'))}</td><td>{present.human(fr.get('p90'))}</td>"
                f"<td>{present.share(b['answered_within_target'])}"
                + (f" <span class=\"note\">≤ {present.human(b.get('reply_within_seconds'))}</span>" if vary and own_target
                   else "")
                + f"</td><td>{b['answered_late']}</td>"
                f"<td>{b['our_posts']['broadcasts']}</td><td>{b['our_posts']['replies']}</td><td>{present.ratio(b)}</td>")

    rows = "".join(f"<tr>{cells(name, b)}</tr>" for name, b in stats["feeds"].items())
    # all feeds: each answer against its own feed's target, so no single target to name
    foot = (f"<tfoot><tr>{cells('all feeds', stats['overall'], own_target=False)}</tr></tfoot>"
            if len(stats["feeds"]) > 1 else "")
    header = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    return f"<h3>By feed</h3><table><thead><tr>{header}</tr></thead><tbody>{rows}</tbody>{foot}</table>"


def _buckets(o: dict[str, Any]) -> str:
    buckets = o["response_buckets"]
    total = sum(buckets.values())
    top = max(buckets.values(), default=0)
    rows = []
    for name, n in buckets.items():
        width = f"{n / top * 100:.1f}%" if top and n else "0"
        pct = f" · {n / total * 100:.0f}%" if total else ""
        fill = f'<div class="fill" style="width:{width}"></div>' if n else ""
        rows.append(f'<div class="bar"><span class="k">{html.escape(name)}</span>'
                    f'<div class="track">{fill}</div><span class="v">{n}{pct}</span></div>')
    return f'<div><h3>First response</h3><div class="bars">{"".join(rows)}</div></div>'


def _week_chart(weeks: list[dict[str, Any]]) -> str:
    """Mentions (pale) with the answered share of them (green) per week, and the median response as a line."""
    n = len(weeks)
    width, height, pad_l, pad_b, pad_t = 1000, 220, 40, 28, 24
    plot_w, plot_h = width - pad_l - 50, height - pad_b - pad_t
    top = max((w["mentions"] for w in weeks), default=0) or 1
    slot = plot_w / max(n, 1)
    bar = max(1.0, slot * 0.7)
    medians = [w["median_first_response_seconds"] for w in weeks]
    known = [m for m in medians if m is not None]
    mtop = max(known, default=0) or 1
    label_every = max(1, -(-n // 14))  # at most ~14 week labels, whatever the period
    base = pad_t + plot_h
    out = [f'<svg viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" role="img"'
           f' aria-label="mentions and answers per week" font-family="system-ui, sans-serif" font-size="12">',
           f'<line x1="{pad_l}" y1="{base}" x2="{pad_l + plot_w}" y2="{base}" stroke="#c5cbd6"/>',
           f'<text x="{pad_l - 6}" y="{pad_t + 4}" text-anchor="end" fill="#5b6475">{top}</text>',
           f'<text x="{pad_l - 6}" y="{base}" text-anchor="end" fill="#5b6475">0</text>']
    points = []
    for i, w in enumerate(weeks):
        x = pad_l + i * slot + (slot - bar) / 2
        hm = w["mentions"] / top * plot_h
        ha = w["answered"] / top * plot_h
        out.append(f'<rect x="{x:.1f}" y="{base - hm:.1f}" width="{bar:.1f}" height="{hm:.1f}" fill="#c9d3e6">'
                   f'<title>{html.escape(w["week"])}: {w["mentions"]} mentions, {w["answered"]} answered</title></rect>')
        if ha:
            out.append(f'<rect x="{x:.1f}" y="{base - ha:.1f}" width="{bar:.1f}" height="{ha:.1f}" fill="#2e7d32"/>')
        if slot >= 34 and w["mentions"]:  # room for the figures themselves
            out.append(f'<text x="{x + bar / 2:.1f}" y="{base - hm - 5:.1f}" text-anchor="middle" fill="#1d2433">'
                       f'{w["answered"]}/{w["mentions"]}</text>')
        if i % label_every == 0 or i == n - 1:
            out.append(f'<text x="{x + bar / 2:.1f}" y="{base + 17}" text-anchor="middle" fill="#5b6475">'
                       f'{html.escape(w["week"][-3:])}</text>')
        m = medians[i]
        if m is not None:
            points.append((x + bar / 2, base - m / mtop * plot_h))
    if points:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        out.append(f'<polyline points="{path}" fill="none" stroke="#e0a800" stroke-width="2.5"/>')
        out += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="#e0a800"/>' for x, y in points]
        out.append(f'<text x="{pad_l + plot_w + 6}" y="{pad_t + 4}" fill="#8a5a00">{humanize(mtop)}</text>')
    out.append("</svg>")
    legend = ('<div class="legend"><span><span class="sw" style="background:#c9d3e6"></span>mentions</span>'
              '<span><span class="sw" style="background:#2e7d32"></span>answered</span>'
              '<span><span class="sw" style="background:#e0a800"></span>median first response (right scale)</span>'
              '</div>')
    return f'<div class="chart">{"".join(out)}{legend}</div>'


def _week_table(weeks: list[dict[str, Any]]) -> str:
    rows = "".join(f"<tr><td>{html.escape(w['week'])}</td><td>{w['mentions']}</td><td>{w['answered']}</td>"
                   f"<td>{present.human(w['median_first_response_seconds'])}</td>"
                   f"<td>{present.share(w.get('answered_within_target'))}</td></tr>" for w in reversed(weeks[-12:]))
    return ("<table><thead><tr><th>week</th><th>mentions</th><th>answered</th><th>median response</th>"
            "<th>within target</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>")


def _stats(stats: dict[str, Any]) -> str:
    o = stats["overall"]
    parts = [f'<section id="stats"><h2>How well we listen: {_iso_day(stats["since"])[:10]} to '
             f'{_iso_day(stats["until"])[:10]}</h2>', _headline(stats)]
    if stats["feeds"]:
        parts.append(_feed_table(stats))
    if stats["weeks"]:
        parts.append("<h3>Week by week</h3>")
        parts.append(_week_chart(stats["weeks"]))
    side = [_buckets(o)] if o["answered"] else []
    if stats["weeks"]:
        side.append(f"<div><h3>Latest weeks</h3>{_week_table(stats['weeks'])}</div>")
    if side:
        parts.append(f'<div class="two">{"".join(side)}</div>')
    parts.append("</section>")
    return "".join(parts)


# -- the page -------------------------------------------------------------------


def build(view: Any, stats: dict[str, Any], *, title: str = "listen report") -> str:
    """The whole page, from `Listener.inbox()` (an InboxView) and `Listener.stats()`."""
    generated = datetime.fromtimestamp(view.now, timezone.utc).strftime("%a %d %b %Y %H:%M UTC")
    s = view.summary
    lead = (f"{_plural(s['people'], 'person', 'people')} waiting" if s["items"] else "nobody waiting")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        # No script, no fetch: the page is complete as it is, and stays inert if a stranger's text slips through.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline';"
        " img-src data:; base-uri 'none'; form-action 'none'\">"
        "<meta name=\"referrer\" content=\"no-referrer\">"
        f"<title>{_t(title, 120, True)} · {html.escape(generated)}</title><style>{CSS}</style></head><body><main>"
        f"<header><h1>{_t(title, 120, True)}</h1><p>{html.escape(generated)} · {lead}</p></header>"
        f"{_inbox(view)}{_stats(stats)}"
        f"<footer>Written by listen {html.escape(__version__)}. Mentions are quoted as received;"
        " links lead to where you reply.</footer></main></body></html>\n"
    )


def write(path: str | os.PathLike[str], page: str) -> None:
    """Write the page whole or not at all: a reader never opens half a report."""
    target = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as e:
        raise ListenError(f"{target}: cannot write the report: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(page)
        os.chmod(tmp, 0o644)  # a report is for sharing, unlike mkstemp's private default
        os.replace(tmp, target)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise ListenError(f"{target}: cannot write the report: {e.strerror or e}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
