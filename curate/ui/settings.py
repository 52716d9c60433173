"""Knobs beyond the everyday options: `--set key=value` and `--config FILE.toml`, typed by a config.

Every field of a command's config dataclass stays reachable from the command line without a
flag of its own. Values are parsed by the field's declared type (bool, int, float, str, a list
of str, or an Optional of those); an unknown key is an error that lists the known ones.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, Iterable, Mapping


class SettingsError(ValueError):
    """A --set or --config value names an unknown key or does not parse as its field's type.

    Both command lines show it like their own errors (segment imports curate.io only)."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def field_types(*configs: type) -> dict[str, Any]:
    """Field name -> declared type over the given dataclasses (nested dataclass fields flattened:
    a field whose type is itself a dataclass contributes that dataclass's fields instead)."""
    out: dict[str, Any] = {}
    for config in configs:
        hints = typing.get_type_hints(config)
        for f in dataclasses.fields(config):
            hint = hints[f.name]
            if dataclasses.is_dataclass(hint):
                out.update(field_types(hint))
            else:
                out[f.name] = hint
    return out


def parse_value(key: str, text: str, hint: Any) -> Any:
    """`text` as a value of type `hint`; SettingsError naming the key and the expected type."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        if type(None) in args and text.strip().lower() in {"none", "null", ""}:
            return None
        return parse_value(key, text, inner[0])
    if origin in (list, tuple):
        items = [t.strip() for t in text.split(",") if t.strip()]
        return [parse_value(key, t, args[0] if args else str) for t in items]
    word = text.strip()
    try:
        if hint is bool:
            if word.lower() in _TRUE:
                return True
            if word.lower() in _FALSE:
                return False
            raise ValueError(word)
        if hint is int:
            return int(word)
        if hint is float:
            return float(word)
    except ValueError:
        name = getattr(hint, "__name__", str(hint))
        raise SettingsError(f"--set {key}={text}: expected {name}"
                          + (" (true/false)" if hint is bool else "")) from None
    return word


def parse_settings(pairs: Iterable[str], types_: Mapping[str, Any]) -> dict[str, Any]:
    """`["key=value", ...]` -> {key: typed value}; unknown keys and missing '=' are refused."""
    values: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise SettingsError(f"--set {pair!r}: expected KEY=VALUE, e.g. --set "
                              f"{next(iter(types_))}=...")
        values[key] = text
    return coerce(values, types_, source="--set")


def coerce(values: Mapping[str, Any], types_: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Check the keys against the known fields and parse string values by their field's type."""
    unknown = sorted(k for k in values if k not in types_)
    if unknown:
        raise SettingsError(f"{source}: unknown key(s) {', '.join(unknown)}"
                            + close_matches(unknown, types_)
                            + f"; known keys: {', '.join(sorted(types_))}")
    out = {}
    for key, value in values.items():
        out[key] = parse_value(key, value, types_[key]) if isinstance(value, str) and \
            types_[key] is not str else value
    return out


def close_matches(words: Iterable[str], choices: Iterable[str]) -> str:
    """' (did you mean a or b?)' for the known names near `words`, else ''."""
    import difflib

    choices = list(choices)
    close = sorted({c for word in words
                    for c in difflib.get_close_matches(word, choices, n=3, cutoff=0.6)})
    return f" (did you mean {' or '.join(close)}?)" if close else ""


def load_toml(path: Path) -> dict[str, Any]:
    """The table of the --config file at `path`; SettingsError when it is missing or not TOML."""
    import tomllib

    path = Path(path)
    if not path.is_file():
        raise SettingsError(f"--config {path}: no such file")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"--config {path}: not valid TOML ({exc})") from None


def read_config_file(path: Path, types_: Mapping[str, Any]) -> dict[str, Any]:
    """A TOML file of `key = value` lines (a [section] table is read flat) -> checked values."""
    data = load_toml(path)
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update(value)
        else:
            flat[key] = value
    flat = {k.replace("-", "_"): v for k, v in flat.items()}
    return coerce(flat, types_, source=f"--config {path}")


def knobs(config_file: Path | None, pairs: Iterable[str] | None,
          types_: Mapping[str, Any]) -> dict[str, Any]:
    """The values of --config then --set (a --set wins over the file)."""
    values = read_config_file(config_file, types_) if config_file else {}
    values.update(parse_settings(pairs or [], types_))
    return values


def describe(types_: Mapping[str, Any], defaults: Mapping[str, Any]) -> str:
    """One line per key: name, type, default (for help texts and the reference docs)."""
    def type_name(hint: Any) -> str:
        return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")
    return "\n".join(f"{k} ({type_name(t)}, default {defaults.get(k)!r})"
                     for k, t in sorted(types_.items()))


def declared_defaults(source: Path, class_name: str) -> dict[str, str]:
    """field -> its default as written, of the dataclass `class_name` in the file `source`,
    read from the source text (nothing is imported): `x: int = 5`, `x: float = threshold(0.5,
    ...)` (the first argument), and a module-level constant such as `RECIPES`. Fields without a
    plain default (default_factory) are left out."""
    import ast

    tree = ast.parse(Path(source).read_text(encoding="utf-8"))
    constants = {t.id: node.value for node in tree.body if isinstance(node, ast.Assign)
                 for t in node.targets if isinstance(t, ast.Name)}
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == class_name)
    out = {}
    for node in cls.body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        value = node.value
        if isinstance(value, ast.Call) and getattr(value.func, "id", "") != "field" and value.args:
            value = value.args[0]            # threshold(default, help, ...)
        if isinstance(value, ast.Name) and value.id in constants:
            value = constants[value.id]
        try:
            out[node.target.id] = repr(ast.literal_eval(value)) if value is not None else None
        except ValueError:
            continue
    return {k: v for k, v in out.items() if v is not None}
