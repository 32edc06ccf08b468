"""An immutable genome: alleles by gene name, its lineage, and a stable id."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from genomes.genes import Allele


def canonical_json(genes: Mapping[str, Allele]) -> str:
    """The canonical text of a set of alleles: sorted keys, no spaces."""
    return json.dumps(dict(genes), sort_keys=True, separators=(",", ":"))


def genome_id(canonical_genes: Mapping[str, Allele]) -> str:
    """A short, stable id of a canonical set of alleles."""
    return hashlib.sha256(canonical_json(canonical_genes).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Genome:
    """Alleles by gene name, in the search space's gene order.

    ``id`` is computed from the *canonical* alleles (see ``SearchSpace.canonical``), so two
    genomes that build the same network share one id even when an inert allele differs.
    Create genomes through ``SearchSpace.genome`` so that alleles are validated.
    """

    genes: Mapping[str, Allele]
    id: str
    parents: tuple[str, ...] = ()
    origin: str = "random"

    def __post_init__(self) -> None:
        object.__setattr__(self, "genes", MappingProxyType(dict(self.genes)))
        object.__setattr__(self, "parents", tuple(self.parents))

    def __getitem__(self, name: str) -> Allele:
        return self.genes[name]

    def __hash__(self) -> int:
        return hash(self.id)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Genome) and self.id == other.id

    def alleles(self) -> tuple[Allele, ...]:
        return tuple(self.genes.values())

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "genes": dict(self.genes),
            "parents": list(self.parents),
            "origin": self.origin,
        }
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Genome:
        return cls(
            genes=data["genes"],
            id=data["id"],
            parents=tuple(data.get("parents", ())),
            origin=data.get("origin", "random"),
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> Genome:
        return cls.from_dict(json.loads(text))

    def __repr__(self) -> str:
        genes = ", ".join(f"{k}={v!r}" for k, v in self.genes.items())
        return f"Genome({self.id}: {genes})"
