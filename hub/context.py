"""Everything a hub command needs, loaded once from settings and passed down explicitly."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from pydantic import SecretStr

from adapters.registry import AdapterRegistry, load_adapters
from hub.kafka.connection import KafkaConnection
from hub.kafka.local import SASL_MECHANISM, KafkaDistribution, LocalKafka, LocalKafkaError
from hub.kafka.provision import reader_group
from hub.kafka.topics import TopicNames
from hub.keyring import KeyRing, load_keyring
from hub.secret_store import SecretError, SecretStore, read_secret_file
from hub.settings import DEFAULT_HUB_USER, Environment, Settings
from hub.stages.pseudonyms import Pseudonymiser
from routing.policy import Policy
from schemas.partners import Partner, PartnerRegistry


class ConfigError(RuntimeError):
    """A configuration problem with a message that says how to fix it."""


def local_kafka(
    settings: Settings,
    run_dir: Path | None = None,
    port: int | None = None,
    auth: bool | None = None,
) -> LocalKafka:
    """The local broker; ``auth`` None means: as its storage was formatted (else without).

    Its port is ``port``, else ``KETENHUB_KAFKA_PORT`` when set, else the port the broker of
    this checkout (``KETENHUB_HOME``) was started on, so that a second shell without the
    variable reaches the same broker; else the default.
    """
    kafka = LocalKafka(
        KafkaDistribution(settings.home / "cache"),
        run_dir or settings.home / "kafka",
        port=port or settings.kafka_port,
        secrets_dir=settings.secrets_path,
    )
    recorded = kafka.recorded()
    if port is None and recorded is not None and "kafka_port" not in settings.model_fields_set:
        kafka = replace(kafka, port=recorded.port)
    return replace(kafka, auth=bool(kafka.formatted_auth()) if auth is None else auth)


LOOPBACK_HOSTS = ("localhost", "::1", "[::1]")


def broker_disagreement(settings: Settings) -> str | None:
    """Why the settings point past the broker this checkout runs, or None when they agree.

    ``KETENHUB_KAFKA_PORT`` must be that broker's port; a ``KETENHUB_BOOTSTRAP`` on this
    machine (loopback) must name it, since another loopback broker is someone else's (a
    leftover export, another checkout). A bootstrap elsewhere is a cluster, chosen on purpose.
    """
    kafka = local_kafka(settings)
    running = kafka.status()
    if running.pid is None:
        return None
    here = f"this checkout's Kafka runs at {running.bootstrap} (pid {running.pid}, {kafka.run_dir})"
    if settings.bootstrap:
        ports = _loopback_ports(settings.bootstrap)
        if ports is None or running.port in ports:
            return None
        return (
            f"KETENHUB_BOOTSTRAP={settings.bootstrap} is another broker on this machine, but "
            f"{here}: unset KETENHUB_BOOTSTRAP to use it, or `ketenhub kafka stop` it first"
        )
    if running.port != kafka.port:
        return (
            f"KETENHUB_KAFKA_PORT={kafka.port}, but {here}: export "
            f"KETENHUB_KAFKA_PORT={running.port} (or unset it), or `ketenhub kafka stop` first"
        )
    return None


def _loopback_ports(bootstrap: str) -> set[int] | None:
    """The ports of ``bootstrap``'s servers when all of them are on this machine, else None."""
    ports: set[int] = set()
    for server in bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        loopback = host.startswith("127.") or host.lower() in LOOPBACK_HOSTS
        if not loopback or not port.isdigit():
            return None
        ports.add(int(port))
    return ports


@contextmanager
def broker_for_command(settings: Settings, say: Callable[[str], None]) -> Iterator[None]:
    """The local broker for a command that needs one (demo, bench, chaos): started when
    neither ``KETENHUB_BOOTSTRAP`` nor a running local broker is there, and stopped again
    afterwards only if this started it, so `make run`'s setup is all these commands need."""
    started = None
    if not settings.bootstrap and not local_kafka(settings).status().running:
        started = local_kafka(settings)
        started.start(say)
    try:
        yield
    finally:
        if started is not None:
            started.stop(say)


def resolve_kafka(settings: Settings, user: str | None = None) -> KafkaConnection:
    """How to reach Kafka: bootstrap servers plus credentials.

    With a SASL protocol (``KETENHUB_KAFKA_SECURITY_PROTOCOL``, or the local broker started
    with ``--auth``) the client logs in as ``user`` when given (a partner acting as itself,
    the admin), else as ``KETENHUB_KAFKA_USERNAME``, else as the hub's default user.
    """
    bootstrap = resolve_bootstrap(settings)
    names = TopicNames(settings.topic_prefix)
    protocol = settings.kafka_security_protocol
    cafile = str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None
    mechanism = settings.kafka_sasl_mechanism
    if not settings.bootstrap and local_kafka(settings).auth:
        protocol, mechanism = "SASL_PLAINTEXT", mechanism or SASL_MECHANISM
    if not protocol.startswith("SASL_"):
        if settings.env is Environment.PRODUCTION and protocol == "PLAINTEXT":
            raise ConfigError(
                "KETENHUB_ENV=production refuses an unauthenticated Kafka connection: set "
                "KETENHUB_KAFKA_SECURITY_PROTOCOL=SASL_SSL (or SASL_PLAINTEXT inside a "
                "private network) with the hub's Kafka user and password"
            )
        return KafkaConnection(
            bootstrap=bootstrap, security_protocol=protocol, ssl_cafile=cafile,
            reader_group=reader_group(names, user),
        )  # fmt: skip
    username = user or settings.kafka_username or DEFAULT_HUB_USER
    return KafkaConnection(
        bootstrap=bootstrap,
        security_protocol=protocol,
        sasl_mechanism=mechanism or SASL_MECHANISM,
        username=username,
        password=kafka_password(settings, username),
        ssl_cafile=cafile,
        reader_group=reader_group(names, user),
    )


def kafka_password(settings: Settings, username: str) -> SecretStr:
    """The password of a Kafka user: from the environment for the configured user, else the
    secrets directory. A clear error names every place that was looked at."""
    try:
        if username == settings.kafka_username:
            if settings.kafka_password is not None:
                if not settings.kafka_password.get_secret_value().strip():
                    raise SecretError("KETENHUB_KAFKA_PASSWORD is set but empty")
                return settings.kafka_password
            if settings.kafka_password_file is not None:
                return read_secret_file(
                    settings.kafka_password_file, "KETENHUB_KAFKA_PASSWORD_FILE"
                )
        store = SecretStore(settings.secrets_path)
        password = store.kafka_password(username)
    except SecretError as exc:
        raise ConfigError(str(exc)) from None
    if password is None:
        own = username == (settings.kafka_username or DEFAULT_HUB_USER)
        hint = (
            "set KETENHUB_KAFKA_PASSWORD or KETENHUB_KAFKA_PASSWORD_FILE, or put it in "
            if own
            else "put it in "
        )
        raise ConfigError(
            f"no Kafka password for user {username!r}: {hint}"
            f"{store.kafka_password_path(username)} (`ketenhub partners provision` writes one "
            "for the hub and for every partner)"
        )
    return password


def resolve_bootstrap(settings: Settings) -> str:
    """``KETENHUB_BOOTSTRAP`` when set, else the local broker if it runs; refused when the
    settings and this checkout's running broker disagree (``broker_disagreement``)."""
    disagreement = broker_disagreement(settings)
    if disagreement is not None:
        raise LocalKafkaError(disagreement)
    if settings.bootstrap:
        return settings.bootstrap
    kafka = local_kafka(settings)
    if kafka.status().running:
        return kafka.bootstrap
    raise LocalKafkaError(
        "no Kafka to talk to: start the local one with `ketenhub kafka start`, "
        "or point KETENHUB_BOOTSTRAP at a cluster"
    )


@dataclass(frozen=True)
class HubContext:
    settings: Settings
    kafka: KafkaConnection
    names: TopicNames
    registry: PartnerRegistry
    policy: Policy
    adapters: AdapterRegistry
    pseudonyms: Pseudonymiser
    """The current key: every new pseudonym is made with it."""
    previous_pseudonyms: Pseudonymiser | None = None
    """The key before it, while readable: households still on it move on their next message."""

    def partner(self, partner_id: str) -> Partner:
        return require_partner(self.registry, partner_id)


def load_registry(settings: Settings) -> PartnerRegistry:
    try:
        _require_content(settings.partners_file)
        return PartnerRegistry.from_toml(settings.partners_file)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"partner registry {settings.partners_file}: {_reason(exc)}") from None


def _require_content(path: Path) -> None:
    """An empty file would parse as a registry or policy with nothing in it: say so instead."""
    if path.is_file() and not path.read_bytes().strip():
        raise ValueError("the file is empty")


def _reason(exc: OSError | ValueError) -> str:
    """An OS error without the errno and the repeated path: ``No such file or directory``."""
    return (exc.strerror or str(exc)) if isinstance(exc, OSError) else str(exc)


def require_partner(registry: PartnerRegistry, partner_id: str) -> Partner:
    """The registered partner ``partner_id``; for a typo the error lists the ones there are."""
    partner = registry.get(partner_id)
    if partner is None:
        known = ", ".join(p.id for p in registry.partners)
        raise ConfigError(f"unknown partner {partner_id!r}; known partners: {known}")
    return partner


def load_policy(settings: Settings) -> Policy:
    try:
        _require_content(settings.policy_file)
        return Policy.from_toml(settings.policy_file)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"policy {settings.policy_file}: {_reason(exc)}") from None


def load_context(settings: Settings, kafka: KafkaConnection | None = None) -> HubContext:
    registry = load_registry(settings)
    adapters = load_adapters()
    for partner in registry.partners:
        adapters.get(partner.adapter_name)
    keys = keyring(settings)
    return HubContext(
        settings=settings,
        kafka=kafka or resolve_kafka(settings),
        names=TopicNames(settings.topic_prefix),
        registry=registry,
        policy=load_policy(settings),
        adapters=adapters,
        pseudonyms=keys.current,
        previous_pseudonyms=keys.previous,
    )


def keyring(settings: Settings) -> KeyRing:
    """The readable pseudonym keys, or a ConfigError that says what is wrong with them."""
    try:
        return load_keyring(settings)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


_NOT_FOR_A_SECOND_SHELL = frozenset(
    {"pseudonym_secret", "kafka_password", "metrics_port", "metrics_host", "instance_id",
     "home", "kafka_port"}
)  # fmt: skip


def shell_exports(settings: Settings) -> str:
    """The ``export`` line that gives a second shell this one's broker and settings: the
    home (absolute, so any directory will do), the broker's port, and every other setting
    made here, except secret values (their files and defaults stay where they are)."""
    values: dict[str, str] = {"home": str(settings.home.resolve())}
    if not settings.bootstrap:
        values["kafka_port"] = str(local_kafka(settings).status().port)
    for name in sorted(settings.model_fields_set - _NOT_FOR_A_SECOND_SHELL):
        value = getattr(settings, name)
        if value is None or isinstance(value, SecretStr):
            continue
        values[name] = str(value.resolve() if isinstance(value, Path) else value)
    return "export " + " ".join(
        f"KETENHUB_{name.upper()}={shlex.quote(value)}" for name, value in values.items()
    )
