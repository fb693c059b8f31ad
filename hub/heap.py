"""The hub's heap, out of the cyclic collector's way.

CPython's full (generation 2) collection walks every live container object, and every walk
stops both stages: the latency tail. What start-up builds (modules, pydantic schemas, the
partner registry, the policy, the adapters) lives as long as the process, so it is frozen at
start (``settle_heap``). What the hub builds as it runs (router state, the household table)
grows with the households it has seen: in one bench run the full collections of the hub
process took 40-202 ms each, sixteen of them, longer the more it had routed.

So the hub also freezes what survives each full collection (``keep_heap_frozen``): the next
one walks only what came since (same benchmark, one run each: the longest 202 -> 30 ms;
p99 at 300 msg/s 319 -> 111 ms, at 30 msg/s 34 -> 24 ms; the hub's CPU per message in its
drain 751 -> 510 µs; peak RSS 200 -> 206 MB). Reference counting still frees every frozen
object that is not in a cycle, which is all the hub's per-message values and state; what the
collector can no longer reclaim is a reference cycle that was alive at a full collection and
dies later (measured: 0.2 cyclic objects per message in all, almost every one garbage within
the young generations, long before a full collection).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import platform
from collections.abc import Callable

MALLOC_ARENAS = 2
"""glibc malloc arenas the hub's threads share (``MALLOC_ARENA_MAX``): ``limit_malloc_arenas``."""
_M_ARENA_MAX = -8
"""``mallopt``'s parameter number for the arena limit (glibc's malloc.h)."""


def settle_heap() -> int:
    """Collect once, then freeze every object that survived; how many were frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def keep_heap_frozen() -> Callable[[], None]:
    """From now on, freeze what survives each full collection; the function undoes it."""

    def freeze_survivors(phase: str, info: dict[str, int]) -> None:
        if phase == "stop" and info["generation"] == 2:
            gc.freeze()

    gc.callbacks.append(freeze_survivors)
    return lambda: gc.callbacks.remove(freeze_survivors)


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Let at most ``arenas`` glibc malloc arenas serve the process's threads.

    librdkafka runs some thirty threads in a hub process, and glibc gives threads arenas of
    their own, up to eight per core: memory freed in one arena is not reused by the others.
    In the benchmark the hub process peaked at 233-271 MB (six runs) with the default and
    at 210 MB with two arenas, at the same throughput. Call it before the Kafka clients
    start: a thread keeps the arena it got. ``MALLOC_ARENA_MAX`` in the environment (which
    glibc reads itself) wins; elsewhere than glibc nothing changes. True if it was applied.
    """
    if "MALLOC_ARENA_MAX" in os.environ or platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    return bool(libc.mallopt(_M_ARENA_MAX, arenas))
