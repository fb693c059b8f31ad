"""The pseudonym keys the hub can use: one current key, and the previous one while it is
still readable, so households on it can move to the current key (``hub.stages.rekey``).

Version 1 is the configured key (``KETENHUB_PSEUDONYM_SECRET(_FILE)``, or the development
key); ``ketenhub keys rotate`` adds version N+1 to the secrets directory, and ``ketenhub keys
retire`` removes the previous one. At most two are readable: a third rotation waits until
the previous key is retired, so no household is ever more than one key behind.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.secret_store import SecretError, SecretStore
from hub.settings import Settings
from hub.stages.pseudonyms import FIRST_VERSION, Pseudonymiser

MAX_READABLE = 2


@dataclass(frozen=True)
class KeyRing:
    current: Pseudonymiser
    previous: Pseudonymiser | None = None

    @property
    def readable(self) -> tuple[Pseudonymiser, ...]:
        """Current first: the order a lookup by BSN tries them in."""
        return (self.current,) if self.previous is None else (self.current, self.previous)


def _store(settings: Settings) -> SecretStore:
    return SecretStore(settings.secrets_path)


def readable_keys(settings: Settings) -> dict[int, bytes]:
    """Every key version that is not retired, with its key."""
    store = _store(settings)
    keys = store.pseudonym_keys()
    if FIRST_VERSION not in keys and not store.retired_marker(FIRST_VERSION).exists():
        keys[FIRST_VERSION] = settings.secret_bytes()
    return keys


def load_keyring(settings: Settings) -> KeyRing:
    """The current key (the highest version) and the previous one, if any."""
    keys = readable_keys(settings)
    if not keys:
        raise SecretError(
            f"every pseudonym key is retired; `ketenhub keys rotate` makes a new one in "
            f"{_store(settings).root / 'pseudonym'}"
        )
    if len(keys) > MAX_READABLE:
        raise SecretError(
            f"{len(keys)} pseudonym keys are readable (versions {sorted(keys)}); at most "
            f"{MAX_READABLE} may be: retire the oldest"
        )
    versions = sorted(keys, reverse=True)
    current = Pseudonymiser(keys[versions[0]], versions[0])
    previous = Pseudonymiser(keys[versions[1]], versions[1]) if len(versions) > 1 else None
    return KeyRing(current, previous)


def rotate(settings: Settings) -> KeyRing:
    """Add a new current key; the current one becomes the previous (still readable)."""
    ring = load_keyring(settings)
    if ring.previous is not None:
        raise SecretError(
            f"key version {ring.previous.version} is still readable beside the current "
            f"{ring.current.version}: `ketenhub keys status`, then `ketenhub keys retire` "
            "before the next rotation"
        )
    _store(settings).write_pseudonym_key(ring.current.version + 1)
    return load_keyring(settings)


def retire(settings: Settings) -> int:
    """Remove the previous key; returns its version. The households still on it cannot be
    found by their children's BSNs any more."""
    ring = load_keyring(settings)
    if ring.previous is None:
        raise SecretError(f"only key version {ring.current.version} is readable: nothing to retire")
    _store(settings).remove_pseudonym_key(ring.previous.version)
    return ring.previous.version
