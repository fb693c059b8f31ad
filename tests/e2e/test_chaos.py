"""A small `ketenhub chaos`: nothing lost, nothing twice, through kills, restarts, rebalances.

It brings its own broker, because one scenario restarts it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.context import load_registry
from hub.kafka.connection import KafkaConnection
from hub.kafka.local import LocalKafka
from hub.settings import Settings
from hub.tools.chaos import SCENARIOS, run_scenario
from tests.e2e.conftest import broker_of_our_own

pytestmark = pytest.mark.kafka


@pytest.fixture(scope="module")
def own_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKafka]:
    with broker_of_our_own(tmp_path_factory.mktemp("chaos-kafka")) as kafka:
        yield kafka


@pytest.mark.timeout(480)  # a broker restart on a busy 2-core machine takes its time
@pytest.mark.parametrize("scenario", SCENARIOS)
async def test_nothing_lost_nothing_twice(
    scenario: str, own_broker: LocalKafka, tmp_path: Path
) -> None:
    settings = Settings(bootstrap=own_broker.bootstrap, partitions=3)
    result = await run_scenario(
        scenario, kafka=KafkaConnection(own_broker.bootstrap), broker=own_broker,
        settings=settings, registry=load_registry(settings), messages=300, rate=150.0,
        workdir=tmp_path,
    )  # fmt: skip
    assert result.sent == 300
    assert (result.lost, result.duplicated) == (0, 0), result
    assert result.delivered == 300
