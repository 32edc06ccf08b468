"""``Workers``: where a run's trainings go. The placement of workers on GPUs, what each worker
is told (``WorkerSettings``), the executors made on the run's backend, a bounded call in one
worker (the start-up checks), and stopping them."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from evolve.execution import (
    WaitTimeout,
    is_worker_death,
    make_executor,
    stop,
    trial,
    wait_for,
)
from evolve.execution.environment import auto_threads
from evolve.execution.loky_pool import WorkerSettings
from evolve.execution.placement import GpuError, place
from evolve.execution.trial import one_line
from evolve.rundir.store import RunDir
from evolve.session.checks import slot_folder
from evolve.settings import config as configuration
from evolve.settings.config import Config
from evolve.settings.fitness import SessionError


class Workers:
    """The workers of one run: the user's ``executor`` when given (never stopped or renewed
    here), else those this object makes on ``cfg.run.backend``."""

    def __init__(self, cfg: Config, run: RunDir | None, executor: Executor | None) -> None:
        self.cfg, self.rundir, self.given = cfg, run, executor
        self.settings = WorkerSettings()
        self.gpus: tuple[str, ...] = ()
        """The GPU slot of each worker (``run.gpus``), empty on CPUs."""
        self._made: Executor | None = None
        """The last executor made on the backend (``stop_made``)."""

    def place(self) -> None:
        """Resolve the number of workers, their GPUs and threads into ``cfg.run`` and
        ``settings``; ``SessionError`` (one line) when the GPUs or the cluster cannot be had."""
        cfg, run = self.cfg, self.rundir
        try:
            placement = place(
                cfg.run.backend, cfg.run.workers, cfg.run.address, cfg.run.gpus,
                cfg.run.workers_per_gpu,
            )  # fmt: skip
        except (GpuError, ValueError) as exc:
            raise SessionError(str(exc)) from None
        except OSError as exc:
            raise SessionError(f"cannot reach the {cfg.run.backend} cluster: {exc}") from None
        cfg.run.workers, self.gpus = placement.workers, placement.slots
        cfg.run.threads = cfg.run.threads or auto_threads(placement.workers)
        slots = str(run.gpu_slots) if run else slot_folder(placement.slots)
        self.settings = WorkerSettings(
            log_path=str(run.workers_log.resolve()) if run else None,
            preload_keras=cfg.run.keras,
            lock_dir=slots,
            gpu_slots=placement.slots,
            hide_gpus=placement.hide_gpus,
            max_evals=cfg.run.max_evals_per_worker,
            max_rss_mb=cfg.run.max_worker_rss_mb,
            threads=cfg.run.threads,
        )

    def check(self) -> None:
        """One worker of the run's backend asked whether it can train, before anything else
        runs there: a backend that does not import (``KERAS_BACKEND=jax`` without jax), a GPU
        not claimed, a worker that never answers, or a memory limit below what a worker holds
        before its first genome is one line (``SessionError``, ``ConfigError``)."""
        run = self.cfg.run
        try:
            ready = self.call("starting a worker", trial.ready, run.keras, run.threads)
        except RuntimeError as exc:  # the worker's own one-line account
            raise SessionError(str(exc)) from None
        if run.backend == "loky" and run.max_worker_rss_mb and (
            ready["rss_mb"] >= run.max_worker_rss_mb
        ):
            raise configuration.ConfigError(
                f"run.max_worker_rss_mb = {run.max_worker_rss_mb} is below what a worker holds "
                f"before it trains anything ({ready['rss_mb']:.0f} MB with "
                f"{'Keras' if run.keras else 'the engine'} imported): raise it well above "
                "that, or set 0 for no limit"
            )

    def call(self, what: str, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` in a worker of the run's backend, waited for at most
        ``run.startup_timeout`` seconds: ``SessionError`` naming ``what`` when it overran (the
        worker is stopped) or when the worker failed to start. Errors ``fn`` raises itself
        reach the caller as they are."""
        executor = self.fresh()
        seconds = self.cfg.run.startup_timeout
        try:
            return wait_for(executor.submit(fn, *args), seconds, what)
        except WaitTimeout as exc:
            self.stop(executor)
            raise SessionError(
                f"{exc} (run.startup_timeout); nothing was started: raise it for slow starts "
                "(a large dataset, a slow file system), or look for what hangs"
            ) from None
        except Exception as exc:
            if is_worker_death(exc):
                raise SessionError(
                    f"{what}: the worker process died ({one_line(exc)}); its own output is in "
                    f"{self.settings.log_path or 'the terminal'}"
                ) from None
            raise

    def fresh(self) -> Executor:
        """The user's executor, or the backend's (a working one again after a worker died)."""
        if self.given is not None:
            return self.given
        run = self.cfg.run
        try:
            self._made = make_executor(run.backend, run.workers, run.address, self.settings)
        except (ValueError, OSError) as exc:
            raise SessionError(str(exc)) from None
        return self._made

    def stop(self, executor: Executor, future: Any = None) -> bool:
        """End what runs on the backend's ``executor`` (see ``execution.stop``)."""
        return stop(self.cfg.run.backend, executor, future)

    def stop_made(self) -> None:
        """End the workers made here (a run that failed to start: nothing of theirs is
        wanted, and their run directory may be removed next)."""
        if self._made is not None:
            self.stop(self._made)
            self._made = None
