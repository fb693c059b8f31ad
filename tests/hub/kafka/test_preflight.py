"""``ketenhub check`` without Kafka: the topic comparison, and a configuration it refuses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli.main import app
from hub.kafka.local import free_port
from hub.kafka.preflight import Finding, topic_findings
from hub.kafka.topics import TopicSpec

SPECS = [TopicSpec("kh.canonical", 6), TopicSpec("kh.partner.gp.out", 1),
         TopicSpec("kh.partner.gp.in", 1)]  # fmt: skip


def test_topics_as_set_are_one_good_finding() -> None:
    found = {"kh.canonical": 6, "kh.partner.gp.out": 1, "kh.partner.gp.in": 1, "other": 9}
    assert topic_findings(SPECS, found) == [
        Finding("topics", True, "all 3 there, partitions as set")
    ]


def test_missing_topics_and_other_partition_counts_are_named() -> None:
    findings = topic_findings(SPECS, {"kh.canonical": 3, "kh.partner.gp.in": 1})
    assert [f.ok for f in findings] == [False, False]
    assert findings[0].detail == (
        "1 of 3 missing (kh.partner.gp.out): run `ketenhub topics create`"
    )
    assert findings[1].detail.startswith("kh.canonical has 3 partitions, the settings say 6")


def test_many_missing_topics_are_shortened() -> None:
    findings = topic_findings([*SPECS, TopicSpec("kh.audit", 6)], {})
    assert findings[0].detail.startswith("4 of 4 missing (kh.canonical, kh.partner.gp.out, ")
    assert ", ...)" in findings[0].detail


def test_a_broken_configuration_is_a_failed_check(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KETENHUB_HOME", str(tmp_path))
    monkeypatch.setenv("KETENHUB_BOOTSTRAP", "127.0.0.1:1")
    monkeypatch.setenv("KETENHUB_PARTNERS_FILE", str(tmp_path / "nowhere.toml"))
    result = CliRunner().invoke(app, ["check", "--json"])
    assert result.exit_code == 1, result.output
    (finding,) = [json.loads(line) for line in result.output.splitlines()]
    assert finding["check"] == "configuration" and not finding["ok"]
    assert "nowhere.toml" in finding["detail"]


def _check(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str) -> list[dict[str, object]]:
    monkeypatch.setenv("KETENHUB_HOME", str(tmp_path))
    monkeypatch.delenv("KETENHUB_BOOTSTRAP", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, ["check", "--json"])
    assert result.exit_code == 1, result.output
    return [json.loads(line) for line in result.output.splitlines()]


def test_no_kafka_is_a_failed_check_not_an_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (finding,) = _check(monkeypatch, tmp_path)
    assert (finding["check"], finding["ok"]) == ("kafka", False)
    assert "no Kafka to talk to" in str(finding["detail"])


def test_bad_settings_are_a_failed_check_in_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (finding,) = _check(monkeypatch, tmp_path, KETENHUB_PARTITIONS="zero")
    assert (finding["check"], finding["ok"]) == ("configuration", False)
    assert "partitions" in str(finding["detail"]) and "\n" not in str(finding["detail"])


def test_a_bad_ca_bundle_is_a_failed_check(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not a certificate\n")
    (finding,) = _check(
        monkeypatch, tmp_path, KETENHUB_BOOTSTRAP="127.0.0.1:1",
        KETENHUB_KAFKA_SECURITY_PROTOCOL="SSL", KETENHUB_KAFKA_SSL_CAFILE=str(bundle),
    )  # fmt: skip
    assert (finding["check"], finding["ok"]) == ("configuration", False)


def test_an_unreached_cluster_is_no_proof_of_a_login(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    findings = _check(
        monkeypatch, tmp_path, KETENHUB_BOOTSTRAP=f"127.0.0.1:{free_port()}",
        KETENHUB_KAFKA_SECURITY_PROTOCOL="SASL_PLAINTEXT", KETENHUB_KAFKA_USERNAME="ketenhub-hub",
        KETENHUB_KAFKA_PASSWORD="pw-of-test",
    )  # fmt: skip
    assert [(f["check"], f["ok"]) for f in findings] == [("configuration", True), ("kafka", False)]
