"""One function over many grids, on every core the process may use.

Grids are planned independently, so a township's are shared out among worker processes forked
from this one: they start at once with everything already imported and the planning context
(settings, no-fly zones, router) already in memory; only the grids go out and their patterns
come back. Forking is only safe while this process runs no other thread (the console's server
does): then, and for a few grids or a single core, the grids are planned here, one by one.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

C = TypeVar("C")
T = TypeVar("T")
R = TypeVar("R")

MIN_ITEMS = 24  # fewer grids plan quicker than workers start and results travel back
MAX_WORKERS = 8
CHUNKS_PER_WORKER = 16  # a few chunks each, so that one slow chunk does not hold the rest

_job: tuple[Callable[[Any, Any], Any], Any] | None = None  # in a worker: its function, context


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def workers_for(items: int, processes: int | None = None) -> int:
    """Worker processes for ``items`` grids: ``processes`` if given, else one per usable CPU
    (at most MAX_WORKERS), and none (plan here) where forking is unsafe or does not pay."""
    if processes is not None:
        return processes if processes > 1 else 0
    if items < MIN_ITEMS or threading.active_count() > 1:
        return 0
    if "fork" not in multiprocessing.get_all_start_methods():
        return 0
    n = min(usable_cpus(), MAX_WORKERS)
    return n if n > 1 else 0


def map_grids(
    fn: Callable[[C, T], R], context: C, items: Sequence[T], processes: int | None = None
) -> list[R]:
    """``[fn(context, item) for item in items]``, in order, shared among forked workers when
    worthwhile (see ``workers_for``). ``fn`` must be a module-level function; its results
    must pickle. An exception ``fn`` raises is raised here; if the workers die (killed, out of
    memory) the grids are planned here instead."""
    n = workers_for(len(items), processes)
    if n:
        chunk = max(1, len(items) // (n * CHUNKS_PER_WORKER))
        # what is already in memory is left out of the workers' garbage collection: its
        # passes would read, and so copy, every page they share with this process
        gc.freeze()
        pool = ProcessPoolExecutor(
            n,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_start,
            initargs=(fn, context),
        )
        try:
            return list(pool.map(_run, items, chunksize=chunk))
        except BrokenProcessPool:
            pass
        finally:  # on an error or Ctrl-C the grids not started are dropped, not waited for
            pool.shutdown(cancel_futures=True)
            gc.unfreeze()
    return [fn(context, item) for item in items]


def _start(fn: Callable[[Any, Any], Any], context: Any) -> None:
    global _job
    _job = (fn, context)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the planner's to handle


def _run(item: Any) -> Any:
    assert _job is not None
    fn, context = _job
    return fn(context, item)
