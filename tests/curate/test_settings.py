"""--set key=value and --config FILE: typed by the config dataclass, unknown keys refused."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import pytest
from typer.testing import CliRunner

from curate.ui.settings import SettingsError, field_types, knobs, parse_settings


@dataclass
class Inner:
    depth: int = 3
    se: bool = True


@dataclass
class Outer:
    lr: float = 1e-3
    name: str = "x"
    model: Inner = field(default_factory=Inner)
    checks: list[str] = field(default_factory=list)
    limit: Optional[int] = None


TYPES = field_types(Outer)


def test_nested_fields_are_flat_and_values_take_their_field_type():
    assert set(TYPES) == {"lr", "name", "depth", "se", "checks", "limit"}
    got = parse_settings(["lr=0.5", "depth=4", "se=no", "checks=a,b", "limit=none",
                          "name=a=b"], TYPES)
    assert got == {"lr": 0.5, "depth": 4, "se": False, "checks": ["a", "b"], "limit": None,
                   "name": "a=b"}
    assert parse_settings(["limit=7"], TYPES) == {"limit": 7}


def test_dashes_in_keys_read_as_underscores():
    @dataclass
    class C:
        base_width: int = 16
    assert parse_settings(["base-width=8"], field_types(C)) == {"base_width": 8}


@pytest.mark.parametrize("pair, words", [
    ("lrr=1", ["unknown key(s) lrr", "known keys:", "depth", "lr"]),
    ("depth=three", ["depth=three", "expected int"]),
    ("se=maybe", ["expected bool", "true/false"]),
    ("depth", ["expected KEY=VALUE"]),
])
def test_bad_settings_are_refused_with_the_choices(pair, words):
    with pytest.raises(SettingsError) as err:
        parse_settings([pair], TYPES)
    for word in words:
        assert word in str(err.value)


def test_config_file_is_read_flat_and_set_wins(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text('lr = 0.01\n[model]\ndepth = 5\nse = false\n')
    assert knobs(path, ["depth=2"], TYPES) == {"lr": 0.01, "depth": 2, "se": False}
    path.write_text('lr = 0.01\nwidth = 3\n')
    with pytest.raises(SettingsError, match="unknown key.*width"):
        knobs(path, [], TYPES)
    path.write_text('lr = = 1\n')
    with pytest.raises(SettingsError, match="not valid TOML"):
        knobs(path, [], TYPES)
    with pytest.raises(SettingsError, match="no such file"):
        knobs(tmp_path / "missing.toml", [], TYPES)


# --- the settings of each curate command, and `curate run`'s sections -----------------------

def _run(*args):
    from curate.cli.main import app as curate_app

    result = CliRunner().invoke(curate_app, [str(a) for a in args])
    return result, " ".join(result.output.split())


def test_split_takes_set_and_config_and_a_typed_flag_wins(tmp_path):
    from curate.data.readers import read_meta

    sample = Path(__file__).parents[2] / "curate" / "samples" / "mars300.npz"
    result, text = _run("split", sample, "-o", tmp_path / "a", "--num-classes", "5",
                        "--set", "pixel_bins=2", "--set", "seed=3")
    assert result.exit_code == 0, text
    options = read_meta(tmp_path / "a")["history"][-1]["options"]
    assert (options["pixel_bins"], options["seed"]) == (2, 3)
    (tmp_path / "s.toml").write_text("pixel_bins = 3\nseed = 5\n")
    result, text = _run("split", sample, "-o", tmp_path / "b", "--num-classes", "5",
                        "--config", tmp_path / "s.toml", "--seed", "7")
    assert result.exit_code == 0, text
    options = read_meta(tmp_path / "b")["history"][-1]["options"]
    assert (options["pixel_bins"], options["seed"]) == (3, 7)       # the typed flag wins


def test_run_reads_a_sectioned_config(tmp_path):
    from curate.data.readers import read_meta

    sample = Path(__file__).parents[2] / "curate" / "samples" / "mars300.npz"
    (tmp_path / "run.toml").write_text(
        "[outliers]\nz_threshold = 6\n[split]\npixel_bins = 2\n"
        "[augment]\nrecipes = ['geometric']\ncopy_paste_fraction = 0.0\n")
    result, text = _run("run", sample, "-o", tmp_path / "r", "--num-classes", "5", "--class",
                        "4", "--count", "6", "--config", tmp_path / "run.toml",
                        "--set", "split.seed=2")
    assert result.exit_code == 0, text
    history = {h["command"]: h["options"] for h in read_meta(tmp_path / "r")["history"]}
    assert history["outliers"]["z_threshold"] == 6
    assert (history["split"]["pixel_bins"], history["split"]["seed"]) == (2, 2)
    assert list(history["augment"]["recipes"]) == ["geometric"]
    assert history["augment"]["copy_paste_fraction"] == 0.0


@pytest.mark.parametrize("args, words", [
    (["--set", "z_treshold=5"], "unknown key z_treshold (did you mean z_threshold?)"),
    (["--set", "seed=1"], "seed is a setting of split and augment; name one, e.g. split.seed"),
    (["--set", "splt.pixel_bins=2"], "unknown section 'splt' (did you mean split?)"),
])
def test_run_settings_are_refused_with_the_nearest_keys(tmp_path, args, words):
    sample = Path(__file__).parents[2] / "curate" / "samples" / "mars300.npz"
    result, text = _run("run", sample, "-o", tmp_path / "r", "--num-classes", "5", *args)
    assert result.exit_code == 1 and words in text, text
    assert not (tmp_path / "r").exists()
