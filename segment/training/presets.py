"""Named bundles of training options for a kind of machine (`segment train --preset`);
options given on the command line win over the preset's values."""

from __future__ import annotations

from typing import Any

from segment.errors import ConfigError

# TrainConfig / ModelSpec field -> value. Why each value: docs/training.md "Presets". Every
# preset leaves batch_size at 0 (the pixel budget, see segment.config): a fixed batch suits one
# image size only (batch 16 fits 64x128 Mars pairs, but at 512x512 it took 4 GB and left one
# optimizer step per epoch).
PRESETS: dict[str, dict[str, Any]] = {
    # A first look in a few minutes on a laptop CPU: a narrow model, few epochs.
    "cpu-quick": dict(base_width=8, epochs=6, batch_size=0, amp=False, channels_last=True,
                      workers=0, patience=6),
    # The CPU recipe of docs/training.md: the default model, 24 epochs.
    "cpu": dict(base_width=16, epochs=24, batch_size=0, amp=False, channels_last=True,
                workers=0, patience=10),
    # Reasoned, not run on a GPU in this release: a wider model, mixed precision, NHWC
    # tensors for the tensor cores, augmentation in worker processes, a longer run.
    "gpu": dict(base_width=32, epochs=60, batch_size=0, amp=True, channels_last=True,
                workers=4, patience=15),
}


def preset_values(name: str) -> dict[str, Any]:
    """The option values of preset `name`, or ConfigError naming the choices."""
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return dict(PRESETS[name])


def apply_preset(name: str, values: dict[str, Any], explicit: set[str]) -> tuple[dict[str, Any], str]:
    """`values` (option name -> value) with the preset's values for options not in `explicit`,
    and one line saying what the preset set and which explicit options won."""
    chosen = preset_values(name)
    used = {k: v for k, v in chosen.items() if k not in explicit}
    kept = sorted(k for k in chosen if k in explicit)
    shown = ", ".join(f"{k} {_show(k, v)}" for k, v in used.items())
    line = f"preset {name}: {shown}"
    if kept:
        line += "; given as options or settings, kept: " + ", ".join(kept)
    return {**values, **used}, line


def _show(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if key == "batch_size" and value == 0:
        return "from the pixel budget"
    return str(value)
