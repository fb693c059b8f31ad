"""``send`` and ``inbox`` as a partner: mistakes a person makes are one line, no traceback."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from hub.cli.main import app

runner = CliRunner()


def test_a_file_over_the_size_limit_is_one_line_naming_the_limit(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    big.write_bytes(b"{" + b" " * (5 * 1000 * 1000) + b"}")
    result = runner.invoke(app, ["send", "--as", "huisarts-wijert", str(big)])
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert text.startswith("error: ") and text.count("error:") == 1, result.output
    assert "is 4.8 MiB; the hub takes at most 512 KiB per message" in text
    assert "(KETENHUB_MAX_PAYLOAD_BYTES); nothing was sent" in text
    assert "Traceback" not in result.output


def test_the_inbox_of_an_unknown_partner_names_the_known_ones() -> None:
    result = runner.invoke(app, ["inbox", "nobody"])
    assert result.exit_code == 2
    # One message (the console may wrap it at the terminal's width), no warnings around it.
    text = " ".join(result.output.split())
    assert text.startswith("error: unknown partner 'nobody'; known partners: huisarts-wijert")
    assert text.count("error:") == 1 and "warn" not in text.lower()
