from __future__ import annotations

import pytest

from tests.replay import ReplayServer


@pytest.fixture
def server():
    srv = ReplayServer().start()
    yield srv
    srv.stop()


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    # No test reads the developer's own config or database.
    monkeypatch.delenv("LISTEN_CONFIG", raising=False)
    monkeypatch.delenv("LISTEN_DB", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("NO_COLOR", "1")
