"""Declaring a config's settings, once each: ``setting`` puts a ``Setting`` (``evolve.declare``)
in a section field's metadata; ``declared`` reads them all back by key."""

from __future__ import annotations

import dataclasses
from dataclasses import field
from typing import Any

from evolve.declare import Setting
from evolve.search.base import COMMON_SETTINGS


def setting(default: Any, help: str, **declared: Any) -> Any:
    """A section's field declared once: its ``Setting`` (help, bound, flag, keyword, resume;
    see ``evolve.declare``) rides in the field's metadata, named after the field."""
    meta = {"setting": Setting("", default, help, **declared)}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


def common(name: str) -> Any:
    """A field declared by the strategies' common settings (``COMMON_SETTINGS``)."""
    found = next(s for s in COMMON_SETTINGS if s.name == name)
    return field(default=found.default, metadata={"setting": found})





def declared(config: type) -> dict[str, Setting]:
    """Every setting of the config, by key (``"training.epochs"``), named: the one
    declaration that validation, the JSON Schema, the command line's flags, the Python API's
    keywords and the resume fingerprint read."""
    table: dict[str, Setting] = {}
    for section in dataclasses.fields(config):
        if section.name == "genes":
            continue
        for f in dataclasses.fields(section.default_factory()):  # type: ignore[misc,operator]
            found = f.metadata.get("setting")
            if found is not None:
                table[f"{section.name}.{f.name}"] = dataclasses.replace(found, name=f.name)
    return table


class ResolvedError(dataclasses.FrozenInstanceError):
    """A setting was assigned after the config was resolved (a bug in the engine)."""


class Section:
    """A table of the config: mutable while the config is built and resolved, frozen after
    (``Config.freeze``), so that nothing changes a setting while the run goes."""

    def __setattr__(self, name: str, value: Any) -> None:
        if self.__dict__.get("_frozen"):
            raise ResolvedError(f"{type(self).__name__}.{name}: the config is resolved")
        object.__setattr__(self, name, value)

    def freeze(self) -> None:
        object.__setattr__(self, "_frozen", True)
