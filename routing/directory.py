"""The partner facts the router needs, as plain data built from the registry by the shell."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from schemas.partners import PartnerKind, PartnerRegistry


@dataclass(frozen=True)
class Directory:
    kinds: Mapping[str, PartnerKind] = field(default_factory=dict)
    wij_by_area: Mapping[str, str] = field(default_factory=dict)
    direct_access: frozenset[str] = frozenset()
    """Providers youth reach without an assignment (the Hoogkerk pilot)."""

    def kind(self, partner_id: str) -> PartnerKind | None:
        return self.kinds.get(partner_id)

    @classmethod
    def from_registry(cls, registry: PartnerRegistry) -> Directory:
        return cls(
            kinds={p.id: p.kind for p in registry.partners},
            wij_by_area={
                p.area: p.id for p in registry.partners if p.kind is PartnerKind.WIJ and p.area
            },
            direct_access=frozenset(p.id for p in registry.partners if p.direct_access),
        )
