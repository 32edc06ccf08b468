"""The command line's setting flags, read from each setting's one declaration
(``evolve.declare.Setting.flag``): ``--flag`` -> the config key it sets, its type and help.
The allowed values of a choice key come from its registry (``settings.checks.choices``)."""

from __future__ import annotations

from evolve.settings.bounds import SETTINGS
from evolve.settings.checks import choices

ALIASES = {"scheduler": ("run.address", "dask scheduler address, HOST:PORT (same as --address)")}
"""Flags kept for the users of an earlier name."""


def overrides() -> dict[str, tuple[str, type, str]]:
    """``--flag``: (config key, type, help), for every declared setting with a flag."""
    allowed = choices()
    found: dict[str, tuple[str, type, str]] = {}
    for key, setting in SETTINGS.items():
        if not setting.flag:
            continue
        help = setting.help
        if key in allowed:
            help += f" (one of: {', '.join(allowed[key])})"
        found[setting.flag] = (key, type(setting.default), help)
    for flag, (key, help) in ALIASES.items():
        found[flag] = (key, type(SETTINGS[key].default), help)
    return found
