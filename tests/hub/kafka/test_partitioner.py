from aiokafka.partitioner import DefaultPartitioner
from aiokafka.partitioner import murmur2 as aiokafka_murmur2
from hypothesis import given
from hypothesis import strategies as st

from hub.kafka.partitioner import KeyPartitioner, murmur2


@given(st.binary(max_size=200))
def test_murmur2_is_kafkas(data: bytes) -> None:
    assert murmur2(data) == aiokafka_murmur2(data) & 0xFFFFFFFF


def test_murmur2_matches_the_java_client_on_known_keys() -> None:
    """Values from Kafka's own UtilsTest (signed ints there)."""
    assert murmur2(b"21") & 0xFFFFFFFF == -973932308 & 0xFFFFFFFF
    assert murmur2(b"foobar") & 0xFFFFFFFF == -790332482 & 0xFFFFFFFF
    assert murmur2(b"a-little-bit-long-string") & 0xFFFFFFFF == -985981536 & 0xFFFFFFFF


@given(st.lists(st.binary(min_size=1, max_size=80), min_size=1, max_size=30),
       st.integers(min_value=1, max_value=64))  # fmt: skip
def test_keyed_records_land_where_aiokafka_would_put_them(keys: list[bytes], count: int) -> None:
    partitions = list(range(count))
    ours = KeyPartitioner(cache_size=8)
    for key in keys * 2:  # the second round comes from the cache (or after it was cleared)
        assert ours(key, partitions, partitions) == DefaultPartitioner()(key, partitions, [])


def test_a_record_without_key_goes_to_an_available_partition() -> None:
    assert KeyPartitioner()(None, [0, 1, 2], [2]) == 2
    assert KeyPartitioner()(None, [0, 1, 2], []) in (0, 1, 2)


def test_a_bytearray_key_is_partitioned_like_its_bytes() -> None:
    ours = KeyPartitioner()
    assert ours(bytearray(b"household"), [0, 1, 2], []) == ours(b"household", [0, 1, 2], [])
