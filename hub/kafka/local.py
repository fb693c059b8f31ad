"""The project's own single-node Apache Kafka (KRaft), run from the official Maven Central jars.

No Docker: Maven resolves ``org.apache.kafka:kafka_2.13`` and its closure into a git-ignored
cache once; after that starting a broker never touches the network.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from hub.kafka.auth import ScramCredential
from hub.secret_store import SecretStore, new_password, read_secret_file, write_private

KAFKA_VERSION = "4.1.1"
LOG4J_VERSION = "2.24.3"
READY_TIMEOUT_S = 90.0

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>ketenhub</groupId>
  <artifactId>local-kafka</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId>
      <version>{kafka}</version>
    </dependency>
    <!-- Kafka 4 logs through Log4j2; the broker jar does not bring a binding of its own. -->
    <dependency>
      <groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId>
      <version>{log4j}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId>
      <version>{log4j}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId><artifactId>log4j-1.2-api</artifactId>
      <version>{log4j}</version>
    </dependency>
  </dependencies>
</project>
"""

_LOG4J2 = """status = warn
appender.file.type = Console
appender.file.name = STDOUT
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stdout.ref = STDOUT
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = INFO
"""


BROKER_USER = "ketenhub-broker"
"""The broker's own principal (inter-broker and broker-to-controller traffic): a super user."""
ADMIN_USER = "ketenhub-admin"
"""The operator's principal for ``ketenhub partners provision``: a super user."""
SASL_MECHANISM = "SCRAM-SHA-512"
AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"


class LocalKafkaError(RuntimeError):
    """Something the person running the command can fix; the message says what."""


def _require(tool: str, hint: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise LocalKafkaError(f"{tool} not found on PATH: {hint}")
    return path


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def free_port() -> int:
    """A port nothing listens on right now, for brokers that must not collide (tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_port_and_next() -> int:
    """A free port whose next one is free too: a broker started with only its port (the CLI,
    ``KETENHUB_KAFKA_PORT``) binds its controller to port + 1, which ``free_port`` alone
    does not promise (a CI run once found it taken by another socket)."""
    for _ in range(100):
        port = free_port()
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no free pair of loopback ports in 100 tries")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.split(") ", 1)[-1].startswith("Z"):
            return False
    return True


@dataclass(frozen=True)
class KafkaDistribution:
    """The broker's jars, fetched once with Maven into ``cache_dir``."""

    cache_dir: Path
    version: str = KAFKA_VERSION

    @property
    def libs(self) -> Path:
        return self.cache_dir / f"kafka-{self.version}" / "libs"

    @property
    def classpath(self) -> str:
        return str(self.libs / "*")

    def is_fetched(self) -> bool:
        return (self.libs / f"kafka_2.13-{self.version}.jar").exists()

    def fetch(self, say: Callable[[str], None] = print) -> None:
        """Resolve the broker and its closure from Maven Central; a no-op when cached."""
        if self.is_fetched():
            return
        _require("java", "install a Java 17+ runtime (Debian: openjdk-17-jre-headless)")
        mvn = _require("mvn", "install Apache Maven (Debian: maven)")
        work = self.libs.parent
        work.mkdir(parents=True, exist_ok=True)
        (work / "pom.xml").write_text(_POM.format(kafka=self.version, log4j=LOG4J_VERSION))
        staging = (work / "libs.partial").resolve()
        shutil.rmtree(staging, ignore_errors=True)
        say(f"Fetching Apache Kafka {self.version} jars from Maven Central into {self.libs} ...")
        result = subprocess.run(
            [
                mvn, "-B", "-q", "-f", str(work / "pom.xml"),
                "dependency:copy-dependencies", "-DincludeScope=runtime",
                f"-DoutputDirectory={staging}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )  # fmt: skip
        if result.returncode != 0:
            tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
            raise LocalKafkaError(f"Maven could not fetch Kafka {self.version}:\n{tail}")
        shutil.rmtree(self.libs, ignore_errors=True)
        staging.rename(self.libs)
        say(f"Fetched {len(list(self.libs.glob('*.jar')))} jars.")


@dataclass(frozen=True)
class KafkaStatus:
    """The broker as its pid file records it: pid and port of one and the same process."""

    running: bool
    bootstrap: str
    pid: int | None
    log: Path
    data: Path
    auth: bool = False
    port: int = 19092


@dataclass(frozen=True)
class RecordedBroker:
    """What a start wrote to ``kafka.pid``: the process and the port it listens on."""

    pid: int
    port: int


@dataclass(frozen=True)
class LocalKafka:
    """One single-node broker+controller on loopback, with its files under ``run_dir``.

    With ``auth`` the client listener speaks SASL_PLAINTEXT with SCRAM-SHA-512 and the
    StandardAuthorizer denies whatever no ACL allows. Two super users are created when the
    storage is formatted: the broker's own principal (its password stays in ``run_dir``) and
    the operator's admin (password in ``secrets_dir``/kafka/ketenhub-admin.password). The
    controller listener, loopback only, authenticates the broker with SASL/PLAIN, so no
    listener accepts an anonymous client.
    """

    distribution: KafkaDistribution
    run_dir: Path
    port: int = 19092
    controller_port: int | None = None
    heap: str = "1g"
    auth: bool = False
    secrets_dir: Path | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.run_dir / "kafka.log"

    @property
    def data_dir(self) -> Path:
        return self.run_dir / "data"

    @property
    def _pid_file(self) -> Path:
        return self.run_dir / "kafka.pid"

    @property
    def _security_file(self) -> Path:
        return self.run_dir / "security.json"

    @property
    def secrets(self) -> SecretStore:
        return SecretStore(self.secrets_dir or self.run_dir / "secrets")

    def formatted_auth(self) -> bool | None:
        """Whether the storage was formatted with authentication; None before the first start."""
        if not (self.data_dir / "meta.properties").exists():
            return None
        try:
            return bool(json.loads(self._security_file.read_text())["auth"])
        except (OSError, ValueError, KeyError):
            return False

    def recorded(self) -> RecordedBroker | None:
        """The broker this ``run_dir`` started, while its process lives; its port is the one
        it was started on, whatever port this object was made with."""
        try:
            record = json.loads(self._pid_file.read_text())
            found = RecordedBroker(int(record["pid"]), int(record.get("port", self.port)))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        return found if _pid_alive(found.pid) else None

    def _pid(self) -> int | None:
        recorded = self.recorded()
        return recorded.pid if recorded else None

    def status(self) -> KafkaStatus:
        """Pid and port of the recorded broker (never this object's port with another
        process's pid); without one, this object's port and no pid."""
        recorded = self.recorded()
        pid, port = (recorded.pid, recorded.port) if recorded else (None, self.port)
        running = pid is not None and _port_open(port)
        auth = bool(self.formatted_auth())
        return KafkaStatus(running, f"127.0.0.1:{port}", pid, self.log_path, self.data_dir, auth,
                           port)  # fmt: skip

    def start(self, say: Callable[[str], None] = print) -> KafkaStatus:
        """Start the broker unless ours already runs; return once it answers on its port."""
        current = self.status()
        if current.pid is not None and current.port != self.port:
            raise LocalKafkaError(
                f"the local Kafka of {self.run_dir} already runs at {current.bootstrap} (pid "
                f"{current.pid}), not on port {self.port}: use that port "
                f"(export KETENHUB_KAFKA_PORT={current.port}), or `ketenhub kafka stop` first"
            )
        if current.running:
            say(f"Kafka already running at {self.bootstrap} (pid {current.pid}).")
            return current
        if current.pid is not None:
            say(f"Kafka process {current.pid} is starting; waiting for it.")
            self._wait_ready(current.pid, 0)
            return self.status()
        formatted = self.formatted_auth()
        if formatted is not None and formatted != self.auth:
            have, want = ("with", "without") if formatted else ("without", "with")
            raise LocalKafkaError(
                f"the local Kafka in {self.run_dir} was formatted {have} authentication; to "
                f"run it {want}, stop it and remove {self.data_dir} (its topics are lost) or "
                "use another KETENHUB_HOME"
            )
        java = _require("java", "install a Java 17+ runtime (Debian: openjdk-17-jre-headless)")
        self.distribution.fetch(say)
        if _port_open(self.port):
            raise LocalKafkaError(
                f"port {self.port} is taken by another program; stop it or choose another "
                "port with KETENHUB_KAFKA_PORT"
            )
        controller_port = self.controller_port or self.port + 1
        self.run_dir.mkdir(parents=True, exist_ok=True)
        properties = self._write_config(controller_port)
        log4j = self.run_dir / "log4j2.properties"
        log4j.write_text(_LOG4J2)
        base = [java, f"-Dlog4j2.configurationFile={log4j}", "-cp", self.distribution.classpath]
        if formatted is None:
            self._format(base, properties)
        log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            process = subprocess.Popen(
                [*base[:1], "-Xms256m", f"-Xmx{self.heap}", *base[1:], "kafka.Kafka",
                 str(properties)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )  # fmt: skip
        self._pid_file.write_text(json.dumps({"pid": process.pid, "port": self.port}))
        say(f"Starting Kafka {self.distribution.version} at {self.bootstrap}; log: {self.log_path}")
        self._wait_ready(process.pid, log_offset)
        say(f"Kafka is up at {self.bootstrap} (pid {process.pid}).")
        if self.auth:
            say(
                f"Authentication on (SASL_PLAINTEXT, {SASL_MECHANISM}, ACLs): admin user "
                f"{ADMIN_USER}, password in {self.secrets.kafka_password_path(ADMIN_USER)}"
            )
        return self.status()

    def stop(self, say: Callable[[str], None] = print, timeout_s: float = 30.0) -> None:
        pid = self._pid()
        if pid is None:
            say("Kafka is not running.")
            self._pid_file.unlink(missing_ok=True)
            return
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while _pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if _pid_alive(pid):
            say(f"Kafka (pid {pid}) did not stop within {timeout_s:.0f}s; killing it.")
            os.kill(pid, signal.SIGKILL)
        self._pid_file.unlink(missing_ok=True)
        say(f"Kafka stopped (pid {pid}).")

    def _format(self, base: list[str], properties: Path) -> None:
        cluster_id = subprocess.run(
            [*base, "kafka.tools.StorageTool", "random-uuid"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        command = [
            *base, "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(properties),
        ]  # fmt: skip
        if self.auth:
            # Salted credentials: no password appears on a command line.
            admin, _ = self.secrets.ensure_kafka_password(ADMIN_USER)
            for name, password in ((BROKER_USER, self._broker_password()), (ADMIN_USER, admin)):
                scram = ScramCredential.derive(password).storage_tool_argument(name)
                command += ["--add-scram", scram]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise LocalKafkaError(f"formatting KRaft storage failed:\n{result.stderr[-2000:]}")
        self._security_file.write_text(json.dumps({"auth": self.auth}))

    def _broker_password(self) -> SecretStr:
        """The broker principal's password: made once, kept in ``run_dir`` (0600)."""
        path = self.run_dir / "broker.password"
        if not path.exists():
            write_private(path, new_password().get_secret_value() + "\n")
        return read_secret_file(path, "the local broker's password")

    def _write_config(self, controller_port: int) -> Path:
        lines = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{controller_port}",
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port},"
            f"CONTROLLER://127.0.0.1:{controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": str(self.data_dir.resolve()),
            "num.partitions": "6",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "6",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "6",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "auto.create.topics.enable": "false",
            "log.retention.check.interval.ms": "60000",
            # Kafka 3.6+ checks every transactional produce with the transaction coordinator
            # (KIP-890 part 1). While the previous transaction's markers are being written the
            # coordinator answers CONCURRENT_TRANSACTIONS, which the broker passes to clients
            # without KIP-890 part 2 (aiokafka, librdkafka) as NOT_ENOUGH_REPLICAS so that they
            # retry (KAFKA-15459): three quarters of a demo's hub log, and a backoff per batch.
            # The check guards against a write that arrives after its transaction was aborted
            # (a hanging transaction), which needs a delayed request; on one loopback broker
            # that is rare. The production cluster (docker-compose.yml) keeps the check.
            "transaction.partition.verification.enable": "false",
        }
        if self.auth:
            lines |= self._auth_config(controller_port)
        path = self.run_dir / "server.properties"
        # 0600: with auth it holds the broker's own password.
        write_private(path, "".join(f"{k}={v}\n" for k, v in lines.items()))
        return path

    def _auth_config(self, controller_port: int) -> dict[str, str]:
        """SASL/SCRAM for clients and between brokers, SASL/PLAIN to the controller, ACLs on."""
        password = self._broker_password().get_secret_value()
        scram = "org.apache.kafka.common.security.scram.ScramLoginModule"
        plain = "org.apache.kafka.common.security.plain.PlainLoginModule"
        return {
            "listeners": f"SASL_PLAINTEXT://127.0.0.1:{self.port},"
            f"CONTROLLER://127.0.0.1:{controller_port}",
            "advertised.listeners": f"SASL_PLAINTEXT://127.0.0.1:{self.port}",
            "inter.broker.listener.name": "SASL_PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:SASL_PLAINTEXT,"
            "SASL_PLAINTEXT:SASL_PLAINTEXT",
            "sasl.enabled.mechanisms": SASL_MECHANISM,
            "sasl.mechanism.inter.broker.protocol": SASL_MECHANISM,
            "listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config": (
                f'{scram} required username="{BROKER_USER}" password="{password}";'
            ),
            # SCRAM credentials live in the metadata the controller serves, so the controller
            # listener cannot use SCRAM: it uses PLAIN with the broker as its only user.
            "sasl.mechanism.controller.protocol": "PLAIN",
            "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
            "listener.name.controller.plain.sasl.jaas.config": (
                f'{plain} required username="{BROKER_USER}" password="{password}" '
                f'user_{BROKER_USER}="{password}";'
            ),
            "authorizer.class.name": AUTHORIZER,
            "super.users": f"User:{BROKER_USER};User:{ADMIN_USER}",
            "allow.everyone.if.no.acl.found": "false",
        }

    def _wait_ready(self, pid: int, log_offset: int) -> None:
        """Ready when this run's log says so and the port accepts connections."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if not _pid_alive(pid):
                self._pid_file.unlink(missing_ok=True)
                raise LocalKafkaError(
                    f"Kafka exited during start; last lines of {self.log_path}:\n{self._log_tail()}"
                )
            if _port_open(self.port) and b"Kafka Server started" in self._log_since(log_offset):
                return
            time.sleep(0.25)
        raise LocalKafkaError(
            f"Kafka did not answer within {READY_TIMEOUT_S:.0f}s; see {self.log_path}"
        )

    def _log_since(self, offset: int) -> bytes:
        try:
            with self.log_path.open("rb") as log:
                log.seek(offset)
                return log.read()
        except OSError:
            return b""

    def _log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""
