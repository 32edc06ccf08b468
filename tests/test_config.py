"""Config files: the shipped ones load, and every mistake is one clear line."""

from __future__ import annotations

import pytest

from evolve.settings import config
from evolve.settings.config import ConfigError

pytestmark = pytest.mark.unit  # the whole file: no TensorFlow, no worker processes


def test_shipped_configs_load(root):
    default = config.load(root / "configs" / "default.toml")
    assert default.data.dataset == "digits" and default.search.strategy == "ga"
    assert default.space().names == (
        "layers",
        "filters",
        "kernel_size",
        "dropout",
        "learning_rate",
        "residual",
    )
    lesson = config.load(root / "configs" / "lesson_grid.toml")
    assert lesson.space().size == 288 and lesson.search.strategy == "grid"


def test_overrides_and_round_trip(root, tmp_path):
    cfg = config.load(root / "configs" / "default.toml", {"search.population": 4, "run.seed": 9})
    assert cfg.search.population == 4 and cfg.run.seed == 9
    path = tmp_path / "resolved.toml"
    path.write_text(cfg.to_toml())
    again = config.load(path)
    assert again.to_dict() == cfg.to_dict()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[search\npopulation = 3", "is not valid TOML"),
        (
            "[serch]\npopulation = 3\n[genes]\na = [1, 2]",
            r"unknown section \[serch\] \(did you mean 'search'\?\)",
        ),
        (
            "[search]\npopulaton = 3\n[genes]\na = [1, 2]",
            "unknown key search.populaton .did you mean 'population'",
        ),
        (
            "[search]\npopulation = 'ten'\n[genes]\nlayers = [1, 2]",
            "search.population must be int, got 'ten'",
        ),
        (
            "[search]\npopulation = 1\n[genes]\nlayers = [1, 2]",
            "search.population must be at least 2, got 1",
        ),
        (
            "[search]\nstrategy = 'annealing'\n[genes]\nlayers = [1, 2]",
            "search.strategy = 'annealing' is not one of",
        ),
        ("[run]\nseed = 1", "declares no genes"),
        ("[genes]\ndepth = [1, 2]", "unknown gene 'depth' for the cnn model"),
        ("[genes]\nlayers = { type = 'normal' }", "gene 'layers': unknown gene type 'normal'"),
        (
            "[genes]\nfilters = { type = 'choice', values = [] }",
            "gene 'filters': a choice needs a non-empty list",
        ),
        (
            "[genes]\nlayers = { type = 'int', min = 4, max = 1 }",
            r"gene 'layers': min \(4\) is greater than max \(1\)",
        ),
        (
            "[genes]\ndropout = { type = 'float', min = 0, max = 0.5, step = 0 }",
            "gene 'dropout': step must be > 0",
        ),
        (
            "[genes]\nlayers = { type = 'int', min = 1.5, max = 3 }",
            "gene 'layers': min must be an integer",
        ),
    ],
)
def test_bad_configs_raise_one_line_errors(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        config.load(path)
    assert "\n" not in str(info.value)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        config.load(tmp_path / "nope.toml")
