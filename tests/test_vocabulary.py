"""One vocabulary across both command lines: a flag has one type and meaning in every command
of both apps, DATA is positional, flags are plain on/off, every `--flag` and `--set key` a
string or a page names exists, and the flags earlier releases had still work, with a note."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import typer.main
from typer.testing import CliRunner

from curate.cli.step_settings import NOT_SETTINGS, settings_types
from curate.cli.main import app as curate_app
from curate.ui.renamed import Renamed, rewrite
from segment.cli import TRAIN_SETTINGS, app as segment_app
from segment.config import MODEL_FIELDS

ROOT = Path(__file__).resolve().parents[1]
APPS = {"curate": curate_app, "segment": segment_app}
runner = CliRunner()
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
SET_KEY = re.compile(r"--set[ =]+([a-z_]+)=")
# Flags of other programs that the docs name: torchrun, pip.
FOREIGN = {"--nproc", "--nproc-per-node", "--nnodes", "--rdzv-endpoint", "--index-url"}


def commands():
    for app_name, app in APPS.items():
        for name, command in typer.main.get_command(app).commands.items():
            yield app_name, name, command


def app_flags() -> set[str]:
    return {o for _, _, command in commands() for p in command.params
            for o in (*p.opts, *p.secondary_opts) if o.startswith("--")} | {"--help"}


def benchmark_flags() -> set[str]:
    found = set()
    for path in (ROOT / "benchmarks").glob("*.py"):
        found.update(re.findall(r"add_argument\(\s*\"(--[a-z0-9-]+)\"", path.read_text()))
    return found


def settings_keys() -> set[str]:
    curate = {key for section in NOT_SETTINGS for key in settings_types(section)}
    return set(TRAIN_SETTINGS) | set(MODEL_FIELDS) | curate


def test_a_flag_has_one_kind_everywhere():
    kinds = defaultdict(set)
    for app_name, name, command in commands():
        for p in command.params:
            if p.param_type_name != "option":
                continue
            hint = p.type_descriptor.annotation
            kind = "on/off" if p.is_flag else str(hint).replace("typing.Optional", "")
            kinds[p.opts[0]].add((kind, f"{app_name} {name}"))
    mixed = {flag: sorted(k) for flag, k in kinds.items() if len({x for x, _ in k}) > 1}
    assert not mixed, f"one flag, several kinds: {mixed}"


def test_data_is_positional_and_no_command_takes_a_data_option():
    for app_name, name, command in commands():
        flags = {o for p in command.params for o in p.opts}
        assert "--data" not in flags, f"{app_name} {name} takes --data; DATA is positional"


def test_device_means_the_same_everywhere():
    defaults = {(a, n): p.default for a, n, c in commands() for p in c.params
                if p.name == "device"}
    assert defaults and {str(getattr(d, "value", d)) for d in defaults.values()} <= {"None", "auto"}


def test_on_off_flags_are_one_word_unless_they_default_on():
    for app_name, name, command in commands():
        for p in command.params:
            if p.param_type_name == "option" and p.is_flag and p.secondary_opts:
                assert p.default is True, (f"{app_name} {name} {p.opts[0]}/{p.secondary_opts[0]}"
                                           ": an off-by-default flag needs no --no- form")


def _strings_of_code() -> list[tuple[str, str]]:
    """(text, where) of every string constant in curate/ and segment/, but the arguments of
    the renamed tables (where the old names belong)."""
    found = []
    for package in ("curate", "segment"):
        for path in (ROOT / package).rglob("*.py"):
            if path.name == "renamed.py":
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            skip = {id(n) for call in ast.walk(tree) if isinstance(call, ast.Call)
                    and getattr(call.func, "id", "") in ("Renamed", "settings_renamed")
                    for n in ast.walk(call)}
            found += [(node.value, str(path.relative_to(ROOT))) for node in ast.walk(tree)
                      if isinstance(node, ast.Constant) and isinstance(node.value, str)
                      and id(node) not in skip]
    for page in [ROOT / "README.md", *(ROOT / "docs").rglob("*.md")]:
        found.append((page.read_text(encoding="utf-8"), str(page.relative_to(ROOT))))
    return found


def test_every_flag_and_setting_named_anywhere_exists():
    known = app_flags() | benchmark_flags() | FOREIGN
    keys = settings_keys()
    stale = defaultdict(set)
    for text, where in _strings_of_code():
        for flag in FLAG.findall(text):
            if flag not in known:
                stale[flag].add(where)
        for key in SET_KEY.findall(text):
            if key not in keys and key != "key":     # 'key' is the placeholder of the syntax
                stale[f"--set {key}="].add(where)
    assert not stale, f"named but not in either app: { {k: sorted(v) for k, v in stale.items()} }"


def test_the_stale_word_check_sees_a_removed_flag():
    assert "--oversample-class" not in app_flags()
    assert FLAG.findall("pass --oversample-class 4 or --set copy_paste_class=4") == [
        "--oversample-class", "--set"]


def test_rewrite_replaces_old_flags_and_says_so():
    table = (Renamed("--threads", "--set threads=", "0.1.0"),
             Renamed("--amp", "--set amp=", "0.1.0", switch=True),
             Renamed("--distance", "--near-duplicate-distance", "0.1.0"),
             Renamed("--data", "DATA", "0.1.0", ("report",)))
    options = {"--set", "--near-duplicate-distance"}
    args, notes = rewrite(["x", "--threads", "2", "--no-amp", "--distance=4"], "train",
                          options, table)
    assert args == ["x", "--set", "threads=2", "--set", "amp=false",
                    "--near-duplicate-distance", "4"]
    assert notes[0] == ("Note: --threads was removed in 0.1.0; it still works for now, but "
                        "will stop: use --set threads=2 instead.")
    args, notes = rewrite(["run", "--data", "d", "-o", "r.html"], "report", set(), table)
    assert args == ["run", "-o", "r.html", "d"] and "positional DATA" in notes[0]
    assert rewrite(["--threads", "2"], "evaluate", {"--device"}, table)[0] == ["--threads", "2"]


def test_removed_curate_flags_still_work(tmp_path):
    sample = ROOT / "curate" / "samples" / "mars300.npz"
    result = runner.invoke(curate_app, ["outliers", str(sample), "--dry-run", "--num-classes",
                                        "5", "--z-threshold", "6", "--distance", "4"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "--z-threshold was removed in 0.1.0" in text and "use --set z_threshold=6" in text
    assert "use --near-duplicate-distance 4 instead" in text
