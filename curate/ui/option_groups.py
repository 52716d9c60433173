"""Options several commands share, declared once.

A group is a dataclass whose fields are annotated with their Typer declarations, e.g.
`num_classes: NumClassesOpt = None`. A command names the group once, as one parameter
(`read: ReadArgs`), and `@grouped` gives Typer the group's fields as ordinary options in its
place, then hands the command one instance of the group built from them. So `curate outliers`
and `curate run` declare their seventeen shared options in one place, and a new read option is
one field, reaching every command that reads data.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing


def grouped(command):
    """`command` with each parameter whose type is a group dataclass spread into its fields."""
    hints = typing.get_type_hints(command, include_extras=True)
    signature = inspect.signature(command)
    params, annotations, groups = [], {}, {}
    for name, param in signature.parameters.items():
        hint = hints.get(name, param.annotation)
        if dataclasses.is_dataclass(hint) and isinstance(hint, type):
            fields = _fields(hint)
            groups[name] = (hint, [f for f, _, _ in fields])
            for field_name, field_hint, default in fields:
                params.append(inspect.Parameter(field_name, inspect.Parameter.KEYWORD_ONLY,
                                                default=default, annotation=field_hint))
                annotations[field_name] = field_hint
        else:
            params.append(param.replace(annotation=hint))
            annotations[name] = hint
    names = [p.name for p in params]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise TypeError(f"{command.__name__}: options declared twice: {twice}")

    @functools.wraps(command)
    def run(*args, **kwargs):
        for name, (group, field_names) in groups.items():
            kwargs[name] = group(**{f: kwargs.pop(f) for f in field_names})
        return command(*args, **kwargs)

    run.__signature__ = signature.replace(parameters=_ordered(params))
    run.__annotations__ = {**annotations, "return": hints.get("return")}
    del run.__wrapped__   # Typer must read the new signature, not the command's own
    return run


def _fields(group: type) -> list[tuple[str, typing.Any, typing.Any]]:
    hints = typing.get_type_hints(group, include_extras=True)
    return [(f.name, hints[f.name], f.default) for f in dataclasses.fields(group)]


def _ordered(params: list[inspect.Parameter]) -> list[inspect.Parameter]:
    """Positional parameters first (Python's rule), then the rest in declaration order."""
    first = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
             and p.default is inspect.Parameter.empty]
    rest = [p for p in params if p not in first]
    return first + [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in rest]
