"""The tables of a run's config as typed sections: [run], [model], [data], [training],
[search]."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from evolve.data import DataSpec
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
class RunSection:
    name: str = ""
    """Folder under results/ (default: <strategy>-<dataset>-<timestamp>)."""
    seed: int = 0
    workers: int = 0
    """Parallel evaluations; 0 = automatic (one per GPU, else one per core, at most 8)."""
    backend: str = "loky"
    """loky (processes on this machine), dask, ray, or inline (in this process: custom fitness)."""
    address: str = ""
    """Scheduler address for dask or ray."""
    keep_models: int = 3
    """Trained models kept on disk: the top-k by fitness."""
    gpus: str = "auto"
    """auto (every visible GPU), none (CPU only), or GPU ids like "0,1"."""
    workers_per_gpu: int = 1
    threads: int = 0
    """TensorFlow threads for one training's operations, the same on every backend so that a
    genome and seed give the same fitness anywhere (0: this machine's cores shared among the
    workers, resolved when the run starts and recorded)."""
    timeout: float = 0.0
    """Seconds one evaluation may run before it is stopped and recorded as a timeout (0: none)."""
    startup_timeout: float = 300.0
    """Seconds each check before the search may take in a worker (the worker starting, a
    Keras dataset described, your build function tried): past it, the run is refused, naming
    the check."""
    tensorboard: bool = False
    """Log every trained genome's curves under RUN_DIR/tensorboard/<genome id>/, with its genes
    as TensorBoard hparams (the HParams dashboard): pip install tensorboard."""
    retries_on_death: int = 1
    """Runs again, alone, of an evaluation whose worker process died."""
    retries_on_failure: int = 0
    """Runs again of an evaluation that raised (failures are usually deterministic)."""
    max_failure_share: float = 0.5
    """Stop the run when more than this share of evaluations failed (after 10)."""
    max_evals_per_worker: int = 0
    """loky: replace a worker after this many evaluations (0: never)."""
    max_worker_rss_mb: int = 3072
    """loky: replace a worker once its resident memory passes this (0: never)."""
    checkpoint_every: float = 1.0
    """Seconds between checkpoints at most (0: after every step); the journal is always current."""
    fitness: str = KERAS_FITNESS
    """keras (train the networks of [genes], [data] and [training]), "module:function" (a
    fitness given to evolve.optimize, imported again on resume), or python (given in Python
    and not importable: resume from Python)."""

    @property
    def keras(self) -> bool:
        return self.fitness == KERAS_FITNESS


@dataclass
class ModelSection:
    family: str = "cnn"
    """cnn (conv blocks), mlp (dense layers), or package.module:function: your own
    build(genes, input_shape, num_outputs) -> keras.Model (python: one given in Python)."""
    build_code: str = ""
    """family = python: a digest of the build function's code, checked when it is resumed."""


@dataclass
class DataSection:
    dataset: str = "digits"
    """digits, breast_cancer, wine, iris, diabetes (bundled with scikit-learn), mnist,
    fashion_mnist, cifar10 (downloaded by Keras), or a path: .npz, .csv, .parquet, or a folder
    of images with one sub-folder per class."""
    validation_split: float = 0.2
    test_split: float = 0.2
    """Share held out for the final report when the dataset has no test split (0: none)."""
    split_seed: int = 0
    target: str = ""
    """CSV or Parquet: the target column (default: the last one)."""
    task: str = "auto"
    """auto (regression for a target with fractional values), classification, regression."""
    image_size: list[int] = field(default_factory=lambda: [64, 64])
    """Image folder: every image is resized to [height, width]."""
    color_mode: str = "rgb"
    """Image folder: rgb or grayscale."""


@dataclass
class TrainingSection:
    epochs: int = 10
    batch_size: int = 32
    patience: int = 3
    """Early stopping on validation loss after this many epochs without improvement."""
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    """optimizer, learning_rate, batch_size and weight_decay: a gene of the same name wins."""
    final_epochs: int = 0
    """After the search, retrain the best genome on train + validation for this many epochs
    and report its test accuracy beside the validation winner's (0: off)."""


@dataclass
class SearchSection:
    strategy: str = "ga"
    """A registered strategy: ga, grid, random, tpe, ... (evolve.search)."""
    objective: str = ""
    """A metric the training logs (val_accuracy, val_loss, val_mae, val_auc...; default:
    val_accuracy, or val_loss for regression), or a key of your fitness's result."""
    direction: str = ""
    """maximize or minimize (default: minimize for a loss or error, else maximize)."""
    population: int = 10
    generations: int = 5
    budget: int = 0
    """Most trainings in the run; 0 = the strategy's own end (GA generations, the whole grid,
    population x generations for the others)."""
    ordered: bool = False
    """Apply results in the order they were asked (exact reproducibility with several workers)."""
    target: float | None = None
    """Stop once a fitness at least this good is found (unset: never)."""
    fidelity: str = ""
    """"epochs": multi-fidelity (asynchronous successive halving): genomes first train for
    ``min_epochs``, the top 1/``eta`` of each rung continue, from their saved state, to
    ``eta`` times more epochs, up to ``max_epochs``. "" (default): every genome trains fully."""
    min_epochs: int = 1
    max_epochs: int = 0
    """0: ``training.epochs``."""
    eta: int = 2
    """The reduction factor: the share of a rung promoted is 1/eta, its epochs grow eta x."""
    pruning: str = ""
    """"median": stop a training whose objective at an epoch is worse than the median of
    earlier trainings at that epoch (for runs without rungs). "" (default): no pruning."""
    final_reevaluations: int = -1
    """At the end, retrain the ``final_top`` genomes this many more times with new seeds and
    name as best the one of best mean (-1, automatic: for Keras runs, 2 where that takes at
    most a quarter of the run's trainings, else off; 0: off)."""
    final_top: int = 3
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
        """The config as TOML tables: unset values left out, strategy settings flat in
        [search], and no [data] or [training] for a run with a fitness of its own."""
        data = dataclasses.asdict(self)
        search = data["search"]
        search.update(search.pop("options"))
        if search["target"] is None:
            del search["target"]
        if not self.search.fidelity:  # the rungs' settings mean nothing without rungs
            for key in ("fidelity", "min_epochs", "max_epochs", "eta"):
                del search[key]
        if not self.search.pruning:
            del search["pruning"]
        if not self.run.keras:
            del data["data"], data["training"], data["model"]
        elif not self.model.build_code:
            del data["model"]["build_code"]
        return data

    def to_toml(self) -> str:
        """The config as TOML; ``[genes]`` written one line per gene, a gene's table inline,
        so the genes keep their order (a sub-table would be written after the plain genes, and
        the order of the genes is the order of a genome's alleles)."""
        data = self.to_dict()
        genes = data.pop("genes", None)
        text = tomli_w.dumps(data)
        if genes:
            lines = "".join(f"{_key(name)} = {_inline(spec)}\n" for name, spec in genes.items())
            text += ("\n" if text else "") + "[genes]\n" + lines
        return text


def _key(name: str) -> str:
    """A TOML key: bare when it can be, else quoted (as tomli_w writes it)."""
    return tomli_w.dumps({name: 0}).split(" = ")[0]


def _inline(value: Any) -> str:
    """``value`` as one line of TOML: a table inline, a list on one line."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {_inline(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    return tomli_w.dumps({"v": value}).split(" = ", 1)[1].strip()


