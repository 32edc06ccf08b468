"""The JSON Schema of config.toml: generated from the settings, shipped, and true of every
config the project ships or writes (issue 21, point 4)."""

from __future__ import annotations

import json
import tomllib
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from evolve.settings import config
from evolve.settings.schema import dumps, json_schema

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = resources.files("evolve.settings") / "config.schema.json"
CONFIGS = sorted([*ROOT.glob("configs/*.toml"), ROOT / "evolve" / "app" / "default.toml"])


def validator() -> jsonschema.Draft202012Validator:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_the_shipped_schema_is_the_generated_one():
    assert SHIPPED.read_text() == dumps(), (
        "stale: python -m evolve.settings.schema > evolve/settings/config.schema.json"
    )


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_every_shipped_config_fits_the_schema(path):
    data = tomllib.loads(path.read_text())
    errors = [e.message for e in validator().iter_errors(data)]
    assert not errors, errors


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_the_config_a_run_writes_fits_the_schema(path):
    cfg = config.from_dict(tomllib.loads(path.read_text()))
    errors = [e.message for e in validator().iter_errors(tomllib.loads(cfg.to_toml()))]
    assert not errors, errors


@pytest.mark.parametrize(
    ("data", "word"),
    [
        ({"search": {"population": 1}}, "minimum"),
        ({"search": {"popualtion": 8}}, "Additional properties"),
        ({"run": {"backend": "spark"}}, "is not one of"),
        ({"training": {"epochs": "ten"}}, "is not of type"),
        ({"search": {"selection": "lottery"}}, "is not one of"),
        ({"data": {"validation_split": 1.0}}, "exclusiveMaximum"),
        ({"genes": {"units": {"type": "cubic"}}}, "is not valid"),
        ({"unknown": {}}, "Additional properties"),
        # found by a new user's attack: a strategy's own ranges, the fidelity's names, a
        # gene's table, the seeds, the final pick's limits
        ({"search": {"tournament_size": 0}}, "minimum"),
        ({"search": {"mutation_rate": 2.0}}, "maximum"),
        ({"search": {"truncation": 0}}, "exclusiveMinimum"),
        ({"search": {"startup_trials": -1}}, "minimum"),
        ({"search": {"fidelity": "epoch"}}, "is not one of"),
        ({"search": {"pruning": "mean"}}, "is not one of"),
        ({"search": {"final_reevaluations": 101}}, "maximum"),
        ({"search": {"final_top": 100_000_000}}, "maximum"),
        ({"data": {"split_seed": -5}}, "minimum"),
        ({"run": {"seed": 2**40}}, "maximum"),
        ({"genes": {"units": {"type": "int", "min": 1, "max": 4, "bogus": 3}}}, "is not valid"),
        ({"genes": {"units": {"values": [1, 2]}}}, "is not valid"),
    ],
)
def test_what_the_config_refuses_the_schema_refuses_too(data, word):
    data = {"genes": {"layers": [1, 2]}, **data}  # a config without genes is refused by both
    errors = list(validator().iter_errors(data))
    assert errors and any(word in e.message or word == e.validator for e in errors), errors
    with pytest.raises(config.ConfigError):
        config.from_dict(data).space()  # the genes are checked as the space is made


def test_a_strategy_of_yours_fits_the_schema():
    mine = {"search": {"strategy": "my_pkg.search:Hill"}, "genes": {"x": [1, 2]}}
    assert not list(validator().iter_errors(mine))
    assert list(validator().iter_errors({"search": {"strategy": "my_pkg.search:Hill"}}))


def test_the_schema_describes_the_settings():
    run = json.loads(dumps())["properties"]["run"]["properties"]
    assert "at most 8" in run["workers"]["description"] and run["workers"]["minimum"] == 0
