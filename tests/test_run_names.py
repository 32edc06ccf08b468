"""A run's folder name comes from what the user named, never from a path (issue 20, kind 1):
any dataset (file, folder, relative or absolute, spaces, non-ASCII) gives one plain folder under
results/, and every command works on every run, one named by an earlier version included."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import tomli_w

from evolve.app.naming import check_name, dataset_label, default_name
from evolve.settings.config import ConfigError

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.unit
@pytest.mark.parametrize(
    ("dataset", "label"),
    [
        ("digits", "digits"),
        ("/data/wine.csv", "wine"),  # the example
        ("data/wine.csv", "wine"),
        ("../tables/breast cancer.parquet", "breast-cancer"),
        ("~/photos/", "photos"),
        ("/srv/images/digits_png", "digits_png"),
        ("Données brutes.csv", "Donnees-brutes"),
        ("日本語.npz", "data"),
        ("/", "data"),
        ("a" * 80 + ".csv", "a" * 40),
        ("C:\\data\\x.csv", "C-data-x"),
    ],
)
def test_any_dataset_gives_one_plain_folder_name(dataset, label):
    assert dataset_label(dataset) == label
    name = default_name("ga", dataset, now=0)
    assert "/" not in name and "\\" not in name and name.isascii() and " " not in name
    check_name(name)


@pytest.mark.unit
@pytest.mark.parametrize("name", ["../../escape", "a/b", "..", "", "tab\there", "x" * 201])
def test_a_run_name_that_is_no_plain_folder_name_is_refused(name):
    with pytest.raises(ConfigError, match=r"run\.name"):
        check_name(name)


def cli(*args, cwd, timeout=600):
    return subprocess.run([sys.executable, str(ROOT / "run_evolution.py"), *args],
                          capture_output=True, text=True, cwd=cwd, timeout=timeout)  # fmt: skip


CSV_CONFIG = """
[data]
dataset = "{dataset}"
[model]
family = "mlp"
[training]
epochs = 2
[search]
population = 2
generations = 1
[genes]
units = {{ type = "choice", values = [8, 16] }}
"""


@pytest.mark.slow
def test_an_absolute_csv_path_with_spaces_makes_a_run_that_every_command_works_on(tmp_path):
    """The issue's example (a CSV named by its absolute path, no run.name), with spaces and
    accents; then the same run as an earlier version had named it, in nested folders under
    results/ (``ga-/data/wine.csv-...``): every command reads it, the name being checked only
    when a run starts."""
    from sklearn.datasets import load_wine

    data = tmp_path / "my data" / "Vins rouges été.csv"
    data.parent.mkdir()
    load_wine(as_frame=True).frame.to_csv(data, index=False)
    work = tmp_path / "work"
    work.mkdir()
    (work / "c.toml").write_text(CSV_CONFIG.format(dataset=data))
    done = cli("run", "--config", "c.toml", "--quiet", cwd=work)
    assert done.returncode == 0, done.stderr[-2000:]
    runs = list((work / "results").iterdir())
    assert len(runs) == 1 and runs[0].name.startswith("ga-Vins-rouges-ete-")  # one plain folder
    run = str(runs[0])
    for args in (["inspect", run, "--no-summary"], ["report", run],
                 ["export", run], ["resume", run, "--generations", "1", "--quiet"]):  # fmt: skip
        done = cli(*args, cwd=work)
        assert done.returncode == 0, (args, done.stderr[-2000:])
    nested = work / "results" / "ga-" / "data" / "wine.csv-20261201-101010"
    shutil.copytree(run, nested, ignore=shutil.ignore_patterns("lock"))
    config = nested / "config.toml"
    saved = tomllib.loads(config.read_text())
    saved["run"]["name"] = "ga-/data/wine.csv-20261201-101010"
    config.write_text(tomli_w.dumps(saved))
    for args in (["inspect", str(nested), "--json", "--no-summary"], ["report", str(nested)]):
        done = cli(*args, cwd=work)
        assert done.returncode == 0, (args, done.stderr[-2000:])
    journal = (nested / "history.jsonl").read_text().splitlines()
    assert json.loads(cli("inspect", str(nested), "--json", "--no-summary",
                          cwd=work).stdout)["evaluations"] == len(journal)  # fmt: skip
