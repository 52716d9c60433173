"""The `--help` pages of both CLIs: plain text wrapped between words, options grouped by panel.

Typer's boxed help squeezes its five columns into 80 terminal columns by cutting option names
and long values short with an ellipsis and keeps the docstrings' own line breaks;
its usage line shows arguments as `{data}` and flags as `<bool>`. These pages keep Click's
plain layout (`Usage: curate outliers [OPTIONS] DATA`, flags without a type), group the
options under the same panel titles, and never break or cut a word.
"""

from __future__ import annotations

import sys
import textwrap

import typer._click as click
from typer.core import TyperCommand, TyperGroup

NAME_COLUMN = 30   # longer option names put their help on the next line, as Click does
GAP = 2
MAX_WIDTH = 120    # a wider terminal still gets lines of at most this many columns


def wrap(text: str, width: int) -> list[str]:
    """Lines of `text` at most `width` wide, broken only at spaces (a longer word stays
    whole); blank lines separate paragraphs, and a paragraph starting with \\b keeps its
    lines as written (Click's convention)."""
    lines: list[str] = []
    for paragraph in text.strip().split("\n\n"):
        if lines:
            lines.append("")
        if paragraph.startswith("\b"):
            lines += paragraph[1:].strip("\n").splitlines()
            continue
        lines += textwrap.wrap(" ".join(paragraph.split()), max(width, 10),
                               break_long_words=False, break_on_hyphens=False) or [""]
    return lines


class WordWrapFormatter(click.HelpFormatter):
    """Click's help formatter, wrapping only between words."""

    def write_text(self, text: str) -> None:
        indent = " " * self.current_indent
        self.write("".join(f"{indent}{line}".rstrip() + "\n"
                           for line in wrap(text, self.width - self.current_indent)))

    def write_dl(self, rows, col_max: int = NAME_COLUMN, col_spacing: int = GAP) -> None:
        rows = list(rows)
        first = min(max((len(name) for name, _ in rows), default=0), col_max) + col_spacing
        indent = " " * self.current_indent
        for name, text in rows:
            lines = wrap(text, self.width - self.current_indent - first) if text else []
            if len(name) + col_spacing > first and lines:  # too long: help starts below it
                self.write(f"{indent}{name}\n")
                lines[0] = " " * first + lines[0]
            elif lines:
                lines[0] = name.ljust(first) + lines[0]
            else:
                lines = [name]
            body = [lines[0]] + [(" " * first + line) if line else "" for line in lines[1:]]
            self.write("".join(f"{indent}{line}".rstrip() + "\n" for line in body))


class HelpContext(click.Context):
    formatter_class = WordWrapFormatter

    def make_formatter(self) -> click.HelpFormatter:
        return self.formatter_class(width=self.terminal_width,
                                    max_width=self.max_content_width or MAX_WIDTH)


def _plain_help(command: click.Command, ctx: click.Context,
                formatter: click.HelpFormatter) -> None:
    """Click's own layout (usage, help, options, epilog), not Typer's boxes."""
    click.Command.format_help(command, ctx, formatter)


class Later:
    """Help text computed when the help is shown (a closing paragraph listing a config's
    settings imports that config, which `--help` of the whole app should not pay for)."""

    def __init__(self, make):
        self._make = make

    def __str__(self) -> str:
        return self._make()


class HelpCommand(TyperCommand):
    """A command whose help is plain, word-wrapped, and grouped by rich_help_panel."""

    context_class = HelpContext

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        if isinstance(self.epilog, Later):
            self.epilog = str(self.epilog)
        super().format_epilog(ctx, formatter)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        _plain_help(self, ctx, formatter)

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        """`[OPTIONS] DATA`: arguments by their upper-case name, optional ones in brackets."""
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                name = param.metavar or param.name.upper()
                pieces.append(name if param.required else f"[{name}]")
        return pieces

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Arguments, then Options, then one section per panel, in the order first used."""
        sections: dict[str, list[tuple[str, str]]] = {"Arguments": [], "Options": []}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            name, text = record
            if param.param_type_name == "argument":
                title = "Arguments"
                name = " ".join([param.metavar or param.name.upper()] + name.split(" ")[1:])
            else:
                title = getattr(param, "rich_help_panel", None) or "Options"
            sections.setdefault(title, []).append((name, text))
        for title, rows in sections.items():
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


class HelpGroup(TyperGroup):
    """A command group whose help (the list of commands) is plain and word-wrapped too, and
    that still takes the flags its `renamed` table lists (curate.ui.renamed)."""

    context_class = HelpContext
    renamed: tuple = ()

    def main(self, args=None, *pargs, **kwargs):
        from curate.ui.renamed import rewrite_argv

        args = list(sys.argv[1:] if args is None else args)
        return super().main(rewrite_argv(self, args), *pargs, **kwargs)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        _plain_help(self, ctx, formatter)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Each command with the whole first paragraph of its help (Click cuts it at 45
        characters with '...')."""
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                summary = command.short_help or (command.help or "").strip().split("\n\n")[0]
                rows.append((name, " ".join(summary.split())))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
