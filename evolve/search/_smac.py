"""Bayesian optimisation through SMAC3's ask/tell interface: the part ``gp`` and ``smac`` share.

SMAC3 is described in Lindauer et al., "SMAC3: A Versatile Bayesian Optimization Package for
Hyperparameter Optimization", JMLR 23(54), 2022. Its facades bundle a surrogate model, an
acquisition function (expected improvement), an acquisition maximiser (local and random
search), an initial design (a scrambled Sobol sequence) and an intensifier; this module drives
one through ``ask``/``tell`` and never lets it run anything itself.

SMAC is imported when a strategy is built, never by the rest of the engine. Nothing is written
to the run directory: SMAC insists on saving its scenario when it is built, so it is built in
a private temporary directory that is removed at once, and results are told with
``save=False``.

Genes map to hyperparameters by allele index: ordered numeric genes (int, float, log ranges)
to an integer ``0..n-1``, so that neighbouring alleles are neighbours for the model and the
local search; choices and flags to a categorical over the indices. Genes with one allele are
left out and always take it.

Resume replays the record of every ``ask`` and ``tell`` into a fresh optimiser built with the
same seed. SMAC is deterministic for a seed (see ``_OrderedLocalSearch`` for the one place that
is not, and how it is made so), so the rebuilt optimiser is in the very state the saved one was
in, and a resumed run proposes what the uninterrupted run would have. Replaying costs the
optimiser's own time so far (it refits the model for every recorded ask; no genome is trained).
If a replayed ask proposes anything else (another SMAC, ConfigSpace, scikit-learn or NumPy
version), the optimiser is instead rebuilt by telling it every known result at once: the run
continues without repeats but along another path; ``exact_resume`` says which happened.
``replay=False`` always resumes that way: one model fit instead of one per recorded ask (a GP
replay of 150 asks takes about a minute).
"""

from __future__ import annotations

import math
from abc import abstractmethod
from typing import TYPE_CHECKING, Any

import numpy as np

from evolve.search._smac_setup import build_facade, quiet, versions
from evolve.search.base import DONE, STARTUP_TRIALS, Signal, Strategy
from genomes.genes import Gene
from genomes.genome import Genome
from genomes.space import SearchSpace

if TYPE_CHECKING:
    from ConfigSpace import Configuration
    from smac.facade.abstract_facade import AbstractFacade
    from smac.model.abstract_model import AbstractModel
    from smac.runhistory.dataclasses import TrialInfo
    from smac.scenario import Scenario

REPEAT_LIMIT = 20
"""SMAC proposals of already-known genomes answered in one ``ask`` before a random genome."""


class _Diverged(Exception):
    """A replayed ask proposed another genome than the recorded one."""


class SMACStrategy(Strategy):
    """A SMAC3 facade proposing ``count`` distinct genomes.

    Subclasses choose the facade (``_facade_class``) and may replace its surrogate model
    (``_model``). ``startup_trials`` genomes come from SMAC's Sobol initial design before the
    model takes over. When SMAC proposes a genome whose result is already known (two
    configurations that ``SearchSpace.canonical`` makes equivalent), the known value is told
    back at once and another is asked, so repeats cost no training; one still in flight is
    told when its result arrives. A failed evaluation is told as crashed, at the worst cost
    seen so far (raised as worse results arrive). SMAC minimises a cost: the cost is the
    fitness, negated when maximising.
    """

    name = "smac-base"
    extra = "smac"
    settings = (STARTUP_TRIALS,)

    def __init__(
        self,
        space: SearchSpace,
        direction: str = "maximize",
        seed: int = 0,
        *,
        startup_trials: int = 10,
        replay: bool = True,
        **effort: int,
    ) -> None:
        super().__init__(space, direction, seed, **effort)
        if direction not in ("maximize", "minimize"):
            raise ValueError(f"direction must be 'maximize' or 'minimize', got {direction!r}")
        if startup_trials < 0:
            raise ValueError(f"startup_trials must be 0 or more, got {startup_trials}")
        self.seed = seed
        self.startup_trials = startup_trials
        self.replay = replay
        """Resume by replaying every ask (exact); False: by re-telling results (one model fit)."""
        self.free: tuple[Gene, ...] = tuple(g for g in space.genes if len(g) > 1)
        """Genes the optimiser sees (those with more than one allele)."""
        self.exact_resume = True
        """False after a resume whose replay diverged and fell back to re-telling results."""
        self._reset()

    # -- the interface ----------------------------------------------------------------------

    def ask(self) -> Genome | Signal:
        if len(self.seen) >= self.expected():
            self.stop_reason = f"{len(self.seen)} distinct genomes evaluated"
            return DONE
        genome = self._next()
        if genome is None:
            self.stop_reason = f"the space is exhausted ({len(self.seen)} configurations)"
            return DONE
        self._log.append({"ask": dict(genome.genes)})
        return self._propose(genome)

    def tell(self, genome: Genome, fitness: float | None) -> None:
        if fitness is not None:
            fitness = float(fitness) if math.isfinite(fitness) else None
        if genome.id in self.values and genome.id not in self.open:
            return  # told already
        self.values[genome.id] = fitness
        self._log.append({"tell": dict(genome.genes), "fitness": fitness})
        trials = self.open.pop(genome.id, None)
        if not trials and self.smac is not None:
            trials = [self._trial(genome)]  # not proposed by SMAC itself: add it as a trial
        for trial in trials or ():
            self._tell_smac(trial, fitness)

    def expected(self) -> int:
        return min(self.count, self.space.size)

    def state_dict(self) -> dict[str, Any]:
        return {
            **super().state_dict(),
            "seed": self.seed,
            "count": self.count,
            "startup_trials": self.startup_trials,
            "trial_seed": self._trial_seed,
            "log": [dict(event) for event in self._log],
            "versions": versions(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Rebuild the optimiser by replaying every ask and tell (see the module docstring)."""
        self.seed = state["seed"]
        self.startup_trials = state["startup_trials"]
        self.rng = np.random.default_rng(self.seed)
        self.seen = set()
        self._reset()
        self.exact_resume = False
        if self.replay:
            try:
                self._replay(state["log"])
                self.exact_resume = True
            except _Diverged:
                self._reset()
        if not self.exact_resume:
            self._retell(state)
        super().load_state_dict(state)
        self.count = state["count"]

    # -- subclass hooks ---------------------------------------------------------------------

    @abstractmethod
    def _facade_class(self) -> type[AbstractFacade]:
        """The SMAC facade whose components (model, acquisition, ...) this strategy uses."""

    def _model(self, scenario: Scenario) -> AbstractModel | None:
        """A surrogate model replacing the facade's (``None``: the facade's own)."""
        return None

    # -- SMAC -------------------------------------------------------------------------------

    def _reset(self) -> None:
        """A fresh optimiser and empty bookkeeping."""
        self.values: dict[str, float | None] = {}
        """Fitness told for each genome id (``None``: failed)."""
        self.open: dict[str, list[TrialInfo]] = {}
        """SMAC trials waiting for the result of a genome in flight."""
        self._failed: list[TrialInfo] = []
        self._worst: float | None = None
        self._trial_seed: int | None = None
        self._exhausted = False
        self._log: list[dict[str, Any]] = []
        self.smac = self._new_facade() if self.free else None

    def _new_facade(self) -> AbstractFacade:
        return build_facade(
            self._facade_class(), self.free, self.name, self.seed, self.startup_trials, self._model
        )

    def _next(self) -> Genome | None:
        """The next genome nobody asked for yet: SMAC's, else a random one; None: exhausted."""
        for _ in range(REPEAT_LIMIT):
            trial = self._ask_smac()
            if trial is None:
                break
            genome = self._genome(trial.config)
            if genome.id in self.values:
                self._tell_smac(trial, self.values[genome.id])
            elif genome.id in self.open:
                self.open[genome.id].append(trial)
            else:
                self.open[genome.id] = [trial]
                return genome
        genome = self.novel_random()
        if genome is not None:
            self.open[genome.id] = []
        return genome

    def _ask_smac(self) -> TrialInfo | None:
        if self.smac is None or self._exhausted:
            return None
        from smac.main.exceptions import ConfigurationSpaceExhaustedException

        try:
            with quiet():
                trial = self.smac.ask()
        except (StopIteration, ConfigurationSpaceExhaustedException):
            self._exhausted = True
            return None
        if self._trial_seed is None:
            self._trial_seed = int(trial.seed)
        return trial

    def _tell_smac(self, trial: TrialInfo, fitness: float | None) -> None:
        from smac.runhistory.dataclasses import TrialValue
        from smac.runhistory.enumerations import StatusType

        assert self.smac is not None
        if fitness is None:
            self._failed.append(trial)
            worst = 0.0 if self._worst is None else self._worst
            value = TrialValue(cost=worst, status=StatusType.CRASHED)
        else:
            value = TrialValue(cost=fitness if self.direction == "minimize" else -fitness)
        with quiet():
            self.smac.tell(trial, value, save=False)
        if fitness is not None and (self._worst is None or value.cost > self._worst):
            self._worst = value.cost
            self._impute_failures()

    def _impute_failures(self) -> None:
        """Re-cost every failed trial at the (new) worst cost."""
        from smac.runhistory.enumerations import StatusType

        assert self.smac is not None
        for trial in self._failed:
            self.smac.runhistory.add(
                config=trial.config,
                cost=self._worst,
                status=StatusType.CRASHED,
                instance=trial.instance,
                seed=trial.seed,
                budget=trial.budget,
                force_update=True,
            )

    def _trial(self, genome: Genome) -> TrialInfo:
        from ConfigSpace import Configuration
        from smac.runhistory.dataclasses import TrialInfo

        assert self.smac is not None
        values = {g.name: g.index(genome[g.name]) for g in self.free}
        config = Configuration(self.smac.scenario.configspace, values=values)
        seed = 0 if self._trial_seed is None else self._trial_seed
        return TrialInfo(config=config, seed=seed)

    def _genome(self, config: Configuration) -> Genome:
        genes = {g.name: g.alleles[0] for g in self.space.genes}
        genes.update({g.name: g.alleles[int(config[g.name])] for g in self.free})
        return self.space.genome(genes, origin=self.name)

    # -- resume -----------------------------------------------------------------------------

    def _replay(self, log: list[dict[str, Any]]) -> None:
        for event in log:
            if "ask" in event:
                genome = self._next()
                if genome is None or genome.id != self.space.genome(event["ask"]).id:
                    raise _Diverged
                self._log.append(event)
                self._propose(genome)
            else:
                self.tell(self.space.genome(event["tell"]), event["fitness"])

    def _retell(self, state: dict[str, Any]) -> None:
        """Tell a fresh optimiser every recorded result; genomes in flight stay open."""
        self._trial_seed = state["trial_seed"]
        for event in state["log"]:
            if "ask" in event:
                self.open.setdefault(self.space.genome(event["ask"]).id, [])
                self._log.append(event)
            else:
                self.tell(self.space.genome(event["tell"]), event["fitness"])
