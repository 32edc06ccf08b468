"""Watching a run as records arrive (an observer): the progress bar, a line per new best, per
failure and per generation, and the plots, redrawn at most every ``PLOT_EVERY`` s."""

from __future__ import annotations

import time
from typing import Any

from evolve.engine.observers import Observer
from evolve.engine.ranking import Ranking
from evolve.engine.records import Outcome, Record, Status
from evolve.execution.trial import one_line
from evolve.rundir.store import RunDir
from evolve.view import gene_plots, plots
from evolve.view.inspection import generations, unused_genes
from evolve.view.progress import Console, genes_line

PLOT_EVERY = 10.0
"""Seconds between redraws of the plots (drawing costs ~0.5 s; the last draw is at the end)."""


class Monitor(Observer):
    """Receives every record of a run (``on_record``) and every one read back on resume
    (``on_replay``). With ``announce_best`` (a run that keeps models), each new best trained
    model gets a line, by the rule of the model keeper (``Ranking.key``)."""

    def __init__(
        self,
        console: Console,
        direction: str,
        objective: str,
        run: RunDir | None,
        announce_best: bool = False,
        elites: int = 0,
        space: Any = None,
        rss_limit: int = 0,
    ) -> None:
        self.console = console
        self.direction = direction
        self.ranking = Ranking(direction)
        self.objective = objective
        self.run = run
        self.announce_best = announce_best
        self.best: Record | None = None
        self.elites = elites
        self.space = space
        """The run's search space: the genes a new best's network does not use are shown in
        brackets (``inspection.unused_genes``)."""
        self.rss_limit = rss_limit
        """``run.max_worker_rss_mb`` of a loky run (0: none): a worker past it after its first
        evaluation shows a limit no worker can meet, said once."""
        self.seen: list[Record] = []
        self.workers: set[tuple[str | None, int | None]] = set()
        self.counted: set[tuple[str | None, int | None]] = set()
        self.limit_said = False
        self._drawn_at = time.monotonic()

    def on_record(self, record: Record) -> None:
        say = self.console.say
        self._close_generations(record.generation)
        worker = (record.host, record.pid)
        self._check_limit(worker, record)
        if record.cuda_visible_devices not in (None, "-1") and worker not in self.workers:
            self.workers.add(worker)
            say(f"worker {record.pid} on {record.host} uses GPU {record.cuda_visible_devices}")
        self.seen.append(record)
        if self._improves(record) and self.announce_best:
            at = f" at {record.fidelity} epochs" if record.fidelity else ""  # rungs: a higher
            shown = genes_line(record.genes, unused_genes(self.space, record.genes))
            say(f"new best{at} {record.fitness:.4f}: {shown}")  # a higher rung wins
        if not record.succeeded:
            say(f"genome {record.id} {record.status}: {record.reason}")
        elif record.attempts > 1:
            say(f"genome {record.id} trained on try {record.attempts} (a worker was lost before)")
        fitness = "-" if record.fitness is None else f"{record.fitness:.4f}"
        say(
            f"#{record.index} gen {record.generation} {record.id} {record.status} {fitness} "
            f"in {record.seconds or 0.0:.1f} s: {genes_line(record.genes)}",
            detail=True,
        )
        self.console.progress.update(record)

    def _check_limit(self, worker: tuple[str | None, int | None], record: Record) -> None:
        first = worker not in self.counted
        self.counted.add(worker)
        rss = record.rss_mb or 0.0
        if self.rss_limit and first and rss > self.rss_limit and not self.limit_said:
            self.limit_said = True
            self.console.warn(
                f"warning: a fresh worker reached {rss:.0f} MB in its first evaluation, past "
                f"run.max_worker_rss_mb = {self.rss_limit}: no worker can meet that limit, so "
                "every genome gets a new worker (seconds to start each); raise the limit "
                f"above {rss * 1.25:.0f} or set 0"
            )

    def on_replay(self, record: Record) -> None:
        self._improves(record)
        self.seen.append(record)
        self.console.progress.update(record)

    def _improves(self, record: Record) -> bool:
        """Whether ``record`` is a new best trained model (a re-evaluation never is)."""
        if record.status != Status.OK or record.repeat:
            return False
        if self.best is None or self.ranking.key(record) > self.ranking.key(self.best):
            self.best = record
            return True
        return False

    def on_finish(self, outcome: Outcome) -> None:
        self.finish(outcome.stop_reason)

    def finish(self, stop_reason: str) -> None:
        """The last generation's line, the bar's last state (drawn once, its rate that of the
        evaluations: before the plots take their seconds), the final plots, and why the run
        stopped, below the bar."""
        if self.seen:
            self._close_generations(max(r.generation for r in self.seen) + 1)
        self.console.progress.finish()
        self.console.progress.close()
        if self.seen:
            self.draw()
            if self.run is not None:  # the gene plots: once, at the end (a forest is fitted)
                self._safely(
                    gene_plots.draw, self.seen, self.direction, self.run.save_figure,
                    self.objective,
                )  # fmt: skip
        said = stop_reason if stop_reason.startswith("stopped") else f"stopped: {stop_reason}"
        self.console.say(said)

    def draw(self) -> None:
        if self.run is not None and self.seen:
            self._safely(
                plots.draw, self.seen, self.direction, self.run.save_figure, self.objective,
                self.elites,
            )  # fmt: skip
            self._drawn_at = time.monotonic()

    def _safely(self, draw: Any, *args: Any) -> None:
        """A plot that cannot be drawn (odd metrics of a fitness of yours) is a warning,
        never the end of the run; a full disk is still the run directory's error."""
        try:
            draw(*args)
        except OSError:
            raise
        except Exception as exc:
            self.console.warn(f"warning: a plot could not be drawn ({one_line(exc)})")

    def _close_generations(self, generation: int) -> None:
        """A line for the generation that a record of ``generation`` shows to be complete."""
        last = max((r.generation for r in self.seen), default=None)
        if last is None or generation <= last:
            return
        row: dict[str, Any] = next(
            g for g in generations(self.seen, self.direction, self.elites)
            if g["generation"] == last
        )
        best = "-" if row["best"] is None else f"{row['best']:.4f}"
        mean = "-" if row["mean"] is None else f"{row['mean']:.4f}"
        self.console.say(
            f"generation {last}: best {best}, mean {mean}, diversity {row['diversity']:.2f}, "
            f"{row['evaluations']} evaluated, {row['failed']} failed"
        )
        if time.monotonic() - self._drawn_at >= PLOT_EVERY:
            self.draw()
