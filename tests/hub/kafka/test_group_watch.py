from types import SimpleNamespace

from hub.kafka.connection import KafkaConnection
from hub.kafka.group_watch import GroupWatch, listed_in_group


class Group:
    def __init__(self, member: bool) -> None:
        self.member = member
        self.asked = 0

    async def is_member(self) -> bool:
        self.asked += 1
        return self.member


async def test_a_consumer_without_partitions_is_lost_only_once_the_group_disowns_it() -> None:
    group = Group(member=True)
    watch = GroupWatch(group.is_member, deadline_s=60)
    assert not await watch.lost(False, now=0)
    assert not await watch.lost(False, now=59)
    assert group.asked == 0  # an instance between rebalances is not a lost one
    assert not await watch.lost(False, now=60)  # a spare instance: the group lists it
    assert group.asked == 1
    assert not await watch.lost(False, now=100)
    assert group.asked == 1  # asked at most once per deadline
    group.member = False
    assert await watch.lost(False, now=121)
    assert group.asked == 2


async def test_holding_partitions_again_starts_the_clock_over() -> None:
    group = Group(member=False)
    watch = GroupWatch(group.is_member, deadline_s=60)
    assert not await watch.lost(False, now=0)
    assert not await watch.lost(True, now=50)
    assert not await watch.lost(False, now=70)
    assert not await watch.lost(False, now=129)
    assert await watch.lost(False, now=130)


async def test_a_consumer_that_lost_its_member_id_is_in_no_group() -> None:
    """aiokafka forgets the member id when the group throws the member out; the broker need
    not even be asked (it would list the group as empty)."""
    unreachable = KafkaConnection("127.0.0.1:1")
    thrown_out = SimpleNamespace(_coordinator=SimpleNamespace(member_id=""))
    assert not await listed_in_group(unreachable, "g", thrown_out)
    assert await listed_in_group(unreachable, "g", SimpleNamespace())  # no opinion
