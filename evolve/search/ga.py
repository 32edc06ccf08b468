"""The genetic algorithm: generational or steady-state, with the lesson's operators."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from evolve.search._ga_parts import (
    GA_SETTINGS,
    Member,
    check_combination,
    generations_done,
    selection_operator,
)
from evolve.search.base import DONE, WAIT, Signal, Strategy
from evolve.search.operators import mutation as mutations
from evolve.search.operators import replacement as survival
from evolve.search.operators.crossover import CROSSOVERS
from evolve.search.registry import register
from evolve.search.rung_scores import rung_scores
from genomes.genome import Genome
from genomes.space import SearchSpace

NOVELTY_TRIES = 16


@register
class GeneticAlgorithm(Strategy):
    """Selection, crossover, mutation and replacement over a population of genomes.

    ``replacement="generational"`` breeds a whole generation at once (the ``elitism`` best
    survive unchanged) and waits until it is evaluated. ``"oldest"`` or ``"worst"`` run a
    steady-state GA: each ask breeds from the current population, each told child replaces the
    oldest (aging, as in regularized evolution) or the worst member; it never waits.
    Children are made new where possible: a child whose id was already proposed is mutated
    again, then replaced by a random unseen genome; only when the space offers nothing new is
    a duplicate kept (the run loop answers it from its cache, without training).
    """

    name = "ga"
    order = 0
    multi_fidelity = True
    summary = (
        "the genetic algorithm: generational (elitism, then selection, crossover and mutation "
        "of a whole generation) or steady-state (replacement = oldest or worst)"
    )
    settings = GA_SETTINGS

    @classmethod
    def check_combination(cls, values: Mapping[str, Any]) -> None:
        check_combination(dict(values))

    def __init__(
        self,
        space: SearchSpace,
        direction: str = "maximize",
        seed: int = 0,
        *,
        population: int = 10,
        generations: int = 5,
        budget: int = 0,
        selection: str = "tournament",
        tournament_size: int = 5,
        truncation: float = 0.5,
        crossover: str = "single_point",
        crossover_rate: float = 0.9,
        mutation: str = "uniform",
        mutation_rate: float = 0.5,
        elitism: int = 1,
        replacement: str = "generational",
        replace_count: int = 1,
    ) -> None:
        super().__init__(
            space, direction, seed, population=population, generations=generations, budget=budget
        )
        if population < 2:
            raise ValueError(f"population must be at least 2, got {population}")
        self.size = population
        self.generations = generations
        self.select = selection_operator(selection, tournament_size, truncation)
        self.cross = CROSSOVERS[crossover]
        self.crossover_rate = crossover_rate
        self.mutate = mutations.MUTATIONS[mutation]
        self.mutation_rate = mutation_rate
        self.elitism = elitism
        self.replacement = replacement
        self.replace_count = replace_count
        self.steady = replacement != "generational"
        self.queue: list[Genome] = []
        self.cohort: list[Member | None] = []
        """Generational: the current generation, elites filled in, children as they are told."""
        self.population: list[Member] = []
        """The evaluated population (steady-state: the current one; generational: the last
        complete generation)."""
        self.asked = 0
        self.born = 0
        self.finished = False
        self._fresh = 0
        self.rungs: dict[str, dict[int, float | None]] = {}
        """Multi-fidelity: genome id -> its fitness at each rung above the first."""
        self._start()

    # -- ask / tell ---------------------------------------------------------------------------

    def ask(self) -> Genome | Signal:
        if self.queue:
            return self._hand_out()
        if self.finished:
            return DONE
        if self.steady:
            if self.asked >= self.size * self.generations:
                self.stop_reason = generations_done(self.generations, self.size)
                return DONE
            if not self.population:
                return WAIT
            remaining = self.size * self.generations - self.asked
            self.queue = self._breed(self.population, min(self.replace_count, remaining))
            if not self._fresh:
                self.queue = []
                return self._exhausted()
            return self._hand_out()
        return WAIT

    def tell(self, genome: Genome, fitness: float | None) -> None:
        if self.steady:
            self._join(self.population, genome, fitness)
            if len(self.population) > self.size:
                scores = list(self._scores(self.population))
                born = [m.born for m in self.population]
                self.population.pop(survival.evict(scores, born, self.replacement, self.elitism))
            return
        for i, place in enumerate(self.cohort):
            if place is None and self._cohort_ids[i] == genome.id:
                self.cohort[i] = Member(self._cohort_genomes[i], fitness, self._next_born())
                break
        else:
            raise KeyError(f"genome {genome.id} was not asked in generation {self.generation}")
        if all(m is not None for m in self.cohort):
            self.population = list(self.cohort)  # type: ignore[arg-type]
            self._next_generation()

    def promoted(self, genome: Genome, rung: int, fitness: float | None) -> None:
        """Multi-fidelity: ``genome`` reached ``rung`` with ``fitness``; from now on it is
        compared with each other member at the highest rung both reached."""
        self.rungs.setdefault(genome.id, {})[rung] = fitness

    def _scores(self, members: list[Member]) -> np.ndarray:
        """What selection, elitism and replacement compare, higher is better (``rung_scores``:
        the fitness, or under multi-fidelity the rank from comparisons at shared rungs)."""
        return rung_scores([m.genome.id for m in members], [m.fitness for m in members],
                           self.rungs, self.direction)  # fmt: skip

    def extend(self, generations: int) -> None:
        """Run ``generations`` more generations, also after the GA finished its own."""
        ended_by_count = self.stop_reason.endswith("evaluated") or not self.stop_reason
        self.generations += generations
        if self.finished and ended_by_count and not self.steady:
            self.finished = False
            self.stop_reason = ""
            self._next_generation()

    def expected(self) -> int:
        if self.steady:
            return self.size * self.generations
        return self.size + (self.generations - 1) * (self.size - self.elitism)

    # -- breeding -----------------------------------------------------------------------------

    def _start(self) -> None:
        first: list[Genome] = []
        for _ in range(self.size):
            genome = self.novel_random()
            if genome is None:
                break
            self.seen.add(genome.id)
            first.append(genome)
        self.queue = first
        if not self.steady:
            self._set_cohort([None] * len(first), first)

    def _next_generation(self) -> None:
        if self.generation + 1 >= self.generations:
            self.finished = True
            self.stop_reason = generations_done(self.generations, self.size)
            return
        scores = list(self._scores(self.population))
        keep = [self.population[i] for i in survival.elites(scores, self.elitism)]
        children = self._breed(self.population, self.size - len(keep))
        if not self._fresh:
            self._exhausted()
            return
        self.generation += 1
        self.queue = children
        self._set_cohort([*keep, *([None] * len(children))], [m.genome for m in keep] + children)

    def _breed(self, parents: list[Member], count: int) -> list[Genome]:
        """``count`` children of ``parents``: selection, crossover, mutation, novelty."""
        scores = self._scores(parents)
        pairs = -(-count // 2)
        chosen = self.select(scores, 2 * pairs, self.rng)
        self._fresh = 0
        self.rng.shuffle(chosen)
        children: list[Genome] = []
        for a, b in zip(chosen[0::2], chosen[1::2], strict=True):
            ma, mb = parents[int(a)].genome, parents[int(b)].genome
            if self.rng.random() < self.crossover_rate:
                offspring, origin = self.cross(ma.alleles(), mb.alleles(), self.rng), "crossover"
            else:
                offspring, origin = (ma.alleles(), mb.alleles()), "clone"
            lineage = (ma.id,) if ma.id == mb.id else (ma.id, mb.id)
            for alleles in offspring:
                if len(children) == count:
                    break
                mutated = self.mutate(alleles, self.space.genes, self.rng, self.mutation_rate)
                tag = origin + ("+mutation" if mutated != alleles else "")
                children.append(self._novel(mutated, lineage, tag))
        return children

    def _novel(self, alleles: tuple, parents: tuple[str, ...], origin: str) -> Genome:
        """A child never proposed before, if the space still has one; marks it seen."""
        child = self.space.from_alleles(alleles, parents, origin)
        tries = 0
        while child.id in self.seen and tries < NOVELTY_TRIES:
            alleles = mutations.uniform(alleles, self.space.genes, self.rng, rate=1.0)
            child = self.space.from_alleles(alleles, parents, origin.split("+")[0] + "+mutation")
            tries += 1
        if child.id in self.seen:
            immigrant = self.novel_random()
            if immigrant is not None:
                child = self.space.genome(immigrant.genes, origin="immigrant")
        self._fresh += child.id not in self.seen
        self.seen.add(child.id)
        return child

    def _exhausted(self) -> Signal:
        self.finished = True
        self.stop_reason = (
            f"nothing new to propose: all {len(self.seen)} distinct genomes of the space "
            "in reach were evaluated"
        )
        return DONE

    # -- bookkeeping --------------------------------------------------------------------------

    def _hand_out(self) -> Genome:
        genome = self.queue.pop(0)
        self.generation = self.asked // self.size if self.steady else self.generation
        self.asked += 1
        return genome

    def _join(self, members: list[Member], genome: Genome, fitness: float | None) -> None:
        members.append(Member(genome, fitness, self._next_born()))

    def _next_born(self) -> int:
        self.born += 1
        return self.born - 1

    def _set_cohort(self, cohort: list[Member | None], genomes: list[Genome]) -> None:
        self.cohort = cohort
        self._cohort_genomes = list(genomes)
        self._cohort_ids = [g.id for g in genomes]

    def state_dict(self) -> dict[str, Any]:
        return {
            **super().state_dict(),
            "queue": [g.to_dict() for g in self.queue],
            "slots": [m.to_dict() if m else None for m in self.cohort],
            "slot_genomes": [g.to_dict() for g in getattr(self, "_cohort_genomes", [])],
            "population": [m.to_dict() for m in self.population],
            "asked": self.asked,
            "born": self.born,
            "generations": self.generations,
            "finished": self.finished,
            **({"rungs": {g: {str(k): v for k, v in r.items()} for g, r in self.rungs.items()}}
               if self.rungs else {}),
        }  # fmt: skip

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.queue = [Genome.from_dict(g) for g in state["queue"]]
        self._set_cohort(
            [Member.from_dict(m) if m else None for m in state["slots"]],
            [Genome.from_dict(g) for g in state["slot_genomes"]],
        )
        self.population = [Member.from_dict(m) for m in state["population"]]
        self.asked = state["asked"]
        self.born = state["born"]
        self.generations = state["generations"]
        self.finished = state["finished"]
        self.rungs = {
            g: {int(k): v for k, v in r.items()} for g, r in state.get("rungs", {}).items()
        }
