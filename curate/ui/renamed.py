"""Flags that were removed or renamed keep working for at least one release: one table per
command line says what each became, and the command line is rewritten before it is parsed,
with one line on stderr naming the replacement.

An entry's `new` is a flag (`--near-duplicate-distance`), a `--set` key (`--set threads=`:
the old value goes after the '='), or `DATA` (the value becomes the positional argument).
A removed on/off flag (`--amp`, `--no-amp`) becomes `--set amp=true` / `--set amp=false`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass

SET = "--set"


@dataclass(frozen=True)
class Renamed:
    old: str                      # '--threads'
    new: str                      # '--set threads=', '--dask-workers', 'DATA'
    since: str                    # the release that removed it
    commands: tuple[str, ...] = ()  # only these commands (empty: any command that has `new`)
    switch: bool = False          # an on/off flag: --old / --no-old, no value

    def applies(self, command: str, options: set[str]) -> bool:
        if self.commands and command not in self.commands:
            return False
        wanted = SET if self.new.startswith(SET) else self.new
        return wanted == "DATA" or wanted in options


def settings_renamed(keys: Iterable[str], switches: Iterable[str], since: str,
                     commands: tuple[str, ...] = ()) -> tuple[Renamed, ...]:
    """The entries for flags that became `--set KEY=VALUE` settings: '--base-width' for
    'base_width'; `switches` are the keys that were on/off flags."""
    switches = set(switches)
    return tuple(Renamed("--" + key.replace("_", "-"), f"{SET} {key}=", since, commands,
                         key in switches) for key in keys)


def rewrite(args: list[str], command: str, options: set[str],
            table: Iterable[Renamed]) -> tuple[list[str], list[str]]:
    """(args with every old flag of `table` replaced, one note per replaced flag).

    `command` is the subcommand the args belong to and `options` the flags it has now; an
    old flag is left alone (and Click then says it does not exist) where its replacement is
    not an option of this command."""
    by_name: dict[str, tuple[Renamed, bool | None]] = {}
    for entry in table:
        if entry.applies(command, options):
            by_name[entry.old] = (entry, True if entry.switch else None)
            if entry.switch:
                by_name["--no-" + entry.old[2:]] = (entry, False)
    out, notes, positional, k = [], [], [], 0
    while k < len(args):
        word = args[k]
        name, has_value, value = word.partition("=")
        found = by_name.get(name) if word.startswith("--") else None
        if found is None or word == "--":
            out.append(word)
            k += 1
            continue
        entry, switch = found
        if switch is not None:
            replacement = [SET, entry.new[len(SET) + 1:] + ("true" if switch else "false")]
            k += 1
        else:
            if not has_value:
                if k + 1 >= len(args):
                    out.append(word)   # no value: let Click say what is missing
                    break
                value = args[k + 1]
                k += 2
            else:
                k += 1
            if entry.new == "DATA":
                positional.append(value)
                replacement = []
            elif entry.new.startswith(SET):
                replacement = [SET, entry.new[len(SET) + 1:] + value]
            else:
                replacement = [entry.new, value]
        out += replacement
        shown = " ".join(replacement) or f"give it as the positional DATA ({value})"
        notes.append(f"Note: {name} was removed in {entry.since}; it still works for now, but "
                     f"will stop: use {shown} instead.")
    return out + positional, notes


def rewrite_argv(group, args: list[str]) -> list[str]:
    """The command line of a Click group with the old flags of `group.renamed` replaced; the
    notes go to stderr. The subcommand is the first word that names one."""
    table = getattr(group, "renamed", ())
    if not table:
        return args
    for k, word in enumerate(args):
        command = group.commands.get(word)
        if command is not None:
            options = {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
            rest, notes = rewrite(list(args[k + 1:]), word, options, table)
            for note in notes:
                print(note, file=sys.stderr)
            return list(args[:k + 1]) + rest
    return args
