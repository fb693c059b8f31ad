"""``ketenhub run``: every line of its log is JSON, and /metrics listens on loopback unless told."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from hub.kafka.local import free_port
from hub.settings import Settings


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KETENHUB_")}
    return {**env, "KETENHUB_HOME": str(tmp_path), **extra}


def _json_lines(stderr: str) -> list[dict[str, object]]:
    lines = stderr.splitlines()
    assert lines, "the hub logged nothing"
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except ValueError:
            pytest.fail(f"a log line is not JSON: {line!r}")
    return parsed


def _closed_port() -> int:
    return free_port()  # nothing listens there: the hub waits for Kafka and logs that


def test_every_line_of_a_hubs_log_is_json_from_the_first(tmp_path: Path) -> None:
    port = free_port()
    hub = subprocess.Popen(
        [sys.executable, "-m", "hub", "run", "--metrics-port", str(port)],
        env=_env(tmp_path, KETENHUB_BOOTSTRAP=f"127.0.0.1:{_closed_port()}"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:  # up once /metrics answers, on loopback
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=1):
                    break
            except OSError:
                assert hub.poll() is None and time.monotonic() < deadline, "no /metrics"
                time.sleep(0.2)
    finally:
        hub.send_signal(signal.SIGTERM)
        out, err = hub.communicate(timeout=30)
    events = _json_lines(err)
    assert events[0]["event"] == "metrics-serving"
    assert events[0]["url"] == f"http://127.0.0.1:{port}/metrics"
    assert out == ""


def test_a_hub_that_cannot_start_says_why_in_json(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "hub", "run", "--metrics-port", "0"],
        env=_env(tmp_path, KETENHUB_BOOTSTRAP="unused:9092",
                 KETENHUB_PARTNERS_FILE=str(tmp_path / "missing.toml")),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    [event] = _json_lines(result.stderr)
    assert event["event"] == "hub-failed" and event["level"] == "error"
    assert "missing.toml" in str(event["error"]) and "Traceback" not in result.stderr


def test_metrics_listen_on_loopback_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("KETENHUB_"):
            monkeypatch.delenv(name)
    assert Settings().metrics_host == "127.0.0.1"
    monkeypatch.setenv("KETENHUB_METRICS_HOST", "0.0.0.0")
    assert Settings().metrics_host == "0.0.0.0"


def test_serve_binds_the_address_it_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    import observability.metrics
    from observability.metrics import HubMetrics

    bound: list[tuple[int, str]] = []
    monkeypatch.setattr(observability.metrics, "start_http_server",
                        lambda port, addr, registry: bound.append((port, addr)))  # fmt: skip
    HubMetrics().serve(9464)
    HubMetrics().serve(9465, "0.0.0.0")
    HubMetrics().serve(0, "0.0.0.0")  # off
    assert bound == [(9464, "127.0.0.1"), (9465, "0.0.0.0")]


def test_the_indicator_gauges_listen_on_the_metrics_host_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from hub.cli import report

    for name in list(os.environ):
        if name.startswith("KETENHUB_"):
            monkeypatch.delenv(name)
    bound: list[str] = []
    monkeypatch.setattr(report, "start_http_server",
                        lambda port, addr, registry: bound.append(addr))  # fmt: skip

    def stop(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(report, "_report", stop)
    report._serve(Settings(), 9466, 1.0, None, None)
    monkeypatch.setenv("KETENHUB_METRICS_HOST", "0.0.0.0")
    report._serve(Settings(), 9466, 1.0, None, None)
    assert bound == ["127.0.0.1", "0.0.0.0"]
