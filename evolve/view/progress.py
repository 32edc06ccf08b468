"""What a person sees while a run goes: a tqdm bar (count, ETA, generation, best so far) and
lines above it; every line also goes to the run's ``run.log``."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from evolve.engine.ranking import Ranking, rung
from evolve.engine.records import Status


class Progress:
    """The bar over evaluations; disabled, it prints nothing.

    ``deferred`` (a resumed run): the bar appears at ``show()``, so the evaluations read back
    from the journal and the total of ``resume --generations`` are on it from the first draw
    (not ``0/35``, then ``35/35``, then ``35/76``).
    """

    def __init__(
        self,
        total: int | None,
        *,
        enabled: bool = True,
        direction: str = "maximize",
        deferred: bool = False,
    ) -> None:
        self.direction = direction
        self.ranking = Ranking(direction)
        self.best: float | None = None
        self.best_rung = 0
        self.bar: Any = None
        self.enabled = enabled
        self.total = total
        self.done = 0
        self.postfix = ""
        if enabled and not deferred:
            self.show()

    def show(self) -> None:
        """Draw the bar (once), with what was counted so far."""
        if not self.enabled or self.bar is not None:
            return
        from tqdm import tqdm

        total = self.total if self.total is None else max(self.total, self.done)
        self.bar = tqdm(
            total=total, initial=self.done, unit="genome", desc="evolving", file=sys.stderr,
            dynamic_ncols=True, postfix=self.postfix or None,
        )  # fmt: skip

    def update(self, record: Mapping[str, Any]) -> None:
        fitness = record["fitness"] if Status(record["status"]).succeeded else None
        if record.get("repeat", 0):
            fitness = None  # a re-evaluation's seed is not a new best (the mean decides)
        ranking = self.ranking  # a higher rung first, as the run's best
        if fitness is not None and (
            self.best is None
            or (rung(record), ranking.score(fitness)) > (self.best_rung, ranking.score(self.best))
        ):
            self.best, self.best_rung = fitness, rung(record)
        self.done += 1
        best = "-" if self.best is None else f"{self.best:.4f}"
        self.postfix = f"gen {record['generation']} best {best}"
        if self.bar is not None:
            self.bar.set_postfix_str(self.postfix, refresh=False)
            if self.bar.total is not None and self.bar.n >= self.bar.total:
                self.bar.total = None  # an estimate (rungs) fell short: count, no percentage
            self.bar.update(1)

    def set_total(self, total: int | None) -> None:
        """The number of evaluations the run will have in all (after ``resume --generations``)."""
        if total is not None:
            self.total = total
        if self.bar is not None and total is not None:
            self.bar.total = total
            self.bar.refresh()

    def write(self, line: str) -> None:
        if self.bar is not None:
            self.bar.write(line, file=sys.stderr)
        else:
            print(line, file=sys.stderr)

    def finish(self) -> None:
        """The run ended on its own: the total is what was done (a space that ran out early,
        an estimate that was off), so the bar ends full."""
        if self.bar is not None and self.bar.total != self.bar.n:
            self.bar.total = self.bar.n

    def close(self) -> None:
        """Draw the bar a last time and leave it; later lines are printed below it."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
            self.enabled = False


class Console:
    """Lines for the person at the terminal and for ``run.log``.

    ``quiet``: nothing on the terminal; ``verbose``: detail lines too. ``log`` receives every
    line (the run directory's ``log``, or nothing without a run directory).
    """

    def __init__(
        self,
        total: int | None,
        direction: str,
        *,
        quiet: bool,
        verbose: bool = False,
        log: Callable[[str], None] | None = None,
        deferred: bool = False,
    ) -> None:
        self.quiet = quiet
        self.verbose = verbose
        self.log = log or (lambda line: None)
        self.progress = Progress(
            total, enabled=not quiet, direction=direction, deferred=deferred
        )

    def say(self, line: str, detail: bool = False) -> None:
        """Log ``line``; show it unless quiet (a ``detail`` line only when verbose)."""
        self.log(line)
        if not self.quiet and (self.verbose or not detail):
            self.progress.write(line)

    def warn(self, line: str) -> None:
        """Log ``line`` and show it even when quiet: something was dropped or is off."""
        self.log(line)
        self.progress.write(line)

    def close(self) -> None:
        self.progress.close()


def genes_line(genes: Mapping[str, Any], unused: Iterable[str] = ()) -> str:
    """``a=1 b=2 (c=3)``: a genome's alleles on one line, the genes its network does not use
    (``inspection.unused_genes``) in brackets, as everywhere a genome is shown."""
    inert = set(unused)
    return " ".join(f"({k}={v})" if k in inert else f"{k}={v}" for k, v in genes.items())


def test_scores(test: Mapping[str, Any]) -> str:
    """``test accuracy 0.9722`` or ``test mae 41.2``: the test metrics of a final report that
    people read (every ``test_*`` value but the loss, which the objective already says)."""
    shown = [(k[5:], v) for k, v in test.items()
             if k.startswith("test_") and k != "test_loss" and isinstance(v, (int, float))]
    if not shown and "test_loss" in test:
        shown = [("loss", test["test_loss"])]
    return "   ".join(f"test {name} {value:.4f}" for name, value in shown)
