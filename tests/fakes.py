"""A scriptable source for pipeline tests: the pull is tested at its seam, not through HTTP.

A feed of type "fake" names a script; the test puts what the source should do in
`FakeSource.scripts[name]`: a list of RawItems, an exception to raise, or a function
of the FetchState returning a Fetched. Register it with the `fake_source` fixture,
which adds the type to the real REGISTRY for one test.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Callable, ClassVar

from listen.http import Http
from listen.models import Download, Fetched, FetchState, RawItem
from listen.sources import Option, Source

Script = list[RawItem] | BaseException | Callable[[FetchState], Fetched]


class FakeSource(Source):
    network = "fake"
    options = {"script": Option(str, "the name of a script in FakeSource.scripts", required=True)}
    scripts: ClassVar[dict[str, Script]] = {}
    seen: ClassVar[list[tuple[str, FetchState]]] = []  # (feed, state it was given), in call order

    def fetch(self, http: Http, state: FetchState) -> Fetched:
        FakeSource.seen.append((self.feed.name, state))
        script = self.scripts[self.feed.get("script")]
        if isinstance(script, BaseException):
            raise script
        if callable(script):
            return script(state)
        return Fetched(items=list(script), state=FetchState(cursor=str(len(script))))


def fake_feed(name: str, script: Script, **extra: Any) -> dict[str, Any]:
    """A [[feeds]] entry for write_config, with its script installed."""
    FakeSource.scripts[name] = script
    return {"name": name, "type": "fake", "script": name, **extra}


class FakeTwoPhaseSource(FakeSource):
    """A fake whose parsing may run in a worker process (Source.download / parse_download).

    The body is the JSON of the script's items; a script "bug:<text>" makes the parser raise
    KeyError(<text>) (in the worker), and "unpicklable" hands the worker a download it cannot
    receive, as a worker that fails (not the parser) would."""

    network = "fake2"

    def download(self, http: Http, state: FetchState) -> Download:
        script = self.scripts[self.feed.get("script")]
        if script == "unpicklable":
            return Download(b"[]", "fake://x", lambda: None, state)  # type: ignore[arg-type]  # a lambda does not pickle
        if isinstance(script, str):
            return Download(script.encode(), "fake://x", None, state)
        body = json.dumps([[i.native_id, i.author, i.text, i.created_at.timestamp()] for i in script])
        return Download(body.encode(), "fake://x", None, state)

    def parse_download(self, got: Download) -> Fetched:
        text = got.body.decode()
        if text.startswith("bug:"):
            raise KeyError(text[4:])
        items = [RawItem(nid, author, body, datetime.fromtimestamp(t, timezone.utc))
                 for nid, author, body, t in json.loads(text)]
        return Fetched(items=items, state=FetchState(cursor=str(len(items))))
