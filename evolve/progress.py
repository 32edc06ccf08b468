"""A tqdm bar over evaluations: count, ETA, generation and best fitness so far."""

from __future__ import annotations

import sys
from typing import Any

from evolve.strategies.base import score


class Progress:
    def __init__(
        self, total: int | None, *, enabled: bool = True, direction: str = "maximize"
    ) -> None:
        self.direction = direction
        self.best: float | None = None
        self.bar: Any = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(
                total=total, unit="genome", desc="evolving", file=sys.stderr, dynamic_ncols=True
            )

    def update(self, record: dict[str, Any]) -> None:
        fitness = record["fitness"] if record["status"] != "failed" else None
        if fitness is not None and (
            self.best is None or score(fitness, self.direction) > score(self.best, self.direction)
        ):
            self.best = fitness
        if self.bar is not None:
            best = "-" if self.best is None else f"{self.best:.4f}"
            self.bar.set_postfix_str(f"gen {record['generation']} best {best}", refresh=False)
            self.bar.update(1)

    def write(self, line: str) -> None:
        if self.bar is not None:
            self.bar.write(line, file=sys.stderr)
        else:
            print(line, file=sys.stderr)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
