"""A damaged journal is repaired, never lost (``evolve.rundir.reading`` and ``mending``): a
history shorter than its checkpoint is rebuilt, a damaged line in the middle is set aside and
its genome trains again, and ``inspect`` only reads while ``resume`` says what it dropped."""

from __future__ import annotations

import os
from pathlib import Path

import evolve
from support import SPACE, cli, history, python_run, toy


def test_a_journal_shorter_than_its_checkpoint_is_rebuilt_not_lost(tmp_path):
    calls = []

    def counted(genes):
        calls.append(1)
        return toy(genes)

    reference = evolve.optimize(SPACE, toy, population=6, generations=3, seed=4)
    run = tmp_path / "run"
    evolve.optimize(SPACE, counted, out=run, population=6, generations=3, seed=4)
    (run / "history.jsonl").write_text("")  # emptied, the checkpoint intact
    calls.clear()
    resumed = evolve.resume(run, counted)
    assert len(calls) == reference.trained  # everything lost trains again, nothing is missing
    assert sorted(r.id for r in resumed.records) == sorted(r.id for r in reference.records)


def test_a_damaged_line_in_the_middle_is_set_aside_and_its_genome_trains_again(tmp_path):
    run = tmp_path / "run"
    evolve.optimize(SPACE, toy, out=run, population=6, generations=3, seed=4)
    lines = (run / "history.jsonl").read_text().splitlines(keepends=True)
    lines[3] = '{"index": 3, "id": "damag\n'
    (run / "history.jsonl").write_text("".join(lines))
    resumed = evolve.resume(run, toy)
    after = history(run)  # valid JSON lines again
    assert sorted(r["index"] for r in after) == sorted({r["index"] for r in after})
    assert 3 in {r["index"] for r in after} and len(resumed.records) == len(lines)
    assert (run / "history.damaged.jsonl").read_text() == '{"index": 3, "id": "damag\n'


def test_inspect_never_changes_the_journal_and_resume_says_what_it_dropped(root, tmp_path):
    run = python_run(tmp_path)
    raw = (run / "history.jsonl").read_bytes()
    (run / "history.jsonl").write_bytes(raw[: len(raw) - 40])  # a kill half-way through a line
    cut = (run / "history.jsonl").read_bytes()
    assert cli(root, "inspect", str(run), "--json", timeout=120).returncode == 0
    assert (run / "history.jsonl").read_bytes() == cut
    resumed = cli(root, "resume", str(run), "--quiet", env={**os.environ, "PYTHONPATH": str(
        Path(__file__).parent)}, timeout=120)  # fmt: skip
    assert "dropped a half-written last line of history.jsonl" in resumed.stderr
