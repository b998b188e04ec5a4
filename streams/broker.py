"""A real single-node Apache Kafka broker (KRaft) for tests and local runs.

The jars of a pinned 4.x release come from Maven Central, resolved by the machine's Maven
into a cache kept between runs (`fetch_kafka`). `KafkaBroker` writes a server.properties for
one combined broker+controller on loopback ports, formats its storage once and runs
`java kafka.Kafka`; `stop()` and `start()` again reuse the same data and ports, which is what
the broker-fault test needs. `python -m streams.broker` starts one until Ctrl-C.
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

KAFKA_VERSION = "4.1.1"
LOG4J_VERSION = "2.25.3"
SLF4J_VERSION = "2.0.17"  # log4j-slf4j2-impl needs the 2.x API; Maven would pick 1.7 otherwise

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>outage-radar</groupId><artifactId>kafka-runtime</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId>
      <version>{kafka}</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId>
      <version>{slf4j}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId>
      <version>{log4j}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId>
      <version>{log4j}</version></dependency>
  </dependencies>
</project>
"""

_LOG4J2 = """status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = {log}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = {level}
rootLogger.appenderRef.file.ref = file
"""


class BrokerError(RuntimeError):
    """The Kafka broker could not be fetched, formatted or started."""


def cache_dir() -> Path:
    """Where the Kafka jars are cached (`OUTAGE_RADAR_CACHE` or ~/.cache/outage-radar)."""
    root = os.environ.get("OUTAGE_RADAR_CACHE") or Path.home() / ".cache" / "outage-radar"
    return Path(root) / f"kafka-{KAFKA_VERSION}"


def _require(tool: str, why: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise BrokerError(f"`{tool}` not found on PATH: {why} "
                          f"(on Debian: apt-get install openjdk-17-jre-headless maven)")
    return path


def fetch_kafka() -> Path:
    """Resolve the pinned Kafka jars with Maven into the cache (idempotent); return libs/."""
    home = cache_dir()
    libs = home / "libs"
    if (libs / ".complete").exists():
        return libs
    mvn = _require("mvn", "Maven resolves the Apache Kafka jars from Maven Central")
    _require("java", "the Kafka broker runs on Java 17")
    home.mkdir(parents=True, exist_ok=True)
    (home / "pom.xml").write_text(_POM.format(kafka=KAFKA_VERSION, slf4j=SLF4J_VERSION,
                                              log4j=LOG4J_VERSION))
    staging = Path(tempfile.mkdtemp(prefix="libs-", dir=home))
    cmd = [mvn, "-q", "-B", "-f", str(home / "pom.xml"), "dependency:copy-dependencies",
           f"-DoutputDirectory={staging}", "-DincludeScope=runtime"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise BrokerError(f"mvn could not resolve kafka_2.13:{KAFKA_VERSION}:\n"
                          f"{done.stdout[-3000:]}{done.stderr[-3000:]}")
    (staging / ".complete").write_text(KAFKA_VERSION)
    shutil.rmtree(libs, ignore_errors=True)
    staging.rename(libs)
    return libs


def free_port() -> int:
    """A TCP port on loopback that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cluster_id() -> str:
    """A random Kafka cluster id (a Uuid: 16 bytes, URL-safe base64 without padding).

    Like Kafka's own `Uuid.randomUuid`, never one starting with "-": the storage tool's
    argument parser would read it as an option (1 run in 64 failed to format its storage).
    """
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cid.startswith("-"):
            return cid


class KafkaBroker:
    """One KRaft node (broker + controller) on loopback, with its data in `data_dir`."""

    def __init__(self, data_dir: str | Path | None = None, *, port: int | None = None,
                 log_level: str = "WARN", heap: str = "512m") -> None:
        self.data_dir = Path(data_dir or tempfile.mkdtemp(prefix="outage-radar-kafka-"))
        self.port = port or free_port()
        self.controller_port = free_port()
        self.log_level = log_level
        self.heap = heap
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "server.log"

    def _properties(self) -> str:
        settings = {
            "process.roles": "broker,controller", "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{self.controller_port}",
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port},"
                         f"CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": str(self.data_dir / "logs"),
            "num.partitions": "1", "num.network.threads": "2", "num.io.threads": "2",
            "background.threads": "2", "num.recovery.threads.per.data.dir": "1",
            "offsets.topic.replication.factor": "1", "offsets.topic.num.partitions": "4",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1", "transaction.state.log.num.partitions": "2",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "group.min.session.timeout.ms": "1000",  # tests detect a killed worker quickly
            "log.cleaner.backoff.ms": "1000", "log.segment.bytes": "16777216",
            "auto.create.topics.enable": "true",
        }
        return "".join(f"{k}={v}\n" for k, v in settings.items())

    def _java(self, main: str, *args: str) -> list[str]:
        libs = fetch_kafka()
        java = _require("java", "the Kafka broker runs on Java 17")
        log4j = self.data_dir / "log4j2.properties"
        return [java, f"-Xmx{self.heap}", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-Djava.awt.headless=true",
                f"-Dlog4j2.configurationFile={log4j}", "-cp", f"{libs}/*", main, *args]

    def _prepare(self) -> Path:
        """Write the configuration files and format the storage once."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        props = self.data_dir / "server.properties"
        props.write_text(self._properties())
        (self.data_dir / "log4j2.properties").write_text(
            _LOG4J2.format(log=self.log_path, level=self.log_level))
        if not (self.data_dir / "logs" / "meta.properties").exists():
            cmd = self._java("kafka.tools.StorageTool", "format", "-t", _cluster_id(),
                             "-c", str(props), "--ignore-formatted")
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode != 0:
                raise BrokerError(f"formatting Kafka storage failed:\n{done.stdout}{done.stderr}")
        return props

    def start(self, timeout: float = 90.0) -> KafkaBroker:
        """Start the broker (formatting fresh storage first) and wait until it serves."""
        if self.running:
            return self
        props = self._prepare()
        with open(self.data_dir / "stdout.log", "ab") as out:
            self._proc = subprocess.Popen(self._java("kafka.Kafka", str(props)),
                                          stdout=out, stderr=subprocess.STDOUT,
                                          start_new_session=True)
        self._wait_ready(timeout)
        return self

    @property
    def pid(self) -> int | None:
        """The broker's process id while it runs (benchmarks read its CPU time)."""
        return self._proc.pid if self.running else None  # type: ignore[union-attr]

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _wait_ready(self, timeout: float) -> None:
        """Poll until a metadata request lists this broker (the port alone opens too early)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise BrokerError(f"Kafka exited with {self._proc.returncode}:\n{self._tail()}")
            if self._serves():
                return
            time.sleep(0.3)
        self.stop()
        raise BrokerError(f"Kafka did not serve on {self.bootstrap} in {timeout:.0f}s:\n"
                          f"{self._tail()}")

    def _serves(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                pass
        except OSError:
            return False
        from kafka import KafkaAdminClient  # lazy: the broker module itself needs no client
        try:
            admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=3000,
                                     bootstrap_timeout_ms=3000)
        except Exception:  # noqa: BLE001 - not ready yet, whatever the client says
            return False
        try:
            return bool(admin.describe_cluster().get("brokers"))
        except Exception:  # noqa: BLE001
            return False
        finally:
            admin.close()

    def _tail(self, n: int = 4000) -> str:
        texts = [p.read_text(errors="replace")[-n:] for p in
                 (self.data_dir / "stdout.log", self.log_path) if p.exists()]
        return "\n".join(texts)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the broker cleanly (SIGTERM, then SIGKILL); its data stays for `start`."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None

    def __enter__(self) -> KafkaBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    """Start a broker for local use, print its bootstrap address and run until Ctrl-C."""
    parser = argparse.ArgumentParser(
        prog="python -m streams.broker",
        description=f"Run a local single-node Apache Kafka {KAFKA_VERSION} broker (KRaft) "
                    "until Ctrl-C; prints its bootstrap address.")
    parser.add_argument("port", nargs="?", type=int, default=None,
                        help="loopback port for clients (default: a free one)")
    args = parser.parse_args(argv)
    try:
        broker = KafkaBroker(port=args.port, log_level="INFO").start()
    except BrokerError as exc:
        sys.exit(f"outage-radar broker: {exc}")
    print(broker.bootstrap, flush=True)
    print(f"data and logs: {broker.data_dir}  (Ctrl-C stops)", file=sys.stderr, flush=True)
    try:
        while broker.running:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        broker.stop()


if __name__ == "__main__":
    main()
