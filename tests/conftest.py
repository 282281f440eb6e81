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
