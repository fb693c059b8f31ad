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

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
PROMETHEUS_FILE = ROOT / "deploy" / "prometheus" / "prometheus.yml"
DASHBOARD_FILE = ROOT / "deploy" / "grafana" / "dashboards" / "ketenhub.json"

KAFKA_SERVICES = ("kafka-1", "kafka-2", "kafka-3")
HUB_SERVICES = ("hub-1", "hub-2")
EXPECTED_SERVICES = (*KAFKA_SERVICES, *HUB_SERVICES, "prometheus", "grafana")

# A name directly followed by `[` or `{` is a metric selector; functions and
# aggregations are followed by `(`.
METRIC_SELECTOR = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*[\[{]")


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
    missing = [source for source in sources if not (ROOT / source).exists()]
    assert not missing, f"mounted paths missing from the repo: {missing}"


def test_prometheus_scrapes_both_hubs() -> None:
    config = yaml.safe_load(PROMETHEUS_FILE.read_text(encoding="utf-8"))
    targets = {
        target
        for job in config["scrape_configs"]
        for static in job.get("static_configs", [])
        for target in static.get("targets", [])
    }
    assert {"hub-1:9464", "hub-2:9464"} <= targets


def test_grafana_dashboard_panels_query_ketenhub_metrics() -> None:
    dashboard = json.loads(DASHBOARD_FILE.read_text(encoding="utf-8"))
    panels = dashboard["panels"]
    assert panels, "dashboard has no panels"
    for panel in panels:
        targets = panel.get("targets", [])
        assert targets, f"panel {panel.get('title')!r} has no targets"
        for target in targets:
            expr = str(target.get("expr", "")).strip()
            assert expr, f"panel {panel.get('title')!r} has an empty expr"
            metrics = METRIC_SELECTOR.findall(expr)
            assert metrics, f"no metric selector in {expr!r}"
            assert all(metric.startswith("ketenhub_") for metric in metrics), expr


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
