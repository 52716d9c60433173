"""--set key=value and --config FILE: typed by the config dataclass, unknown keys refused."""

from dataclasses import dataclass, field
from typing import Optional

import pytest

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
