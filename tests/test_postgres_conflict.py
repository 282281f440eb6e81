"""A write PostgreSQL rolls back for a concurrent one (a deadlock) is run again, not reported.

A real deadlock on a real server: another session holds one of the items a triage
takes, then reaches for the one the triage already holds.
"""

from __future__ import annotations

import logging
import threading
import time

import pytest

from listen.storage import open_store
from tests.conftest import pg_server
from tests.helpers import T0
from tests.test_team import seed


def _waiting_on_a_lock(url: str, pid: int) -> bool:
    import psycopg

    with psycopg.connect(url, autocommit=True) as c:
        row = c.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
    return bool(row and row[0] == "Lock")


def _until(predicate, seconds: float = 10.0) -> None:
    end = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.02)


@pytest.mark.parametrize("action", ["done", "assign"])
def test_a_triage_that_deadlocks_with_another_writer_runs_again_and_both_succeed(action, caplog):
    url = pg_server().new_database()  # first: without psycopg or a server, this skips
    import psycopg

    store = open_store(url)
    try:
        ids = seed(store)
        first, second = sorted((int(ids["q1"]), int(ids["q2"])))
        stamps = dict(store.conn.execute("SELECT id, updated_at FROM items WHERE id IN (?, ?)", (first, second)).fetchall())
        other = psycopg.connect(url)  # a transaction of its own, like a pull's
        # The other session never gives up first: PostgreSQL aborts the triage's transaction.
        other.execute("SET LOCAL deadlock_timeout = '20s'")
        other.execute("UPDATE items SET updated_at = updated_at + 1 WHERE id = %s", (second,))
        outcome: dict[str, object] = {}

        def triage() -> None:
            try:
                if action == "done":
                    outcome["items"] = store.set_state([str(first), str(second)], "done", T0 + 60, actor="ann")
                else:
                    outcome["items"] = store.assign([str(first), str(second)], "bob", T0 + 60, actor="ann")
            except Exception as e:  # reported below: the test is about not getting here
                outcome["error"] = e

        caplog.set_level(logging.INFO, logger="listen")
        worker = threading.Thread(target=triage)
        worker.start()
        _until(lambda: _waiting_on_a_lock(url, store.pg.info.backend_pid))  # holds `first`, waits for `second`
        other.execute("UPDATE items SET updated_at = updated_at + 1 WHERE id = %s", (first,))  # the deadlock
        other.commit()
        worker.join(30)
        assert "error" not in outcome, outcome.get("error")
        assert any("rolled back for a concurrent write; retry 1" in r.getMessage() for r in caplog.records)
        for item_id in (first, second):
            item = store.item(str(item_id))
            assert (item.state, item.assignee) == (("done", None) if action == "done" else ("open", "bob"))
            # The rolled-back attempt left no trace: one entry, by ann, for each item.
            assert [(h["action"], h["actor"]) for h in store.history(str(item_id))] == [
                ("done" if action == "done" else "assign", "ann")]
        # The other writer's change went through as well, once.
        after = dict(store.conn.execute("SELECT id, updated_at FROM items WHERE id IN (?, ?)", (first, second)).fetchall())
        assert after == {k: v + 1 for k, v in stamps.items()}
        other.close()
    finally:
        store.close()
