"""ordered_map: a stream shared out among forked workers, answered in input order."""

from __future__ import annotations

import os

import pytest

from listen.parallel import ordered_map


def _tagged(x: int) -> tuple[int, int]:
    return x * x, os.getpid()


@pytest.mark.parametrize(
    ("n", "chunk", "processes"),
    [
        (0, 4, 2),  # nothing in, nothing out
        (3, 4, 2),  # shorter than one chunk
        (4, 4, 2),  # exactly one chunk
        (5, 4, 2),  # one item into a second chunk
        (103, 4, 2),  # many chunks, more than the read-ahead
        (103, 4, 1),  # one process: no pool
        (40, 1, 3),  # chunks of one
    ],
)
def test_answers_come_back_in_input_order(n, chunk, processes):
    got = [sq for sq, _ in ordered_map(_tagged, range(n), processes=processes, chunk=chunk)]
    assert got == [x * x for x in range(n)]


def test_a_long_stream_is_shared_out_and_a_short_one_is_not():
    here = os.getpid()
    long_pids = {pid for _, pid in ordered_map(_tagged, range(200), processes=2, chunk=10)}
    assert here not in long_pids and len(long_pids) >= 1
    short_pids = {pid for _, pid in ordered_map(_tagged, range(9), processes=2, chunk=10)}
    assert short_pids == {here}
    one_core = {pid for _, pid in ordered_map(_tagged, range(200), processes=1, chunk=10)}
    assert one_core == {here}


def test_reads_ahead_only_a_few_chunks():
    taken = 0

    def source():
        nonlocal taken
        for i in range(10_000):
            taken = i + 1
            yield i

    out = ordered_map(_tagged, source(), processes=2, chunk=10)
    first = next(out)
    assert first[0] == 0
    # The first chunk, plus at most 2 chunks per worker and the one being read.
    assert taken <= 10 * (2 * 2 + 2), taken
    assert sum(1 for _ in out) == 9_999


def _fails_on_seven(x: int) -> int:
    if x == 7:
        raise ValueError("seven")
    return x


def test_an_error_in_a_worker_reaches_the_caller():
    with pytest.raises(ValueError, match="seven"):
        list(ordered_map(_fails_on_seven, range(50), processes=2, chunk=4))


def _sigint_handler(_: int) -> object:
    import signal

    return signal.getsignal(signal.SIGINT)


def test_workers_leave_ctrl_c_to_the_parent():
    """A worker that took Ctrl-C would print its own traceback; the parent ends the pool."""
    import signal

    handlers = set(ordered_map(_sigint_handler, range(20), processes=2, chunk=5))
    assert handlers == {signal.SIG_IGN}
