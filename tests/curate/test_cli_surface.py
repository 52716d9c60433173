"""The everyday surface of `curate`: few options per command, the rest in named panels or
behind --set / --config, one name and one range per meaning across both command lines."""

import dataclasses

import numpy as np
import pytest
import typer.main
from typer.testing import CliRunner

from curate.cli.main import app
from curate.cli.common import NEAR_MAX
from curate.cli.step_settings import NOT_SETTINGS, settings_line
from curate.scan.neighbours import MAX_DISTANCE
from curate.checks.outliers import OutlierConfig
from segment.cli import app as segment_app

runner = CliRunner()
COMMANDS = typer.main.get_command(app).commands


def everyday(command) -> list[str]:
    """Options shown under the plain "Options" panel (not grouped, not --help)."""
    return [p.name for p in command.params if p.param_type_name == "option"
            and p.name != "help" and not getattr(p, "rich_help_panel", None)]


def test_outliers_and_run_show_few_everyday_options():
    assert "out" in everyday(COMMANDS["outliers"]) and "num_classes" not in everyday(COMMANDS["outliers"])
    assert len(everyday(COMMANDS["outliers"])) <= 10, everyday(COMMANDS["outliers"])
    assert len(everyday(COMMANDS["run"])) <= 14, everyday(COMMANDS["run"])


def test_the_settings_listed_in_help_are_the_config_fields_without_a_flag():
    """The help's settings line is read from the config's source (no import); it must say
    exactly what the imported config holds."""
    config = OutlierConfig()
    expected = ", ".join(f"{f.name}={getattr(config, f.name)!r}"
                         for f in sorted(dataclasses.fields(config), key=lambda f: f.name)
                         if f.name not in NOT_SETTINGS["outliers"])
    assert settings_line("outliers") == expected
    from curate.checks.outliers import SETTINGS_HELP
    assert sorted(SETTINGS_HELP) == [k.split("=")[0] for k in expected.split(", ")]
    from curate.split.config import SplitConfig
    split = SplitConfig()
    assert settings_line("split") == ", ".join(
        f"{f.name}={getattr(split, f.name)!r}"
        for f in sorted(dataclasses.fields(split), key=lambda f: f.name))


def test_one_near_duplicate_option_with_one_range():
    assert NEAR_MAX == MAX_DISTANCE
    for name in ("outliers", "run", "split", "check-leakage"):
        near = [p for p in COMMANDS[name].params if "near" in p.name or p.name == "distance"]
        assert [p.opts for p in near] == [["--near-duplicate-distance"]], name
        assert (near[0].min, near[0].max) == (0, MAX_DISTANCE)


def test_dask_options_are_named_for_dask_and_no_name_means_two_things():
    curate_names = {o for c in COMMANDS.values() for p in c.params for o in p.opts}
    segment = typer.main.get_command(segment_app).commands
    segment_names = {o for c in segment.values() for p in c.params for o in p.opts}
    assert {"--workers", "--scheduler"}.isdisjoint(curate_names | segment_names)
    assert {"--dask-workers", "--dask-scheduler"} <= curate_names


@pytest.fixture(scope="module")
def small_npz(tmp_path_factory):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (12, 32, 32), dtype=np.uint8)
    masks = rng.integers(0, 3, (12, 32, 32), dtype=np.uint8)
    path = tmp_path_factory.mktemp("surface") / "small.npz"
    np.savez(path, training_set=np.stack([images, masks], axis=1))
    return path


def test_thresholds_are_set_by_name_and_checked(small_npz):
    ok = runner.invoke(app, ["outliers", str(small_npz), "--dry-run", "--set", "z_threshold=6",
                             "--set", "blank_std=2"])
    assert ok.exit_code == 0, ok.output
    typo = runner.invoke(app, ["outliers", str(small_npz), "--dry-run", "--set", "z_treshold=6"])
    assert typo.exit_code == 1
    assert "unknown key z_treshold (did you mean z_threshold?)" in " ".join(typo.output.split())
    low = runner.invoke(app, ["outliers", str(small_npz), "--dry-run", "--set", "z_threshold=0.1"])
    assert low.exit_code == 1 and "z_threshold must be at least 0.5" in low.output
    far = runner.invoke(app, ["split", str(small_npz), "-o", "unused", "--near-duplicate-distance",
                              "20"])
    assert far.exit_code == 2  # outside the one range: refused by the parser


def test_read_options_with_a_curated_folder_are_refused(small_npz, tmp_path):
    out = tmp_path / "split"
    assert runner.invoke(app, ["split", str(small_npz), "-o", str(out)]).exit_code == 0
    result = runner.invoke(app, ["stats", str(out), "--num-classes", "7"])
    assert result.exit_code == 1
    assert "curated folder" in result.output and "--num-classes would be ignored" in result.output
    assert runner.invoke(app, ["stats", str(out)]).exit_code == 0


def test_help_lists_the_commands_in_pipeline_order():
    result = runner.invoke(app, ["--help"])
    listed = [line.split()[0] for line in result.output.split("Commands:")[1].splitlines()
              if line.startswith("  ") and not line.startswith("   ")]
    assert listed[:9] == ["outliers", "stats", "split", "augment", "run", "review", "card",
                          "report", "check-leakage"]
