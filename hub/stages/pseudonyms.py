"""Keyed-hash pseudonyms: the only way a child or household is named inside the hub."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Pseudonymiser:
    """HMAC-SHA256 over a domain-separated BSN; without the key a pseudonym reveals nothing."""

    key: bytes = field(repr=False)

    def child(self, bsn: str) -> str:
        return self._hash("child", bsn)

    def household_of(self, bsn: str) -> str:
        """Household of a child until the household table knows better: a household of one."""
        return self._hash("household", bsn)

    def split_household(self, bsn: str, message_id: str) -> str:
        """The household children form when they leave theirs: new for every split, and the
        same again when the batch that split is retried (the hub message id is)."""
        return self._hash("household-split", f"{bsn}:{message_id}")

    def _hash(self, domain: str, value: str) -> str:
        digest = hmac.new(self.key, f"{domain}:{value}".encode(), hashlib.sha256)
        return digest.hexdigest()[:32]
