"""Tree-structured Parzen Estimator through Optuna's ask/tell interface.

Optuna is imported when this strategy is built, never by the rest of the engine.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from evolve.search.base import DONE, STARTUP_TRIALS, Signal, Strategy
from evolve.search.registry import register
from genomes.genes import FloatRange, IntRange, LogRange
from genomes.genome import Genome
from genomes.space import SearchSpace

REPEAT_LIMIT = 20


@register
class TPESearch(Strategy):
    """Optuna's TPE sampler proposing ``count`` distinct genomes (Bergstra et al., NeurIPS
    2011; Optuna's ``TPESampler``, through its ask/tell interface).

    When TPE proposes a genome whose result is already known, the known value is told back to
    Optuna at once and another is asked, so repeats cost no training.
    """

    name = "tpe"
    order = 3
    multi_fidelity = True
    summary = (
        "Optuna's Tree-structured Parzen Estimator, population x generations (or budget) "
        "distinct genomes"
    )
    extra = "tpe"
    settings = (STARTUP_TRIALS,)

    def __init__(
        self,
        space: SearchSpace,
        direction: str = "maximize",
        seed: int = 0,
        *,
        startup_trials: int = 10,
        **effort: int,
    ) -> None:
        super().__init__(space, direction, seed, **effort)
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self._optuna = optuna
        self.seed = seed
        self.startup_trials = startup_trials
        self.distributions = {g.name: _distribution(optuna, g) for g in space.genes}
        self.values: dict[str, float | None] = {}
        self.open: dict[str, list[int]] = {}
        """Optuna trial numbers waiting for a genome's result."""
        self._params: dict[int, dict[str, Any]] = {}
        self.told: list[dict[str, Any]] = []
        self.study = self._new_study()

    def _new_study(self) -> Any:
        sampler = self._optuna.samplers.TPESampler(
            seed=self.seed, n_startup_trials=self.startup_trials
        )
        direction: Any = self.direction
        return self._optuna.create_study(direction=direction, sampler=sampler)

    def ask(self) -> Genome | Signal:
        if len(self.seen) >= min(self.count, self.space.size):
            self.stop_reason = f"{len(self.seen)} distinct genomes evaluated"
            return DONE
        for _ in range(REPEAT_LIMIT):
            trial = self.study.ask(self.distributions)
            genome = self.space.genome(self._alleles(trial.params), origin="tpe")
            if genome.id in self.values:
                self._tell_trial(trial.number, trial.params, self.values[genome.id])
                continue
            self.open.setdefault(genome.id, []).append(trial.number)
            self._params[trial.number] = trial.params
            return self._propose(genome)
        fallback = self.novel_random()
        if fallback is None:
            self.stop_reason = f"the space is exhausted ({len(self.seen)} configurations)"
            return DONE
        self.open.setdefault(fallback.id, []).append(-1)
        return self._propose(fallback)

    def tell(self, genome: Genome, fitness: float | None) -> None:
        self.values[genome.id] = fitness
        numbers = self.open.pop(genome.id, [])
        for number in numbers:
            if number >= 0:
                self._tell_trial(number, self._params.pop(number), fitness)
            else:
                self._add_trial(self._params_of(genome), fitness)

    def expected(self) -> int:
        return min(self.count, self.space.size)

    def _alleles(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            g.name: g.alleles[params[g.name]] if isinstance(g, LogRange) else params[g.name]
            for g in self.space.genes
        }

    def _params_of(self, genome: Genome) -> dict[str, Any]:
        return {
            g.name: g.index(genome[g.name]) if isinstance(g, LogRange) else genome[g.name]
            for g in self.space.genes
        }

    def _tell_trial(self, number: int, params: dict[str, Any], fitness: float | None) -> None:
        state = self._optuna.trial.TrialState
        if fitness is None:
            self.study.tell(number, state=state.FAIL)
        else:
            self.study.tell(number, fitness)
        self.told.append({"params": params, "value": fitness})

    def _add_trial(self, params: dict[str, Any], fitness: float | None) -> None:
        state = self._optuna.trial.TrialState
        self.study.add_trial(
            self._optuna.trial.create_trial(
                params=params,
                distributions=self.distributions,
                value=fitness,
                state=state.FAIL if fitness is None else state.COMPLETE,
            )
        )
        self.told.append({"params": params, "value": fitness})

    def state_dict(self) -> dict[str, Any]:
        rng = self.study.sampler._rng.rng.get_state(legacy=False)
        mt = {"key": [int(k) for k in rng["state"]["key"]], "pos": int(rng["state"]["pos"])}
        return {
            **super().state_dict(),
            "told": self.told,
            "values": self.values,
            "sampler_rng": {**rng, "state": mt, "gauss": float(rng["gauss"])},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.study = self._new_study()
        self.told = []
        self.open = {}
        self._params = {}
        self.values = dict(state["values"])
        for entry in state["told"]:
            self._add_trial(entry["params"], entry["value"])
        rng = state["sampler_rng"]
        mt = {"key": np.array(rng["state"]["key"], dtype=np.uint32), "pos": rng["state"]["pos"]}
        self.study.sampler._rng.rng.set_state({**rng, "state": mt})
        # Genomes in flight at the checkpoint run again (the loop resubmits them): their
        # results are told to Optuna as trials of their own when they arrive.
        self.open = {gid: [-1] for gid in self.seen if gid not in self.values}


def _distribution(optuna: Any, gene: Any) -> Any:
    dist = optuna.distributions
    if isinstance(gene, LogRange):
        return dist.IntDistribution(0, len(gene) - 1)
    if isinstance(gene, IntRange) and len(gene) > 1:
        step = int(gene.alleles[1]) - int(gene.alleles[0])
        return dist.IntDistribution(gene.alleles[0], gene.alleles[-1], step=step)
    if isinstance(gene, FloatRange) and len(gene) > 1:
        step = gene.describe()["step"]
        return dist.FloatDistribution(gene.alleles[0], gene.alleles[-1], step=step)
    return dist.CategoricalDistribution(list(gene.alleles))
