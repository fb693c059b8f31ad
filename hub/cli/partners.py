"""``ketenhub partners``: the registry, and the Kafka users and ACLs made from it."""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import SecretStr

from hub.cli.support import Listing, console, err, friendly, run_async, show
from hub.context import ConfigError, kafka_password, load_registry, resolve_kafka
from hub.kafka.auth import KafkaAuthError
from hub.kafka.local import ADMIN_USER, BROKER_USER
from hub.kafka.provision import plan, provision
from hub.kafka.topics import TopicNames
from hub.secret_store import SecretError, SecretStore
from hub.settings import DEFAULT_HUB_USER, Settings

partners_app = typer.Typer(
    help="The partner registry (KETENHUB_PARTNERS_FILE), and Kafka users and ACLs from it.\n\n"
    "Without a subcommand: list the partners and their topics.",
    invoke_without_command=True,
    no_args_is_help=False,
)


PARTNER_COLUMNS = {"id": "id", "kind": "kind", "name": "name", "agb": "AGB", "area": "area",
                   "writes_to": "writes to", "reads_from": "reads from"}  # fmt: skip


@partners_app.callback()
@friendly
def partners(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per partner.")] = False,
) -> None:
    """List the partners in the registry (KETENHUB_PARTNERS_FILE) and their topics."""
    if ctx.invoked_subcommand is not None:
        return
    settings = Settings()
    names = TopicNames(settings.topic_prefix)
    rows = [
        {"id": p.id, "kind": p.kind.value, "name": p.name, "agb": p.agb, "area": p.area,
         "adapter": p.adapter_name, "writes_to": names.partner_out(p.id),
         "reads_from": names.partner_in(p.id)}
        for p in load_registry(settings).partners
    ]  # fmt: skip
    show(Listing(f"partners ({settings.partners_file})", PARTNER_COLUMNS, rows), as_json=as_json)


@partners_app.command("provision")
@friendly
def provision_command(
    hub_user: Annotated[
        str | None,
        typer.Option(
            help=f"The hub's Kafka user (default KETENHUB_KAFKA_USERNAME or {DEFAULT_HUB_USER})."
        ),
    ] = None,
    admin_user: Annotated[
        str, typer.Option(help="A super user to provision with; its password must be stored.")
    ] = ADMIN_USER,
    prune: Annotated[
        bool,
        typer.Option(
            help="Delete ACLs on partner topics that the registry no longer explains "
            "(a partner that left)."
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would change; change nothing.")
    ] = False,
    secrets_only: Annotated[
        bool,
        typer.Option(
            "--secrets-only",
            help="Only write missing password files (also for the "
            "broker and admin users of docker-compose); no Kafka needed.",
        ),
    ] = False,
    show: Annotated[
        bool, typer.Option("--show", help="Print the passwords (to hand them to partners).")
    ] = False,
) -> None:
    """Create a SCRAM user per partner and for the hub, and the ACLs from the registry.

    Partner X may write only ketenhub.partner.X.out and read only ketenhub.partner.X.in (and
    use groups and transactional ids starting with ketenhub.partner.X.); the hub's user alone
    reads and writes the internal topics. Passwords come from KETENHUB_SECRETS_DIR
    (kafka/<user>.password); a missing one is generated there (mode 0600) and never printed
    unless --show. Idempotent: run it again after every registry change.
    """
    settings = Settings()
    registry = load_registry(settings)
    names = TopicNames(settings.topic_prefix)
    store = SecretStore(settings.secrets_path)
    hub = hub_user or settings.kafka_username or DEFAULT_HUB_USER
    users = [hub, *(p.id for p in registry.partners)]
    try:
        wanted = plan(names, registry, hub)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    admin = None if secrets_only else resolve_kafka(settings, user=admin_user)
    if admin is not None and not admin.security_protocol.startswith("SASL_"):
        raise ConfigError(
            "provisioning needs an authenticated cluster: start the local one with "
            "`ketenhub kafka start --auth`, or set KETENHUB_KAFKA_SECURITY_PROTOCOL=SASL_SSL "
            "(or SASL_PLAINTEXT) for your cluster"
        )
    if secrets_only:
        users += [BROKER_USER, ADMIN_USER]
    passwords: dict[str, SecretStr] = {}
    generated: list[str] = []
    try:
        for name in users:
            if name == settings.kafka_username and (
                settings.kafka_password is not None or settings.kafka_password_file is not None
            ):
                passwords[name] = kafka_password(settings, name)
            elif dry_run:
                stored = store.kafka_password(name)
                passwords[name] = stored or SecretStr("")
                if stored is None:
                    generated.append(name)
            else:
                passwords[name], made = store.ensure_kafka_password(name)
                if made:
                    generated.append(name)
    except (SecretError, OSError) as exc:
        raise ConfigError(f"secrets directory {store.root}: {exc}") from None
    verb = "would generate" if dry_run else "generated"
    if generated:
        console.print(f"{verb} {len(generated)} password(s) in {store.root / 'kafka'}: "
                      f"{', '.join(generated)}")  # fmt: skip
    if show:
        _show(passwords)
    if admin is None:
        console.print(f"{len(users)} users have a password in {store.root / 'kafka'}.")
        return
    try:
        report = run_async(provision(admin, names, wanted, passwords, prune=prune, dry_run=dry_run))
    except KafkaAuthError as exc:
        raise ConfigError(f"Kafka refused ({admin_user}): {exc}") from None
    would = "would be " if dry_run else ""
    console.print(
        f"users: {len(report.users_created)} {would}created, {len(report.users_updated)} "
        f"{would}updated; ACLs: {len(report.acls_created)} {would}created, "
        f"{report.acls_present} already present"
    )
    for binding in report.acls_created:
        console.print(f"  + {binding.describe()}", highlight=False)
    if report.stale:
        what = "removed" if prune and not dry_run else "not in the registry (--prune removes)"
        console.print(f"{len(report.stale)} ACLs on partner topics {what}:")
        for binding in report.stale:
            console.print(f"  - {binding.describe()}", highlight=False)


def _show(passwords: dict[str, SecretStr]) -> None:
    err.print("[yellow]warning:[/yellow] printing passwords; hand each one to its partner "
              "only, over a secure channel", highlight=False)  # fmt: skip
    rows = [
        {"user": name, "password": password.get_secret_value() or "(not generated: --dry-run)"}
        for name, password in sorted(passwords.items())
    ]
    show(Listing("Kafka users (SCRAM-SHA-512)", {"user": "user", "password": "password"}, rows))
