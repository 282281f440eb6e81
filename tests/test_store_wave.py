"""A wave of feeds' batches saved in one save_many is stored exactly as the same
batches saved one at a time, on both backends (PostgreSQL reads and writes a
wave's feeds together, with one statement per step)."""

from __future__ import annotations

from listen.flags import FlagSettings
from listen.models import FetchState
from listen.rows import to_row
from listen.storage import open_store
from listen.waiting import Identity, answered_times
from tests.conftest import pg_server
from tests.helpers import T0, raw

H = 3600


def rows(items):
    return [to_row(i, Identity(("acme",)), FlagSettings(), T0) for i in items]


def wave():
    """(feed, network, rows, state) batches whose feeds share native ids, with one feed
    twice (its second batch depends on its first: a parent after our reply to it, an edit)."""
    return [
        ("a", "jsonl", rows([raw("r1", "acme", "thanks, fixed", T0 - 1 * H, reply="m1"),
                             raw("x1", "bob", "is it down?", T0 - 3 * H)]), None),
        ("b", "jsonl", rows([raw("m1", "carol", "export fails", T0 - 5 * H),
                             raw("r1", "acme", "looking", T0 - 4 * H, reply="m1"),
                             raw("x1", "dan", "any update?", T0 - 2 * H, reply="m1")]), FetchState(etag="b1")),
        ("a", "jsonl", rows([raw("m1", "alice", "how do I export?", T0 - 2 * H),
                             raw("x1", "bob", "is it down again?", T0 - 3 * H),
                             raw("y1", "erin", "me too", T0 - H // 2, reply="m1")]), FetchState(cursor="a2")),
        ("c", "jsonl", rows([raw("z3", "fay", "and then?", T0 - H, reply="z2"),
                             raw("z2", "gus", "why?", T0 - 2 * H, reply="z1")]), None),
        ("d", "jsonl", [], FetchState(etag="d1")),
        ("c", "jsonl", rows([raw("z1", "hal", "it broke", T0 - 3 * H),
                             raw("z4", "acme", "on it", T0 - H // 4, reply="z3")]), None),
    ]


def stored(store):
    items = sorted((i["feed"], i["native_id"], i["thread_id"], i["answered_at"], i["edits"], i["text"], i["ours"])
                   for i in store.iter_items())
    feeds = {name: store.fetch_state(name)[0] for name in "abcd"}
    return items, feeds


def test_a_wave_is_stored_as_its_batches_one_at_a_time(backend, tmp_path):
    targets = ([str(tmp_path / "wave.db"), str(tmp_path / "one.db")] if backend == "sqlite"
               else [pg_server().new_database(), pg_server().new_database()])
    together, apart = (open_store(t) for t in targets)
    try:
        counts = together.save_many(wave(), answered_times, T0)
        one_by_one = [apart.save_many([b], answered_times, T0)[0] for b in wave()]
        assert counts == one_by_one == [(2, 0), (3, 0), (2, 1), (2, 0), (0, 0), (2, 0)]
        items, feeds = stored(together)
        assert (items, feeds) == stored(apart)
        by_key = {(f, n): (thread, answered, edits, text) for f, n, thread, answered, edits, text, _ in items}
        # Feed a's parent came after our reply: the reply's guess is its root, and it answers.
        assert by_key[("a", "m1")][1] == T0 - H and by_key[("a", "r1")][0] == "m1"
        assert by_key[("a", "x1")][2:] == (1, "is it down again?")
        assert by_key[("b", "m1")][1] == T0 - 4 * H  # feed b's own m1, answered by feed b's reply
        # The chain z3 -> z2 -> z1 arrived leaf first, root in a later batch: one thread, answered.
        assert {by_key[("c", n)][0] for n in ("z1", "z2", "z3", "z4")} == {"z1"}
        assert by_key[("c", "z3")][1] == T0 - H // 4
        assert feeds["a"].cursor == "a2" and feeds["b"].etag == "b1" and feeds["d"].etag == "d1"
    finally:
        together.close()
        apart.close()
