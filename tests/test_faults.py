"""Bad input and hard stops, kind by kind (issue 11): each example of the issue, with its
expected value, and more cases of each kind."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import evolve
from evolve.data import DatasetError, DataSpec, prepare
from evolve.engine.failures import EnvironmentFault
from evolve.engine.records import Record, Status
from evolve.execution import gpus
from evolve.rundir.store import RunDir
from evolve.settings.config import ConfigError
from evolve.settings.fitness import SessionError
from genomes import SearchSpace
from genomes.genes import GeneError, gene_from_config

SPACE = {f"x{i}": {"type": "int", "min": 0, "max": 7} for i in range(4)}


def toy(genes):
    return -float(sum((v - t) ** 2 for v, t in zip(genes.values(), (7, 2, 5, 1), strict=True)))


def cli(root, *args, env=None, timeout=600):
    return subprocess.run(
        [sys.executable, str(root / "run_evolution.py"), *args],
        capture_output=True, text=True, timeout=timeout, cwd=root, env=env,
    )  # fmt: skip


def one_line_exit_2(out):
    lines = out.stderr.strip().splitlines()
    return out.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: ")


def history(run):
    return [json.loads(line) for line in (Path(run) / "history.jsonl").read_text().splitlines()]


# -- 2. values from a user's fitness reach the journal as plain JSON ---------------------------


def test_numpy_metrics_are_written_as_plain_numbers(tmp_path):
    def fitness(genes):
        return {"fitness": np.float32(0.9), "val_loss": np.float32(0.3)}

    out = tmp_path / "run"
    outcome = evolve.optimize(SPACE, fitness, out=out, population=4, generations=1)
    lines = history(out)
    assert len(lines) == 4 and all(r["status"] == "ok" for r in lines)
    assert lines[0]["metrics"] == {"fitness": pytest.approx(0.9), "val_loss": pytest.approx(0.3)}
    assert type(lines[0]["fitness"]) is float
    again = evolve.resume(out, fitness, generations=1)
    assert len(again.records) == 4 + 3 and outcome.best is not None


@pytest.mark.unit
def test_arrays_booleans_and_nested_values_become_json():
    def fitness(genes):
        return {"fitness": np.array(1.5), "good": np.bool_(True), "shape": (np.int64(3), 4),
                "more": {"n": np.int32(2)}}  # fmt: skip

    record = evolve.optimize(SPACE, fitness, strategy="random", budget=1).records[0]
    assert record.status == Status.OK
    assert record.metrics == {"fitness": 1.5, "good": True, "shape": [3, 4], "more": {"n": 2}}
    json.dumps(record.to_json())


@pytest.mark.unit
def test_a_metric_without_a_json_value_fails_that_evaluation_by_name(tmp_path):
    def fitness(genes):
        return {"fitness": 1.0, "model": object()}

    out = tmp_path / "run"
    outcome = evolve.optimize(SPACE, fitness, out=out, strategy="random", budget=2)
    assert [r["status"] for r in history(out)] == ["failed", "failed"]
    assert "metric 'model' is of type object" in outcome.records[0].reason


# -- 3. a problem that fails every genome the same way is one error, found first ---------------


class HoldsALock:
    def __init__(self):
        self.lock = threading.Lock()

    def __call__(self, genes):
        return 1.0


def test_a_fitness_that_cannot_reach_the_workers_is_one_error(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(SessionError, match=r"cannot be sent to worker processes .*lock"):
        evolve.optimize(SPACE, HoldsALock(), workers=2, out=out)
    assert not out.exists()  # a run that fails to start leaves no run directory


def test_an_open_file_or_a_process_pool_lambda_is_found_before_the_first_genome(tmp_path):
    with open(tmp_path / "f", "w") as handle:

        def writes(genes, handle=handle):
            return 1.0

        with pytest.raises(SessionError, match="cannot be sent"):
            evolve.optimize(SPACE, writes, workers=2, backend="loky")
    with ProcessPoolExecutor(1) as pool, pytest.raises(SessionError, match="cannot be sent"):
        evolve.optimize(SPACE, lambda genes: 1.0, workers=2, executor=pool)


@pytest.mark.unit
def test_threads_take_anything():
    outcome = evolve.optimize(SPACE, HoldsALock(), workers=1, population=2, generations=1)
    assert outcome.failed == 0


# -- 4. one line and exit code 2; a failed start leaves no run directory -----------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--backend", "ray"], "the ray backend needs ray"),
        (["--backend", "dask"], "the dask backend needs a scheduler address"),
        (["--gpus", "0,0"], "distinct GPU ids"),
        (["--backend", "spark"], "run.backend = 'spark' is not one of"),
    ],
)
def test_a_run_that_cannot_start_is_one_line_and_leaves_nothing(root, tmp_path, args, message):
    pytest.importorskip("distributed")
    if "ray" in args:
        try:
            import ray  # noqa: F401

            pytest.skip("ray is installed here")
        except ImportError:
            pass
    out = tmp_path / "run"
    result = cli(root, "run", "--out", str(out), *args, timeout=120)
    assert one_line_exit_2(result) and message in result.stderr, result.stderr
    assert not out.exists()
    again = cli(root, "run", "--out", str(out), *args, timeout=120)
    assert "already holds a run" not in again.stderr


def test_inspect_and_export_of_a_folder_that_is_no_run(root, tmp_path):
    for command in ("inspect", "export", "resume"):
        result = cli(root, command, str(tmp_path), timeout=120)
        assert one_line_exit_2(result), (command, result.stderr)


# -- 5. a config that no longer fits the checkpoint --------------------------------------------


def python_run(tmp_path, **settings):
    out = tmp_path / "run"
    evolve.optimize(SPACE, toy, out=out, population=6, generations=2, seed=1, **settings)
    return out


def edit_config(run, old, new):
    path = Path(run) / "config.toml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_adding_a_gene_to_the_config_is_named_on_resume(tmp_path):
    run = python_run(tmp_path)
    edit_config(run, "x0 = {", 'x9 = {type = "flag"}\nx0 = {')
    with pytest.raises(ConfigError) as info:
        evolve.resume(run, toy, generations=1)
    assert "genes.x9 was added" in str(info.value) and "\n" not in str(info.value)
    assert len(history(run)) == 6 + 5  # nothing trained, nothing lost


def test_a_changed_population_or_gene_range_is_named(tmp_path):
    run = python_run(tmp_path)
    edit_config(run, "population = 6", "population = 8")
    with pytest.raises(ConfigError, match=r"search\.population changed from 6 to 8"):
        evolve.resume(run, toy, generations=1)
    edit_config(run, "population = 8", "population = 6")
    edit_config(run, "max = 7", "max = 9")
    with pytest.raises(ConfigError, match=r"genes\.x0\.max changed from 7 to 9"):
        evolve.resume(run, toy, generations=1)


def test_with_no_checkpoint_the_history_is_checked_against_the_genes(tmp_path):
    run = python_run(tmp_path)
    (run / "checkpoint.json").unlink()
    (run / "checkpoint.prev.json").unlink(missing_ok=True)
    edit_config(run, "x0 = {", 'x9 = {type = "flag"}\nx0 = {')
    with pytest.raises(ConfigError, match="in the history"):
        evolve.resume(run, toy, generations=1)


def test_resume_from_the_command_line_says_what_changed(root, tmp_path):
    """The issue's example: a gene added to a command-line run's config.toml."""
    run, config = tmp_path / "run", tmp_path / "c.toml"
    config.write_text("[genes]\nlayers = [1, 2]\nfilters = [8, 16]\n")
    args = ["run", "--config", str(config), "--population", "2", "--generations", "1",
            "--epochs", "1", "--workers", "1", "--quiet", "--out", str(run)]  # fmt: skip
    assert cli(root, *args).returncode == 0
    edit_config(run, "[genes]\n", "[genes]\nkernel_size = [3, 5]\n")
    result = cli(root, "resume", str(run), "--generations", "1", timeout=300)
    assert one_line_exit_2(result) and "no longer fits the run's checkpoint" in result.stderr
    assert "genes.kernel_size was added" in result.stderr


# -- 6. the environment's faults stop the run; the genome runs again on resume -----------------


def flaky_disk(genes):
    if genes["x0"] == 3 and os.environ.get("DISK_FULL"):
        raise OSError(errno.ENOSPC, "No space left on device")
    return toy(genes)


def test_a_full_disk_stops_the_run_and_the_genome_runs_again(tmp_path, monkeypatch):
    reference = evolve.optimize(SPACE, flaky_disk, population=6, generations=3, seed=5)
    assert any(r.genes["x0"] == 3 for r in reference.records)
    out = tmp_path / "run"
    monkeypatch.setenv("DISK_FULL", "1")
    with pytest.raises(EnvironmentFault, match=r"No space left on device.*not its fault"):
        evolve.optimize(SPACE, flaky_disk, out=out, population=6, generations=3, seed=5)
    assert all(r["genes"]["x0"] != 3 for r in history(out))  # not blamed on the genome
    monkeypatch.delenv("DISK_FULL")
    resumed = evolve.resume(out, flaky_disk)
    assert resumed.best.id == reference.best.id
    assert sorted(r.id for r in resumed.records) == sorted(r.id for r in reference.records)


@pytest.mark.unit
def test_a_read_only_disk_is_the_environment_and_a_user_oserror_is_the_genome():
    def read_only(genes):
        raise OSError(errno.EROFS, "Read-only file system")

    with pytest.raises(EnvironmentFault):
        evolve.optimize(SPACE, read_only, strategy="random", budget=1)

    def missing(genes):
        raise FileNotFoundError(errno.ENOENT, "no such input", "data.csv")

    outcome = evolve.optimize(SPACE, missing, strategy="random", budget=2)
    assert [r.status for r in outcome.records] == [Status.FAILED, Status.FAILED]


@pytest.mark.slow
def test_a_model_that_cannot_be_saved_leaves_no_partial_file(tmp_path):
    from evolve.execution.trial import run_trial
    from evolve.training.problem import KerasProblem

    blocked = tmp_path / "models"
    blocked.write_text("a file where the models folder should be")
    problem = KerasProblem(DataSpec("digits"), epochs=1, model_dir=str(blocked))
    result = run_trial(problem, {"layers": 1, "filters": 8}, 0, "abc", "val_accuracy")
    assert result.environment and "cannot save abc.keras" in result.reason
    assert list(tmp_path.iterdir()) == [blocked]


# -- 7. workers end with their parent; nothing is blamed on a genome ---------------------------


def test_loky_workers_end_when_their_parent_is_killed(tmp_path):
    run = tmp_path / "run"
    (tmp_path / "slowfit.py").write_text(textwrap.dedent("""
        import time
        def fitness(genes):
            time.sleep(0.3)
            return float(sum(genes.values()))
    """))
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    code = (f"import evolve, slowfit; evolve.optimize({SPACE!r}, slowfit.fitness, "
            f"out={str(run)!r}, workers=2, population=40, generations=5)")  # fmt: skip
    parent = subprocess.Popen([sys.executable, "-c", code], env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if (run / "history.jsonl").exists() and len(history(run)) >= 4:
            break
        time.sleep(0.2)
    pids = {r["pid"] for r in history(run)}
    assert len(pids) == 2 and parent.pid not in pids
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.2)
    assert not any(_alive(p) for p in pids)
    resumed = subprocess.run(
        [sys.executable, str(Path(__file__).parent.parent / "run_evolution.py"), "resume",
         str(run), "--quiet"], env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert {r["status"] for r in history(run)} == {"ok"}


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (dead, not yet reaped) is not alive
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


# -- 8. GPU ids are read as CUDA reads them ---------------------------------------------------


@pytest.mark.unit
def test_gpu_ids_are_relative_to_the_visible_set(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,3")
    assert gpus.parse("1") == ["3"]
    assert gpus.parse("0,1") == ["2", "3"]
    with pytest.raises(gpus.GpuError, match="GPU 2 is not visible: CUDA_VISIBLE_DEVICES=2,3"):
        gpus.parse("2")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    assert gpus.parse("1") == ["1"]


@pytest.mark.unit
def test_the_run_log_says_which_gpu_each_worker_got(tmp_path):
    from evolve.view.monitor import Monitor
    from evolve.view.progress import Console

    lines = []
    monitor = Monitor(Console(None, "maximize", quiet=True, log=lines.append), "maximize",
                      "fitness", None, None)  # fmt: skip
    for pid, gpu in ((11, "3"), (11, "3"), (12, "5"), (13, None)):
        monitor.on_record(Record(index=pid, id="a", generation=0, genes={}, seed=0,
                              status=Status.OK, fitness=1.0, pid=pid, host="h",
                              cuda_visible_devices=gpu))  # fmt: skip
    assert [line for line in lines if "uses GPU" in line] == [
        "worker 11 on h uses GPU 3", "worker 12 on h uses GPU 5"
    ]


# -- 9. huge genes are refused with their count; huge spaces still work ------------------------


@pytest.mark.unit
def test_a_gene_with_too_many_alleles_is_refused_at_once():
    started = time.monotonic()
    with pytest.raises(GeneError, match=r"gene 'dropout' would have 500,000,001 alleles"):
        gene_from_config("dropout", {"type": "float", "min": 0, "max": 0.5, "step": 1e-9})
    with pytest.raises(GeneError, match=r"at most 1,000,000"):
        gene_from_config("units", {"type": "int", "min": 1, "max": 10**9})
    assert time.monotonic() - started < 1


@pytest.mark.unit
def test_a_space_of_10_to_the_30_points_samples_mutates_and_dedupes():
    space = {f"g{i}": {"type": "int", "min": 0, "max": 9} for i in range(30)}
    assert SearchSpace.from_config(space).size == 10**30
    for strategy in ("ga", "random", "tpe"):
        outcome = evolve.optimize(space, lambda g: float(sum(g.values())), strategy=strategy,
                                  population=10, generations=3, seed=1)  # fmt: skip
        ids = [r.id for r in outcome.records if r.cached_from is None]
        assert len(ids) == len(set(ids)) >= 28


# -- 10. a bound that the step cannot reach is said --------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize(
    ("decl", "note"),
    [
        ({"type": "float", "min": 0, "max": 0.5, "step": 0.2}, "max 0.5 is not reachable with "
                                                              "step 0.2; the largest allele is 0.4"),
        ({"type": "int", "min": 1, "max": 6, "step": 2}, "the largest allele is 5"),
        ({"type": "log", "min": 1e-4, "max": 5e-2, "factor": 10}, "the largest allele is 0.01"),
        ({"type": "float", "min": 0, "max": 0.5, "step": 0.1}, ""),
    ],
)  # fmt: skip
def test_unreachable_bounds_are_noted(decl, note):
    assert note in gene_from_config("x", decl).note
    assert bool(note) == bool(gene_from_config("x", decl).note)


@pytest.mark.unit
def test_the_note_reaches_stderr_and_the_run_log(tmp_path, capfd):
    space = {"dropout": {"type": "float", "min": 0, "max": 0.5, "step": 0.2}}
    evolve.optimize(space, lambda g: g["dropout"], out=tmp_path / "run", population=2,
                    generations=1)  # fmt: skip
    said = "warning: gene 'dropout': max 0.5 is not reachable with step 0.2"
    assert said in capfd.readouterr().err and said in (tmp_path / "run" / "run.log").read_text()


# -- 11. a run directory is relocatable --------------------------------------------------------


@pytest.mark.unit
def test_model_paths_are_recorded_relative_and_never_outside_the_run(tmp_path):
    run = RunDir(tmp_path / "copy")
    run.create()
    outside = tmp_path / "original" / "models" / "abc.keras"
    record = Record(index=0, id="abc", generation=0, genes={}, seed=0, status=Status.OK,
                    fitness=1.0, metrics={"model_path": str(outside)})  # fmt: skip
    assert run.model_of(record) == run.models / "abc.keras"
    inside = Record(index=1, id="def", generation=0, genes={}, seed=0, status=Status.OK,
                    fitness=1.0, metrics={"model_path": str(run.models.resolve() / "def.keras")})
    run.append(inside)
    run.close()
    assert history(run.path)[0]["metrics"]["model_path"] == "models/def.keras"


@pytest.mark.slow
def test_a_copied_run_resumes_on_its_own(root, tmp_path):
    original = tmp_path / "long"
    args = ["run", "--population", "3", "--generations", "1", "--epochs", "1", "--workers", "1",
            "--quiet", "--out", str(original)]  # fmt: skip
    assert cli(root, *args).returncode == 0
    before = sorted(p.name for p in (original / "models").iterdir())
    copy = tmp_path / "copy"
    shutil.copytree(original, copy)
    more = cli(root, "resume", str(copy), "--generations", "1", "--quiet")
    assert more.returncode == 0, more.stderr[-2000:]
    assert sorted(p.name for p in (original / "models").iterdir()) == before
    shown = cli(root, "inspect", str(copy), "--json", "--no-summary")
    assert shown.returncode == 0 and json.loads(shown.stdout)["evaluations"] == 3 + 2
    assert cli(root, "export", str(copy), "--out", str(tmp_path / "m.keras")).returncode == 0


# -- 12. bad data and impossible genes never reach training ------------------------------------


def save(path, **arrays):
    np.savez(path, **arrays)
    return str(path)


@pytest.mark.unit
def test_non_finite_images_are_refused_at_load(tmp_path):
    x = np.random.default_rng(0).random((40, 4, 4))
    x[3, 1, 1] = np.nan
    y = np.repeat([0, 1], 20)
    with pytest.raises(DatasetError, match=r"x_train holds 1 non-finite values .* in 1 of 40"):
        prepare(DataSpec(save(tmp_path / "nan.npz", x_train=x, y_train=y)))


@pytest.mark.unit
@pytest.mark.parametrize(
    ("y", "message"),
    [
        (np.array([0] * 19 + [1]), r"class 1 has 1 image\(s\): a stratified test split needs at least 2"),
        (np.repeat(np.arange(10), 2), "cannot hold each of the 10 classes"),
    ],
)
def test_classes_too_small_to_split_are_refused(tmp_path, y, message):
    x = np.random.default_rng(0).random((len(y), 4, 4))
    with pytest.raises(DatasetError, match=message):
        prepare(DataSpec(save(tmp_path / "small.npz", x_train=x, y_train=y)))


@pytest.mark.parametrize(
    ("gene", "message"),
    [
        ("dropout = [0.0, 1.0]", "gene 'dropout': 1.0 is not allowed for the cnn model"),
        ("learning_rate = [0.0, 0.001]", "a learning rate of 0 never learns"),
        ("filters = [0, 16]", "gene 'filters': 0 is not allowed"),
    ],
)
def test_impossible_genes_are_refused_before_training(root, tmp_path, gene, message):
    config = tmp_path / "c.toml"
    config.write_text(f"[genes]\n{gene}\n")
    result = cli(root, "run", "--config", str(config), "--out", str(tmp_path / "r"), timeout=120)
    assert one_line_exit_2(result) and message in result.stderr
    assert not (tmp_path / "r").exists()


def test_nan_data_on_the_command_line_is_one_line(root, tmp_path):
    x = np.random.default_rng(0).random((40, 8, 8))
    x[:5] = np.nan
    data = save(tmp_path / "nan.npz", x_train=x, y_train=np.repeat([0, 1], 20))
    result = cli(root, "run", "--dataset", data, "--out", str(tmp_path / "r"), timeout=120)
    assert one_line_exit_2(result) and "non-finite values" in result.stderr


# -- 13. messages ------------------------------------------------------------------------------


def test_an_interrupted_run_names_its_directory_and_logs_it(root, tmp_path, monkeypatch, capsys):
    from evolve.app import cli as command
    from evolve.engine.loop import Loop

    def interrupted(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(Loop, "run", interrupted)
    out = tmp_path / "run"
    code = command.main(["run", "--out", str(out), "--quiet", "--population", "2",
                         "--generations", "1", "--workers", "1"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 130 and f"resume {out}" in err and "RUN_DIR" not in err
    assert "interrupted" in (out / "run.log").read_text()


def test_inspect_into_a_closed_pipe_is_quiet(root, tmp_path):
    run = tmp_path / "big"  # a leaderboard far larger than a pipe's buffer
    evolve.optimize(SPACE, toy, out=run, population=100, generations=12, seed=1)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
    shell = f"{sys.executable} {root / 'run_evolution.py'} inspect {run} --top 5000 | head -1"
    result = subprocess.run(shell, shell=True, capture_output=True, text=True, env=env, timeout=120)
    assert result.stdout.strip() and "Broken pipe" not in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.unit
def test_export_never_overwrites(tmp_path):
    run = RunDir(tmp_path)
    run.best.mkdir()
    (run.best / "model.keras").write_text("model")
    target = tmp_path / "out.keras"
    run.export_model(target)
    from evolve.rundir.store import RunDirError

    with pytest.raises(RunDirError, match="already exists; choose another --out"):
        run.export_model(target)


def die_once(genes, marker):
    """Kills its worker the first time it meets x0 == 3 (as a lost GPU or the OOM killer
    would), and trains normally after that."""
    if genes["x0"] == 3 and not os.path.exists(marker):
        Path(marker).write_text("died")
        os._exit(1)
    return toy(genes)


def test_resume_retry_failed_trains_the_deaths_again(tmp_path):
    import functools

    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    fitness = functools.partial(die_once, marker=str(tmp_path / "marker"))
    out = tmp_path / "run"
    first = evolve.optimize(SPACE, fitness, out=out, workers=2, population=6, generations=2,
                            seed=5, retries_on_death=0)  # fmt: skip
    died = [r for r in first.records if r.status == Status.DIED]  # x0 == 3 and its bystander
    assert any(r.genes["x0"] == 3 for r in died)
    plain = evolve.resume(out, fitness)  # a plain resume keeps the deaths as they are
    assert sum(r.status == Status.DIED for r in plain.records) == len(died)
    again = evolve.resume(out, fitness, retry_failed=True)
    assert {r.status for r in again.records} <= {Status.OK, Status.CACHED}
    assert {r.id for r in died} <= {r.id for r in again.records if r.status == Status.OK}
    superseded = (out / "history.superseded.jsonl").read_text().splitlines()
    assert {r.id for r in died} <= {json.loads(line)["id"] for line in superseded}
    assert all(r["status"] != "died" for r in history(out))
    lines = history(out)  # one line per evaluation: the records the rebuilt run did not ask for
    assert len({r["index"] for r in lines}) == len(lines) == len(again.records)  # are set aside


# -- found by trying the tool as a new user (each a defect once) -------------------------------


def test_two_runs_never_share_or_destroy_a_folder(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", f"from evolve.rundir.store import RunDir; import time; "
         f"r = RunDir({str(tmp_path / 'busy')!r}); r.create(); print('held', flush=True); "
         f"time.sleep(30)"], stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout.readline().strip() == "held"
    try:
        before = sorted(p.name for p in (tmp_path / "busy").iterdir())
        with pytest.raises(Exception, match=r"not empty|in use"):
            evolve.optimize(SPACE, toy, out=tmp_path / "busy", population=2, generations=1)
        assert sorted(p.name for p in (tmp_path / "busy").iterdir()) == before
    finally:
        holder.kill()
    first, second = RunDir(tmp_path / "same"), RunDir(tmp_path / "same")
    first.create(unique=True)
    second.create(unique=True)
    assert first.path.name == "same" and second.path.name == "same-2"


def test_a_folder_left_by_a_run_killed_before_its_config_is_taken_over(tmp_path):
    folder = tmp_path / "early"
    starter = subprocess.Popen(
        [sys.executable, "-c", f"from evolve.rundir.store import RunDir; import time; "
         f"r = RunDir({str(folder)!r}); r.create(); print('held', flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert starter.stdout.readline().strip() == "held"
    (folder / "tensorboard").mkdir()  # the experiment written, nothing trained
    (folder / "tensorboard" / "events.out.tfevents.1.host").write_bytes(b"")
    starter.kill()  # kill -9 in its first second: lock, models/, workers.log are left
    starter.wait()
    outcome = evolve.optimize(SPACE, toy, out=folder, population=2, generations=1)
    assert outcome.best is not None and (folder / "config.toml").exists()
    (tmp_path / "trained").mkdir()
    (tmp_path / "trained" / "models").mkdir()
    (tmp_path / "trained" / "models" / "a.keras").write_text("a model: never taken over")
    with pytest.raises(Exception, match="not empty and holds no run"):
        evolve.optimize(SPACE, toy, out=tmp_path / "trained", population=2, generations=1)


def test_a_run_cannot_start_in_a_folder_of_other_files_or_outside_results(root, tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("precious")
    result = cli(root, "run", "--out", str(tmp_path / "mine"), timeout=120)
    assert one_line_exit_2(result) and "not empty and holds no run" in result.stderr
    assert (tmp_path / "mine" / "notes.txt").read_text() == "precious"
    result = cli(root, "run", "--name", "../../escape", timeout=120)
    assert one_line_exit_2(result) and "must be a folder name, not a path" in result.stderr


def test_inspect_never_changes_the_journal_and_resume_says_what_it_dropped(root, tmp_path):
    run = python_run(tmp_path)
    raw = (run / "history.jsonl").read_bytes()
    (run / "history.jsonl").write_bytes(raw[: len(raw) - 40])  # a kill half-way through a line
    cut = (run / "history.jsonl").read_bytes()
    assert cli(root, "inspect", str(run), "--json", timeout=120).returncode == 0
    assert (run / "history.jsonl").read_bytes() == cut
    resumed = cli(root, "resume", str(run), "--quiet", env={**os.environ, "PYTHONPATH": str(
        Path(__file__).parent)}, timeout=120)  # fmt: skip
    assert "dropped a half-written last line of history.jsonl" in resumed.stderr


def test_a_fitness_that_calls_sys_exit_fails_its_genome_only(tmp_path):
    def exits(genes):
        if genes["x0"] < 4:
            sys.exit(1)
        return toy(genes)

    outcome = evolve.optimize(SPACE, exits, out=tmp_path / "run", population=6, generations=2)
    failed = [r for r in outcome.records if r.status == Status.FAILED]
    assert failed and all(r.reason == "SystemExit: 1" for r in failed)
    assert len(history(tmp_path / "run")) == len(outcome.records)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("settings", "message"),
    [({"backend": "ray", "workers": 2}, "ray"), ({"backend": "dask", "workers": 2}, "address")],
)
def test_a_python_run_that_cannot_start_leaves_no_folder(tmp_path, settings, message):
    pytest.importorskip("distributed")
    try:
        import ray  # noqa: F401

        if settings["backend"] == "ray":
            pytest.skip("ray is installed here")
    except ImportError:
        pass
    out = tmp_path / "run"
    with pytest.raises(SessionError, match=message):
        evolve.optimize(SPACE, toy, out=out, **settings)
    assert not out.exists()
    evolve.optimize(SPACE, toy, out=out, population=2, generations=1)  # fixed: it works


@pytest.mark.unit
def test_gpu_ids_that_nothing_shows_are_refused(monkeypatch):
    from evolve.execution.placement import place

    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setattr(gpus, "detect", lambda: [])
    with pytest.raises(gpus.GpuError, match="GPU 7 is not visible: nvidia-smi shows no GPU"):
        place("loky", 1, "", "7", 1)
    monkeypatch.setattr(gpus, "detect", lambda: ["0", "1"])
    assert place("loky", 0, "", "1", 1).slots == ("1",)
    with pytest.raises(ConfigError, match=r"run\.gpus must be auto, none, or distinct GPU ids"):
        evolve.optimize(SPACE, toy, gpus="banana")


def test_a_journal_shorter_than_its_checkpoint_is_rebuilt_not_lost(tmp_path):
    calls = []

    def counted(genes):
        calls.append(1)
        return toy(genes)

    reference = evolve.optimize(SPACE, toy, population=6, generations=3, seed=4)
    run = tmp_path / "run"
    evolve.optimize(SPACE, counted, out=run, population=6, generations=3, seed=4)
    (run / "history.jsonl").write_text("")  # emptied, the checkpoint intact
    calls.clear()
    resumed = evolve.resume(run, counted)
    assert len(calls) == reference.trained  # everything lost trains again, nothing is missing
    assert sorted(r.id for r in resumed.records) == sorted(r.id for r in reference.records)


def test_a_damaged_line_in_the_middle_is_set_aside_and_its_genome_trains_again(tmp_path):
    run = tmp_path / "run"
    evolve.optimize(SPACE, toy, out=run, population=6, generations=3, seed=4)
    lines = (run / "history.jsonl").read_text().splitlines(keepends=True)
    lines[3] = '{"index": 3, "id": "damag\n'
    (run / "history.jsonl").write_text("".join(lines))
    resumed = evolve.resume(run, toy)
    after = history(run)  # valid JSON lines again
    assert sorted(r["index"] for r in after) == sorted({r["index"] for r in after})
    assert 3 in {r["index"] for r in after} and len(resumed.records) == len(lines)
    assert (run / "history.damaged.jsonl").read_text() == '{"index": 3, "id": "damag\n'


def test_command_line_mistakes_are_one_line(root):
    for args in (["run", "--population", "abc"], ["run", "--populaton", "3"],
                 ["export", "x", "--format", "onnx"], ["inspect", "x", "--top", "0"],
                 ["frobnicate"]):  # fmt: skip
        result = cli(root, *args, timeout=60)
        assert one_line_exit_2(result), (args, result.stderr)


def test_changed_training_settings_are_named_on_resume(root, tmp_path):
    run, config = tmp_path / "run", tmp_path / "c.toml"
    config.write_text("[genes]\nlayers = [1, 2]\n")
    args = ["run", "--config", str(config), "--population", "2", "--generations", "1",
            "--epochs", "1", "--workers", "1", "--quiet", "--out", str(run)]  # fmt: skip
    assert cli(root, *args).returncode == 0
    edit_config(run, "epochs = 1", "epochs = 2")
    result = cli(root, "resume", str(run), timeout=120)
    assert one_line_exit_2(result) and "training.epochs changed from 1 to 2" in result.stderr


@pytest.mark.parametrize(
    "signals", [[signal.SIGTERM], [signal.SIGTERM, signal.SIGTERM], [signal.SIGINT, signal.SIGINT]]
)
def test_sigterm_ends_a_run_like_ctrl_c(tmp_path, signals):
    (tmp_path / "slowfit.py").write_text("import time\ndef fitness(genes):\n"
                                         "    time.sleep(1.0)\n    return 1.0\n")  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    run = tmp_path / "run"
    code = (f"import evolve, slowfit; evolve.optimize({SPACE!r}, slowfit.fitness, "
            f"out={str(run)!r}, population=50, generations=5, workers=2)")  # fmt: skip
    evolve_run = subprocess.Popen([sys.executable, "-c", code], env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (
        (run / "history.jsonl").exists() and history(run)
    ):
        time.sleep(0.1)
    evolve_run.kill()
    evolve_run.wait()
    resumed = subprocess.Popen(
        [sys.executable, str(Path(__file__).parent.parent / "run_evolution.py"), "resume",
         str(run), "--quiet"], env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    before = len(history(run))
    while time.monotonic() < deadline and len(history(run)) < before + 2:
        time.sleep(0.1)
    for sent in signals:  # a second one while it shuts down: impatience, or `timeout`
        resumed.send_signal(sent)
        time.sleep(0.3)
    try:
        _, err = resumed.communicate(timeout=60)
    finally:
        if resumed.poll() is None:  # a hang fails the test, and leaves no process behind
            resumed.kill()
            resumed.wait()
    assert resumed.returncode == 130 and f"resume {run}" in err
    assert "Traceback" not in err and err.count("interrupted") == 1, err
    assert "interrupted" in (run / "run.log").read_text()


def test_a_started_run_with_nothing_finished_is_shown_as_such(root, tmp_path):
    from evolve.settings import config

    run = RunDir(tmp_path / "run")
    run.create()
    run.write_config(config.load(root / "configs" / "default.toml").to_toml())
    run.close()
    shown = cli(root, "inspect", str(run.path), "--no-summary", timeout=120)
    assert shown.returncode == 0 and "no evaluation has finished yet" in shown.stdout


@pytest.mark.unit
def test_auto_gpus_spread_more_workers_and_explicit_ids_stay_strict(monkeypatch):
    from evolve.execution.placement import place

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "4,5")
    assert place("loky", 4, "", "auto", 1).slots == ("4", "4", "5", "5")
    with pytest.raises(gpus.GpuError, match="4 workers but only 2 GPU slots"):
        place("loky", 4, "", "0,1", 1)


def test_reordered_genes_are_named_on_resume(tmp_path):
    run = python_run(tmp_path)
    text = (run / "config.toml").read_text()  # config.toml holds one line per gene, in order
    lines = text.splitlines(keepends=True)
    x0 = next(i for i, line in enumerate(lines) if line.startswith("x0 = "))
    lines[x0], lines[x0 + 1] = lines[x0 + 1], lines[x0]
    (run / "config.toml").write_text("".join(lines))
    with pytest.raises(ConfigError, match=r"run\.gene_order changed"):
        evolve.resume(run, toy, generations=1)


@pytest.mark.unit
def test_the_exported_model_is_the_named_best_on_ties(tmp_path):
    from evolve.rundir.keeper import ModelKeeper

    run = RunDir(tmp_path / "run")
    run.create()
    keeper = ModelKeeper(run, 2, "maximize")
    later = Record(index=5, id="late", generation=0, genes={}, seed=0, status=Status.OK,
                   fitness=0.98)  # fmt: skip
    earlier = Record(index=2, id="early", generation=0, genes={}, seed=0, status=Status.OK,
                     fitness=0.98)  # fmt: skip
    keeper.offer(later)  # finished first, with the same fitness as an earlier genome
    keeper.offer(earlier)
    from evolve.engine.ranking import Ranking

    assert keeper.best.id == Ranking("maximize").best([later, earlier]).id == "early"


# -- found by the second round of a new user's attack -------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: evolve.optimize(SPACE, 5), "the fitness must be a function"),
        (lambda: evolve.optimize(SPACE, toy, executor="x"), "must be a concurrent.futures"),
        (lambda: evolve.optimize(SPACE, toy, on_record=5), "on_record must be a function"),
        (lambda: evolve.optimize(SPACE, toy, target=float("nan")), "search.target must be a finite number"),
        (lambda: evolve.optimize(SPACE, toy, seed=-1), "run.seed must be 0 or more"),
        (lambda: evolve.optimize(SPACE, toy, timeout=float("inf")), "run.timeout must be a finite"),
        (lambda: evolve.optimize({"x": {"type": "float", "min": float("nan"), "max": 1,
                                        "step": 0.1}}, toy), "min must be a finite number"),
    ],
)  # fmt: skip
def test_every_python_mistake_is_found_before_anything_runs(call, message):
    with pytest.raises(ConfigError) as info:
        call()
    assert message in str(info.value) and "\n" not in str(info.value)


def test_resume_refuses_another_importable_fitness_and_non_numbers(tmp_path):
    env_path = str(tmp_path)
    (tmp_path / "fits.py").write_text("def one(g):\n    return 1.0\ndef two(g):\n    return 2.0\n")
    sys.path.insert(0, env_path)
    try:
        import fits

        run = tmp_path / "run"
        evolve.optimize(SPACE, fits.one, out=run, population=4, generations=1)
        with pytest.raises(SessionError, match="evaluates fits:one, not fits:two"):
            evolve.resume(run, fits.two, generations=1)
        with pytest.raises(ConfigError, match="generations must be an integer"):
            evolve.resume(run, fits.one, generations="2")
        shutil.rmtree(run / "models")
        assert len(evolve.resume(run, fits.one, generations=1).records) == 4 + 3
    finally:
        sys.path.remove(env_path)


def test_a_command_line_run_of_an_importable_fitness(root, tmp_path):
    (tmp_path / "fitmod.py").write_text("def fit(genes):\n    return float(sum(genes.values()))\n")
    config = tmp_path / "c.toml"
    config.write_text('[run]\nfitness = "fitmod:fit"\n[search]\nobjective = "fitness"\n'
                      "population = 3\ngenerations = 1\n[genes]\nx = [1, 2, 3]\n")  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    ran = cli(root, "run", "--config", str(config), "--out", str(tmp_path / "r"), env=env)
    assert ran.returncode == 0 and {r["status"] for r in history(tmp_path / "r")} == {"ok"}
    config.write_text(config.read_text().replace("fitmod:fit", "fitmod:nothing"))
    missing = cli(root, "run", "--config", str(config), "--out", str(tmp_path / "s"), env=env)
    assert one_line_exit_2(missing) and "cannot import the run's fitness" in missing.stderr
    assert not (tmp_path / "s").exists()


@pytest.mark.unit
def test_non_finite_and_array_metrics_are_strict_json(tmp_path):
    def fitness(genes):
        return {"fitness": 1.0, "loss": float("nan"), "curve": np.arange(3), "grid": np.eye(2)}

    out = tmp_path / "run"
    record = evolve.optimize(SPACE, fitness, out=out, strategy="random", budget=1).records[0]
    assert record.metrics == {"fitness": 1.0, "loss": None, "curve": [0, 1, 2],
                              "grid": [[1.0, 0.0], [0.0, 1.0]]}  # fmt: skip
    line = (out / "history.jsonl").read_text()
    assert "NaN" not in line and json.loads(line, parse_constant=lambda c: 1 / 0)


@pytest.mark.unit
def test_empty_data_and_fractional_filters_are_refused(tmp_path):
    with pytest.raises(DatasetError, match="x_train holds no images"):
        prepare(DataSpec(save(tmp_path / "e.npz", x_train=np.zeros((0, 4, 4)),
                              y_train=np.zeros(0))))  # fmt: skip
    from evolve.settings import config

    with pytest.raises(ConfigError, match=r"16\.5 is not allowed for the cnn model"):
        config.from_dict({"genes": {"filters": [16.5, 32]}}).space()


@pytest.mark.unit
@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"x_train": np.ones((20, 4, 4)), "y_train": np.r_[[np.nan], np.repeat([0.0, 1.0], 9),
                                                          [1.0]]}, "y_train holds 1 NaN or infinite values"),
        ({"x_train": np.ones((20, 4, 4)) * 1j, "y_train": np.repeat([0, 1], 10)},
         "must hold real numbers"),
        ({"x_train": np.ones((20, 4, 4)), "y_train": np.repeat([0, 1], 10),
          "x_test": np.ones((4, 4, 4)), "y_test": np.array([0, 1, 7, 7])},
         "y_test has 1 class(es) the training data never shows (7)"),
    ],
)  # fmt: skip
def test_more_bad_data_is_refused_at_load(tmp_path, arrays, message):
    with pytest.raises(DatasetError) as info:
        prepare(DataSpec(save(tmp_path / "bad.npz", **arrays)))
    assert message in str(info.value)


@pytest.mark.unit
def test_an_npy_file_is_not_an_npz(tmp_path):
    np.save(tmp_path / "one.npy", np.zeros(3))
    (tmp_path / "one.npy").rename(tmp_path / "one.npz")
    with pytest.raises(DatasetError, match=r"holds one array \(\.npy\)"):
        prepare(DataSpec(str(tmp_path / "one.npz")))


@pytest.mark.unit
def test_a_full_disk_names_the_file_and_a_run_that_never_began_says_run_again(
    tmp_path, monkeypatch
):
    import errno as errnos

    from evolve.app.cli import _machine_fault
    from evolve.rundir import atomic

    def full(fd):
        raise OSError(errnos.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", full)
    with pytest.raises(OSError) as info:
        atomic.write_atomic(tmp_path / "labels.json", "{}")
    assert info.value.filename == str(tmp_path / "labels.json")
    assert list(tmp_path.iterdir()) == []  # no temporary file left
    line = _machine_fault(info.value, "run", begun=False)
    assert line.startswith(f"No space left on device ({tmp_path / 'labels.json'})")
    assert line.endswith("then run again: nothing had started")
    assert "then resume" in _machine_fault(info.value, "run", begun=True)


@pytest.mark.unit
def test_a_run_that_fails_to_start_leaves_no_folder_tensorboard_experiment_included(tmp_path):
    run = RunDir(tmp_path / "r")
    run.create()
    (run.path / "tensorboard").mkdir()
    (run.path / "tensorboard" / "events.out.tfevents.1.host.2").write_bytes(b"experiment")
    run.discard_if_unused()
    assert not run.path.exists()


@pytest.mark.unit
def test_a_stop_before_the_run_began_says_run_again_and_a_disk_stop_is_in_run_log(
    tmp_path, monkeypatch, capsys
):
    import errno as errnos

    from evolve import session as sessions
    from evolve.app import cli

    monkeypatch.setattr(cli.signal, "signal", lambda *args: None)  # keep pytest's handlers

    def interrupted_at_start(cfg, out, launch, unique=False):
        launch.run_dir = out  # created, and discarded again: no config yet
        raise KeyboardInterrupt

    monkeypatch.setattr(sessions, "start", interrupted_at_start)
    assert cli.main(["run", "--out", str(tmp_path / "early"), "--quiet"]) == 130
    assert "interrupted before the run began: nothing to resume" in capsys.readouterr().err

    def full_disk(cfg, out, launch, unique=False):
        out.mkdir()
        (out / "config.toml").write_text("")
        (out / "run.log").write_text("2026-01-01 00:00:00 run started\n")
        launch.run_dir = out
        raise OSError(errnos.ENOSPC, "No space left on device", str(out / "models" / "a.keras"))

    monkeypatch.setattr(sessions, "start", full_disk)
    assert cli.main(["run", "--out", str(tmp_path / "full"), "--quiet"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: No space left on device") and "then resume" in err
    assert (tmp_path / "full" / "run.log").read_text().splitlines()[-1].endswith(err)
