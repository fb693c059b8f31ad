"""The demo's simulated partners: one partner-SDK client each, reacting to their inbox.

They use the SDK exactly as a partner system would (``hub.partner_client.client_for`` logs
each in as itself); what they say and how they answer comes from ``DemoScript``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Coroutine
from typing import Any

from hub.sdk import Ack, Delivery, DeliveryKind, PartnerClient
from hub.tools.demo_ledger import Ledger
from hub.tools.demo_script import DemoScript, Outgoing
from schemas.partners import Partner

FOLLOW_UP_WAIT_S = 60.0


class SimulatedChain:
    def __init__(
        self, script: DemoScript, ledger: Ledger, client_of: Callable[[str], PartnerClient]
    ) -> None:
        self.script = script
        self.ledger = ledger
        self.partners = list(script.registry.partners)
        self.clients = {p.id: client_of(p.id) for p in self.partners}
        self._tasks: set[asyncio.Task[None]] = set()
        for partner in self.partners:
            self._wire(partner)

    def _wire(self, partner: Partner) -> None:
        client = self.clients[partner.id]

        async def count(delivery: Delivery) -> None:
            self.ledger.record(partner.id, delivery)

        async def react(delivery: Delivery) -> None:
            self.ledger.record(partner.id, delivery)
            for out in self.script.react(partner, delivery.value):
                self._spawn(self.send(out))

        for kind in (DeliveryKind.ACK, DeliveryKind.NACK, DeliveryKind.NOTIFY):
            client.on(kind)(count)
        client.on_forward(react)

    async def run(self, rate: float, stop: asyncio.Event) -> None:
        """Start every partner, then the day's initiatives at ``rate`` per second."""
        await asyncio.gather(*(c.start() for c in self.clients.values()))
        try:
            interval = 1.0 / rate if rate > 0 else 1.0
            next_at = time.monotonic()
            while not stop.is_set():
                out = self.script.next_initiative()
                if out is not None:
                    self._spawn(self.send(out))
                next_at += interval
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), max(0.0, next_at - time.monotonic()))
        finally:
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await asyncio.gather(*(c.stop() for c in self.clients.values()),
                                 return_exceptions=True)  # fmt: skip

    async def send(self, out: Outgoing) -> None:
        client = self.clients[out.sender.id]
        sent = await client.send(out.payload)
        self.ledger.record_send(out, sent)
        if out.then is None:
            return
        try:
            answer = await client.answer(sent, timeout=FOLLOW_UP_WAIT_S)
        except TimeoutError:
            self.ledger.failures.append(f"{out.sender.id}: no answer in {FOLLOW_UP_WAIT_S:.0f} s")
            return
        if isinstance(answer, Ack):
            await asyncio.sleep(out.delay_s)
            await self.send(out.then)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            self.ledger.failures.append(f"{type(error).__name__}: {error}")
