"""A config written back as TOML: unset values left out, the genes in their order."""

from __future__ import annotations

import dataclasses
from typing import Any

import tomli_w

from evolve.settings.sections import Config


def config_tables(cfg: Config) -> dict[str, Any]:
    """The config as TOML tables: unset values left out, strategy settings flat in
    [search], and no [data] or [training] for a run with a fitness of its own."""
    data = dataclasses.asdict(cfg)
    search = data["search"]
    search.update(search.pop("options"))
    if search["target"] is None:
        del search["target"]
    if not cfg.search.fidelity:  # the rungs' settings mean nothing without rungs
        for key in ("fidelity", "min_epochs", "max_epochs", "eta"):
            del search[key]
    if not cfg.search.pruning:
        del search["pruning"]
    if not cfg.run.keras:
        del data["data"], data["training"], data["model"]
    elif not cfg.model.build_code:
        del data["model"]["build_code"]
    return data

def config_toml(cfg: Config) -> str:
    """The config as TOML; ``[genes]`` written one line per gene, a gene's table inline,
    so the genes keep their order (a sub-table would be written after the plain genes, and
    the order of the genes is the order of a genome's alleles)."""
    data = config_tables(cfg)
    genes = data.pop("genes", None)
    text = tomli_w.dumps(data)
    if genes:
        lines = "".join(f"{_key(name)} = {_inline(spec)}\n" for name, spec in genes.items())
        text += ("\n" if text else "") + "[genes]\n" + lines
    return text


def _key(name: str) -> str:
    """A TOML key: bare when it can be, else quoted (as tomli_w writes it)."""
    return tomli_w.dumps({name: 0}).split(" = ")[0]


def _inline(value: Any) -> str:
    """``value`` as one line of TOML: a table inline, a list on one line."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {_inline(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    return tomli_w.dumps({"v": value}).split(" = ", 1)[1].strip()
