"""The shape of the code, checked like its behaviour: small modules, and the engine importable
without TensorFlow (the layers themselves are import-linter's contract in ``.importlinter``,
run by CI)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MOST_LINES = 300

pytestmark = pytest.mark.unit


def test_no_module_of_the_engine_or_the_genomes_is_over_300_lines():
    long = {
        str(path.relative_to(ROOT)): n
        for package in ("evolve", "genomes")
        for path in (ROOT / package).rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MOST_LINES
    }
    assert not long, f"split these by job: {long}"


def test_the_engine_operators_and_checkpoints_import_without_tensorflow():
    code = (
        "import sys\n"
        "import evolve, evolve.session, evolve.app.cli, evolve.search.ga, evolve.rundir.store\n"
        "import evolve.settings.schema, evolve.view.inspection, genomes.space\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TF imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
