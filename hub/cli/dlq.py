"""``ketenhub dlq``: list, show and replay dead letters (see ``hub.ops.dlq`` for the rules)."""

from __future__ import annotations

import getpass
import re
import sys
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.text import Text

from hub.cli.support import (
    Listing,
    console,
    err,
    friendly,
    is_terminal,
    printable,
    run_async,
    show,
    show_fields,
)
from hub.context import load_registry, resolve_kafka
from hub.kafka.topics import TopicNames
from hub.ops.dlq import (
    DeadLetter,
    DlqError,
    DlqFilter,
    DlqRef,
    ReplayPlan,
    Summary,
    execute_replay,
    parse_time,
    plan_replay,
    read_dead_letter,
    read_dead_letters,
    read_replays,
    record_disclosure,
    summarise,
)
from hub.settings import Settings
from observability.audit import OPERATOR_PATTERN

dlq_app = typer.Typer(
    help="Dead letters: what the hub refused (ketenhub.dlq), and replaying it after a fix.\n\n"
    "Listings never show payloads (they may hold personal data); `show --payload` does, "
    "after recording who was shown what in the audit log. Replays go back to the "
    "partner's outbox with a kh-replay-of header; each DLQ record is replayed once unless "
    "--again, and the router never delivers a message twice.",
    no_args_is_help=True,
)
CONFIRM_ABOVE = 10
PROGRESS_FROM = 20
PAYLOAD_WARNING = (
    "warning: the payload is the partner's original message and may contain personal data "
    "(BSN, names, clinical text); handle it accordingly and do not paste it into tickets."
)


def _interactive() -> bool:
    """Can we ask a person? (A replay from cron or CI must say --yes.)"""
    return sys.stdin.isatty()


PartnerOpt = Annotated[str | None, typer.Option(help="Only records from this partner id.")]
ReasonOpt = Annotated[
    str | None, typer.Option(help="Only records with this reason code (e.g. invalid-bsn).")
]
SinceOpt = Annotated[
    str | None,
    typer.Option(help="Only records dead-lettered at or after this ISO time (no offset: UTC)."),
]
UntilOpt = Annotated[
    str | None,
    typer.Option(help="Only records dead-lettered before this ISO time (no offset: UTC)."),
]


def _filter(
    partner: str | None, reason: str | None, since: str | None, until: str | None
) -> DlqFilter:
    return DlqFilter(
        partner=partner,
        reason=reason,
        since=parse_time(since) if since else None,
        until=parse_time(until) if until else None,
    )


def _context() -> tuple[Settings, TopicNames]:
    settings = Settings()
    return settings, TopicNames(settings.topic_prefix)


def _letter_json(letter: DeadLetter, replayed_to: str | None) -> dict[str, Any]:
    return {
        "ref": str(letter.ref),
        "at": letter.at.isoformat(),
        "partner": letter.partner,
        "reason": letter.reason,
        "detail": letter.detail,
        "source": letter.source,
        "size": letter.size,
        "message_id": letter.message_id,
        "replay_of": letter.replay_of,
        "replayed_to": replayed_to,
    }


@dlq_app.command("list")
@friendly
def dlq_list(
    partner: PartnerOpt = None,
    reason: ReasonOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per dead letter.")
    ] = False,
) -> None:
    """List dead letters, oldest first, with counts by partner and reason at the end.

    Shows where each came from and why it was refused, never its payload. REF
    (partition:offset) names a record for `dlq show` and `dlq replay`.
    """
    settings, names = _context()
    which = _filter(partner, reason, since, until)
    kafka = resolve_kafka(settings)

    async def read() -> tuple[list[DeadLetter], dict[str, str]]:
        letters = await read_dead_letters(kafka, names)
        try:
            replays = await read_replays(kafka, names)
        except LookupError:  # topics created before replay existed: nothing replayed yet
            replays = {}
        return letters, {ref: r.target for ref, r in replays.items()}

    letters, replayed = run_async(read())
    letters = [letter for letter in letters if which.matches(letter)]
    summary = summarise(letters)
    rows = []
    for x in letters:
        status = ""
        if str(x.ref) in replayed:
            status = f"-> {replayed[str(x.ref)]}"
        elif x.replay_of:
            status = f"again, of {x.replay_of}"
        rows.append({**_letter_json(x, replayed.get(str(x.ref))), "replay": status,
                     "at": x.at.strftime("%Y-%m-%d %H:%M:%S")})  # fmt: skip
    records = [_letter_json(x, replayed.get(str(x.ref))) for x in letters]
    title = f"{names.dlq}: {summary.total} dead letter(s)"
    show(Listing(title, LETTER_COLUMNS, rows, records), as_json=as_json)
    if not as_json:
        _print_summary(summary)


LETTER_COLUMNS = {
    "ref": "ref", "at": "time (UTC)", "partner": "partner", "reason": "reason",
    "detail": "detail", "source": "source", "size": "size", "replay": "replay",
}  # fmt: skip


def _print_summary(summary: Summary) -> None:
    """Counts by partner and reason: a message beside the rows, so on stderr."""
    if not summary.total:
        return
    for title, counts in (("by partner", summary.by_partner), ("by reason", summary.by_reason)):
        line = ", ".join(f"{printable(k)} {v}" for k, v in counts.items())
        err.print(Text(f"{title}: {line}"))


@dlq_app.command("show")
@friendly
def dlq_show(
    ref: Annotated[str, typer.Argument(help="The record, as partition:offset (see `dlq list`).")],
    payload: Annotated[
        bool,
        typer.Option(
            "--payload",
            help="Also print the original bytes (may contain personal data). To a terminal "
            "control characters are escaped; redirected, the bytes are written unchanged. "
            "Audited: the audit log records who was shown which record, first.",
        ),
    ] = False,
    operator: Annotated[
        str | None,
        typer.Option(
            envvar="KETENHUB_OPERATOR",
            help="Your account name for the audit record of --payload (default: your login).",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="The headers as one JSON object (no payload).")
    ] = False,
) -> None:
    """Show one dead letter's headers (why, where from, when); the payload only with --payload.

    Showing the payload writes a `ketenhub.dlq.disclosed` record to ketenhub.audit (who, which
    record, when) before the bytes are printed; `ketenhub audit --disclosures` lists them.
    With --payload the payload alone goes to stdout (`> original.json` is byte for byte);
    the headers and notes go to stderr.
    """
    if payload and as_json:
        raise DlqError("--payload prints the original bytes, --json the headers: choose one")
    settings, names = _context()
    account = _operator(operator) if payload else ""
    kafka = resolve_kafka(settings)
    where = DlqRef.parse(ref)

    async def read() -> tuple[DeadLetter, str | None]:
        letter = await read_dead_letter(kafka, names, where)
        try:
            replay = (await read_replays(kafka, names)).get(str(where))
        except LookupError:
            replay = None
        return letter, (
            f"{replay.count}x, last to {replay.target} at {replay.at.isoformat()}"
            if replay
            else None
        )

    letter, replayed = run_async(read())
    fields: list[tuple[str, object]] = [
        ("ref", str(letter.ref)),
        ("partner", letter.partner),
        ("reason", letter.reason),
        ("detail", letter.detail),
        ("source", letter.source),
        ("dead-lettered at", letter.at.isoformat()),
        ("size", f"{letter.size} bytes"),
        ("key", letter.key.decode(errors="replace") if letter.key is not None else "-"),
        ("replayed", replayed or "no"),
    ]
    fields += [(f"header {k}", v.decode(errors="replace")) for k, v in letter.headers]
    record = {
        **_letter_json(letter, None),
        "key": letter.key.decode(errors="replace") if letter.key is not None else None,
        "replayed": replayed,
        "headers": {k: v.decode(errors="replace") for k, v in letter.headers},
    }
    title = f"dead letter {letter.ref} on {names.dlq}"
    # With --payload stdout carries the payload alone: the headers go to stderr.
    show_fields(title, fields, record=record, as_json=as_json, out=err if payload else console)
    if not payload:
        if not as_json:
            err.print("(payload not shown: --payload prints it; it may hold personal data)")
        return
    partners = {p.id for p in load_registry(settings).partners}
    run_async(record_disclosure(kafka, names, letter, operator=account,
                           instance_id=settings.instance_id, partners=partners))  # fmt: skip
    err.print(Text(PAYLOAD_WARNING, style="yellow"))
    err.print(f"(recorded in {names.audit}: {account} was shown dead letter {letter.ref})",
              highlight=False)  # fmt: skip
    if is_terminal():
        text = letter.value.decode(errors="backslashreplace")
        sys.stdout.write("".join(c if c in "\n\t" else printable(c) for c in text) + "\n")
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(letter.value)
        sys.stdout.buffer.flush()


def _operator(given: str | None) -> str:
    """The account that --payload records: --operator, else the login name."""
    if given is None:
        try:
            given = getpass.getuser()
        except (KeyError, OSError):  # a container user without a name
            raise DlqError("--payload needs --operator (or KETENHUB_OPERATOR): your account "
                           "name for the audit log") from None  # fmt: skip
    if not re.fullmatch(OPERATOR_PATTERN, given):
        raise DlqError(
            "--operator must be an account name (letters, digits and . _ @ -, at most 64), "
            "not free text"
        )
    return given


@dlq_app.command("replay")
@friendly
def dlq_replay(
    refs: Annotated[
        list[str] | None, typer.Argument(help="Records to replay, as partition:offset.")
    ] = None,
    partner: PartnerOpt = None,
    reason: ReasonOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    replay_all: Annotated[
        bool, typer.Option("--all", help="Every dead letter (still one replay each).")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be replayed; send nothing.")
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask before a large replay.")
    ] = False,
    again: Annotated[
        bool, typer.Option("--again", help="Also replay records that were replayed before.")
    ] = False,
    confirm_above: Annotated[
        int, typer.Option(help="Ask for confirmation when more records than this would go.")
    ] = CONFIRM_ABOVE,
) -> None:
    """Re-publish dead letters to the partner outbox they came from, after a fix.

    Name records (REF...), filter them (--partner, --reason, --since, --until), or say --all.
    Each goes back byte for byte with a kh-replay-of header and is logged in
    ketenhub.dlq-replays: a record already replayed is skipped unless --again. A message the
    hub had delivered before is acknowledged again as a duplicate, not delivered twice.
    More than --confirm-above records (default 10) need a yes at the prompt or --yes; in a
    non-interactive shell without --yes the replay is refused. Use --dry-run first.
    """
    settings, names = _context()
    which = _filter(partner, reason, since, until)
    wanted = [DlqRef.parse(r) for r in refs or []]
    if not wanted and not which.active and not replay_all:
        raise DlqError(
            "say what to replay: one or more REFs, a filter (--partner, --reason, --since, "
            "--until), or --all"
        )
    kafka = resolve_kafka(settings)
    registry = load_registry(settings)

    async def plan() -> ReplayPlan:
        letters = await read_dead_letters(kafka, names)
        replays = await read_replays(kafka, names)
        if wanted:
            by_ref = {letter.ref: letter for letter in letters}
            missing = [str(r) for r in wanted if r not in by_ref]
            if missing:
                raise DlqError(f"no committed DLQ record at {', '.join(missing)}")
            letters = [by_ref[r] for r in dict.fromkeys(wanted)]
        letters = [letter for letter in letters if which.matches(letter)]
        return plan_replay(letters, replays, names, registry, again=again)

    replay_plan = run_async(plan())
    count = len(replay_plan.send)
    _print_plan(replay_plan, dry_run=dry_run)
    if dry_run:
        console.print(
            f"dry run: {count} record(s) would be replayed, "
            f"{len(replay_plan.skipped)} skipped; nothing was sent."
        )
        return
    if count == 0:
        console.print(f"nothing to replay ({len(replay_plan.skipped)} skipped).")
        return
    if count > confirm_above and not yes:
        if not _interactive():
            raise DlqError(
                f"refusing to replay {count} records without confirmation (more than "
                f"{confirm_above}) in a non-interactive shell; check with --dry-run, then "
                "pass --yes"
            )
        if not typer.confirm(f"Replay {count} dead letters to the partners' outboxes?"):
            console.print("nothing replayed.")
            raise typer.Exit(1)

    with Progress(
        TextColumn("replaying"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        console=err, disable=count < PROGRESS_FROM,
    ) as progress:  # fmt: skip
        task = progress.add_task("replay", total=count)
        done = run_async(
            execute_replay(
                kafka, names, replay_plan,
                transactional_id=f"{names.prefix}-dlq-replay",
                progress=lambda n: progress.advance(task, n),
            )
        )  # fmt: skip
    console.print(
        f"replayed {len(done)} record(s); skipped {len(replay_plan.skipped)}. "
        "Replays that fail again appear in `ketenhub dlq list` marked 'again'."
    )


def _print_plan(plan: ReplayPlan, *, dry_run: bool) -> None:
    if plan.send and (dry_run or len(plan.send) <= PROGRESS_FROM):
        rows = [
            {"ref": str(p.letter.ref), "partner": p.letter.partner, "reason": p.letter.reason,
             "topic": p.record.topic, "size": p.letter.size}
            for p in plan.send
        ]  # fmt: skip
        show(Listing("would replay" if dry_run else "replaying", PLAN_COLUMNS, rows))
    if plan.skipped:
        rows = [
            {"ref": str(s.letter.ref), "partner": s.letter.partner, "reason": s.letter.reason,
             "why": s.why}
            for s in plan.skipped
        ]  # fmt: skip
        show(Listing("skipped", SKIPPED_COLUMNS, rows))


PLAN_COLUMNS = {"ref": "ref", "partner": "partner", "reason": "reason", "topic": "to topic",
                "size": "size"}  # fmt: skip
SKIPPED_COLUMNS = {"ref": "ref", "partner": "partner", "reason": "reason", "why": "why"}
