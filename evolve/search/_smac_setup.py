"""Setting SMAC3 up for the ``gp`` and ``smac`` strategies: the configuration space of a
search space's genes, a facade that runs nothing and writes nothing, and three fixes of SMAC's
defaults (deterministic local search, one BLAS thread, silence). See ``_smac`` for the why.
"""

from __future__ import annotations

import functools
import logging
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from genomes.genes import FloatRange, Gene, IntRange, LogRange

if TYPE_CHECKING:
    from ConfigSpace import ConfigurationSpace
    from smac.facade.abstract_facade import AbstractFacade

N_TRIALS = 2**31 - 1
"""SMAC's trial budget: unbounded, since the strategy's ``count`` is what stops."""
ORDERED = (IntRange, FloatRange, LogRange)
VERSIONED = ("smac", "ConfigSpace", "scikit-learn", "scipy", "numpy")


def configspace(free: Sequence[Gene]) -> ConfigurationSpace:
    """Ordered genes as an integer over the allele index; choices and flags as a categorical."""
    from ConfigSpace import (
        CategoricalHyperparameter,
        ConfigurationSpace,
        UniformIntegerHyperparameter,
    )

    cs = ConfigurationSpace()
    for gene in free:
        if isinstance(gene, ORDERED):
            cs.add(UniformIntegerHyperparameter(gene.name, 0, len(gene) - 1))
        else:
            cs.add(CategoricalHyperparameter(gene.name, list(range(len(gene)))))
    return cs


def build_facade(
    facade: type[AbstractFacade],
    free: Sequence[Gene],
    name: str,
    seed: int,
    startup_trials: int,
    model: Callable[[Any], Any],
) -> AbstractFacade:
    """A SMAC facade for ask/tell only, built in a temporary directory removed at once.

    ``model(scenario)`` returns a surrogate model replacing the facade's, or None.
    """
    from smac import Scenario

    logging.getLogger("smac").setLevel(logging.CRITICAL)
    with tempfile.TemporaryDirectory(prefix="evolve-smac-") as tmp, quiet():
        scenario = Scenario(
            configspace(free),
            name=name,
            output_directory=Path(tmp),
            deterministic=True,
            n_trials=N_TRIALS,
            seed=seed % N_TRIALS,  # SMAC reads -1 as "pick a random seed"
        )
        maximizer = facade.get_acquisition_maximizer(scenario)
        _order_local_search(maximizer)
        return facade(
            scenario,
            None,
            model=model(scenario),
            initial_design=facade.get_initial_design(
                scenario, n_configs=startup_trials, max_ratio=1.0
            ),
            intensifier=facade.get_intensifier(scenario, max_config_calls=1),
            acquisition_maximizer=maximizer,
            logging_level=False,  # None would reconfigure the root logger
            overwrite=True,  # never look for (or ask about) an earlier run
        )


def _order_local_search(maximizer: Any) -> None:
    """Make SMAC's local search start from its points in a fixed order.

    ``LocalSearch._get_init_points_from_previous_configs`` returns ``list(set(...))`` of
    configurations (SMAC3 PR #1244), and a configuration hashes by its ``repr``, a string,
    so the order, and with it the random numbers each local search draws, changes with
    ``PYTHONHASHSEED``: the same seed gave different proposals in different processes. The
    points are sorted by their vector instead (same points, fixed order).
    """
    ordered = _ordered_local_search()
    local = getattr(maximizer, "_local_search", None)
    if isinstance(local, ordered.__mro__[1]):
        local.__class__ = ordered


@functools.cache
def _ordered_local_search() -> type:
    from smac.acquisition.maximizer.local_search import LocalSearch

    class OrderedLocalSearch(LocalSearch):  # type: ignore[misc]
        def _get_init_points_from_previous_configs(self, *args: Any, **kwargs: Any) -> Any:
            points = super()._get_init_points_from_previous_configs(*args, **kwargs)
            return sorted(points, key=lambda c: tuple(c.get_array()))

    return OrderedLocalSearch


@contextmanager
def quiet() -> Iterator[None]:
    """Silence SMAC's and scikit-learn's warnings, and keep BLAS on one thread.

    The matrices are tiny: OpenBLAS threads cost more than they save (a GP ask took 1.9 s
    with two threads on two cores and 0.65 s with one), and they would compete with the
    workers that train genomes.
    """
    from threadpoolctl import threadpool_limits

    with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
        warnings.simplefilter("ignore")
        yield


def versions() -> dict[str, str]:
    """Versions of the libraries a replay depends on (for a diverged resume's diagnosis)."""
    found = {}
    for package in VERSIONED:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "missing"
    return found
