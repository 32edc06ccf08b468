"""The tables of a run's config as typed sections: [run], [model], [data], [training],
[search]."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evolve.data import KERAS_DATASETS, SKLEARN_DATASETS, DataSpec
from evolve.declare import AT_LEAST_0, AT_LEAST_1, AUTO_0, SECONDS, SEED_MOST, Bound
from evolve.settings.declaring import Section, common, setting
from genomes.families import TRAINING, AnyFamily, BuildError, get_family
from genomes.genes import GeneError
from genomes.space import SearchSpace

KERAS_FITNESS = "keras"
"""``run.fitness`` of a run that trains the config's Keras networks (the command line's)."""
PYTHON_FITNESS = "python"
"""``run.fitness`` of a run whose fitness was given in Python and cannot be imported."""
PYTHON_BUILD = "python"
"""``model.family`` of a run whose build function was given in Python (not importable)."""


class ConfigError(ValueError):
    """The configuration is invalid; the message is one line that names the problem."""


@dataclass
class RunSection(Section):
    name: str = setting("", "run name: the folder under results/ (default: "
                        "<strategy>-<dataset>-<timestamp>)", flag="name")
    seed: int = setting(0, "run seed: the same seed and config repeat the run", flag="seed",
                        bound=AT_LEAST_0, most=SEED_MOST, resume="fixed")
    workers: int = setting(0, "parallel evaluations; 0 = automatic (one per GPU, else one per "
                           "core, at most 8)", flag="workers", bound=AUTO_0, most=4096)
    backend: str = setting("loky", "where evaluations run: loky (processes on this machine), "
                           "dask, ray, or inline (in this process: a fitness of yours)",
                           flag="backend")
    address: str = setting("", "scheduler address for --backend dask or ray (HOST:PORT)",
                           flag="address")
    keep_models: int = setting(3, "trained models kept on disk: the top-k by fitness",
                               bound=AT_LEAST_1, most=1_000_000, keyword=True)
    gpus: str = setting("auto", "auto (every visible GPU), none (CPU only), or GPU ids like "
                        "0,1: one worker each", flag="gpus", keyword=True)
    workers_per_gpu: int = setting(1, "workers sharing each GPU", flag="workers_per_gpu",
                                   bound=AT_LEAST_1, most=256, keyword=True)
    threads: int = setting(0, "TensorFlow threads for one training's operations, the same on "
                           "every backend so that a genome and seed give the same fitness "
                           "anywhere (0: this machine's cores shared among the workers, "
                           "resolved when the run starts and recorded)", bound=AUTO_0, most=4096)
    timeout: float = setting(0.0, "seconds one evaluation may run before it is stopped and "
                             "recorded as a timeout (0: none)", flag="timeout", bound=SECONDS,
                             most=1e9, keyword=True)
    startup_timeout: float = setting(
        300.0, "seconds each check before the search may take in a worker (the worker "
        "starting, a Keras dataset described, your build function tried): past it, the run is "
        "refused, naming the check", bound=Bound(0, rule="above 0 seconds", open_low=True),
        most=1e9, keyword=True,
    )
    tensorboard: bool = setting(False, "log every trained genome's curves under "
                                "RUN_DIR/tensorboard/<genome id>/, with its genes as "
                                "TensorBoard hparams (pip install tensorboard)", keyword=True)
    retries_on_death: int = setting(1, "runs again, alone, of an evaluation whose worker "
                                    "process died", bound=AT_LEAST_0, most=1000, keyword=True)
    retries_on_failure: int = setting(0, "runs again of an evaluation that raised (failures "
                                      "are usually deterministic)", bound=AT_LEAST_0,
                                      most=1000, keyword=True)
    max_failure_share: float = setting(
        0.5, "stop the run when more than this share of evaluations failed (after 10)",
        bound=Bound(0, 1, "in (0, 1]", open_low=True), keyword=True,
    )
    max_evals_per_worker: int = setting(0, "loky: replace a worker after this many "
                                        "evaluations (0: never)", bound=AT_LEAST_0,
                                        most=1_000_000_000, keyword=True)
    max_worker_rss_mb: int = setting(3072, "loky: replace a worker once its resident memory "
                                     "passes this many MB (0: never)", bound=AT_LEAST_0,
                                     most=1 << 30, keyword=True)
    checkpoint_every: float = setting(1.0, "seconds between checkpoints at most (0: after "
                                      "every step); the journal is always current",
                                      bound=Bound(0, rule="0 or more seconds"), most=1e9)
    fitness: str = setting(
        KERAS_FITNESS, "keras (train the networks of [genes], [data] and [training]), "
        '"module:function" (a fitness given to evolve.optimize, imported again on resume), or '
        "python (given in Python and not importable: resume from Python)", resume="fixed",
    )

    @property
    def keras(self) -> bool:
        return self.fitness == KERAS_FITNESS


@dataclass
class ModelSection(Section):
    family: str = setting(
        "cnn", "cnn (conv blocks), mlp (dense layers), or package.module:function: your own "
        "build(genes, input_shape, num_outputs) -> keras.Model (python: one given in Python)",
        flag="family", resume="fixed_if_set",
    )
    build_code: str = setting("", "family = python: a digest of the build function's code, "
                              "checked when it is resumed")


@dataclass
class DataSection(Section):
    dataset: str = setting(
        "digits", f"digits, {', '.join(SKLEARN_DATASETS)} (bundled with scikit-learn), "
        f"{', '.join(KERAS_DATASETS)} (downloaded by Keras), or a path: .npz, .csv, .parquet, "
        "or a folder of images with one sub-folder per class", flag="dataset", resume="fixed",
    )
    validation_split: float = setting(
        0.2, "share of the data held out to measure fitness", resume="fixed",
        bound=Bound(0, 1, "between 0 and 1", open_low=True, open_high=True),
    )
    test_split: float = setting(
        0.2, "share held out for the final report when the dataset has no test split (0: none)",
        bound=Bound(0, 1, "0 (no test split) or less than 1", open_high=True), resume="fixed",
    )
    split_seed: int = setting(0, "seed of the train/validation/test split", bound=AT_LEAST_0,
                              most=SEED_MOST, resume="fixed")
    target: str = setting("", "CSV or Parquet: the target column (default: the last one)",
                          resume="fixed_if_set")
    task: str = setting("auto", "auto (regression for a target with fractional values), "
                        "classification, regression", resume="fixed_if_set")
    image_size: list[int] = setting([64, 64], "image folder: every image is resized to "  # noqa: RUF009
                                    "[height, width]", resume="fixed_if_set")
    color_mode: str = setting("rgb", "image folder: rgb or grayscale", resume="fixed_if_set")


TRAINING_GENE = "a gene of the same name wins"
FIDELITIES = ("epochs",)
"""What ``search.fidelity`` may name: the resource a rung gives more of."""
PRUNERS = ("median",)
"""What ``search.pruning`` may name."""


@dataclass
class TrainingSection(Section):
    epochs: int = setting(10, "most epochs per genome (early stopping may end sooner)",
                          flag="epochs", bound=AT_LEAST_1, most=1_000_000, resume="fixed")
    batch_size: int = setting(32, f"training batch size ({TRAINING_GENE})", bound=AT_LEAST_1,
                              most=1_000_000_000, resume="fixed")
    patience: int = setting(3, "early stopping on validation loss after this many epochs "
                            "without improvement", bound=AT_LEAST_0, most=1_000_000,
                            resume="fixed")
    optimizer: str = setting("adam", f"the optimizer ({TRAINING_GENE})", resume="fixed")
    learning_rate: float = setting(1e-3, f"the optimizer's learning rate ({TRAINING_GENE})",
                                   bound=Bound(0, rule="above 0", open_low=True),
                                   resume="fixed_if_set")
    weight_decay: float = setting(0.0, f"the optimizer's weight decay ({TRAINING_GENE})",
                                  bound=AT_LEAST_0, resume="fixed_if_set")
    final_epochs: int = setting(0, "after the search, retrain the best genome on train + "
                                "validation for this many epochs and report its test "
                                "accuracy beside the validation winner's (0: off)",
                                flag="final_epochs", bound=AT_LEAST_0, most=1_000_000)


@dataclass
class SearchSection(Section):
    strategy: str = setting("ga", "a registered strategy, or package.module:Class (yours)",
                            flag="strategy", keyword=True, resume="fixed")
    objective: str = setting(
        "", "a metric the training logs (val_accuracy, val_loss, val_mae, val_auc...; default: "
        "val_accuracy, or val_loss for regression), or a key of your fitness's result",
        keyword=True, resume="fixed",
    )
    direction: str = setting("", "maximize or minimize (default: minimize for a loss or "
                             "error, else maximize)", keyword=True, resume="fixed")
    population: int = common("population")
    generations: int = common("generations")
    budget: int = common("budget")
    ordered: bool = setting(False, "apply results in the order they were asked (exact "
                            "reproducibility with several workers)", keyword=True)
    target: float | None = setting(None, "stop once a fitness at least this good is found "
                                   "(unset: never)", keyword=True)
    fidelity: str = setting(
        "", '"epochs": multi-fidelity (asynchronous successive halving): genomes first train '
        "for min_epochs, the top 1/eta of each rung continue, from their saved state, to eta "
        'times more epochs, up to max_epochs. "" (default): every genome trains fully',
        flag="fidelity", keyword=True, resume="fixed_if_set", choices=("", *FIDELITIES),
    )
    min_epochs: int = setting(1, "--fidelity: epochs of the first rung", flag="min_epochs",
                              bound=AT_LEAST_1, most=1_000_000, keyword=True,
                              resume="fixed_if_set")
    max_epochs: int = setting(0, "--fidelity: epochs of the last rung (0: training.epochs)",
                              flag="max_epochs", most=1_000_000, keyword=True,
                              bound=Bound(0, rule="0 (training.epochs) or more"),
                              resume="fixed_if_set")
    eta: int = setting(2, "--fidelity: the reduction factor: 1/eta of a rung is promoted, to "
                       "eta x its epochs", flag="eta", bound=Bound(2, rule="at least 2"),
                       most=1_000_000, keyword=True, resume="fixed_if_set")
    pruning: str = setting(
        "", '"median": stop a training whose objective at an epoch is worse than the median '
        'of earlier trainings at that epoch (for runs without rungs). "" (default): none',
        flag="pruning", keyword=True, resume="fixed_if_set", choices=("", *PRUNERS),
    )
    final_reevaluations: int = setting(
        -1, "at the end, retrain the final_top genomes this many more times with new seeds "
        "and name as best the one of best mean (-1, automatic: for Keras runs, 2 where that "
        "takes at most a quarter of the run's trainings, else off; 0: off)",
        flag="final_reevaluations", keyword=True, resume="fixed_if_set",
        bound=Bound(-1, 100, "-1 (automatic), 0 (off) or more, at most 100"),
    )
    final_top: int = setting(3, "how many of the best genomes the final pick retrains",
                             keyword=True, resume="fixed_if_set",
                             bound=Bound(1, 1000, "at least 1, at most 1000"))
    options: dict[str, Any] = field(default_factory=dict)
    """The strategies' own settings (selection, tournament_size, startup_trials, ...): written
    flat in the [search] table, checked against the registry of strategies."""

    def elites(self) -> int:
        """How many of a generation's best the next generation carries over unchanged (a
        generational GA's ``elitism``; 0 for every other strategy, and under rungs)."""
        generational = self.options.get("replacement", "generational") == "generational"
        if self.strategy != "ga" or not generational or self.fidelity:
            return 0
        return int(self.options.get("elitism", 1))

    def strategy_params(self) -> dict[str, Any]:
        """What ``make_strategy`` takes: the effort settings and the strategies' own."""
        effort = {"population": self.population, "generations": self.generations}
        return {**effort, "budget": self.budget, **self.options}


@dataclass
class Config:
    run: RunSection = field(default_factory=RunSection)
    model: ModelSection = field(default_factory=ModelSection)
    data: DataSection = field(default_factory=DataSection)
    training: TrainingSection = field(default_factory=TrainingSection)
    search: SearchSection = field(default_factory=SearchSection)
    genes: dict[str, Any] = field(default_factory=dict)

    def freeze(self) -> Config:
        """Freeze every section: the one resolve step is over (``Session.prepare``); a later
        assignment raises ``ResolvedError``. Returns this config."""
        for section in (self.run, self.model, self.data, self.training, self.search):
            section.freeze()
        return self

    @property
    def frozen(self) -> bool:
        return bool(self.run.__dict__.get("_frozen"))

    def family(self, build: Callable[..., Any] | None = None) -> AnyFamily:
        """The model family of ``[model]`` (a user's function is imported; ``build`` is one
        given in Python); ``ConfigError`` when it cannot be used."""
        if self.model.family == PYTHON_BUILD and build is None:
            raise ConfigError(
                "model.family = 'python': the build function was given in Python and cannot "
                "be imported; pass it again from Python (evolve.resume(RUN_DIR, build=...))"
            )
        try:
            return get_family(self.model.family, build)
        except BuildError as exc:
            raise ConfigError(str(exc)) from None

    def space(self, build: Callable[..., Any] | None = None) -> SearchSpace:
        """The search space of ``[genes]``; for a Keras run, checked against the model family
        (its genes and alleles) and with its canonical rule."""
        try:
            if not self.run.keras:
                return SearchSpace.from_config(self.genes)
            family = self.family(build)
            space = SearchSpace.from_config(self.genes, canonical=family.canonical)
            family.check(space, TRAINING)
        except GeneError as exc:
            raise ConfigError(str(exc)) from None
        return space

    def data_spec(self, run_dir: Path | None = None) -> DataSpec:
        """The ``[data]`` table as the small, picklable spec that workers receive. A dataset
        named by a bare file name that the run directory holds (``data.npz``, the arrays given
        to ``search_keras``) is that file, wherever the run directory has been moved."""
        d = self.data
        dataset = d.dataset
        if run_dir is not None and Path(dataset).name == dataset and (run_dir / dataset).is_file():
            dataset = str((run_dir / dataset).resolve())
        recorded = run_dir / "data.fingerprint.json" if run_dir is not None else None
        return DataSpec(
            dataset, d.validation_split, d.test_split, d.split_seed, target=d.target,
            task=d.task, image_size=(int(d.image_size[0]), int(d.image_size[1])),
            color_mode=d.color_mode,
            fingerprint=str(recorded.resolve()) if recorded and recorded.is_file() else "",
        )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """The config as TOML tables (``toml_text.config_tables``)."""
        from evolve.settings.toml_text import config_tables

        return config_tables(self)

    def to_toml(self) -> str:
        """The config as TOML, its genes in order (``toml_text.config_toml``)."""
        from evolve.settings.toml_text import config_toml

        return config_toml(self)
