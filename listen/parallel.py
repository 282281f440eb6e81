"""A function over a long stream of texts, on every core, answers in input order.

`listen classify --jsonl` over a file of tweets is pure CPU; threads cannot
share it out (the GIL), forked processes can. The function is handed to
the children by the fork itself, with whatever models it has loaded, so
nothing but the texts and the answers crosses between processes.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from multiprocessing.pool import AsyncResult
from typing import Any

CHUNK = 250  # texts per task: enough to pay for the pickling, few enough to keep answers flowing
_FORKED: Callable[[Any], Any] | None = None  # set just before the pool forks


def _cores() -> int:
    """The cores this process may run on (a container's CPU set, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS has no affinity call
        return os.cpu_count() or 1


def _run(batch: list[Any]) -> list[Any]:
    assert _FORKED is not None  # a pool exists only after ordered_map set it
    return list(map(_FORKED, batch))


def ordered_map(fn: Callable[[Any], Any], items: Iterable[Any], processes: int | None = None,
                chunk: int = CHUNK) -> Iterator[Any]:
    """fn(item) for each item, in order. A stream longer than one chunk is
    shared out among `processes` forked workers (default: one per core);
    a short one, or a machine with one core or no fork, runs here.

    At most two chunks per worker are read ahead, so memory stays flat on an
    input of any length. Call fn once before, so what it loads lazily is
    loaded before the fork and shared with the children.
    """
    n = _cores() if processes is None else processes
    it = iter(items)
    first = list(islice(it, chunk))
    if n < 2 or len(first) < chunk or "fork" not in multiprocessing.get_all_start_methods():
        yield from map(fn, first)
        yield from map(fn, it)
        return
    global _FORKED
    _FORKED = fn
    # Ctrl-C is the parent's to handle (it ends the pool); a worker that took it too
    # would print its own traceback on the way out.
    pool = multiprocessing.get_context("fork").Pool(n, initializer=signal.signal,
                                                    initargs=(signal.SIGINT, signal.SIG_IGN))
    try:
        pending: deque[AsyncResult[list[Any]]] = deque([pool.apply_async(_run, (first,))])
        batch = first
        while batch:
            batch = list(islice(it, chunk))
            if batch:
                pending.append(pool.apply_async(_run, (batch,)))
            # Hand back what is ready; wait for the oldest once the read-ahead
            # is full, and for all of them once the input has ended.
            while pending and (pending[0].ready() or len(pending) > 2 * n or not batch):
                yield from pending.popleft().get()
    finally:
        pool.terminate()
        pool.join()
        _FORKED = None
