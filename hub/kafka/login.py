"""Does the cluster accept the hub's login? Asked once at start, so a refusal is an error.

aiokafka's bootstrap treats a refused SASL login like a broker that is down: it logs it and
says only "Unable to bootstrap". ``ketenhub run`` would then wait and retry for good with
a wrong password, as it must for a broker that is away. Asking the bootstrap servers
directly tells the two apart, and a refusal stops the hub with a message that says so.
"""

from __future__ import annotations

import asyncio

from aiokafka import errors as kafka_errors
from aiokafka.conn import collect_hosts, create_conn

from hub.kafka.connection import KafkaConnection

LOGIN_TIMEOUT_S = 10.0


class LoginRefused(Exception):
    """The cluster refused the hub's SASL login: a wrong user or password, not an outage."""


async def check_login(kafka: KafkaConnection) -> str | None:
    """The bootstrap server (``host:port``) that accepted the login; None without SASL or
    when none could be reached. LoginRefused when servers answered and all refused it.

    Servers that cannot be reached are passed over: that is the outage the caller waits
    out, and its own client says so. A refusal by one server is not yet the answer: a
    broker picks up new SCRAM credentials a moment after the others. A mechanism the
    listener does not offer (or SASL against a plain listener) is refused at once.
    """
    if not kafka.sasl_mechanism:
        return None
    options = kafka.client_kwargs()
    options.pop("bootstrap_servers")
    refused: str | None = None
    for host, port, _ in collect_hosts(kafka.bootstrap, randomize=False):
        try:
            conn = await asyncio.wait_for(
                create_conn(host, port, client_id="ketenhub-login", **options), LOGIN_TIMEOUT_S
            )
        except kafka_errors.SaslAuthenticationFailed:
            refused = refused or (
                f"Kafka at {host}:{port} refused the login of user {kafka.username!r} "
                f"({kafka.sasl_mechanism}): check KETENHUB_KAFKA_USERNAME and the password "
                "(KETENHUB_KAFKA_PASSWORD or KETENHUB_KAFKA_PASSWORD_FILE)"
            )
            continue
        except (
            kafka_errors.UnsupportedSaslMechanismError,
            kafka_errors.IllegalSaslStateError,
        ) as exc:
            raise LoginRefused(
                f"Kafka at {host}:{port} cannot log in user {kafka.username!r} with "
                f"{kafka.sasl_mechanism} ({type(exc).__name__}: {exc}): check "
                "KETENHUB_KAFKA_SASL_MECHANISM and KETENHUB_KAFKA_SECURITY_PROTOCOL"
            ) from None
        except (OSError, TimeoutError, kafka_errors.KafkaError):
            continue
        conn.close()
        return f"{host}:{port}"
    if refused:
        raise LoginRefused(refused)
    return None
