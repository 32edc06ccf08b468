"""A config that no longer fits the run's checkpoint (``evolve.settings.resuming``): a gene
added or reordered, a changed population, gene range or training setting is named in one
line on resume, from Python and from the command line, and nothing is trained or lost."""

from __future__ import annotations

from pathlib import Path

import pytest

import evolve
from evolve.settings.config import ConfigError
from support import cli, history, one_line_exit_2, python_run, toy


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


def test_changed_training_settings_are_named_on_resume(root, tmp_path):
    run, config = tmp_path / "run", tmp_path / "c.toml"
    config.write_text("[genes]\nlayers = [1, 2]\n")
    args = ["run", "--config", str(config), "--population", "2", "--generations", "1",
            "--epochs", "1", "--workers", "1", "--quiet", "--out", str(run)]  # fmt: skip
    assert cli(root, *args).returncode == 0
    edit_config(run, "epochs = 1", "epochs = 2")
    result = cli(root, "resume", str(run), timeout=120)
    assert one_line_exit_2(result) and "training.epochs changed from 1 to 2" in result.stderr


def test_reordered_genes_are_named_on_resume(tmp_path):
    run = python_run(tmp_path)
    text = (run / "config.toml").read_text()  # config.toml holds one line per gene, in order
    lines = text.splitlines(keepends=True)
    x0 = next(i for i, line in enumerate(lines) if line.startswith("x0 = "))
    lines[x0], lines[x0 + 1] = lines[x0 + 1], lines[x0]
    (run / "config.toml").write_text("".join(lines))
    with pytest.raises(ConfigError, match=r"run\.gene_order changed"):
        evolve.resume(run, toy, generations=1)
