"""The training loop, its typed config and presets, run state, checkpoints, torchrun."""
