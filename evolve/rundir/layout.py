"""How the files of a run's trained models are named: the one place that formats them.

A model is saved as ``<genome id>.keras`` when trained to the problem's own epochs, and as
``<genome id>.e<epochs>.keras`` when a multi-fidelity rung stopped it at ``epochs`` (the state
the next rung continues from). ``best/model.keras`` is the run's best, exported.
"""

from __future__ import annotations

from pathlib import Path

BEST_MODEL = "model.keras"
"""The best genome's model inside ``<run>/best/`` (and the default export's name)."""


def model_file(genome_id: str, epochs: int = 0) -> str:
    """The file name of ``genome_id``'s model trained to ``epochs`` (0: the problem's own)."""
    return f"{genome_id}.e{epochs}.keras" if epochs else f"{genome_id}.keras"


def model_path(models: str | Path, genome_id: str, epochs: int = 0) -> Path:
    """``model_file`` inside the folder ``models``."""
    return Path(models) / model_file(genome_id, epochs)
