"""`listen demo`: the real pull and inbox on sample conversations shipped with listen.

The sample feeds are dated around DEMO_NOW, and the demo's clock is set to it,
so the output is the same on every machine and every day.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import datetime, timezone
from importlib.resources import as_file, files
from pathlib import Path

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


def run_demo(console: Console, keep: Path | None = None) -> None:
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
        for name in SAMPLES:
            with as_file(files("listen.demo").joinpath(name)) as src:
                shutil.copyfile(src, workdir / name)
        (workdir / "listen.toml").write_text(CONFIG, encoding="utf-8")
        config = load(workdir / "listen.toml")
        listener = Listener(config, clock=lambda: DEMO_NOW)
        try:
            console.print(Text("listen demo", style="bold") + Text(
                f" · sample conversations, as of {datetime.fromtimestamp(DEMO_NOW, timezone.utc):%a %d %b %Y %H:%M} UTC",
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
        if keep is None:
            console.print(Text("This database is thrown away now. Keep one to try triage: ", style="dim")
                          + Text("listen demo --keep ./listen-demo", style="bold"))
        else:
            console.print(Text("Try: ", style="dim") + Text(
                f"listen {where} done <ID> · listen {where} inbox --all · listen {where} show <ID>", style="bold"))
        console.print(Text("Your own feeds: ", style="dim") + Text("listen init", style="bold")
                      + Text(", then add your blog's comment feed and run ", style="dim")
                      + Text("listen pull", style="bold"))
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
