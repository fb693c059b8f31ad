"""Static checks of the deployment files: compose, Prometheus and Grafana."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from hub.ops.indicator_metrics import IndicatorMetrics
from hub.ops.indicators import compute
from hub.settings import DEFAULTS
from observability.metrics import HubMetrics
from routing.policy import Policy
from schemas.partners import PartnerRegistry

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
PROMETHEUS_FILE = ROOT / "deploy" / "prometheus" / "prometheus.yml"
DASHBOARD_FILE = ROOT / "deploy" / "grafana" / "dashboards" / "ketenhub.json"
ALERTS_FILE = ROOT / "deploy" / "prometheus" / "alerts.yml"
ALERTS_TEST_FILE = ROOT / "deploy" / "prometheus" / "alerts.test.yml"

KAFKA_SERVICES = ("kafka-1", "kafka-2", "kafka-3")
HUB_SERVICES = ("hub-1", "hub-2")
EXPECTED_SERVICES = (*KAFKA_SERVICES, *HUB_SERVICES, "prometheus", "grafana")


def _compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _services() -> dict[str, dict[str, Any]]:
    services = _compose()["services"]
    assert isinstance(services, dict)
    return services


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        return dict(item.split("=", 1) for item in env)
    return {str(key): str(value) for key, value in env.items()}


def _argv(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return shlex.split(value)
    return [str(part) for part in value]


def _bind_sources(service: dict[str, Any]) -> list[str]:
    sources: list[str] = []
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            sources.append(volume.split(":", 1)[0])
        elif volume.get("type", "bind") == "bind" and "source" in volume:
            sources.append(str(volume["source"]))
    return [source for source in sources if source.startswith("./")]


def test_compose_parses() -> None:
    assert isinstance(_compose()["services"], dict)


def test_compose_names_all_services() -> None:
    services = _services()
    missing = [name for name in EXPECTED_SERVICES if name not in services]
    assert not missing, f"services missing from docker-compose.yml: {missing}"


def test_kafka_services_form_one_kraft_quorum() -> None:
    services = _services()
    for name in KAFKA_SERVICES:
        service = services[name]
        assert str(service["image"]).startswith("apache/kafka:"), name
        env = _environment(service)
        voters = env["KAFKA_CONTROLLER_QUORUM_VOTERS"]
        for node in KAFKA_SERVICES:
            assert f"@{node}:9093" in voters, f"{name} voters lack {node}"
        assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
        assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    cluster_ids = {_environment(services[name])["CLUSTER_ID"] for name in KAFKA_SERVICES}
    assert len(cluster_ids) == 1, "all kafka nodes must share one CLUSTER_ID"


def test_hub_services_run_against_all_kafka_nodes() -> None:
    services = _services()
    for name in HUB_SERVICES:
        service = services[name]
        # With the image's ENTRYPOINT ["ketenhub"], a bare `run` command is
        # equivalent; the compose file sets the entrypoint explicitly too.
        argv = _argv(service.get("entrypoint", ["ketenhub"])) + _argv(service.get("command"))
        assert argv == ["ketenhub", "run"], f"{name} runs {argv}"
        bootstrap = _environment(service)["KETENHUB_BOOTSTRAP"].split(",")
        assert sorted(bootstrap) == [f"{node}:9092" for node in KAFKA_SERVICES], name


def test_local_mount_sources_exist() -> None:
    compose = _compose()
    sources: list[str] = []
    for service in compose["services"].values():
        sources.extend(_bind_sources(service))
    for section in ("secrets", "configs"):
        for entry in (compose.get(section) or {}).values():
            if str(entry.get("file", "")).startswith("./"):
                sources.append(entry["file"])
    assert sources, "expected at least one mount from the repository"
    # Kafka passwords are made on the deploy host (`ketenhub partners provision
    # --secrets-only`) and git-ignored; tests/test_deploy_auth.py checks them.
    generated = "./deploy/secrets/kafka/"
    missing = [s for s in sources if not s.startswith(generated) and not (ROOT / s).exists()]
    assert not missing, f"mounted paths missing from the repo: {missing}"


def test_prometheus_scrapes_both_hubs() -> None:
    config = yaml.safe_load(PROMETHEUS_FILE.read_text(encoding="utf-8"))
    targets = {
        target
        for job in config["scrape_configs"]
        for static in job.get("static_configs", [])
        for target in static.get("targets", [])
    }
    assert {"hub-1:9464", "hub-2:9464", "indicators:9465"} <= targets


def test_hubs_in_containers_listen_for_prometheus_beyond_loopback() -> None:
    """The hub binds /metrics to 127.0.0.1 unless told; Prometheus scrapes from its own
    container, so the compose file must say 0.0.0.0."""
    for name in HUB_SERVICES:
        assert _environment(_services()[name])["KETENHUB_METRICS_HOST"] == "0.0.0.0", name


def _exported_names() -> set[str]:
    """Every sample name a running hub exports (all label children pre-created)."""
    metrics = HubMetrics()
    registry = PartnerRegistry.from_toml(DEFAULTS / "partners.toml")
    partners = [(p.id, p.kind) for p in registry.partners]
    metrics.precreate(["ingest", "route"], [p for p, _ in partners])
    metrics.precreate_flows(
        ["ingest", "route"], partners, Policy.from_toml(DEFAULTS / "policy.toml").flows
    )
    metrics.consumer_lag.labels("route", "t", "0")
    indicators = IndicatorMetrics()
    indicators.precreate(["zuid"])
    indicators.value.labels("escalations", "totaal").set(1)
    indicators.publish(compute([]))
    return {
        s.name
        for registry in (metrics.registry, indicators.registry)
        for family in registry.collect()
        for s in family.samples
    }


def _metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads: identifiers that are not functions,
    keywords, label names or values, durations or template variables."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # string literals
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # ranges
    text = re.sub(r"(?<![A-Za-z0-9_:])\d[0-9.]*[a-z]*", "0", text)  # numbers, durations
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    names = set()
    for match in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", text):
        rest = text[match.end() :].lstrip()
        if rest.startswith("(") or match.group() in PROMQL_KEYWORDS:
            continue
        names.add(match.group())
    return names


PROMQL_KEYWORDS = {
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "inf",
    "nan",
}


def _panels() -> list[dict[str, Any]]:
    dashboard = json.loads(DASHBOARD_FILE.read_text(encoding="utf-8"))
    panels = [p for p in dashboard["panels"] if p.get("type") != "row"]
    assert panels, "dashboard has no panels"
    return panels


def _promtool() -> str:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed: run scripts/ensure-prometheus.sh (make test does)")
    return promtool


def test_metric_name_extraction() -> None:
    assert _metric_names(
        'sum by (le) (rate(a_bucket{x="y{z}"}[5m])) / on (p) b and time() - c offset 5m'
    ) == {"a_bucket", "b", "c"}


def test_grafana_dashboard_panels_query_existing_metrics() -> None:
    exported = _exported_names() | {"up"}
    ids = [p["id"] for p in json.loads(DASHBOARD_FILE.read_text(encoding="utf-8"))["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in _panels():
        targets = panel.get("targets", [])
        assert targets, f"panel {panel.get('title')!r} has no targets"
        for target in targets:
            expr = str(target.get("expr", "")).strip()
            assert expr, f"panel {panel.get('title')!r} has an empty expr"
            names = _metric_names(expr)
            assert names, f"no metric in {expr!r}"
            unknown = names - exported
            assert not unknown, f"panel {panel.get('title')!r} reads unknown metrics {unknown}"


def test_every_hub_metric_is_on_the_dashboard() -> None:
    used = {
        name for panel in _panels() for t in panel["targets"] for name in _metric_names(t["expr"])
    }
    families = {
        family.name
        for registry in (HubMetrics().registry, IndicatorMetrics().registry)
        for family in registry.collect()
    }
    for family in families:
        assert any(name.startswith(family) for name in used), f"{family} is on no panel"


def test_dashboard_expressions_are_valid_promql(tmp_path: Path) -> None:
    promtool = _promtool()
    rules = [
        {"record": f"dashboard:panel{panel['id']}:{target['refId']}", "expr": target["expr"]}
        for panel in _panels()
        for target in panel["targets"]
    ]
    file = tmp_path / "dashboard-rules.yml"
    file.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = subprocess.run(
        [promtool, "check", "rules", str(file)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_prometheus_loads_the_alert_rules() -> None:
    config = yaml.safe_load(PROMETHEUS_FILE.read_text(encoding="utf-8"))
    assert config["rule_files"] == ["alerts.yml"]
    prometheus = _services()["prometheus"]
    assert "./deploy/prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro" in prometheus["volumes"]


def test_alert_rules_cover_the_issue_and_read_existing_metrics() -> None:
    groups = yaml.safe_load(ALERTS_FILE.read_text(encoding="utf-8"))["groups"]
    rules = {rule["alert"]: rule for group in groups for rule in group["rules"]}
    assert {
        "KetenhubDown",
        "KetenhubConsumerLagHigh",
        "KetenhubDeadLettersGrowing",
        "KetenhubRejectRateHigh",
        "KetenhubPartnerSilent",
    } <= set(rules)
    exported = _exported_names() | {"up"}
    for name, rule in rules.items():
        unknown = _metric_names(rule["expr"]) - exported
        assert not unknown, f"{name} reads unknown metrics {unknown}"
        assert rule["labels"]["severity"] in ("warning", "critical"), name
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], name


def test_promtool_checks_the_alert_rules() -> None:
    result = subprocess.run(
        [_promtool(), "check", "rules", str(ALERTS_FILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_unit_tests_of_the_alert_rules_pass() -> None:
    result = subprocess.run(
        [_promtool(), "test", "rules", ALERTS_TEST_FILE.name],
        cwd=ALERTS_TEST_FILE.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_checks_the_prometheus_config() -> None:
    result = subprocess.run(
        [_promtool(), "check", "config", str(PROMETHEUS_FILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_docker_compose_config_validates() -> None:
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("docker CLI not installed; cannot run `docker compose config`")
    version = subprocess.run(
        [docker, "compose", "version"], capture_output=True, text=True, check=False
    )
    if version.returncode != 0:
        pytest.skip("docker compose plugin not available; cannot run `docker compose config`")
    result = subprocess.run(
        [docker, "compose", "-f", "docker-compose.yml", "config", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
