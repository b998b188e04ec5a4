"""Session fixture: one real Apache Kafka broker (KRaft) for every test marked `kafka`.

The broker's jars are fetched by `streams.broker.fetch_kafka` (Maven Central, cached), so the
README's test command runs these tests on a fresh machine. Each test gets its own set of topics
(a unique prefix), so tests do not see each other's messages.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator

import pytest

from streams import kafka_io
from streams.broker import BrokerError, KafkaBroker

PARTITIONS = 4
_counter = itertools.count()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder needs the broker."""
    for item in items:
        if "tests/kafka/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.kafka)


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    """A real broker on a free loopback port for the whole session, with the default topics."""
    if not (shutil.which("java") and shutil.which("mvn")):
        pytest.fail("Kafka tests need java and mvn (apt-get install openjdk-17-jre-headless "
                    "maven)")
    broker = KafkaBroker(tmp_path_factory.mktemp("kafka"))
    try:
        broker.start()
    except BrokerError as exc:
        pytest.fail(f"could not start the Kafka broker: {exc}")
    kafka_io.create_topics(broker.bootstrap, kafka_io.TopicNames(), partitions=PARTITIONS)
    yield broker
    broker.stop()


@pytest.fixture
def bootstrap(kafka_broker: KafkaBroker) -> str:
    return kafka_broker.bootstrap


@pytest.fixture
def topics(bootstrap: str) -> kafka_io.TopicNames:
    """A fresh set of the five topics (inputs with several partitions, state compacted)."""
    names = kafka_io.TopicNames.prefixed(f"t{os.getpid()}-{next(_counter)}.")
    kafka_io.create_topics(bootstrap, names, partitions=PARTITIONS)
    return names


def pytest_configure(config: pytest.Config) -> None:
    """kafka-python 3 loads its protocol schemas with a deprecated importlib call: not ours."""
    config.addinivalue_line("filterwarnings",
                            "ignore:.*is deprecated. Use files\\(\\) instead:DeprecationWarning")
