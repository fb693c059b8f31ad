"""Dead letters without a broker: references, filters, the replay plan and the CLI's safety."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from typer.testing import CliRunner

from hub.cli import dlq as cli_dlq
from hub.cli.main import app
from hub.kafka.topics import TopicNames
from hub.ops.dlq import (
    DeadLetter,
    DlqError,
    DlqFilter,
    DlqRef,
    Replay,
    ReplayPlan,
    parse_time,
    plan_replay,
    replay_record,
    summarise,
)
from hub.stages.records import (
    HEADER_DLQ_AT,
    HEADER_DLQ_DETAIL,
    HEADER_DLQ_PARTNER,
    HEADER_DLQ_REASON,
    HEADER_DLQ_SOURCE,
    HEADER_MESSAGE_ID,
    HEADER_REPLAY_OF,
)
from schemas.partners import PartnerRegistry
from tests.conftest import GP, PROVIDER

NAMES = TopicNames("t")
BSN = "999990019"
runner = CliRunner()


def letter(
    offset: int,
    *,
    partner: str = GP,
    reason: str = "invalid-bsn",
    at: str = "2026-11-23T09:00:00+00:00",
    source: str | None = None,
    value: bytes = b'{"child": {"bsn": "999990019"}}',
    extra: tuple[tuple[str, bytes], ...] = (),
    partition: int = 0,
) -> DeadLetter:
    headers = (
        (HEADER_MESSAGE_ID, b"hub-id"),
        (HEADER_DLQ_REASON, reason.encode()),
        (HEADER_DLQ_DETAIL, b"child.bsn fails the elfproef"),
        (HEADER_DLQ_PARTNER, partner.encode()),
        (HEADER_DLQ_SOURCE, (source or f"t.partner.{partner}.out:0:{offset}").encode()),
        (HEADER_DLQ_AT, at.encode()),
        *extra,
    )
    return DeadLetter(DlqRef(partition, offset), 0, partner.encode(), value, headers)


@pytest.mark.parametrize(("text", "ref"), [("0:42", DlqRef(0, 42)), (" 3:0 ", DlqRef(3, 0))])
def test_refs_parse(text: str, ref: DlqRef) -> None:
    assert DlqRef.parse(text) == ref
    assert str(ref) == text.strip()


@pytest.mark.parametrize("text", ["", "42", "a:1", "1:-1", "1:2:3", "٣:4"])
def test_bad_refs_say_how_to_write_one(text: str) -> None:
    with pytest.raises(DlqError, match="partition:offset"):
        DlqRef.parse(text)


def test_times_parse_with_utc_as_default() -> None:
    assert parse_time("2026-11-23") == datetime(2026, 11, 23, tzinfo=UTC)
    assert parse_time("2026-11-23T10:00+01:00") == datetime(2026, 11, 23, 9, tzinfo=UTC)
    with pytest.raises(DlqError, match="ISO 8601"):
        parse_time("yesterday")


def test_filters() -> None:
    a = letter(1, reason="malformed", at="2026-11-22T23:59:59+00:00")
    b = letter(2, partner="huisarts-hoogkerk", at="2026-11-23T08:00:00+00:00")
    c = letter(3, at="2026-11-24T00:00:00+00:00")
    since, until = parse_time("2026-11-23"), parse_time("2026-11-24")
    assert [x for x in (a, b, c) if DlqFilter(since=since, until=until).matches(x)] == [b]
    assert [x for x in (a, b, c) if DlqFilter(partner=GP).matches(x)] == [a, c]
    assert [x for x in (a, b, c) if DlqFilter(reason="malformed").matches(x)] == [a]
    assert not DlqFilter().active and DlqFilter(partner=GP).active
    with pytest.raises(DlqError, match="unknown reason"):
        DlqFilter(reason="bad-vibes")


def test_time_falls_back_to_the_record_timestamp() -> None:
    x = DeadLetter(DlqRef(0, 1), 1_800_000_000_000, None, b"", ((HEADER_DLQ_AT, b"garbage"),))
    assert x.at == datetime.fromtimestamp(1_800_000_000, UTC)
    assert x.partner == "?" and x.reason == "?" and x.source_topic is None


def test_partner_of_a_route_stage_record_is_its_sender() -> None:
    x = DeadLetter(DlqRef(0, 1), 0, b"hh", b"{}", (("kh-sender-id", GP.encode()),))
    assert x.partner == GP


def test_summary_counts_by_partner_and_reason() -> None:
    summary = summarise([letter(1), letter(2, reason="malformed"), letter(3, partner="x")])
    assert summary.total == 3
    assert summary.by_partner == {GP: 2, "x": 1}
    assert summary.by_reason == {"invalid-bsn": 2, "malformed": 1}


def test_a_replay_is_the_original_bytes_to_the_source_outbox(registry: PartnerRegistry) -> None:
    x = letter(7)
    record = replay_record(x, NAMES, registry)
    assert not isinstance(record, str)
    assert record.topic == f"t.partner.{GP}.out"
    assert record.value == x.value
    assert record.key is None
    assert record.headers == [(HEADER_REPLAY_OF, b"0:7")]


def test_a_route_stage_record_goes_back_to_canonical_with_its_routing_headers(
    registry: PartnerRegistry,
) -> None:
    x = letter(
        8, source="t.canonical:2:5", extra=(("kh-household", b"hh"), (HEADER_REPLAY_OF, b"0:1"))
    )
    record = replay_record(x, NAMES, registry)
    assert not isinstance(record, str)
    assert record.topic == "t.canonical"
    assert record.key == x.key
    assert record.headers == [
        (HEADER_MESSAGE_ID, b"hub-id"),
        ("kh-household", b"hh"),
        (HEADER_REPLAY_OF, b"0:8"),
    ]


@pytest.mark.parametrize(
    ("source", "value", "why"),
    [
        ("t.partner.onbekend.out:0:1", b"{}", "not the outbox of a registered partner"),
        ("other.partner.huisarts-wijert.out:0:1", b"{}", "not the outbox"),
        (f"t.partner.{GP}.in:0:1", b"{}", "not the outbox"),
        ("", b"{}", "no source header"),
        (f"t.partner.{GP}.out:0:1", b"", "no payload"),
    ],
)
def test_what_cannot_be_replayed_says_why(
    registry: PartnerRegistry, source: str, value: bytes, why: str
) -> None:
    x = letter(1, value=value, extra=())
    headers = tuple((k, source.encode() if k == HEADER_DLQ_SOURCE else v) for k, v in x.headers)
    x = DeadLetter(x.ref, 0, x.key, value, headers)
    result = replay_record(x, NAMES, registry)
    assert isinstance(result, str) and why in result


def test_a_record_replayed_before_is_skipped_unless_again(registry: PartnerRegistry) -> None:
    letters = [letter(1), letter(2)]
    before = Replay(dlq_ref="0:1", target=f"t.partner.{GP}.out:0:9", at=datetime.now(UTC))
    plan = plan_replay(letters, {"0:1": before}, NAMES, registry)
    assert [p.letter.ref for p in plan.send] == [DlqRef(0, 2)]
    [skipped] = plan.skipped
    assert "replayed before (1x" in skipped.why and "--again" in skipped.why
    again = plan_replay(letters, {"0:1": before}, NAMES, registry, again=True)
    assert [p.letter.ref for p in again.send] == [DlqRef(0, 1), DlqRef(0, 2)]
    assert again.send[0].previous == before


# --- the command line, with the broker calls replaced ------------------------------------


@pytest.fixture
def dlq_env(monkeypatch: pytest.MonkeyPatch, registry: PartnerRegistry) -> dict[str, Any]:
    """Thirteen dead letters, a replay log, and a recorder instead of a producer."""
    state: dict[str, Any] = {
        "letters": [letter(i, reason="unknown-recipient" if i % 2 else "invalid-bsn")
                    for i in range(13)],
        "replays": {},
        "executed": [],
        "disclosed": [],
        "audit_down": False,
    }  # fmt: skip

    async def read_dead_letters(kafka: Any, names: TopicNames) -> list[DeadLetter]:
        assert names == NAMES
        return list(state["letters"])

    async def read_dead_letter(kafka: Any, names: TopicNames, ref: DlqRef) -> DeadLetter:
        for x in state["letters"]:
            if x.ref == ref:
                return x  # type: ignore[no-any-return]
        raise DlqError(f"no committed DLQ record at {ref}")

    async def read_replays(kafka: Any, names: TopicNames) -> dict[str, Replay]:
        return dict(state["replays"])

    async def execute_replay(
        kafka: Any, names: TopicNames, plan: ReplayPlan, **kwargs: Any
    ) -> list[Replay]:
        state["executed"].append(plan)
        kwargs["progress"](len(plan.send))
        return [
            Replay(dlq_ref=str(p.letter.ref), target=p.record.topic + ":0:1", at=datetime.now(UTC))
            for p in plan.send
        ]

    async def record_disclosure(
        kafka: Any, names: TopicNames, letter: DeadLetter, *, operator: str, instance_id: str,
        partners: Any,
    ) -> None:  # fmt: skip
        assert GP in partners
        if state["audit_down"]:
            raise DlqError("the payload is shown only once the audit log has it")
        state["disclosed"].append((str(letter.ref), operator))

    for name, fake in [
        ("record_disclosure", record_disclosure),
        ("read_dead_letters", read_dead_letters),
        ("read_dead_letter", read_dead_letter),
        ("read_replays", read_replays),
        ("execute_replay", execute_replay),
    ]:
        monkeypatch.setattr(cli_dlq, name, fake)
    monkeypatch.setattr(cli_dlq, "_interactive", lambda: False)
    for name in ("KETENHUB_BOOTSTRAP", "KETENHUB_TOPIC_PREFIX"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KETENHUB_BOOTSTRAP", "unused:9092")
    monkeypatch.setenv("KETENHUB_TOPIC_PREFIX", "t")
    return state


def _invoke(*args: str, input: str | None = None) -> Any:
    return runner.invoke(app, ["dlq", *args], input=input, env={"COLUMNS": "250"})


def test_list_shows_where_and_why_never_the_payload(dlq_env: dict[str, Any]) -> None:
    result = _invoke("list")
    assert result.exit_code == 0, result.output
    header, *rows = result.stdout.splitlines()
    assert header.split("\t")[:4] == ["ref", "time (UTC)", "partner", "reason"]
    assert len(rows) == 13 and rows[-1].startswith("0:12\t")
    assert "unknown-recipient" in result.stdout
    assert f"by partner: {GP} 13" in result.stderr
    assert "by reason: invalid-bsn 7, unknown-recipient 6" in result.stderr
    assert BSN not in result.output


def test_list_json_and_filters(dlq_env: dict[str, Any]) -> None:
    dlq_env["replays"] = {
        "0:1": Replay(dlq_ref="0:1", target="t.partner.x.out:0:3", at=datetime.now(UTC))
    }
    result = _invoke("list", "--json", "--reason", "unknown-recipient")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 6 and {r["reason"] for r in records} == {"unknown-recipient"}
    first = records[0]
    assert first["ref"] == "0:1" and first["replayed_to"] == "t.partner.x.out:0:3"
    assert set(first) == {"ref", "at", "partner", "reason", "detail", "source", "size",
                          "message_id", "replay_of", "replayed_to"}  # fmt: skip
    assert BSN not in result.output


def test_list_escapes_control_characters_in_headers(dlq_env: dict[str, Any]) -> None:
    hostile = letter(1, extra=())
    headers = tuple(
        (k, b"\x1b[2J\xe2\x80\xaeevil[red]x[/red]" if k == HEADER_DLQ_DETAIL else v)
        for k, v in hostile.headers
    )
    dlq_env["letters"] = [DeadLetter(hostile.ref, 0, None, b"", headers)]
    result = _invoke("list")
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\u202e" not in result.output
    assert "\\x1b[2J\\u202eevil[red]x[/red]" in result.output


def test_show_prints_headers_and_the_payload_only_when_asked(dlq_env: dict[str, Any]) -> None:
    plain = _invoke("show", "0:3")
    assert plain.exit_code == 0, plain.output
    assert "unknown-recipient" in plain.output and "--payload" in plain.output
    assert BSN not in plain.output
    assert dlq_env["disclosed"] == []
    with_payload = _invoke("show", "0:3", "--payload", "--operator", "j.devries")
    assert with_payload.exit_code == 0
    assert BSN in with_payload.output
    assert "may contain personal data" in with_payload.output
    assert dlq_env["disclosed"] == [("0:3", "j.devries")]
    assert "j.devries was shown dead letter 0:3" in with_payload.output


def test_a_payload_whose_disclosure_cannot_be_audited_is_not_shown(
    dlq_env: dict[str, Any],
) -> None:
    dlq_env["audit_down"] = True
    result = _invoke("show", "0:3", "--payload")
    assert result.exit_code == 2
    assert "only once the audit log has it" in result.output
    assert BSN not in result.output


def test_the_operator_is_an_account_name_not_free_text(dlq_env: dict[str, Any]) -> None:
    result = _invoke("show", "0:3", "--payload", "--operator", "Jan de Vries")
    assert result.exit_code == 2
    assert "account name" in result.output
    assert BSN not in result.output and dlq_env["disclosed"] == []


def test_show_of_a_missing_record_is_a_clear_error(dlq_env: dict[str, Any]) -> None:
    result = _invoke("show", "0:99")
    assert result.exit_code == 2
    assert "no committed DLQ record at 0:99" in result.output
    assert _invoke("show", "nonsense").exit_code == 2


def test_replay_needs_a_selection(dlq_env: dict[str, Any]) -> None:
    result = _invoke("replay")
    assert result.exit_code == 2
    assert "REFs, a filter" in result.output
    assert dlq_env["executed"] == []


def test_a_dry_run_sends_nothing(dlq_env: dict[str, Any]) -> None:
    result = _invoke("replay", "--all", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "13 record(s) would be replayed" in result.output
    assert "nothing was sent" in result.output
    assert dlq_env["executed"] == []


def test_a_large_replay_is_refused_without_a_person_or_yes(dlq_env: dict[str, Any]) -> None:
    result = _invoke("replay", "--all")
    assert result.exit_code == 2
    assert "refusing to replay 13 records" in result.output
    assert "non-interactive" in result.output and "--yes" in result.output
    assert dlq_env["executed"] == []


def test_a_large_replay_goes_with_yes(dlq_env: dict[str, Any]) -> None:
    result = _invoke("replay", "--all", "--yes")
    assert result.exit_code == 0, result.output
    [plan] = dlq_env["executed"]
    assert len(plan.send) == 13
    assert "replayed 13 record(s)" in result.output


def test_a_large_replay_asks_a_person(
    dlq_env: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_dlq, "_interactive", lambda: True)
    declined = _invoke("replay", "--all", input="n\n")
    assert declined.exit_code == 1
    assert "Replay 13 dead letters" in declined.output
    assert dlq_env["executed"] == []
    accepted = _invoke("replay", "--all", input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert len(dlq_env["executed"]) == 1


def test_a_small_replay_needs_no_confirmation_and_the_threshold_is_configurable(
    dlq_env: dict[str, Any],
) -> None:
    assert _invoke("replay", "--reason", "unknown-recipient").exit_code == 0  # 6 records
    assert _invoke("replay", "0:1", "0:2", "--confirm-above", "1").exit_code == 2
    assert _invoke("replay", "0:1", "0:2", "--confirm-above", "2").exit_code == 0


def test_replay_by_ref_and_unknown_refs(dlq_env: dict[str, Any]) -> None:
    result = _invoke("replay", "0:4", "0:4", "0:5")
    assert result.exit_code == 0, result.output
    [plan] = dlq_env["executed"]
    assert [str(p.letter.ref) for p in plan.send] == ["0:4", "0:5"]
    missing = _invoke("replay", "0:4", "0:77")
    assert missing.exit_code == 2 and "0:77" in missing.output


def test_replayed_records_are_skipped_unless_again(dlq_env: dict[str, Any]) -> None:
    dlq_env["replays"] = {
        "0:4": Replay(dlq_ref="0:4", target=f"t.partner.{PROVIDER}.out:0:1", at=datetime.now(UTC))
    }
    skipped = _invoke("replay", "0:4")
    assert skipped.exit_code == 0
    assert "nothing to replay (1 skipped)" in skipped.output
    assert "replayed before" in skipped.output
    assert _invoke("replay", "0:4", "--again").exit_code == 0
    [plan] = dlq_env["executed"]
    assert [str(p.letter.ref) for p in plan.send] == ["0:4"]


def test_dlq_commands_have_help() -> None:
    for command in ("list", "show", "replay"):
        result = runner.invoke(app, ["dlq", command, "--help"])
        assert result.exit_code == 0
        assert "Usage:" in result.output


def test_the_hubs_own_headers_win_over_those_a_partner_set() -> None:
    """A dead letter keeps the headers it came with; the hub appends its own after them."""
    spoofed = DeadLetter(
        DlqRef(0, 1), 0, None, b"",
        ((HEADER_DLQ_PARTNER, b"999990019"), (HEADER_DLQ_PARTNER, GP.encode())),
    )  # fmt: skip
    assert spoofed.partner == GP


def test_payload_without_a_login_name_asks_for_an_operator(
    dlq_env: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_name() -> str:
        raise KeyError("getpwuid(): uid not found: 12345")

    monkeypatch.setattr("getpass.getuser", no_name)
    assert _invoke("show", "0:3").exit_code == 0, "headers need no operator"
    result = _invoke("show", "0:3", "--payload")
    assert result.exit_code == 2 and "needs --operator" in result.output
    assert BSN not in result.output and dlq_env["disclosed"] == []
