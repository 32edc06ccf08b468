"""The order of the genes is the order of a genome's alleles: config.toml keeps it, and a run
whose config.toml an earlier version wrote out of order (genes declared as tables after the
plain ones) still resumes. Found by the test of a strategy of yours; pure Python."""

from __future__ import annotations

import tomllib

import pytest
import tomli_w

import evolve
from evolve.settings import config

SPACE = {
    "x": {"type": "int", "min": 0, "max": 20},
    "y": [1, 2, 3],
    "rate": {"type": "float", "min": 0.1, "max": 0.9, "step": 0.1},
    "name with space": ["a", "b"],
}


def fitness(genes):
    return float(genes["x"] * genes["y"] + genes["rate"])


@pytest.mark.unit
def test_config_toml_keeps_the_genes_in_their_order():
    cfg = config.from_dict({"run": {"fitness": "m:f"}, "search": {"strategy": "random"},
                            "genes": SPACE})  # fmt: skip
    written = tomllib.loads(cfg.to_toml())
    assert list(written["genes"]) == list(SPACE)
    assert written["genes"] == {**SPACE, "rate": written["genes"]["rate"]}
    assert config.from_dict(written).space().names == cfg.space().names


def test_a_run_with_table_genes_before_plain_ones_resumes(tmp_path):
    out = tmp_path / "run"
    first = evolve.optimize(SPACE, fitness, population=4, generations=1, out=out)
    more = evolve.resume(out, fitness, generations=1)
    assert len(more.records) > len(first.records) == 4


def test_a_run_whose_config_an_earlier_version_wrote_out_of_order_resumes(tmp_path):
    out = tmp_path / "run"
    evolve.optimize(SPACE, fitness, population=4, generations=1, out=out)
    saved = tomllib.loads((out / "config.toml").read_text())
    saved["genes"] = SPACE  # as the command line writes them: two genes as plain lists
    (out / "config.toml").write_text(tomli_w.dumps(saved))  # the old writer: tables last
    assert list(tomllib.loads((out / "config.toml").read_text())["genes"]) != list(SPACE)
    more = evolve.resume(out, fitness, generations=1)
    assert len(more.records) > 4 and list(more.records[-1].genes) == list(SPACE)
