"""Train-step throughput of the segment U-Net (img/s) for eager / channels_last / compile.

Reproduce: .venv/bin/python benchmarks/bench_train.py --threads 2
On shared machines other jobs steal cores: each mode is timed --repeats times and the best
(least disturbed) and median runs are printed; check `uptime` load before trusting a figure.
Each mode builds the model, loss and optimizer exactly as `segment train` does (TrainConfig
defaults unless overridden), runs warm-up steps, then times full steps (forward, loss, backward,
AdamW) on random images with labels from 5 classes, batch 32, 64x128, class 0 ignored.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import statistics
import time

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

import torch  # noqa: E402
from results import write_table  # noqa: E402

from segment.model.checkpoints import RunMeta  # noqa: E402
from segment.config import ModelSpec, TrainConfig  # noqa: E402
from segment.data.folder import to_input  # noqa: E402
from segment.training.run_state import build_run  # noqa: E402
from segment.model.unet import UNetSpec, count_parameters  # noqa: E402

MODES = {
    "eager": dict(channels_last=False, compile=False),
    "channels_last": dict(channels_last=True, compile=False),
    "compile": dict(channels_last=True, compile=True),
}


def meta_for(cfg: TrainConfig, num_classes: int = 5) -> RunMeta:
    spec = UNetSpec(in_channels=1, num_classes=num_classes, **dataclasses.asdict(cfg.model))
    return RunMeta(spec, [f"class_{k}" for k in range(num_classes)], num_classes, 0,
                   {"mean": [0.5], "std": [0.25]}, [0.0] + [1.0] * (num_classes - 1),
                   [0] * num_classes)


def throughput(cfg: TrainConfig, batch: int, size: tuple[int, int], warmup: int, steps: int) -> float:
    run = build_run(cfg, meta_for(cfg), torch.device("cpu"))
    gen = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (batch, 1, *size), dtype=torch.uint8, generator=gen)
    masks = torch.randint(0, 5, (batch, *size), generator=gen)
    run.step_model.train()

    def step() -> None:
        x = to_input(images, run.meta.normalization)
        if cfg.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        loss = run.loss_fn(run.step_model(x), masks)
        run.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        run.optimizer.step()

    for _ in range(warmup):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return batch * steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--height", type=int, default=64)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--base-width", type=int, default=ModelSpec.base_width)
    parser.add_argument("--no-se", action="store_true", help="turn squeeze-excitation off")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per mode (shared CPUs are noisy)")
    parser.add_argument("--modes", default="eager,channels_last,compile")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)  # model init; this is a standalone script, global state is ours
    base = TrainConfig(model=ModelSpec(base_width=args.base_width, se=not args.no_se))
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, "
          f"{args.threads} threads, batch {args.batch}, {args.height}x{args.width}, "
          f"base_width {base.model.base_width}, se {base.model.se}, loss {base.loss}, "
          f"params {count_parameters(build_run(base, meta_for(base), torch.device('cpu')).model):,}")
    defaults = TrainConfig()
    print(f"defaults a user gets: channels_last={defaults.channels_last} compile={defaults.compile}")
    rows = []
    for mode in args.modes.split(","):
        cfg = dataclasses.replace(base, **MODES[mode])
        warmup = args.warmup + (2 if cfg.compile else 0)
        t0 = time.perf_counter()
        runs = [throughput(cfg, args.batch, (args.height, args.width), warmup, args.steps)
                for _ in range(args.repeats)]
        print(f"{mode:>14}: best {max(runs):6.1f} img/s, median {statistics.median(runs):6.1f} "
              f"(runs: {', '.join(f'{r:.1f}' for r in runs)}; {time.perf_counter() - t0:.0f}s)",
              flush=True)
        rows.append([mode, f"{max(runs):.1f}", f"{statistics.median(runs):.1f}"])
    page = write_table(
        "train-throughput", "Training throughput (one AdamW step, CE + Dice, CPU)",
        ["mode", "best img/s", "median img/s"], rows,
        notes=f"torch {torch.__version__}, {args.threads} threads, batch {args.batch}, "
              f"{args.height}x{args.width}, base width {base.model.base_width}, SE {base.model.se}; "
              f"best and median of {args.repeats} timed runs of {args.steps} steps.")
    print(f"wrote {page}")


if __name__ == "__main__":
    main()
