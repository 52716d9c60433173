"""What `--set KEY=VALUE` and `--config FILE.toml` reach in each curate command.

A step's settings are its config's fields: the outlier checks' thresholds (the `threshold(...)`
fields of OutlierConfig), and every field of SplitConfig and AugmentConfig (their flags are
the everyday ones; --set reaches the rest, e.g. pixel_bins or recipes from `curate run`).
A flag given on the command line wins over --set, which wins over the file.

`curate run` runs three steps: its file has the sections [outliers], [split] and [augment],
and `--set split.pixel_bins=4` names the section; a key only one step has needs none.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from curate.ui.settings import SettingsError, close_matches, coerce, field_types, load_toml

SECTIONS = ("outliers", "split", "augment")
# Fields a flag or the data sets, never --set (what the command reads, not how it runs).
NOT_SETTINGS = {"outliers": ("checks", "remove", "ignore_index", "label_quality",
                             "near_duplicate_distance", "decisions", "mask_fixes"),
                "split": (), "augment": ("target_class",)}


def settings_types(section: str) -> dict[str, Any]:
    """The keys of one step and their types."""
    if section == "outliers":
        from curate.checks.outliers import OutlierConfig as config
    elif section == "split":
        from curate.split.config import SplitConfig as config
    else:
        from curate.augment.config import AugmentConfig as config
    return {k: v for k, v in field_types(config).items() if k not in NOT_SETTINGS[section]}


def step_settings(config_file: Path | None, pairs: list[str] | None,
                  sections: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """section -> {key: typed value} from the file, then --set (which wins)."""
    types = {s: settings_types(s) for s in sections}
    raw: dict[str, dict[str, Any]] = {s: {} for s in sections}
    if config_file is not None:
        for key, value in _read_file(Path(config_file), sections).items():
            section, name = _place(key, types, f"--config {config_file}")
            raw[section][name] = value
    for pair in pairs or []:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise SettingsError(f"--set {pair!r}: expected KEY=VALUE, e.g. --set "
                                f"{next(iter(types[sections[0]]))}=...")
        section, name = _place(key.strip().replace("-", "_"), types, "--set")
        raw[section][name] = text
    return {s: coerce(values, types[s], source=f"--set / --config [{s}]")
            for s, values in raw.items()}


def _read_file(path: Path, sections: tuple[str, ...]) -> dict[str, Any]:
    """'key' or 'section.key' -> value, from a TOML file of KEY = VALUE lines and [section]s."""
    data = load_toml(path)
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            if key not in sections:
                raise SettingsError(f"--config {path}: unknown section [{key}]"
                                    + close_matches([key], sections)
                                    + f"; this command's sections: {', '.join(sections)}")
            flat.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            flat[key] = value
    return {k.replace("-", "_"): v for k, v in flat.items()}


def _place(key: str, types: dict[str, dict], source: str) -> tuple[str, str]:
    """(section, name) of 'key' or 'section.key'; an unknown or ambiguous key is refused with
    the nearest known ones."""
    section, dot, name = key.rpartition(".")
    if dot:
        if section not in types:
            raise SettingsError(f"{source}: {key}: unknown section {section!r}"
                                + close_matches([section], types) + f"; sections: {', '.join(types)}")
        if name not in types[section]:
            raise SettingsError(f"{source}: unknown key {key}" + close_matches([name], types[section])
                                + f"; [{section}] keys: {', '.join(sorted(types[section]))}")
        return section, name
    holders = [s for s, keys in types.items() if key in keys]
    if len(holders) == 1:
        return holders[0], key
    if len(holders) > 1:
        raise SettingsError(f"{source}: {key} is a setting of {' and '.join(holders)}; name "
                            f"one, e.g. {holders[0]}.{key}")
    known = sorted({k for keys in types.values() for k in keys})
    raise SettingsError(f"{source}: unknown key {key}" + close_matches([key], known)
                        + f"; known keys: {', '.join(known)}")


def with_flags(settings: dict[str, Any], flags: dict[str, Any]) -> dict[str, Any]:
    """The flags' values, with settings where the flag was left at its default: a flag typed
    on the command line wins over --set and the file."""
    # Typer's own copy of Click, whose context the command runs in
    from typer._click.core import ParameterSource
    from typer._click.globals import get_current_context

    ctx = get_current_context(silent=True)
    typed = {name for name in flags if ctx is not None
             and ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE}
    return {**flags, **{k: v for k, v in settings.items() if k not in typed}}


CONFIG_SOURCES = {"outliers": ("checks/outliers.py", "OutlierConfig"),
                  "split": ("split/config.py", "SplitConfig"),
                  "augment": ("augment/config.py", "AugmentConfig")}


def settings_line(section: str) -> str:
    """'key=default, ...' of one step, for the help's closing paragraph. The defaults are read
    from the config's source (curate.ui.settings.declared_defaults), not by importing it:
    `curate outliers --help` starts without numpy."""
    from curate.ui.settings import declared_defaults

    module, name = CONFIG_SOURCES[section]
    defaults = declared_defaults(Path(__file__).resolve().parents[1] / module, name)
    return ", ".join(f"{k}={defaults.get(k, '?')}" for k in sorted(defaults)
                     if k not in NOT_SETTINGS[section])
