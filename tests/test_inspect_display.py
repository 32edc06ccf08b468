"""What ``inspect`` shows people: numbers rounded (full precision in --json), genes a network
does not use marked, a run that is starting or still running said to be so."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import evolve
from evolve.app.inspect_text import human
from evolve.rundir.store import RunDir
from evolve.settings import config as configuration
from evolve.view.inspection import unused_genes
from support import cli

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.unit
def test_numbers_are_rounded_for_people():
    assert human("val_accuracy", 0.9826388955116272) == "0.9826"
    assert human("fit_seconds", 1.73751) == "1.7 s"
    assert human("params", 114378) == "114,378"
    assert human("val_mae", 4481.234) == "4,481.2"
    assert human("restarted", "gone") == "gone" and human("flag", True) == "True"


@pytest.mark.unit
def test_genes_a_network_does_not_use_are_found_by_the_familys_rule():
    cfg = configuration.from_dict({"genes": {
        "layers": {"type": "int", "min": 1, "max": 3},
        "filters": {"type": "choice", "values": [16, 32], "per_layer": True},
        "residual": {"type": "flag"},
        "dropout": {"type": "float", "min": 0.0, "max": 0.5, "step": 0.1},
    }})  # fmt: skip
    space = cfg.space()
    one = {"layers": 1, "filters_1": 16, "filters_2": 32, "filters_3": 16, "residual": True,
           "dropout": 0.2}  # fmt: skip
    assert unused_genes(space, one) == ["filters_2", "filters_3", "residual"]
    two = {**one, "layers": 2}
    assert unused_genes(space, two) == ["filters_3"]


def run_cli(*args):
    return subprocess.run([sys.executable, str(ROOT / "run_evolution.py"), *args],
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def test_a_run_starting_up_or_running_is_shown_as_it_stands(tmp_path):
    starting = RunDir(tmp_path / "starting")
    starting.create()  # holds the lock; no config.toml yet (the data is being prepared)
    shown = run_cli("inspect", str(starting.path))
    assert shown.returncode == 0, shown.stderr
    assert "is a run starting up (pid" in shown.stdout and "nothing has finished yet" in shown.stdout

    out = tmp_path / "run"
    evolve.optimize({"x": {"type": "int", "min": 0, "max": 9}, "y": {"type": "flag"}},
                    lambda genes: genes["x"] / 7.3, population=4, generations=1, out=out)  # fmt: skip
    holder = RunDir(out)
    holder.lock()  # as a run in progress holds it
    try:
        shown = run_cli("inspect", str(out), "--no-summary")
        assert shown.returncode == 0 and "running now (pid" in shown.stdout
        data = json.loads(run_cli("inspect", str(out), "--json").stdout)
        assert data["running"].startswith("pid ")
    finally:
        holder.close()
    data = json.loads(run_cli("inspect", str(out), "--json").stdout)
    assert data["running"] is None
    best = data["best"]["fitness"]  # full precision in --json
    assert best == max(r["fitness"] for r in data["leaderboard"]) and len(repr(best)) > 6


@pytest.mark.unit
def test_elites_count_in_the_generation_that_carries_them():
    from evolve.view.inspection import generations

    records = [
        {"index": i, "id": f"g{i}", "generation": g, "status": "ok", "fitness": f,
         "genes": {"x": i}}
        for i, (g, f) in enumerate([(0, 0.9), (0, 0.5), (1, 0.7), (1, 0.6), (1, 0.8)])
    ] + [{"index": 5, "id": "g0", "generation": 1, "status": "ok", "fitness": 0.2,
          "genes": {"x": 0}, "repeat": 1}]  # a re-evaluation of the final pick: not a member
    plain = generations(records, "maximize")
    assert [row["best"] for row in plain] == [0.9, 0.8]  # generation 1 seems to fall back
    kept = generations(records, "maximize", elites=1)
    assert [row["best"] for row in kept] == [0.9, 0.9]  # elitism kept the best
    assert kept[1]["carried"] == 1 and kept[1]["evaluations"] == 3
    assert kept[1]["mean"] == (0.9 + 0.7 + 0.6 + 0.8) / 4


@pytest.mark.unit
def test_the_lineage_of_a_genome_found_at_random_is_framed_around_it():
    from evolve.view import plots

    records = [{"index": 0, "id": "a" * 12, "generation": 0, "status": "ok", "fitness": 0.98,
                "genes": {"x": 1}, "parents": [], "origin": "random", "metrics": {}}]  # fmt: skip
    figures = {}
    plots.draw(records, "maximize", lambda name, fig: figures.setdefault(name, fig))
    ax = figures["lineage"].axes[0]
    low, high = ax.get_ylim()
    assert low < 0.98 < high and high - low < 0.1  # not an axis around 0
    assert ax.get_xlim() == (-0.5, 0.5) and "no parents" in ax.get_title()


def history_of(n=40, seed=0):
    """A history where ``lr`` decides the fitness, ``width`` a little, ``noise`` nothing."""
    import numpy as np

    rng = np.random.default_rng(seed)
    records = []
    for i in range(n):
        genes = {"lr": float(rng.choice([1e-4, 1e-3, 1e-2])), "width": int(rng.choice([8, 16])),
                 "noise": str(rng.choice(["a", "b", "c"]))}  # fmt: skip
        fitness = {1e-4: 0.5, 1e-3: 0.8, 1e-2: 0.9}[genes["lr"]] + 0.02 * (genes["width"] == 16)
        records.append({"index": i, "id": f"{i:012d}", "generation": i // 10, "genes": genes,
                        "status": "ok", "fitness": fitness, "parents": [], "origin": "random",
                        "metrics": {"curve": {"val_accuracy": [fitness - 0.1, fitness]}}})  # fmt: skip
    return records


@pytest.mark.unit
def test_gene_importance_ranks_the_gene_that_decides_first():
    from evolve.view.importance import gene_importance

    found = gene_importance(history_of())
    assert next(iter(found)) == "lr" and found["lr"]["mean"] > 5 * found["noise"]["mean"]
    assert found["width"]["mean"] > found["noise"]["mean"]
    assert gene_importance(history_of(n=5)) is None  # too few to say anything


def test_every_plot_is_drawn_and_inspect_plots_lists_them(tmp_path):
    from evolve.view import gene_plots

    figures = {}
    gene_plots.draw(history_of(), "maximize", lambda name, fig: figures.setdefault(name, fig),
                    "val_accuracy")  # fmt: skip
    assert set(figures) == {"importance", "slices", "parallel", "curves"}
    assert figures["importance"].axes[0].get_yticklabels()[-1].get_text() == "lr"
    assert len(figures["curves"].axes[0].lines) == 5
    parallel = figures["parallel"].axes[0]
    axes = [label.get_text() for label in parallel.get_xticklabels()]
    assert axes[0] == "val_accuracy" and "lr" not in axes  # lr is 1e-2 throughout the top
    shown = {text.get_text() for text in parallel.texts}  # each axis labelled by its alleles
    top = sorted(history_of(), key=lambda r: (-r["fitness"], r["index"]))[:10]
    assert {r["genes"]["noise"] for r in top} <= shown and "0.9200" in shown

    out = tmp_path / "run"
    evolve.optimize({"x": {"type": "int", "min": 0, "max": 9}, "y": {"type": "flag"}},
                    lambda genes: genes["x"] / 9, population=6, generations=3, out=out)  # fmt: skip
    shown = run_cli("inspect", str(out), "--plots")
    assert shown.returncode == 0, shown.stderr
    listed = {Path(line).stem for line in shown.stdout.split()}
    assert {"fitness", "diversity", "lineage", "importance", "slices", "parallel"} <= listed
    assert all(Path(line).read_bytes()[:4] == b"\x89PNG" for line in shown.stdout.split())


def test_inspect_plots_of_nothing_is_one_line(tmp_path):
    out = tmp_path / "failed"
    evolve.optimize({"x": {"type": "int", "min": 0, "max": 3}, "y": {"type": "flag"}},
                    lambda genes: 1 / 0, population=2, generations=1, out=out)  # fmt: skip
    shown = run_cli("inspect", str(out), "--plots")
    assert shown.returncode == 2 and shown.stderr.strip().endswith("nothing to plot (none "
                                                                    "succeeded)")  # fmt: skip
    assert len(shown.stderr.strip().splitlines()) == 1
    shown = run_cli("inspect", str(tmp_path), "--plots")
    assert shown.returncode == 2 and "holds no run" in shown.stderr


def test_the_report_is_one_self_contained_page_with_every_section(tmp_path):
    import re

    out = tmp_path / "run"
    evolve.optimize({"x": {"type": "int", "min": 0, "max": 9}, "y": {"type": "flag"}},
                    lambda genes: genes["x"] / 9, population=6, generations=3, out=out)  # fmt: skip
    shown = run_cli("report", str(out))
    assert shown.returncode == 0, shown.stderr
    page = Path(shown.stdout.strip()).read_text()
    assert Path(shown.stdout.strip()) == out / "report.html"
    for section in ("Best genome", "Leaderboard", "Gene importance", "Generations", "Plots",
                    "Failures", "Config"):  # fmt: skip
        assert f"<h2>{section}</h2>" in page
    images = re.findall(r'<img alt="(\w+)" src="data:image/png;base64,', page)
    assert {"fitness", "importance", "slices", "parallel", "lineage"} <= set(images)
    assert "<script" not in page and "http" not in page.split("<h2>Config</h2>")[0]
    assert "strategy = &quot;ga&quot;" in page  # the config, escaped
    holder = RunDir(out)
    holder.lock()
    try:  # a run in progress is reported as it stands
        assert run_cli("report", str(out)).returncode == 0
        assert "Running now" in (out / "report.html").read_text()
    finally:
        holder.close()


def test_a_report_of_nothing_is_one_line(tmp_path):
    out = tmp_path / "failed"
    evolve.optimize({"x": {"type": "int", "min": 0, "max": 3}, "y": {"type": "flag"}},
                    lambda genes: 1 / 0, population=2, generations=1, out=out)  # fmt: skip
    for target in (out, tmp_path):
        shown = run_cli("report", str(target))
        assert shown.returncode == 2 and len(shown.stderr.strip().splitlines()) == 1
    assert "nothing to report (none succeeded)" in run_cli("report", str(out)).stderr
    assert not (out / "report.html").exists()


@pytest.mark.unit
def test_the_progress_bar_ends_full_and_ignores_a_re_evaluations_seed():
    from evolve.view.progress import Progress

    bar = Progress(29, direction="maximize")
    for i in range(12):  # a space that ran out after 12
        bar.update({"status": "ok", "fitness": 0.5 + i / 100, "generation": 0})
    bar.update({"status": "ok", "fitness": 0.99, "generation": 0, "repeat": 1})
    assert bar.best == 0.61
    bar.finish()
    assert bar.bar.total == bar.bar.n == 13
    bar.close()


@pytest.mark.unit
def test_a_plot_that_cannot_be_drawn_is_a_warning_not_the_end_of_the_run(tmp_path, monkeypatch):
    from evolve.view import gene_plots

    def broken(*args):
        raise ValueError("a metric no plot understands")

    monkeypatch.setattr(gene_plots, "draw", broken)
    out = tmp_path / "run"
    outcome = evolve.optimize({"x": {"type": "int", "min": 0, "max": 9}, "y": {"type": "flag"}},
                              lambda genes: {"fitness": genes["x"], "curve": [1, 2]},
                              population=4, generations=1, out=out)  # fmt: skip
    assert outcome.best is not None and (out / "summary.json").exists()
    assert "warning: a plot could not be drawn (ValueError: a metric no plot understands)" in (
        (out / "run.log").read_text()
    )


def noisy(genes, seed):
    return genes["x"] + (seed % 7) / 100


def shown_totals(stderr: str) -> list[tuple[int, int]]:
    import re

    return [(int(n), int(t)) for n, t in re.findall(r"\| *(\d+)/(\d+) \[", stderr)]


def test_the_bar_of_an_extended_run_shows_its_whole_total_from_the_first_draw(tmp_path, capfd):
    space = {"x": {"type": "int", "min": 0, "max": 99}, "y": {"type": "flag"}}
    out = tmp_path / "run"
    first = evolve.optimize(space, noisy, population=4, generations=2, out=out,
                            final_reevaluations=1, final_top=2)  # fmt: skip
    assert len(first.records) == 4 + 3 + 2  # elitism 1, then the pick of 2
    capfd.readouterr()
    more = evolve.resume(out, noisy, generations=2, progress=True)
    totals = shown_totals(capfd.readouterr().err)
    assert len(more.records) == 9 + 2 * 3 + 2  # two more generations, a new pick
    assert totals[0] == (9, 17)  # the journal's 9 and the whole total, at once
    assert {total for _, total in totals} == {17}
    assert totals[-1] == (17, 17)


@pytest.mark.unit
def test_the_final_picks_expected_trainings_count_the_earlier_picks():
    from evolve.search.ga import GeneticAlgorithm
    from evolve.search.schedulers.final_pick import FinalPick
    from genomes.space import SearchSpace

    space = SearchSpace.from_config({"x": {"type": "int", "min": 0, "max": 99}})
    pick = FinalPick(GeneticAlgorithm(space, "maximize", 0, population=4, generations=2), 2, 1)
    assert pick.expected() == 7 + 2
    pick.retrained = {"a": 1, "b": 1}  # the first pick done
    pick.extend(2)
    assert pick.expected() == 13 + 2 + 2
    again = FinalPick(GeneticAlgorithm(space, "maximize", 0, population=4, generations=4), 2, 1)
    again.load_state_dict(pick.state_dict())
    assert again.expected() == pick.expected()


def rung_record(index, genome_id, rung, fitness, generation=0, parents=(), repeat=0):
    return {"index": index, "id": genome_id, "generation": generation, "genes": {"x": index},
            "status": "ok", "fitness": fitness, "rung": rung, "fidelity": 2 ** rung,
            "parents": list(parents), "origin": "random", "repeat": repeat, "metrics": {}}  # fmt: skip


@pytest.mark.unit
def test_a_multi_fidelity_run_compares_its_best_at_the_highest_rung_everywhere():
    from evolve.view import inspection, plots
    from evolve.view.progress import Progress

    history = [
        rung_record(0, "a", 0, 0.90), rung_record(1, "b", 0, 0.95),
        rung_record(2, "b", 1, 0.97),  # b promoted
        rung_record(3, "c", 0, 1.00, generation=1, parents=["b"]),  # a lucky 1-epoch result
        rung_record(4, "d", 0, 0.93, generation=1),
    ]  # fmt: skip
    rows = inspection.generations(history, "maximize")
    assert [(row["rung"], row["best"]) for row in rows] == [(1, 0.97), (0, 1.00)]
    assert rows[0]["mean"] == 0.97  # the mean of that rung's results alone
    figures = {}
    plots.draw(history, "maximize", lambda name, fig: figures.setdefault(name, fig))
    so_far = next(line for line in figures["fitness"].axes[0].lines
                  if line.get_label() == "best so far")  # fmt: skip
    assert list(so_far.get_ydata()) == [0.97, 0.97]  # not 1.00: a lower rung never wins
    lineage = {r["id"]: r["fitness"] for r in inspection.lineage(history, "c")}
    assert lineage == {"c": 1.00, "b": 0.97}  # each genome at its highest rung
    bar = Progress(None, enabled=False)
    for record in history:
        bar.update(record)
    assert bar.best == 0.97


@pytest.mark.unit
def test_the_bar_counts_without_a_percentage_once_an_estimate_falls_short():
    from evolve.view.progress import Progress

    bar = Progress(3)
    for _ in range(5):  # rungs promoted more genomes than estimated
        bar.update({"status": "ok", "fitness": 0.5, "generation": 0})
    assert bar.bar.total is None and bar.bar.n == 5  # not a bar stuck at 100%
    bar.finish()
    assert bar.bar.total == bar.bar.n == 5
    bar.close()


@pytest.mark.unit
def test_slices_compare_one_fidelity_and_label_few_alleles_with_themselves():
    from evolve.view import gene_plots

    history = [rung_record(i, f"g{i}", 0, 0.5 + i / 100) for i in range(12)]
    history += [rung_record(12 + i, f"g{i}", 1, 0.8 + i / 100) for i in range(8)]
    history += [rung_record(20, "g0", 1, 0.99, repeat=1)]  # a re-evaluation: not a point
    for r in history:
        r["genes"] = {"layers": 1 + r["index"] % 3, "units": 8 * (1 + r["index"] % 2),
                      "rate": [1e-4, 1e-3, 1e-2][r["index"] % 3] * (1 + r["index"] / 100)}  # fmt: skip
    figures = {}
    gene_plots.draw(history, "maximize", lambda name, fig: figures.setdefault(name, fig),
                    "val_accuracy")  # fmt: skip
    fig = figures["slices"]
    assert "results at 2 epochs" in fig._suptitle.get_text()
    layers, units, rate = fig.axes[:3]
    assert [t.get_text() for t in layers.get_xticklabels()] == ["1", "2", "3"]
    assert [t.get_text() for t in units.get_xticklabels()] == ["8", "16"]
    ticks = [t.get_text() for t in rate.get_xticklabels()]
    assert ticks[0].startswith("1e-04") and ticks[-1].startswith("0.01")  # in numeric order
    assert len(layers.collections[0].get_offsets()) == 8  # the 2-epoch results alone


# -- issue 20, kind 10: messages and polish ---------------------------------------------------


def test_the_bar_is_drawn_last_before_the_plots_so_its_rate_is_the_evaluations(
    tmp_path, monkeypatch, capfd
):
    """The issue's example: the bar was printed three times at the end and its rate jumped
    (1.97 -> 3.58 s/genome): it was redrawn after the final plots and below the last lines."""
    import re
    import time

    from evolve.view import gene_plots

    monkeypatch.setattr(gene_plots, "draw", lambda *args: time.sleep(2.5))  # slow final plots
    evolve.optimize({"x": {"type": "int", "min": 0, "max": 99}}, lambda genes: genes["x"],
                    population=4, generations=2, out=tmp_path / "run", progress=True)  # fmt: skip
    err = capfd.readouterr().err.replace("\r", "\n")
    finals = re.findall(r"7/7 \[(\d\d:\d\d)<", err)
    assert finals and set(finals) == {"00:00"}  # not the seconds the plots took
    assert err.rindex("7/7") < err.index("stopped:")  # the stop line below the bar's last draw


@pytest.mark.unit
def test_inert_genes_are_bracketed_in_the_summary_and_the_report():
    from evolve.app.report_html import _best, _leaderboard
    from evolve.view.progress import genes_line

    cfg = configuration.from_dict({"genes": {"layers": [1, 2], "residual": {"type": "flag"},
                                             "filters": [16, 32]}})  # fmt: skip
    space = cfg.space()
    genes = {"layers": 1, "residual": True, "filters": 16}
    assert genes_line(genes, unused_genes(space, genes)) == "layers=1 (residual=True) filters=16"
    row = {"id": "abc", "generation": 0, "genes": genes, "fitness": 0.9, "mean": 0.9,
           "seeds": 1, "metrics": {}}  # fmt: skip
    page = _best({"best": row}, {}, "val_accuracy", space) + _leaderboard([row], space)
    assert page.count('<span class="unused">') == 2
    assert '<span class="unused">(residual = True)</span>' in page
    assert "genes this network does not use" in page


def test_resuming_a_run_in_its_first_seconds_says_it_is_in_use(tmp_path):
    """The issue's example: before its config is written, resume said "holds no run" where run
    --out said "in use by pid N"."""
    run = tmp_path / "starting"
    run.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from evolve.rundir.store import RunDir; RunDir(sys.argv[1]).lock(); "
        "print('locked', flush=True); time.sleep(60)"), str(run)],
        stdout=subprocess.PIPE, text=True, cwd=ROOT)  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "locked"
        for command in (["resume", str(run)], ["run", "--out", str(run)]):
            shown = run_cli(*command)
            assert shown.returncode == 2 and f"is in use by pid {holder.pid}" in shown.stderr
    finally:
        holder.kill()


@pytest.mark.unit
def test_parallel_coordinates_give_each_genome_its_own_colour_and_keep_labels_inside():
    from evolve.view.gene_plots import _parallel
    from evolve.view.plots import _pyplot

    records = [
        {"index": i, "id": f"g{i:02d}", "generation": 0, "status": "ok", "fitness": 0.9,
         "genes": {"a": i % 3, "activation_function_of_the_layers": f"a_very_long_name_{i % 2}"},
         "metrics": {}, "cached_from": None}
        for i in range(6)
    ]  # fmt: skip
    fig = _parallel(_pyplot(), records, "maximize", "val_accuracy")
    ax = fig.axes[0]
    colours = {tuple(line.get_color()) for line in ax.get_lines() if line.get_marker() == "o"}
    assert len(colours) == 6  # ties in fitness, six colours
    assert all(len(t.get_text()) <= 18 for t in ax.texts)
    assert ax.get_xlim()[1] >= len(ax.get_xticks()) - 1 + 0.5  # room for the last labels


# -- a run with nothing finished ---------------------------------------------------------------


def test_a_started_run_with_nothing_finished_is_shown_as_such(root, tmp_path):
    from evolve.settings import config

    run = RunDir(tmp_path / "run")
    run.create()
    run.write_config(config.load(root / "configs" / "default.toml").to_toml())
    run.close()
    shown = cli(root, "inspect", str(run.path), "--no-summary", timeout=120)
    assert shown.returncode == 0 and "no evaluation has finished yet" in shown.stdout
