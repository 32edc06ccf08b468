"""Random-forest Bayesian optimisation through SMAC3's ask/tell interface (``smac``).

SMAC's original algorithm (Hutter, Hoos and Leyton-Brown, "Sequential Model-Based
Optimization for General Algorithm Configuration", LION 2011) as configured by SMAC3's
``HyperparameterOptimizationFacade`` (Lindauer et al., "SMAC3: A Versatile Bayesian
Optimization Package for Hyperparameter Optimization", JMLR 23(54), 2022): a random forest on
log-scaled costs, expected improvement on the log scale maximised by local and random search,
one proposal in five random, the model refitted every eight proposals, a Sobol initial design.
See ``evolve.search._smac`` for how genes, repeats, failures and resume are handled.

Since SMAC 2.4 the forest is scikit-learn's, so pyrfr (and SWIG, a C++ compiler) is not needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from evolve.search._smac import SMACStrategy
from evolve.search.registry import register

if TYPE_CHECKING:
    from smac.facade.abstract_facade import AbstractFacade
    from smac.model.abstract_model import AbstractModel
    from smac.scenario import Scenario


@register
class SMACSearch(SMACStrategy):
    """SMAC3's random-forest facade proposing ``count`` distinct genomes."""

    name = "smac"
    order = 5
    summary = (
        "random-forest Bayesian optimisation (SMAC3's HyperparameterOptimizationFacade), "
        "population x generations (or budget) distinct genomes"
    )

    def _facade_class(self) -> type[AbstractFacade]:
        from smac import HyperparameterOptimizationFacade

        return HyperparameterOptimizationFacade

    def _model(self, scenario: Scenario) -> AbstractModel:
        """The facade's forest (``HyperparameterOptimizationFacade.get_model`` defaults).

        Two settings differ, and neither changes what the model is: ``n_jobs=1`` (the default,
        -1, fits and predicts through joblib threads whose waits took 3.3 s of a 4.9 s profile)
        and ``max_leaf_nodes=None`` (2**20 makes scikit-learn allocate room for 2**21 nodes in
        every tree, some 65 ms a tree; no forest here comes near that many leaves, though the
        trees are now grown depth-first, so they differ from the default's draw for draw).
        Together they take an ask that refits the forest from 1.8 s to 0.3 s.
        """
        from smac.model.random_forest.random_forest import RandomForest

        return RandomForest(
            scenario.configspace,
            log_y=True,
            n_trees=10,
            bootstrapping=True,
            ratio_features=1.0,
            min_samples_split=2,
            min_samples_leaf=1,
            max_depth=2**20,
            max_leaf_nodes=None,  # type: ignore[arg-type]
            n_jobs=1,
            seed=scenario.seed,
        )
