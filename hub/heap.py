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

import gc
from collections.abc import Callable


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
