"""The pseudonym key ring: version 1 is the configured key, rotations add files, at most
two are readable, retiring removes the previous one."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from hub.keyring import load_keyring, retire, rotate
from hub.secret_store import SecretError, SecretStore
from hub.settings import Settings
from hub.stages.pseudonyms import Pseudonymiser, version_of


def _settings(tmp_path: Path) -> Settings:
    return Settings(
        bootstrap="unused:9092",
        secrets_dir=tmp_path / "secrets",
        pseudonym_secret="a-configured-key-of-enough-bytes",
    )


def test_before_any_rotation_the_configured_key_is_version_1_and_alone(tmp_path: Path) -> None:
    ring = load_keyring(_settings(tmp_path))
    assert ring.previous is None
    assert ring.current == Pseudonymiser(b"a-configured-key-of-enough-bytes")


def test_a_rotation_makes_a_private_new_current_key_and_keeps_the_old_readable(
    tmp_path: Path,
) -> None:
    settings = _settings(tmp_path)
    ring = rotate(settings)
    assert (ring.current.version, ring.previous and ring.previous.version) == (2, 1)
    path = SecretStore(settings.secrets_path).pseudonym_key_path(2)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ring.current.key not in (b"", ring.previous and ring.previous.key)
    assert version_of(ring.current.child("999990019")) == 2
    assert version_of(ring.previous.child("999990019")) == 1 if ring.previous else False
    assert load_keyring(settings) == ring, "what a restarted hub reads"


def test_a_second_rotation_waits_for_the_previous_key_to_be_retired(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    rotate(settings)
    with pytest.raises(SecretError, match="retire"):
        rotate(settings)
    assert retire(settings) == 1
    ring = load_keyring(settings)
    assert (ring.current.version, ring.previous) == (2, None)
    ring = rotate(settings)
    assert (ring.current.version, ring.previous and ring.previous.version) == (3, 2)
    assert retire(settings) == 2
    assert not SecretStore(settings.secrets_path).pseudonym_key_path(2).exists()
    assert load_keyring(settings).current.version == 3


def test_retiring_with_only_one_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SecretError, match="nothing to retire"):
        retire(_settings(tmp_path))


def test_an_empty_key_file_is_an_error_that_names_it(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    rotate(settings)
    path = SecretStore(settings.secrets_path).pseudonym_key_path(2)
    path.write_text("\n")
    with pytest.raises(SecretError, match=str(path)):
        load_keyring(settings)
