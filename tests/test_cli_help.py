"""Every `--help` page of both CLIs reads well at 80 columns: arguments named DATA (not {data}),
flags without `<bool>`, no word broken or cut, and `--force` one plain flag everywhere."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from curate.cli.main import app as curate_app
from segment.cli import app as segment_app

APPS = {"curate": curate_app, "segment": segment_app}
WIDTH = 80


def _pages() -> list:
    """(prog, command name or None for the group) for every command of both apps."""
    pages = []
    for prog, app in APPS.items():
        pages.append(pytest.param(prog, None, id=f"{prog} --help"))
        for name in sorted(typer.main.get_command(app).commands):
            pages.append(pytest.param(prog, name, id=f"{prog} {name}"))
    return pages


def _help(prog: str, name: str | None) -> tuple[str, object]:
    group = typer.main.get_command(APPS[prog])
    args = ([name] if name else []) + ["--help"]
    result = CliRunner().invoke(APPS[prog], args, terminal_width=WIDTH, prog_name=prog)
    assert result.exit_code == 0, result.output
    return result.output, group.commands[name] if name else group


def _source_words(command) -> list[str]:
    """Every word the help page is made from: the command's help and epilog, each option's
    names and help; for a group, the first paragraph of each command's help."""
    texts = [command.help or "", str(command.epilog or "")]
    for sub in getattr(command, "commands", {}).values():
        texts.append((sub.help or "").strip().split("\n\n")[0])
    for param in command.params:
        if param.param_type_name == "option":  # arguments are shown as DATA (tested below)
            texts += list(param.opts) + list(param.secondary_opts)
        texts.append(getattr(param, "help", "") or "")
    return [word for text in texts for word in text.replace("\b", " ").split()]


@pytest.mark.parametrize(("prog", "name"), _pages())
def test_help_is_plain_and_whole_at_80_columns(prog, name):
    output, command = _help(prog, name)
    assert "<bool>" not in output
    assert "…" not in output
    assert max(len(line) for line in output.splitlines()) <= WIDTH
    shown = set(output.split()) | {word.rstrip(",") for word in output.split()}  # "-o, --out"
    cut = [word for word in _source_words(command) if word not in shown]
    assert not cut, f"broken or cut at {WIDTH} columns: {cut}"


@pytest.mark.parametrize(("prog", "name"), [p for p in _pages() if p.values[1]])
def test_usage_names_arguments_in_capitals(prog, name):
    output, command = _help(prog, name)
    usage = output.splitlines()[0]
    arguments = [p.name.upper() if p.required else f"[{p.name.upper()}]"
                 for p in command.params if p.param_type_name == "argument"]
    assert usage == " ".join([f"Usage: {prog} {name} [OPTIONS]", *arguments]), usage
    for argument in arguments:   # the Arguments section names it the same way
        assert f"\n  {argument.strip('[]')} <" in output


def test_force_is_one_plain_flag_in_both_apps():
    forced = []
    for prog, app in APPS.items():
        for name, command in typer.main.get_command(app).commands.items():
            for param in command.params:
                if param.name == "force":
                    forced.append(f"{prog} {name}")
                    assert (list(param.opts), list(param.secondary_opts)) == (["--force"], []), (
                        f"{prog} {name}: {param.opts} / {param.secondary_opts}")
                    assert "--no-force" not in _help(prog, name)[0]
    assert {"curate outliers", "segment train", "segment predict"} <= set(forced)
