"""Strategies register themselves: the config, the command line and the errors learn of a new
one from its own file."""

from __future__ import annotations

import pytest

from evolve.app import flags
from evolve.search import DONE, Setting, SettingError, Strategy, make_strategy, register, registry
from evolve.settings import config
from evolve.settings.config import ConfigError
from genomes import SearchSpace

pytestmark = pytest.mark.unit  # the whole file: no TensorFlow, no worker processes

SPACE = SearchSpace.from_config({"a": {"type": "int", "min": 0, "max": 9}})


@pytest.fixture
def hill_climber():
    """A strategy defined here, as a user would in a file of their own."""

    @register
    class HillClimber(Strategy):
        name = "hill"
        summary = "one step from the best genome so far"
        settings = (
            Setting("step_size", 1, "alleles per step", check=lambda v: v >= 1, rule="at least 1"),
        )

        def __init__(self, space, direction="maximize", seed=0, *, step_size=1, **effort):
            super().__init__(space, direction, seed, **effort)
            self.step_size = step_size

        def ask(self):
            if len(self.seen) >= self.count:
                return DONE
            genome = self.novel_random()
            return DONE if genome is None else self._propose(genome)

        def tell(self, genome, fitness):
            pass

    yield HillClimber
    registry._REGISTRY.pop("hill")


def test_a_registered_strategy_is_known_everywhere(hill_climber, tmp_path):
    assert "hill" in config.choices()["search.strategy"]
    assert "hill" in flags.overrides()["strategy"][2]  # the command line's help
    path = tmp_path / "c.toml"
    path.write_text("[search]\nstrategy = 'hill'\nstep_size = 3\n[genes]\nlayers = [1, 2]\n")
    cfg = config.load(path)
    strategy = make_strategy("hill", SPACE, "maximize", 0, **cfg.search.strategy_params())
    assert isinstance(strategy, hill_climber) and strategy.step_size == 3
    path.write_text("[search]\nstrategy = 'hill'\nstep_size = 0\n[genes]\nlayers = [1, 2]\n")
    with pytest.raises(ConfigError, match=r"search\.step_size must be at least 1, got 0"):
        config.load(path)


def test_settings_of_another_strategy_are_accepted_but_checked():
    ga = make_strategy("random", SPACE, "maximize", 0, selection="sus", budget=3)
    assert ga.count == 3
    with pytest.raises(SettingError, match=r"search\.selection = 'bogus' is not one of"):
        make_strategy("random", SPACE, "maximize", 0, selection="bogus")


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("gaa", {}, "unknown strategy 'gaa' (did you mean 'ga'?)"),
        ("ga", {"tournament": 3}, "unknown search setting 'tournament' (did you mean"),
        ("ga", {"crossover": "two_point"}, "not one of: single_point, uniform"),
        ("ga", {"mutation_rate": 1.5}, "search.mutation_rate must be between 0 and 1, got 1.5"),
        ("ga", {"replacement": "oldest", "replace_count": 11}, "replace_count must be 1..population"),
        ("tpe", {"startup_trials": 0}, "search.startup_trials must be at least 1"),
    ],
)
def test_bad_settings_are_one_line_errors(name, params, message):
    with pytest.raises(SettingError) as info:
        make_strategy(name, SPACE, "maximize", 0, **params)
    assert message in str(info.value)


def test_a_name_or_a_common_setting_cannot_be_taken_twice(hill_climber):
    class Other(hill_climber):
        pass

    with pytest.raises(ValueError, match="registered twice"):
        register(Other)

    class Clash(Strategy):
        name = "clash"
        settings = (Setting("population", 3, "clashes"),)

    with pytest.raises(ValueError, match="redefines the common setting population"):
        register(Clash)
