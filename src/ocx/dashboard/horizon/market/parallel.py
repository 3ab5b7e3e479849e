"""Horizon's "call these functions in parallel", without futurist's idle wait (pure: tested
without Django).

Horizon's pages gather what they show in parallel (``futurist_utils.call_functions_parallel``:
the Instances panel its images, flavors and volumes; the quota charts their services'
limits; the Volumes panel its snapshots, types and servers). It opens a
``futurist.ThreadPoolExecutor`` for each call and leaves it, and futurist 3.x stops a worker
only when its wait for more work times out (``MAX_IDLE_FOR``, one second): every such call
took at least a second however quick its calls were, twice on the Instances panel. The
standard library's pool wakes its idle workers at shutdown, so a call takes as long as its
slowest function.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

WorkerDef = Callable[[], Any] | Sequence[Any]


def call_functions_parallel(*worker_defs: WorkerDef) -> tuple[Any, ...]:
    """Horizon's contract: each argument is a function, or (function, args[, kwargs]); the
    results in the same order; the first failure raised once every call is done."""
    calls = [_bound(spec) for spec in worker_defs]
    if not calls:
        return ()
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(call) for call in calls]
    return tuple(f.result() for f in futures)


def _bound(spec: WorkerDef) -> Callable[[], Any]:
    if callable(spec):
        return spec
    func, args, kwargs = spec[0], spec[1] if len(spec) > 1 else (), spec[2] if len(spec) > 2 else {}
    return functools.partial(func, *args, **kwargs)
