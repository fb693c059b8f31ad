"""Secrets on disk: one file per secret, readable by its owner only, never printed.

Layout of a secrets directory (``KETENHUB_SECRETS_DIR``, default ``$KETENHUB_HOME/secrets``;
``deploy/secrets`` for docker-compose; both git-ignored)::

    kafka/<user>.password     the SCRAM password of a Kafka user (partner id, hub, admin)
    pseudonym/v<N>.key        pseudonym key version N >= 2 (`ketenhub keys rotate`); version
                              1 is the configured KETENHUB_PSEUDONYM_SECRET(_FILE)
    pseudonym/v1.retired      the configured key was retired (`ketenhub keys retire`)

A file holds the value only; surrounding whitespace is ignored.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

KAFKA_DIR = "kafka"
PSEUDONYM_DIR = "pseudonym"
_KEY_FILE = re.compile(r"^v([0-9]{1,6})\.key$")
PASSWORD_SUFFIX = ".password"
MIN_PASSWORD_CHARS = 12
_USER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class SecretError(ValueError):
    """A secret is missing, unreadable or unusable; the message says where it was looked for."""


def write_private(path: Path, value: str) -> None:
    """Write ``value`` to ``path`` with mode 0600 (its directory 0700), never wider."""
    missing = [d for d in (path.parent, *path.parent.parents) if not d.exists()]
    for directory in reversed(missing):  # every directory made here is private too
        directory.mkdir(mode=0o700, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, value.encode())
    finally:
        os.close(fd)


def read_secret_file(path: Path, what: str) -> SecretStr:
    """The stripped content of a secret file; an empty or unreadable file is an error."""
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SecretError(f"cannot read {what} from {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise SecretError(f"{what} in {path} is not UTF-8 text") from None
    if not value:
        raise SecretError(f"{what} in {path} is empty")
    return SecretStr(value)


def new_password() -> SecretStr:
    """A random password with 256 bits of entropy, safe in JAAS and properties files."""
    return SecretStr(secrets.token_urlsafe(32))


@dataclass(frozen=True)
class SecretStore:
    root: Path

    def kafka_password_path(self, user: str) -> Path:
        if not _USER.fullmatch(user):
            raise SecretError(f"{user!r} is not a valid Kafka user name")
        return self.root / KAFKA_DIR / f"{user}{PASSWORD_SUFFIX}"

    def kafka_password(self, user: str) -> SecretStr | None:
        """The stored password of ``user``, or None when there is no file for it."""
        path = self.kafka_password_path(user)
        if not path.exists():
            return None
        password = read_secret_file(path, f"the Kafka password of {user}")
        if len(password.get_secret_value()) < MIN_PASSWORD_CHARS:
            raise SecretError(
                f"the Kafka password of {user} in {path} is shorter than {MIN_PASSWORD_CHARS} "
                "characters"
            )
        return password

    def ensure_kafka_password(self, user: str) -> tuple[SecretStr, bool]:
        """The stored password of ``user``, generating and storing one if absent (True then)."""
        existing = self.kafka_password(user)
        if existing is not None:
            return existing, False
        password = new_password()
        write_private(self.kafka_password_path(user), password.get_secret_value() + "\n")
        return password, True

    def pseudonym_key_path(self, version: int) -> Path:
        return self.root / PSEUDONYM_DIR / f"v{version}.key"

    def retired_marker(self, version: int) -> Path:
        return self.root / PSEUDONYM_DIR / f"v{version}.retired"

    def pseudonym_keys(self) -> dict[int, bytes]:
        """The stored pseudonym keys by version (none before the first rotation)."""
        folder = self.root / PSEUDONYM_DIR
        if not folder.is_dir():
            return {}
        keys: dict[int, bytes] = {}
        for path in sorted(folder.iterdir()):
            found = _KEY_FILE.fullmatch(path.name)
            if found is None:
                continue
            key = read_secret_file(path, f"pseudonym key version {found.group(1)}")
            keys[int(found.group(1))] = key.get_secret_value().encode()
        return keys

    def write_pseudonym_key(self, version: int) -> None:
        """A new random 256-bit key as ``version``; never overwrites one that exists."""
        path = self.pseudonym_key_path(version)
        if path.exists():
            raise SecretError(f"pseudonym key version {version} exists already in {path}")
        write_private(path, secrets.token_urlsafe(32) + "\n")

    def remove_pseudonym_key(self, version: int) -> None:
        """Forget a key for good: its file goes; the configured first key gets a marker."""
        path = self.pseudonym_key_path(version)
        if path.exists():
            path.unlink()
        else:
            write_private(self.retired_marker(version), "retired\n")
