"""``report``: one self-contained HTML file of a run, to read in a browser or mail to a
colleague: the summary, the best genome and its test score, the leaderboard, the gene
importance, the generations, the failures, the config, and every plot embedded (PNG, base64).
No JavaScript, no file beside it, no network."""

from __future__ import annotations

import base64
import html
import io
import time
from collections.abc import Mapping, Sequence
from typing import Any

from evolve.engine.ranking import Ranking
from evolve.rundir.atomic import write_atomic
from evolve.rundir.store import RunDir
from evolve.settings import config as configuration
from evolve.view import gene_plots, inspection, plots
from evolve.view.importance import gene_importance
from evolve.view.progress import test_scores

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 0.9em; } td, th { padding: 0.2em 0.7em; }
th { text-align: left; background: #eee; } tr:nth-child(even) td { background: #f7f7f7; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.unused { color: #999; } .box { background: #f4f8fb; padding: 0.8em 1em; border-radius: 6px; }
img { max-width: 100%; margin: 0.5em 0; } pre { background: #f4f4f4; padding: 1em; }
.wide { overflow-x: auto; }
"""

PLOTS = ("fitness", "importance", "slices", "parallel", "curves", "rungs", "lineage",
         "diversity")  # fmt: skip


def write_report(run: RunDir, cfg: configuration.Config, records: list[dict[str, Any]]) -> str:
    """Write ``RUN_DIR/report.html`` and return its path. ``RunDirError`` (one line) when no
    evaluation succeeded; a run still going is reported as it stands (and says so)."""
    from evolve.rundir.store import RunDirError

    if not Ranking.succeeded(records):
        finished = "no evaluation has finished yet" if not records else "none succeeded"
        raise RunDirError(f"{run.path}: nothing to report ({finished})")
    s = cfg.search
    report = inspection.summary(records, s.direction, 10, s.elites())
    from evolve.app.commands import exported_genome

    exported = exported_genome(run) or {}
    figures: dict[str, str] = {}

    def keep(name: str, figure: Any) -> None:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
        figures[name] = base64.b64encode(buffer.getvalue()).decode()

    importance = gene_importance(records)  # a forest fit: once, for the table and the plot
    plots.draw(records, s.direction, keep, s.objective, s.elites())
    gene_plots.draw(records, s.direction, keep, s.objective, importance=importance)
    running = run.holder()
    space = inspection.space_of(cfg)
    parts = [
        f"<h1>Run {_e(run.path.name)}</h1>",
        _summary(report, cfg, running, run),
        _best(report, exported, s.objective, space),
        '<h2>Leaderboard</h2><div class="wide">' + _leaderboard(report["leaderboard"], space)
        + "</div>",
        "<h2>Gene importance</h2>" + _importance(importance),
        "<h2>Generations</h2>" + _generations(report["generations"]),
        "<h2>Plots</h2>" + "".join(
            f'<figure><img alt="{n}" src="data:image/png;base64,{figures[n]}"></figure>'
            for n in PLOTS if n in figures
        ),
        "<h2>Failures</h2>" + _failures(report["failures"]),
        "<h2>Config</h2><pre>" + _e(cfg.to_toml()) + "</pre>",
        f"<p><small>written {time.strftime('%Y-%m-%d %H:%M:%S')} by run_evolution.py report"
        "</small></p>",
    ]
    page = (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Run "
            f"{_e(run.path.name)}</title><style>{STYLE}</style></head><body>"
            + "\n".join(parts) + "</body></html>\n")  # fmt: skip
    target = run.path / "report.html"
    write_atomic(target, page)
    return str(target)


def _e(value: Any) -> str:
    return html.escape(str(value))


def _n(value: Any, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _summary(
    report: dict[str, Any], cfg: configuration.Config, running: str | None, run: RunDir
) -> str:
    s = cfg.search
    state = (f"<p><b>Running now</b> ({_e(running)}): this report shows what has finished."
             "</p>" if running else "")  # fmt: skip
    rows = [
        ("strategy", s.strategy + (f", multi-fidelity (eta {s.eta})" if s.fidelity else "")),
        ("dataset", cfg.data.dataset if cfg.run.keras else cfg.run.fitness),
        ("objective", f"{s.objective} ({s.direction})"),
        ("evaluations", f"{report['evaluations']} ({report['trained']} trained, "
                        f"{report['cached']} cached, {len(report['failures'])} failed)"),
    ]  # fmt: skip
    if run.tensorboard.is_dir():
        rows.append(("TensorBoard", f"tensorboard --logdir {run.tensorboard}"))
    return state + '<div class="box"><table>' + "".join(
        f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows
    ) + "</table></div>"


def _gene(name: str, value: Any, unused: Sequence[str], sep: str = " = ") -> str:
    """One allele; a gene the network does not use greyed and in brackets, as ``inspect``
    shows it."""
    text = _e(f"{name}{sep}{value}" if sep else value)
    return f'<span class="unused">({text})</span>' if name in unused else text


def _best(
    report: dict[str, Any], exported: dict[str, Any], objective: str, space: Any = None
) -> str:
    best = report["best"]
    if best is None:
        return ""
    spread = exported.get("seeds") or {}
    mean = (f" (mean {spread['mean']:.4f} ± {spread['std']:.4f} over {spread['seeds']} seeds)"
            if spread.get("seeds", 0) > 1 else "")  # fmt: skip
    test = test_scores(exported)
    unused = inspection.unused_genes(space, best["genes"])
    genes = ", ".join(_gene(k, v, unused) for k, v in best["genes"].items())
    note = " <small>(in brackets: genes this network does not use)</small>" if unused else ""
    return (
        "<h2>Best genome</h2><div class=\"box\">"
        f"<p><b>{_e(best['id'])}</b> (generation {best['generation']})</p>"
        f"<p>{genes}{note}</p>"
        f"<p>{_e(objective)} <b>{_n(best['fitness'])}</b>{_e(mean)}</p>"
        + (f"<p><b>{_e(test)}</b> (the exported model, on the held-out test split)</p>"
           if test else "")
        + "</div>"
    )  # fmt: skip


def _leaderboard(board: Sequence[Mapping[str, Any]], space: Any = None) -> str:
    if not board:
        return "<p>none yet</p>"
    genes = list(board[0]["genes"])
    head = "".join(f"<th>{_e(g)}</th>" for g in genes)
    rows = []
    for rank, r in enumerate(board, start=1):
        unused = inspection.unused_genes(space, r["genes"])
        cells = "".join(f"<td>{_gene(g, r['genes'].get(g), unused, sep='')}</td>" for g in genes)
        epochs = (r.get("metrics") or {}).get("epochs", "")
        rows.append(
            f"<tr><td class=n>{rank}</td><td>{_e(r['id'])}</td><td class=n>"
            f"{_n(r['fitness'])}</td><td class=n>{_n(r['mean'])}</td><td class=n>"
            f"{r['seeds']}</td><td class=n>{_e(epochs)}</td>{cells}</tr>"
        )
    return ("<table><tr><th>rank</th><th>id</th><th>fitness</th><th>mean</th><th>seeds</th>"
            f"<th>epochs</th>{head}</tr>" + "".join(rows) + "</table>")  # fmt: skip


def _importance(found: dict[str, dict[str, float]] | None) -> str:
    if not found:
        return "<p>Too few successful trainings to say which genes matter (at least 8).</p>"
    rows = "".join(
        f"<tr><td>{_e(g)}</td><td class=n>{v['mean']:.4f}</td><td class=n>± {v['std']:.4f}"
        "</td></tr>" for g, v in found.items()
    )  # fmt: skip
    return (
        "<p>Permutation importance of a random forest fitted to the history (scikit-learn): "
        "how much its fit drops when the gene is shuffled.</p><table><tr><th>gene</th>"
        f"<th>importance</th><th>spread</th></tr>{rows}</table>"
    )


def _generations(rows: Sequence[Mapping[str, Any]]) -> str:
    graded = any(g.get("rung", 0) for g in rows)  # multi-fidelity: best and mean at a rung
    body = "".join(
        f"<tr><td class=n>{g['generation']}</td><td class=n>{g['evaluations']}</td>"
        f"<td class=n>{g.get('carried', 0)}</td>"
        + (f"<td class=n>{g.get('rung', 0)}</td>" if graded else "")
        + f"<td class=n>{_n(g['best'])}</td>"
        f"<td class=n>{_n(g['mean'])}</td><td class=n>{g['diversity']:.2f}</td>"
        f"<td class=n>{g['failed']}</td></tr>" for g in rows
    )  # fmt: skip
    return ("<table><tr><th>generation</th><th>evaluated</th><th>elites</th>"
            + ("<th>rung</th>" if graded else "") + "<th>best</th>"
            f"<th>mean</th><th>diversity</th><th>failed</th></tr>{body}</table>")  # fmt: skip


def _failures(failed: Sequence[Mapping[str, Any]]) -> str:
    if not failed:
        return "<p>None.</p>"
    rows = "".join(
        f"<tr><td class=n>{r['index']}</td><td>{_e(r['id'])}</td><td>{_e(r['status'])}</td>"
        f"<td>{_e(r['reason'])}</td></tr>" for r in failed
    )  # fmt: skip
    return f"<table><tr><th>#</th><th>id</th><th>status</th><th>reason</th></tr>{rows}</table>"
