"""The JSON Schema of ``config.toml``, generated from the settings themselves: each section's
dataclass (key, type, default) and each key's one declaration (its help, its numeric bounds:
``evolve.declare.Setting``), the choice keys' registries and every registered strategy's own
settings.

Shipped as ``evolve/settings/config.schema.json`` so that editors complete and check a config
(Even Better TOML / taplo: ``#:schema <path>`` on a config's first line). Regenerate it with
``python -m evolve.settings.schema > evolve/settings/config.schema.json``; a test fails when the
shipped file is stale. The schema checks what one key can say alone; the checks that tie keys
together (``search.fidelity`` with a strategy, a split that leaves no training data) stay in
``config.from_dict``, whose one-line errors remain the reference.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from typing import Any

from evolve.declare import Bound
from evolve.search.registry import strategies
from evolve.settings import sections
from evolve.settings.bounds import BOUNDS, MOST, SETTINGS

SCHEMA_ID = "https://keras-evolve.invalid/config.schema.json"
FIXED = " (fixed once a run has started: a resume refuses a change)"
TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}
GENE_TYPES = ("choice", "int", "float", "log", "flag")


def _type(annotation: str) -> dict[str, Any]:
    """The JSON Schema type of a field's annotation (``from __future__`` strings)."""
    if annotation == "list[int]":
        return {"type": "array", "items": {"type": "integer", "minimum": 1}}
    kinds = [TYPES[part.strip()] for part in annotation.split("|") if part.strip() in TYPES]
    if "None" in annotation:
        return {"type": kinds[0]}  # unset is written by leaving the key out
    return {"type": kinds[0] if len(kinds) == 1 else kinds}


def _setting_type(default: Any) -> dict[str, Any]:
    if isinstance(default, bool):
        return {"type": "boolean"}
    if isinstance(default, int):
        return {"type": "integer"}
    if isinstance(default, float) or default is None:
        return {"type": "number"}
    return {"type": "string"}


def _section(name: str, cls: type) -> dict[str, Any]:
    from evolve.settings.config import choices

    allowed = choices()
    properties: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name == "options":
            continue
        key = f"{name}.{f.name}"
        entry = _type(str(f.type))
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc,operator]
        if default is not None:
            entry["default"] = default
        if key in SETTINGS:
            fixed = SETTINGS[key].resume != "free"
            entry["description"] = SETTINGS[key].help + (FIXED if fixed else "")
        if key in allowed:
            values = list(allowed[key]) + ([""] if key == "search.direction" else [])
            entry["enum"] = values
            if key == "search.strategy":  # or a strategy of yours
                entry = {**{k: v for k, v in entry.items() if k != "enum"},
                         "anyOf": [{"enum": values}, {"pattern": "^[\\w.]+:\\w+$"}]}  # fmt: skip
        declared = SETTINGS.get(key)
        if key not in allowed and declared is not None and declared.choices is not None:
            entry["enum"] = list(declared.choices)
        _bounds(entry, BOUNDS.get(key), MOST.get(key))
        properties[f.name] = entry
    if name == "search":
        for cls_ in strategies().values():
            for setting in cls_.settings:
                entry = {**_setting_type(setting.default), "default": setting.default,
                         "description": f"{cls_.name}: {setting.help}"}  # fmt: skip
                if setting.choices is not None:
                    entry["enum"] = list(setting.choices)
                _bounds(entry, setting.bound, setting.most)
                properties.setdefault(setting.name, entry)
    return {"type": "object", "properties": properties, "additionalProperties": False}


def _bounds(entry: dict[str, Any], bound: Bound | None, most: float | None) -> None:
    """The JSON Schema keywords of a setting's range (``Bound``) and of ``most``."""
    if bound is not None and bound.low is not None:
        entry["exclusiveMinimum" if bound.open_low else "minimum"] = bound.low
    if bound is not None and bound.high is not None:
        entry["exclusiveMaximum" if bound.open_high else "maximum"] = bound.high
    if most is not None:
        entry["maximum"] = min(most, entry.get("maximum", most))


def _genes() -> dict[str, Any]:
    value = {"type": ["string", "number", "boolean"]}
    listed = {"type": "array", "minItems": 1, "items": value,
              "description": "the alleles (a choice gene)"}  # fmt: skip
    declared = {
        "type": "object",
        "required": ["type"],
        "additionalProperties": False,
        "properties": {
            "type": {"enum": list(GENE_TYPES)},
            "values": {"type": "array", "minItems": 1, "items": value},
            "min": {"type": "number"},
            "max": {"type": "number"},
            "step": {"type": "number", "exclusiveMinimum": 0},
            "factor": {"type": "number", "exclusiveMinimum": 1},
            "per_layer": {"type": "boolean"},
        },
    }
    return {
        "type": "object",
        "description": "The genes: name = [alleles], or a table {type, min, max, step, ...}.",
        "additionalProperties": {"anyOf": [listed, declared]},
    }


def json_schema() -> dict[str, Any]:
    """The schema of ``config.toml`` (JSON Schema draft 2020-12), as a dict."""
    found = {
        name: _section(name, f.type if isinstance(f.type, type) else type(f.default_factory()))  # type: ignore[misc,operator]
        for name, f in ((f.name, f) for f in dataclasses.fields(sections.Config))
        if name != "genes"
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "keras-evolve config.toml",
        "type": "object",
        "properties": {**found, "genes": _genes()},
        "required": ["genes"],
        "additionalProperties": False,
    }


def dumps() -> str:
    """The schema as the shipped file holds it."""
    return json.dumps(json_schema(), indent=2, sort_keys=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(dumps())
