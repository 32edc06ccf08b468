"""Runs whose files were damaged by hand or by a full disk (found by a newcomer's attack): each
command says so in one line, copies nothing damaged, and leaves no partial export behind.
No TensorFlow: every case fails before a model is loaded."""

from __future__ import annotations

import errno
import json
import shutil

import pytest

from evolve.app import cli
from evolve.engine.records import Record, Status
from evolve.rundir.store import RunDir
from evolve.settings import config
from evolve.training.saved_models import ExportError, written

pytestmark = pytest.mark.unit


@pytest.fixture
def run(tmp_path):
    """A finished digits run, as far as its files go: config, one record, a best genome."""
    found = RunDir(tmp_path / "run")
    found.create()
    found.write_config(config.from_dict({"search": {"objective": "val_accuracy"},
                                         "genes": {"filters": [8, 16]}}).to_toml())
    record = Record(index=0, id="abc123", generation=0, genes={"filters": 8}, seed=1,
                    status=Status.OK, fitness=0.9, metrics={"val_accuracy": 0.9})  # fmt: skip
    found.append(record)
    found.close()
    found.best.mkdir()
    (found.best / "genome.json").write_text(json.dumps({"id": "abc123", "genes": {"filters": 8}}))
    return found.path


def one_line_error(capsys, code, expected):
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("error: ") and "\n" not in err and expected in err, err


@pytest.mark.parametrize("damage", ["[1,2", "", '"just a string"'])
def test_a_damaged_best_genome_json_is_a_warning_and_inspect_still_works(run, capsys, damage):
    (run / "best" / "genome.json").write_text(damage)
    assert cli.main(["inspect", str(run), "--no-summary"]) == 0
    out = capsys.readouterr()
    assert "best/genome.json is damaged" in out.err and "abc123" in out.out
    assert "Traceback" not in out.err


@pytest.mark.parametrize("damage", [b"not a zip", b"", b"PK\x03\x04 cut short"])
def test_a_damaged_model_is_not_exported(run, tmp_path, capsys, damage):
    (run / "best" / "model.keras").write_bytes(damage)
    target = tmp_path / "out.keras"
    one_line_error(capsys, cli.main(["export", str(run), "--out", str(target)]),
                   "is not a Keras model file")  # fmt: skip
    assert not target.exists()


@pytest.mark.parametrize("name", ["model.txt", "model", "model.h5", "model.keras.bak"])
def test_an_export_to_a_file_keras_cannot_load_is_refused(run, tmp_path, capsys, name):
    shutil.copyfile(__file__, run / "best" / "model.keras")  # never read: refused before
    import zipfile

    with zipfile.ZipFile(run / "best" / "model.keras", "w") as z:
        z.writestr("config.json", "{}")
    one_line_error(capsys, cli.main(["export", str(run), "--out", str(tmp_path / name)]),
                   "must end in .keras")  # fmt: skip
    assert not (tmp_path / name).exists()


def test_a_savedmodel_that_cannot_be_written_leaves_nothing_behind(tmp_path):
    def full_disk(folder):
        (tmp_path / "seen").write_text(folder)
        with open(f"{folder}/variables_temp", "w") as f:
            f.write("part of it")
        raise OSError(errno.ENOSPC, "No space left on device")

    target = tmp_path / "export" / "savedmodel"
    with pytest.raises(ExportError, match=r"cannot write .*savedmodel: OSError: .*No space") as e:
        written(full_disk, target)
    assert "\n" not in str(e.value)
    assert not target.exists() and list((tmp_path / "export").iterdir()) == []


def test_a_full_disk_during_a_copy_names_where_it_could_not_write(tmp_path, monkeypatch):
    from evolve.rundir import atomic

    source, target = tmp_path / "a.keras", tmp_path / "out" / "b.keras"
    source.write_bytes(b"x" * 100)

    def no_space(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device", str(src))

    monkeypatch.setattr(atomic.shutil, "copyfile", no_space)
    with pytest.raises(OSError) as caught:
        atomic.copy_atomic(source, target)
    assert caught.value.filename == str(target) and list(target.parent.iterdir()) == []


def test_a_run_that_never_started_leaves_no_results_folder_it_made(tmp_path):
    """Found by a newcomer: KERAS_BACKEND=jax without jax was one line, but left ./results."""
    fresh = RunDir(tmp_path / "results" / "ga-digits-1")
    fresh.create(unique=True)
    fresh.discard_if_unused()
    assert not (tmp_path / "results").exists()
    (tmp_path / "results" / "older-run").mkdir(parents=True)  # a folder of runs stays
    second = RunDir(tmp_path / "results" / "ga-digits-2")
    second.create()
    second.discard_if_unused()
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == ["older-run"]


def test_inspect_says_which_history_lines_it_left_out(run, capsys):
    with (run / "history.jsonl").open("a") as journal:
        journal.write('{"index": 1, "id": "cut\n')
    assert cli.main(["inspect", str(run), "--no-summary"]) == 0
    err = capsys.readouterr().err
    assert "dropped a damaged line of history.jsonl" in err or "half-written" in err, err
