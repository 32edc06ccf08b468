"""The ask/tell interface that every search strategy implements."""

from __future__ import annotations

import enum
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from evolve.declare import AT_LEAST_0, Bound
from evolve.search.registry import Setting, SettingError, strategy_settings, suggest
from evolve.search.request import FULL, TrainingRequest
from genomes.genome import Genome
from genomes.space import SearchSpace


class Signal(enum.Enum):
    """What ``ask`` returns when it has no genome to give."""

    WAIT = "wait"
    """Nothing to propose until more results are told (a generation is still training)."""
    DONE = "done"
    """The strategy has finished; ``stop_reason`` says why."""


WAIT = Signal.WAIT
DONE = Signal.DONE


@dataclass(frozen=True)
class Proposal:
    """A genome to train, and how far (``TrainingRequest``): what a multi-fidelity or
    re-evaluating strategy, or a scheduler, asks for (a plain ``Genome`` from ``ask`` means
    ``Proposal(genome)``, a full training)."""

    genome: Genome
    request: TrainingRequest = FULL


def score(fitness: float | None, direction: str) -> float:
    """Fitness as a number where higher is better; a failed evaluation scores ``-inf``."""
    if fitness is None or not math.isfinite(fitness):
        return -math.inf
    return fitness if direction == "maximize" else -fitness


def rng_state(rng: np.random.Generator) -> dict[str, Any]:
    return dict(rng.bit_generator.state)


def rng_from_state(state: dict[str, Any]) -> np.random.Generator:
    bit_generator = getattr(np.random, state["bit_generator"])()
    bit_generator.state = state
    return np.random.Generator(bit_generator)


COMMON_SETTINGS = (
    Setting("population", 10, "population size (also sets how many genomes random, tpe, gp "
            "and smac try: population x generations)", bound=Bound(2, rule="at least 2"),
            most=1_000_000, flag="population", keyword=True, resume="fixed"),
    Setting("generations", 5, "generations of the GA", bound=Bound(1, rule="at least 1"),
            most=1_000_000_000, flag="generations", keyword=True),
    Setting("budget", 0, "most trainings in the run; 0 = the strategy's own end (GA "
            "generations, the whole grid, population x generations for the others)",
            bound=AT_LEAST_0, most=1_000_000_000_000, flag="budget", keyword=True),
)  # fmt: skip
"""The effort settings every strategy accepts, whether it reads them or not."""

STARTUP_TRIALS = Setting(
    "startup_trials", 10, "tpe, gp, smac: random (tpe) or Sobol (gp, smac) genomes before the "
    "model takes over", bound=Bound(1, rule="at least 1"), most=1_000_000,
)  # fmt: skip
"""The setting of the model-based strategies: how many genomes come before the model."""


class Strategy(ABC):
    """A proposer of genomes.

    The run loop calls ``ask`` whenever a worker is free and ``tell`` as each result arrives.
    Strategies never touch the disk; their whole state is plain data (``state_dict``) that
    round-trips through JSON.

    A subclass sets ``name``, ``summary``, its own ``settings`` (keyword arguments of its
    ``__init__`` beside the common ``population``, ``generations`` and ``budget``) and, when it
    needs an optional dependency, ``extra``; decorated with ``evolve.search.registry.register``
    it is then known to the config, the command line and ``evolve.optimize``.
    """

    name: ClassVar[str] = "strategy"
    summary: ClassVar[str] = ""
    settings: ClassVar[tuple[Setting, ...]] = ()
    extra: ClassVar[str] = ""
    """The pip extra that installs what this strategy imports (empty: nothing beyond the core)."""
    order: ClassVar[int] = 100
    """Where it is listed (help, errors): lower first; the built-ins take 0 to 9."""
    multi_fidelity: ClassVar[bool] = False
    """Whether it can run under ``search.fidelity`` (asynchronous successive halving): it
    proposes genomes one at a time and takes each genome's first-rung result as its fitness."""
    extendable: ClassVar[bool] = True
    """Whether ``resume --generations N`` can give it more to do (``extend``)."""

    def __init__(
        self,
        space: SearchSpace,
        direction: str = "maximize",
        seed: int = 0,
        *,
        population: int = 10,
        generations: int = 5,
        budget: int = 0,
    ) -> None:
        self.space = space
        self.direction = direction
        self.per_generation = population
        """Genomes per generation: what ``extend`` adds per generation, what plots group by."""
        self.count = budget or population * generations
        """Genomes a strategy without generations of its own proposes (random, tpe, ...)."""
        self.rng = np.random.default_rng(seed)
        self.generation = 0
        self.stop_reason = ""
        self.seen: set[str] = set()
        """Ids of every genome this strategy has proposed."""

    @classmethod
    def validate(cls, params: Mapping[str, Any]) -> dict[str, Any]:
        """The keyword arguments for ``__init__`` out of ``params``, each one checked.

        Common settings and this strategy's own are kept; another registered strategy's
        settings are checked and dropped (one config serves every strategy). Raises
        ``SettingError`` (one line) for an unknown name, a wrong type or an invalid value.
        """
        common = {s.name: s for s in COMMON_SETTINGS}
        own = {s.name: s for s in cls.settings}
        others = strategy_settings()
        values: dict[str, Any] = {}
        for key, value in params.items():
            if key in common or key in own:
                values[key] = (common.get(key) or own[key]).parse(value, "search")
            elif key in others:
                others[key].parse(value, "search")
            else:
                names = [*common, *others]
                raise SettingError(f"unknown search setting '{key}'" + suggest(key, names))
        defaults = {s.name: s.default for s in (*COMMON_SETTINGS, *cls.settings)}
        cls.check_combination({**defaults, **values})
        return values

    @classmethod
    def check_combination(cls, values: Mapping[str, Any]) -> None:
        """Rules that tie settings together (every setting given, defaults filled in); raise
        ``SettingError``. None by default."""
        return None

    @abstractmethod
    def ask(self) -> Genome | Proposal | Signal:
        """The next genome to evaluate (or a ``Proposal``: a genome at a fidelity), ``WAIT``
        or ``DONE``."""

    @abstractmethod
    def tell(self, genome: Genome, fitness: float | None) -> None:
        """The fitness of a genome this strategy proposed (``None``: its evaluation failed)."""

    def tell_proposal(self, proposal: Proposal, fitness: float | None) -> None:
        """The result of a ``Proposal``; by default ``tell`` of its genome. Strategies that
        propose fidelities or repeats override it."""
        self.tell(proposal.genome, fitness)

    @property
    def full_fidelity(self) -> int:
        """The epochs of a full training when this strategy proposes fidelities (its top
        rung), else 0; a scheduler answers for the strategy it wraps."""
        return 0

    def observe(self, record: Mapping[str, Any]) -> None:
        """Every record of the run, as it is recorded or replayed on resume (cache hits and
        failures included). Ignored by default; a scheduler that reads learning curves (the
        median rule) keeps what it needs."""
        return None

    def promoted(self, genome: Genome, rung: int, fitness: float | None) -> None:
        """A genome told earlier was trained further, to ``rung``, with ``fitness`` there
        (multi-fidelity runs). Ignored by default; the GA compares genomes at the highest
        rung they share."""
        return None

    def extend(self, generations: int) -> None:
        """Allow ``generations`` more generations' worth of proposals (resume --generations):
        by default ``generations x per_generation`` more genomes."""
        self.count += generations * self.per_generation

    def expected(self) -> int | None:
        """How many genomes the strategy will propose in all, when it knows."""
        return None

    def state_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "rng": rng_state(self.rng),
            "generation": self.generation,
            "stop_reason": self.stop_reason,
            "seen": sorted(self.seen),
            "count": self.count,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng = rng_from_state(state["rng"])
        self.generation = state["generation"]
        self.stop_reason = state["stop_reason"]
        self.seen = set(state["seen"])
        self.count = state.get("count", self.count)

    def _propose(self, genome: Genome) -> Genome:
        self.seen.add(genome.id)
        return genome

    def novel_random(self, tries: int = 64) -> Genome | None:
        """A random genome never proposed before, or ``None`` when the space is exhausted."""
        for _ in range(tries):
            genome = self.space.sample(self.rng)
            if genome.id not in self.seen:
                return genome
        if self.space.size > 2_000_000:
            return None
        for index in self.rng.permutation(self.space.size):
            genome = self.space.point(int(index))
            if genome.id not in self.seen:
                return self.space.genome(genome.genes, origin="random")
        return None
