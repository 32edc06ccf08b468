"""TensorBoard: every trained genome is a session of the HParams dashboard, with its genes, its
recorded results and its curves; checked with TensorBoard's own reader and its own server."""

from __future__ import annotations

import json
import math
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("tensorboard")

from evolve.training.tensorboard_log import (
    SessionLog,
    _domain,
    metric_names,
    session_name,
)
from genomes.genes import Choice, Flag, FloatRange, IntRange, LogRange

ROOT = Path(__file__).resolve().parent.parent
LOGGED = ("loss", "accuracy", "val_loss", "val_accuracy")


def cli(*args, env=None):
    return subprocess.run(
        [sys.executable, str(ROOT / "run_evolution.py"), *args],
        capture_output=True, text=True, timeout=600, env=env,
    )  # fmt: skip


def records(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()]


def accumulator(folder: Path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(folder), size_guidance={"tensors": 0})
    events.Reload()
    return events


def hparams_content(folder: Path, tag: str):
    from tensorboard.plugins.hparams import plugin_data_pb2

    content = accumulator(folder).PluginTagToContent("hparams")
    return plugin_data_pb2.HParamsPluginData.FromString(content[f"_hparams_/{tag}"])


def scalar(events, tag: str) -> list[tuple[int, float]]:
    import numpy as np

    return [(e.step, float(np.asarray(_array(e.tensor_proto)))) for e in events.Tensors(tag)]


def _array(proto):
    from tensorboard.util import tensor_util

    return tensor_util.make_ndarray(proto)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(port: int, route: str, body: dict) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/data/plugin/hparams/{route}",
        data=json.dumps(body).encode(), headers={"Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


class Server:
    """TensorBoard's own server on ``logdir``: what its HParams dashboard reads."""

    def __init__(self, logdir: Path) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tensorboard.main", "--logdir", str(logdir),
             "--host", "127.0.0.1", "--port", str(self.port), "--reload_interval", "0"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def experiment(self) -> dict:
        deadline = time.monotonic() + 120
        while True:
            try:
                return post(self.port, "experiment", {"experimentName": ""})
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise
                time.sleep(0.5)

    def sessions(self) -> list[dict]:
        body = {
            "experimentName": "", "startIndex": 0, "sliceSize": 1000, "colParams": [],
            "allowedStatuses": ["STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING",
                                "STATUS_UNKNOWN"],
        }  # fmt: skip
        groups = post(self.port, "session_groups", body)["sessionGroups"]
        return [session for group in groups for session in group["sessions"]]

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc) -> None:
        self.process.kill()
        self.process.wait()


def metric(session: dict, tag: str, group: str = "") -> float:
    (value,) = [
        m["value"] for m in session["metricValues"]
        if m["name"]["tag"] == tag and m["name"].get("group", "") == group
    ]  # fmt: skip
    return value


@pytest.mark.slow
def test_every_genome_of_a_run_is_in_the_hparams_dashboard_with_its_genes_and_results(tmp_path):
    out = tmp_path / "run"
    result = cli("run", "--population", "4", "--generations", "2", "--epochs", "2",
                 "--workers", "1", "--tensorboard", "--out", str(out), "--quiet")  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "tensorboard = true" in (out / "config.toml").read_text()
    assert f"tensorboard --logdir {out / 'tensorboard'}" in result.stdout
    assert cli("report", str(out)).returncode == 0
    assert f"tensorboard --logdir {out / 'tensorboard'}" in (out / "report.html").read_text()
    trained = {r["id"]: r for r in records(out) if r["status"] == "ok" and not r.get("cached")}
    assert len(trained) >= 4
    board = out / "tensorboard"
    for genome_id, record in trained.items():
        folder = board / genome_id
        start = hparams_content(folder, "session_start_info").session_start_info
        assert start.group_name == genome_id
        for name, value in record["genes"].items():
            stored = start.hparams[name]
            kind = stored.WhichOneof("kind")
            assert getattr(stored, kind) == value, (name, value, stored)
        end = hparams_content(folder, "session_end_info").session_end_info
        assert end.status == 1  # STATUS_SUCCESS
        final = accumulator(folder)
        assert scalar(final, "val_accuracy") == [
            (record["metrics"]["epochs"], pytest.approx(record["metrics"]["val_accuracy"]))
        ]
        assert scalar(final, "params") == [(record["metrics"]["epochs"], record["metrics"]["params"])]
        curve = scalar(accumulator(folder / "validation"), "epoch_accuracy")
        assert [step for step, _ in curve] == list(range(record["metrics"]["epochs"]))
        assert [v for _, v in curve] == pytest.approx(record["metrics"]["curve"]["val_accuracy"])
    with Server(board) as server:
        experiment = server.experiment()
        names = {h["name"] for h in experiment["hparamInfos"]}
        assert names == set(next(iter(trained.values()))["genes"])
        layers = next(h for h in experiment["hparamInfos"] if h["name"] == "layers")
        assert layers["domainDiscrete"] == [1.0, 2.0, 3.0]
        tags = [(m["name"].get("group", ""), m["name"]["tag"]) for m in experiment["metricInfos"]]
        assert tags[0] == ("", "val_accuracy")  # the objective first
        assert {("", "val_loss"), ("", "params"), ("train", "epoch_loss")} <= set(tags)
        sessions = {s["name"]: s for s in server.sessions()}
        assert set(sessions) == set(trained)
        for genome_id, record in trained.items():
            session = sessions[genome_id]
            assert session["status"] == "STATUS_SUCCESS"
            assert metric(session, "val_accuracy") == pytest.approx(
                record["metrics"]["val_accuracy"]
            )
            assert metric(session, "val_loss") == pytest.approx(record["metrics"]["val_loss"])
            assert math.isfinite(metric(session, "epoch_loss", "train"))


@pytest.mark.slow
def test_rungs_continue_one_curve_and_re_evaluations_are_sessions_of_their_own(tmp_path):
    out = tmp_path / "run"
    result = cli("run", "--population", "4", "--generations", "2", "--epochs", "2",
                 "--fidelity", "epochs", "--final-reevaluations", "1", "--workers", "1",
                 "--tensorboard", "--out", str(out), "--quiet")  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    history = [r for r in records(out) if r["status"] == "ok" and not r.get("cached")]
    promoted = [r for r in history if r.get("initial_epoch")]
    repeats = [r for r in history if r.get("repeat")]
    assert promoted and repeats
    for record in promoted:
        highest = max(
            r["fidelity"] for r in history if r["id"] == record["id"] and not r.get("repeat")
        )  # fmt: skip
        curve = scalar(accumulator(out / "tensorboard" / record["id"] / "validation"),
                       "epoch_accuracy")  # fmt: skip
        assert [step for step, _ in curve] == list(range(highest))  # one line, no restart
    for record in repeats:
        name = session_name(record["id"], record["repeat"])
        final = scalar(accumulator(out / "tensorboard" / name), "val_accuracy")
        assert final == [
            (record["metrics"]["epochs"], pytest.approx(record["metrics"]["val_accuracy"]))
        ]
        start = hparams_content(out / "tensorboard" / name, "session_start_info")
        assert start.session_start_info.group_name == name


def test_the_experiment_is_written_without_tensorflow_and_once(tmp_path):
    code = f"""
import sys
from pathlib import Path
from evolve.training.tensorboard_log import write_experiment
from genomes.genes import Choice
from genomes.space import SearchSpace
space = SearchSpace([Choice("units", (8, 16)), Choice("activation", ("relu", "tanh"))])
first = write_experiment(Path({str(tmp_path)!r}), space, {list(LOGGED)!r}, "val_loss")
again = write_experiment(Path({str(tmp_path)!r}), space, {list(LOGGED)!r}, "val_loss")
print(first is not None, again is None, "tensorflow" in sys.modules)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, timeout=120)  # fmt: skip
    assert result.stdout.split() == ["True", "True", "False"], result.stderr
    experiment = hparams_content(tmp_path, "experiment").experiment
    assert [h.name for h in experiment.hparam_infos] == ["units", "activation"]
    assert [m.name.tag for m in experiment.metric_infos][:3] == ["val_loss", "val_accuracy",
                                                                 "params"]  # fmt: skip


@pytest.mark.unit
def test_each_kind_of_gene_has_a_domain_that_holds_its_alleles():
    assert list(_domain(Flag("residual")).values) == [False, True]
    assert list(_domain(Choice("act", ("tanh", "relu"))).values) == ["relu", "tanh"]
    assert list(_domain(Choice("units", (8, 16))).values) == [8.0, 16.0]
    assert list(_domain(LogRange("lr", 1e-4, 1e-2)).values) == pytest.approx([1e-4, 1e-3, 1e-2])
    assert list(_domain(FloatRange("dropout", 0.0, 0.5, 0.1)).values) == pytest.approx(
        [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
    )
    wide = _domain(IntRange("units", 1, 512))
    assert (wide.min_value, wide.max_value) == (1, 512)
    fine = _domain(FloatRange("rate", 0.0, 1.0, 0.001))
    assert (fine.min_value, fine.max_value) == (0.0, 1.0)
    assert _domain(Choice("mixed", (1, "x"))) is None  # no one kind: shown without a domain


@pytest.mark.unit
def test_metrics_put_the_objective_first_then_the_final_then_training_ones():
    assert metric_names(LOGGED, "val_accuracy") == [
        ("val_accuracy", None), ("val_loss", None), ("params", None),
        ("epoch_loss", "train"), ("epoch_accuracy", "train"),
    ]  # fmt: skip
    assert metric_names((), "val_score")[0] == ("params", None)  # a fitness's own: none known


@pytest.mark.unit
def test_a_training_from_epoch_0_clears_its_session_and_a_continued_one_keeps_it(tmp_path):
    stale = tmp_path / "abc" / "events.out.tfevents.1.old"
    stale.parent.mkdir()
    stale.write_text("a killed training's half")
    SessionLog(str(tmp_path), "abc", repeat=0, initial_epoch=2)
    assert stale.exists()
    SessionLog(str(tmp_path), "abc", repeat=0, initial_epoch=0)
    assert not stale.parent.exists()
    assert SessionLog(str(tmp_path), "abc", repeat=2, initial_epoch=0).folder.name == "abc-r2"


def test_a_failed_training_ends_its_session_as_a_failure(tmp_path):
    code = f"""
from pathlib import Path
from evolve.training.tensorboard_log import SessionLog, write_failed
log = SessionLog({str(tmp_path)!r}, "nan", 0, 0)
log.start({{"units": 8, "activation": "relu", "residual": True}})
log.close()  # the worker's training raised: the parent ends the session
write_failed(Path({str(tmp_path)!r}), "nan", 0, {{"units": 8, "activation": "relu", "residual": True}})
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    end = hparams_content(tmp_path / "nan", "session_end_info").session_end_info
    assert end.status == 2  # STATUS_FAILURE
    start = hparams_content(tmp_path / "nan", "session_start_info").session_start_info
    assert start.hparams["residual"].bool_value is True


def one_line_exit_2(result) -> bool:
    lines = result.stderr.strip().splitlines()
    return result.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: ")


def test_tensorboard_without_the_package_is_one_line_and_leaves_no_run(tmp_path):
    out = tmp_path / "run"
    code = (
        "import sys; sys.modules['tensorboard'] = None\n"
        "from evolve.app.cli import main\n"
        f"sys.exit(main(['run', '--tensorboard', '--out', {str(out)!r}, '--quiet']))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, timeout=120)  # fmt: skip
    assert one_line_exit_2(result), result.stderr
    assert "pip install tensorboard" in result.stderr
    assert not out.exists()


def fitness(genes):
    return genes["x"]


@pytest.mark.unit
def test_tensorboard_with_a_fitness_of_yours_is_refused_before_anything_runs(tmp_path):
    from evolve import optimize
    from evolve.settings.config import ConfigError

    with pytest.raises(ConfigError, match="trains its own way"):
        optimize({"x": [1, 2]}, fitness, generations=1, population=2, tensorboard=True,
                 out=tmp_path / "run")  # fmt: skip
    assert not (tmp_path / "run").exists()


def test_a_config_file_asks_for_tensorboard_with_a_boolean(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text('[run]\ntensorboard = "yes"\n')
    result = cli("run", "--config", str(config), "--out", str(tmp_path / "run"))
    assert one_line_exit_2(result), result.stderr
    assert "run.tensorboard" in result.stderr


def test_a_log_that_cannot_be_written_is_the_disks_fault_not_the_genomes(tmp_path):
    from evolve.data import DataSpec
    from evolve.execution.trial import RunDirWriteError, environment_fault
    from evolve.training.problem import KerasProblem

    blocker = tmp_path / "tensorboard"
    blocker.write_text("a file where the folder should be")  # as a read-only or full disk
    problem = KerasProblem(DataSpec("digits"), epochs=1, tensorboard_dir=str(blocker))
    with pytest.raises(RunDirWriteError, match="cannot write TensorBoard logs to") as info:
        problem({"layers": 1, "filters": 8, "kernel_size": 3}, seed=1, genome_id="g")
    assert environment_fault(info.value)  # the run stops; the genome trains again on resume
    log = SessionLog(str(tmp_path / "board"), "g", 0, 0)
    assert log.caused(RuntimeError(f"{log.folder}/train; Read-only file system"))
    assert not log.caused(ValueError("NaN or infinite loss by epoch 2"))


def test_a_training_its_worker_could_not_end_gets_a_failed_session_from_the_parent(tmp_path):
    code = f"""
import sys
from pathlib import Path
from evolve.training.tensorboard_log import write_failed
write_failed(Path({str(tmp_path)!r}), "died", 0, {{"units": 8, "residual": True}})
write_failed(Path({str(tmp_path)!r}), "died", 2, {{"units": 8, "residual": True}})
print("tensorflow" in sys.modules)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, timeout=120)  # fmt: skip
    assert result.stdout.split() == ["False"], result.stderr
    for name in ("died", "died-r2"):
        start = hparams_content(tmp_path / name, "session_start_info").session_start_info
        assert start.group_name == name and start.hparams["units"].number_value == 8
        end = hparams_content(tmp_path / name, "session_end_info").session_end_info
        assert end.status == 2  # STATUS_FAILURE


@pytest.mark.slow
def test_every_genome_of_the_history_has_a_session_timeouts_included(tmp_path):
    out = tmp_path / "run"
    result = cli("run", "--population", "2", "--generations", "1", "--epochs", "10",
                 "--timeout", "1", "--workers", "1", "--tensorboard", "--out", str(out),
                 "--quiet")  # fmt: skip
    history = records(out)
    assert history and all(r["status"] == "timeout" for r in history), result.stderr[-2000:]
    for record in history:
        end = hparams_content(out / "tensorboard" / record["id"], "session_end_info")
        assert end.session_end_info.status == 2  # STATUS_FAILURE
