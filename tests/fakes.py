"""A scriptable source for pipeline tests: the pull is tested at its seam, not through HTTP.

A feed of type "fake" names a script; the test puts what the source should do in
`FakeSource.scripts[name]`: a list of RawItems, an exception to raise, or a function
of the FetchState returning a Fetched. Register it with the `fake_source` fixture,
which adds the type to the real REGISTRY for one test.
"""

from __future__ import annotations

from typing import Any, Callable, ClassVar

from listen.http import Http
from listen.models import Fetched, FetchState, RawItem
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
