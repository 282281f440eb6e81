from __future__ import annotations

import os

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


# -- backends: the storage tests run on SQLite and on a real PostgreSQL ---------

_PG: dict[str, object] = {}


def pg_server():
    """The session's PostgreSQL, started on first use. Outside CI a machine without
    one skips the postgres tests, saying why; under CI=true that is a failure."""
    if "server" not in _PG and "error" not in _PG:
        from tests.pgserver import PgServer

        try:
            import psycopg  # noqa: F401

            _PG["server"] = PgServer().start()
        except Exception as e:  # any reason at all: reported below, by every test that needed it
            _PG["error"] = f"{type(e).__name__}: {e}"
    if "error" in _PG:
        msg = f"PostgreSQL unavailable: {_PG['error']}"
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(msg)
        pytest.skip(msg)
    return _PG["server"]


def pytest_sessionfinish(session, exitstatus):
    server = _PG.pop("server", None)
    if server is not None:
        server.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request) -> str:
    return request.param


@pytest.fixture
def db_target(backend, tmp_path) -> str:
    """Where a test's database lives: a SQLite file, or a fresh PostgreSQL schema's URL."""
    if backend == "sqlite":
        return str(tmp_path / "listen.db")
    return pg_server().new_database()


@pytest.fixture
def store(db_target):
    from listen.storage import open_store

    s = open_store(db_target)
    yield s
    s.close()
