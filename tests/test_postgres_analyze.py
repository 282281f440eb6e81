"""PostgreSQL: pullers sharing a database refresh the planner's statistics one at a time, and
claim feeds; another listen database kept as a schema of the same server database shares neither."""

from __future__ import annotations

import pytest

from listen.storage import open_store, postgres
from listen.storage.postgres import ANALYZE_LOCK
from listen.waiting import answered_times
from tests.conftest import pg_server
from tests.helpers import T0, raw
from tests.test_store_wave import rows

# The README's test command installs `.[test]` only: without the postgres extra these skip.
psycopg = pytest.importorskip("psycopg", reason="the postgres extra is not installed")


def batch(start: int, n: int):
    return [("f", "jsonl", rows([raw(f"n{i}", f"user{i}", f"question {i}?", T0 - i) for i in range(start, start + n)]),
             None)]


def test_a_table_being_analyzed_by_another_puller_is_left_to_it_and_a_doubled_one_is_analyzed(monkeypatch):
    analyzes: list[str] = []
    real = postgres._Conn.execute

    def execute(self, sql, params=None):
        if sql.startswith("ANALYZE"):
            analyzes.append(sql)
        return real(self, sql, params)

    monkeypatch.setattr(postgres._Conn, "execute", execute)
    url = pg_server().new_database()
    first, second = open_store(url), open_store(url)
    try:
        # Autovacuum visits a test server's many databases often: its ANALYZE would move the counts.
        first.conn.execute("ALTER TABLE items SET (autovacuum_enabled = false)")
        with psycopg.connect(url) as other:  # another puller, in the middle of its ANALYZE
            other.execute("SELECT pg_advisory_xact_lock(%s, hashtext(current_schema()))", (ANALYZE_LOCK,))
            assert first.save_many(batch(0, 2500), answered_times, T0) == [(2500, 0)]  # did not wait for it
            assert analyzes == []
        # The second puller's first 2,000 rows double the table's known size (none): analyzed.
        assert second.save_many(batch(2500, 2000), answered_times, T0) == [(2000, 0)]
        with psycopg.connect(url, autocommit=True) as c:
            # This test's schema's table (the test server's databases are schemas of one database).
            tuples, last = c.execute("SELECT c.reltuples, s.last_analyze FROM pg_class c JOIN pg_stat_user_tables s"
                                     " ON s.relid = c.oid WHERE c.oid = to_regclass('items')").fetchone()
        assert len(analyzes) == 1 and tuples == 4500 and last is not None
    finally:
        first.close()
        second.close()


def test_a_feed_claimed_in_one_schema_is_free_in_another_schema_of_the_same_database():
    here, elsewhere = pg_server().new_database(), pg_server().new_database()
    a, b, c = open_store(here), open_store(here), open_store(elsewhere)
    try:
        assert a.claim_feeds(["blog", "news"]) == ["blog", "news"]
        assert b.claim_feeds(["blog", "news", "other"]) == ["other"]  # same listen database: held
        assert c.claim_feeds(["blog"]) == ["blog"]  # another one (a schema beside it): its own feeds
        a.release_feeds()
        assert b.claim_feeds(["blog"]) == ["blog"]
    finally:
        for s in (a, b, c):
            s.release_feeds()
            s.close()
