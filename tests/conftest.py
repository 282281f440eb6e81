from __future__ import annotations

import pytest

from listen.http import Http
from tests.replay import ReplayServer


@pytest.fixture
def server():
    srv = ReplayServer().start()
    yield srv
    srv.stop()


@pytest.fixture
def http():
    """The real client, with Retry-After waits skipped rather than slept."""
    with Http(sleep=lambda s: None) as h:
        yield h


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    # No test reads the developer's own config or database.
    monkeypatch.delenv("LISTEN_CONFIG", raising=False)
    monkeypatch.delenv("LISTEN_DB", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.fixture
def fake_source(monkeypatch):
    """The "fake" feed type, registered through the real REGISTRY for one test (tests/fakes.py)."""
    from listen.sources import REGISTRY
    from tests.fakes import FakeSource

    monkeypatch.setitem(REGISTRY, "fake", "tests.fakes:FakeSource")
    monkeypatch.setitem(REGISTRY, "fake2", "tests.fakes:FakeTwoPhaseSource")
    FakeSource.scripts.clear()
    FakeSource.seen.clear()
    yield FakeSource
    FakeSource.scripts.clear()


@pytest.fixture(autouse=True)
def _cli_logging():
    # `listen -v` run in-process installs a handler on the test's captured stderr:
    # it must not outlive the test that made it.
    yield
    import logging

    from listen import log

    root = logging.getLogger(log.ROOT)
    for h in list(root.handlers):
        root.removeHandler(h)
    root.setLevel(logging.NOTSET)
    root.propagate = True
