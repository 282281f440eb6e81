"""`listen demo`: the real pull and inbox on sample conversations shipped with listen.

The sample feeds are written around DEMO_NOW. When the demo runs, every date in
them is moved forward by the same amount, so that they end at the demo's clock
(now, unless a test sets one): the output reads the same on every day, and a
kept database (`--keep`) shows its people and figures to `listen inbox`,
`stats` and `report` afterwards, instead of mentions from a past month that
have long left the inbox.
"""

from __future__ import annotations

import email.utils
import json
import re
import shutil
import tempfile
import time
from datetime import datetime, timedelta, timezone
from importlib.resources import files
from pathlib import Path
from typing import Callable

from rich.console import Console
from rich.text import Text

DEMO_NOW = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc).timestamp()
SAMPLES = ("blog-comments.xml", "community.jsonl")

CONFIG = """\
# listen demo: a blogger who also runs a small product, Acme.
[identity]
names = ["Sarah Dopp", "acme"]

[inbox]
max_age = "14d"

[[feeds]]
name = "blog-comments"
type = "rss"
path = "blog-comments.xml"

[[feeds]]
name = "community"
type = "jsonl"
path = "community.jsonl"
"""


_RFC822 = re.compile(r"(<(?:pubDate|lastBuildDate)>)([^<]+)(</)")


def shifted(name: str, text: str, delta: float) -> str:
    """A sample file with every date moved by `delta` seconds."""
    if name.endswith(".jsonl"):
        out = []
        for line in text.splitlines():
            record = json.loads(line)
            when = datetime.fromisoformat(record["created_at"])
            record["created_at"] = (when + timedelta(seconds=delta)).isoformat().replace("+00:00", "Z")
            out.append(json.dumps(record, ensure_ascii=False))
        return "\n".join(out) + "\n"

    def move(m: re.Match[str]) -> str:
        when = email.utils.parsedate_to_datetime(m.group(2)) + timedelta(seconds=delta)
        return m.group(1) + email.utils.format_datetime(when) + m.group(3)

    return _RFC822.sub(move, text)


def run_demo(console: Console, keep: Path | None = None, clock: Callable[[], float] = time.time) -> None:
    from listen import render
    from listen.app import Listener
    from listen.config import load

    tmp = None
    if keep is None:
        tmp = tempfile.mkdtemp(prefix="listen-demo-")
        workdir = Path(tmp)
    else:
        workdir = keep
        workdir.mkdir(parents=True, exist_ok=True)
    try:
        now = int(clock())
        for name in SAMPLES:
            sample = files("listen.demo").joinpath(name).read_text(encoding="utf-8")
            (workdir / name).write_text(shifted(name, sample, now - DEMO_NOW), encoding="utf-8")
        (workdir / "listen.toml").write_text(CONFIG, encoding="utf-8")
        config = load(workdir / "listen.toml")
        listener = Listener(config, clock=clock)
        try:
            console.print(Text("listen demo", style="bold") + Text(
                f" · sample conversations, as of {datetime.fromtimestamp(now, timezone.utc):%a %d %b %Y %H:%M} UTC",
                style="dim"))
            console.print(Text("$ listen pull", style="bold cyan"))
            for r in listener.pull():
                console.out("  " + render.pull_line(r), highlight=False)
            console.print()
            console.print(Text("$ listen inbox", style="bold cyan"))
            view = listener.inbox()
            console.print(render.inbox(view.items, view.summary, view.now, view.stale, view.max_age))
            console.print()
            if view.items:
                first = view.items[0]
                console.print(Text(f"$ listen show {first.id}", style="bold cyan"))
                item, thread = listener.show(first.id)
                console.print(render.conversation(item, thread, view.now))
        finally:
            listener.close()
        where = f"--config {workdir / 'listen.toml'}"
        # Commands go on lines of their own and are never wrapped, so each can be copied whole.
        if keep is None:
            console.print(Text("This database is thrown away now. Keep one to try triage:", style="dim"))
            commands = ["listen demo --keep ./listen-demo"]
        else:
            console.print(Text("Try:", style="dim"))
            commands = [f"listen {where} {c}" for c in ("done <ID>", "inbox --all", "show <ID>")]
        for c in commands:
            console.print(Text("  " + c, style="bold"), soft_wrap=True)
        console.print(Text("Your own feeds: write a config, add your blog's comment feed to it, then pull:",
                           style="dim"))
        for c in ("listen init", "listen pull"):
            console.print(Text("  " + c, style="bold"), soft_wrap=True)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
