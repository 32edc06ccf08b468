"""Each setting is declared once (``evolve.declare.Setting`` in a section field's metadata), and
everything that names settings reads that declaration: the config's checks, the JSON Schema,
the command line's flags, the Python API's keywords and the resume fingerprint."""

from __future__ import annotations

import dataclasses

import pytest

from evolve import api
from evolve.app import cli, flags
from evolve.engine.resume import differences
from evolve.settings import config
from evolve.settings.bounds import SETTINGS
from evolve.settings.resuming import _with_defaults, fingerprint
from evolve.settings.schema import json_schema

pytestmark = pytest.mark.unit

SECTIONS = [f.name for f in dataclasses.fields(config.Config) if f.name != "genes"]


def test_every_key_of_every_section_is_declared_with_a_help():
    for section in SECTIONS:
        cls = type(getattr(config.Config(), section))
        for f in dataclasses.fields(cls):
            if f.name == "options":  # the strategies' own settings, declared by each strategy
                continue
            key = f"{section}.{f.name}"
            assert key in SETTINGS, f"{key} has no Setting"
            assert SETTINGS[key].name == f.name and len(SETTINGS[key].help) > 10, key
            assert SETTINGS[key].resume in ("free", "fixed", "fixed_if_set"), key


def test_each_flag_sets_the_key_it_is_declared_for():
    parser = cli.build_parser()
    for flag, (key, kind, _) in flags.overrides().items():
        if flag in flags.ALIASES:
            continue
        assert SETTINGS[key].flag == flag
        value = {int: "7", float: "7.5", str: "x"}[kind]
        args = parser.parse_args(["run", f"--{flag.replace('_', '-')}", value])
        assert getattr(args, flag) == kind(value), flag
    declared = {s.flag for s in SETTINGS.values() if s.flag}
    assert declared <= set(flags.overrides())


def test_each_keyword_reaches_its_table_and_nothing_else_is_taken():
    for key, setting in SETTINGS.items():
        section, name = key.split(".")
        run, search = {}, {}
        if not setting.keyword:
            if section in ("run", "search"):
                with pytest.raises(config.ConfigError, match="unknown setting"):
                    api.route_settings({name: setting.default}, run, search, api.optimize)
            continue
        api.route_settings({name: setting.default}, run, search, api.optimize)
        assert {"run": run, "search": search}[section] == {name: setting.default}, key


@pytest.mark.parametrize("key", [k for k, s in SETTINGS.items() if s.bound is not None])
def test_a_value_below_its_bound_is_one_line_and_the_schema_says_the_same(key):
    setting = SETTINGS[key]
    low = setting.bound.low
    below = low - 1 if isinstance(setting.default, int) else low - 0.5
    if setting.bound.open_low:
        below = low
    section, name = key.split(".")
    with pytest.raises(config.ConfigError, match=f"^{key} must be "):
        config.from_dict({section: {name: below}, "genes": {"x": [1, 2]}})
    entry = json_schema()["properties"][section]["properties"][name]
    assert entry.get("minimum", entry.get("exclusiveMinimum")) == low
    assert entry["description"].startswith(setting.help)
    assert entry["description"].endswith("a resume refuses a change)") == (setting.resume != "free")


def test_a_resume_refuses_a_change_to_each_fixed_setting_and_takes_a_free_one():
    from genomes.space import SearchSpace

    base = {"genes": {"x": [1, 2, 3]}, "search": {"fidelity": "epochs"}}
    cfg = config.from_dict(base)
    space = SearchSpace.from_config(cfg.genes)
    saved = fingerprint(cfg, space)
    changed = {
        "search.strategy": "random", "search.population": 12, "search.eta": 3,
        "run.seed": 5, "training.epochs": 20, "data.dataset": "wine",
        "training.learning_rate": 0.01, "data.task": "regression", "model.family": "mlp",
    }  # fmt: skip
    for key, value in changed.items():
        assert SETTINGS[key].resume != "free"
        section, name = key.split(".")
        other = config.from_dict({**base, section: {**base.get(section, {}), name: value}})
        found = differences(*_with_defaults(saved, fingerprint(other, space)))
        before = getattr(getattr(cfg, section), name)
        assert found == [f"{key} changed from {before!r} to {value!r}"], (key, found)
    for key, value in {"search.generations": 9, "run.workers": 3, "run.timeout": 60.0,
                       "training.final_epochs": 4}.items():  # fmt: skip
        assert SETTINGS[key].resume == "free"
        section, name = key.split(".")
        other = config.from_dict({**base, section: {**base.get(section, {}), name: value}})
        assert differences(saved, fingerprint(other, space)) == [], key


def test_a_strategy_setting_written_at_its_default_changes_nothing_on_resume():
    """Found by a new user's attack: adding ``tournament_size = 5`` (the default) to a run's
    config.toml was refused as 'search.tournament_size was added'."""
    from genomes.space import SearchSpace

    cfg = config.from_dict({"genes": {"x": [1, 2, 3]}})
    space = SearchSpace.from_config(cfg.genes)
    saved = fingerprint(cfg, space)
    same = config.from_dict({"genes": {"x": [1, 2, 3]}, "search": {"tournament_size": 5}})
    assert differences(*_with_defaults(saved, fingerprint(same, space))) == []
    other = config.from_dict({"genes": {"x": [1, 2, 3]}, "search": {"tournament_size": 3}})
    assert differences(*_with_defaults(saved, fingerprint(other, space))) == [
        "search.tournament_size changed from 5 to 3"
    ]
