"""Notices a stage consumer that fell out of its consumer group and does not come back.

Seen under ``ketenhub chaos`` (broker restart at 400 msg/s): after the group coordinator went
away, aiokafka 0.14's pattern-subscribed ingest consumer never rejoined; the group stayed
empty, the hub alive and idle, and partner messages waited for good. Holding no partition
for a while is normal for a spare instance, so only a consumer the group itself no longer
lists counts as lost.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiokafka.errors import KafkaError

from hub.kafka.connection import KafkaConnection

REJOIN_DEADLINE_S = 60.0


@dataclass
class GroupWatch:
    is_member: Callable[[], Awaitable[bool]]
    deadline_s: float = REJOIN_DEADLINE_S
    _empty_since: float | None = None
    _checked_at: float | None = None

    async def lost(self, assigned: bool, now: float) -> bool:
        """True when the consumer has held no partition for ``deadline_s`` and its group does
        not list it (asked at most once per ``deadline_s``)."""
        if assigned:
            self._empty_since = self._checked_at = None
            return False
        if self._empty_since is None:
            self._empty_since = now
        if now - self._empty_since < self.deadline_s:
            return False
        if self._checked_at is not None and now - self._checked_at < self.deadline_s:
            return False
        self._checked_at = now
        return not await self.is_member()

    def reset(self) -> None:
        self._empty_since = self._checked_at = None


async def listed_in_group(kafka: KafkaConnection, group_id: str, consumer: Any) -> bool:
    """Whether the broker lists ``consumer`` as a member of ``group_id``.

    A consumer without a member id is in no group: aiokafka forgets the id when the group
    throws the member out (session expired), and one that never gets a new one is the stuck
    consumer this looks for. True when the broker cannot be asked (away, say): a consumer is
    only given up on when the group answers that it is not there.
    """
    coordinator = getattr(consumer, "_coordinator", None)
    member_id = getattr(coordinator, "member_id", None)
    if coordinator is None or not isinstance(member_id, str):
        return True  # not aiokafka's consumer as this module knows it: no opinion
    if not member_id:
        return False
    admin = kafka.admin()
    try:
        await admin.start()
        [response] = await admin.describe_consumer_groups([group_id])
        groups = response.to_object()["groups"]
    except KafkaError:
        return True
    finally:
        await admin.close()
    if any(g["error_code"] != 0 for g in groups):  # e.g. the coordinator still loading
        return True
    return any(m["member_id"] == member_id for g in groups for m in g["members"])
