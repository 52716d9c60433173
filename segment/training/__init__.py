"""The training loop, what a run prepares before it (data checks, batch size, draws, meta),
its presets, run state and torchrun."""
