"""The `segment` command line: thin typer commands over segment.training and segment.evaluation."""

from __future__ import annotations

import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from curate.ui.choices import Split
from curate.ui.cli_help import HelpCommand
from curate.ui.settings import field_types
from segment.config import TrainConfig
from segment.errors import USER_ERRORS, SegmentError
from segment.interrupt import SegmentGroup

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

app = typer.Typer(help="Train, evaluate and apply the bundled U-Net on a curated dataset folder.",
                  no_args_is_help=True, add_completion=False,
                  cls=SegmentGroup)  # Ctrl-C: one line on what was written, exit 130
console = Console()
err_console = Console(stderr=True, soft_wrap=True)

# Every TrainConfig field (the model's included) is a setting; data and out are the command's.
TRAIN_SETTINGS = {k: v for k, v in field_types(TrainConfig).items() if k not in ("data", "out")}

SetOpt = Annotated[Optional[list[str]], typer.Option(
    "--set", metavar="KEY=VALUE", help="Any training setting, repeatable, e.g. --set se=false "
    "--set loss=ce+lovasz; the keys are listed below and in docs/reference.md.")]
ConfigOpt = Annotated[Optional[Path], typer.Option(
    "--config", metavar="FILE.toml", help="Settings from a TOML file of KEY = VALUE lines "
    "(--set and the options above win over it).")]


def settings_epilog() -> str:
    """The help's closing paragraph: every setting reachable through --set / --config."""
    defaults = TrainConfig().to_dict()
    shown = ", ".join(f"{k}={defaults[k]}" for k in sorted(TRAIN_SETTINGS))
    return f"Settings for --set / --config (default values): {shown}."


class Device(str, Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"
    mps = "mps"


class Preset(str, Enum):
    cpu_quick = "cpu-quick"
    cpu = "cpu"
    gpu = "gpu"


class Format(str, Enum):
    png = "png"
    csv = "csv"


class Overlay(str, Enum):
    sheet = "sheet"
    each = "each"
    none = "none"


def _fail(exc: Exception) -> None:
    err_console.print(f"Error: {exc}", markup=False, highlight=False)
    raise typer.Exit(1)


class RichHooks:
    """Progress bar per epoch plus one summary line per epoch."""

    def __init__(self) -> None:
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]:.4f}"), TimeElapsedColumn(), console=err_console,
        )
        self.task: Any = None

    def on_epoch_start(self, epoch: int, epochs: int, steps: int) -> None:
        # Only a terminal gets the bar: elsewhere (a log file, a pipe) stopping it wrote one
        # blank line per epoch, and the epoch line below says all the bar would.
        self.task = None
        if err_console.is_terminal:
            self.progress.start()
            self.task = self.progress.add_task(f"epoch {epoch}/{epochs}", total=steps, loss=0.0)

    def on_step(self, loss: float) -> None:
        if self.task is not None:
            self.progress.update(self.task, advance=1, loss=loss)

    def on_note(self, text: str, warning: bool = False) -> None:
        if warning:
            err_console.print(f"Warning: {text}", markup=False, highlight=False)
        else:
            console.print(text, markup=False, highlight=False, soft_wrap=True)

    def on_epoch_end(self, row: dict[str, Any]) -> None:
        if self.task is not None:
            self.progress.remove_task(self.task)
            self.progress.stop()
        console.print(
            f"epoch {row['epoch']:>3}  loss {row['train_loss']:.4f}  val mIoU "
            f"{row['val_mean_iou']:.4f}  lr {row['lr']:.2e}  {row['seconds']:.0f}s  {row['note']}",
            highlight=False,
        )


@app.command(epilog=settings_epilog(), cls=HelpCommand)
def train(
    ctx: typer.Context,
    data: Annotated[Path, typer.Argument(help="Dataset folder written by `curate` (split); for a raw .npz or images/ + masks/ folder run `curate split` first.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Run folder for checkpoints, logs, plots.")] = Path("runs/segment"),
    preset: Annotated[Optional[Preset], typer.Option(help="Width, epochs, AMP, workers, patience for a machine; the batch follows the pixel budget (docs/training.md). Options and settings you give win.")] = None,
    epochs: Annotated[Optional[int], typer.Option(help=f"Maximum epochs (default {TrainConfig.epochs}; with --resume: the saved run's).")] = None,
    batch_size: Annotated[Optional[int], typer.Option(help="Images per step (default: 2**20 pixels // (H*W), clamped to 2..32: 32 at 64x128, 16 at 256x256, 4 at 512x512).")] = None,
    lr: Annotated[Optional[float], typer.Option(help=f"AdamW learning rate (default {TrainConfig.lr}).")] = None,
    max_minutes: Annotated[Optional[float], typer.Option(help="Stop after the epoch that passes this wall time (default 0 = off).")] = None,
    device: Annotated[Optional[Device], typer.Option(help="auto = cuda, then mps, then cpu (default auto).")] = None,
    seed: Annotated[Optional[int], typer.Option(help=f"Seed for init, shuffling, augmentation, dropout (default {TrainConfig.seed}).")] = None,
    settings: SetOpt = None,
    config: ConfigOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite a non-empty --out.")] = False,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from OUT/last.pt (its config; --epochs etc. may extend).")] = False,
) -> None:
    """Train a U-Net on the train split; select on val mean IoU; write best.pt and last.pt."""
    from segment.training.loop import train as run_training

    from segment.training.distributed import quiet_unless_main
    quiet_unless_main(console, err_console)  # under torchrun, rank 0 alone prints
    flags = dict(epochs=epochs, batch_size=batch_size, lr=lr, max_minutes=max_minutes,
                 device=device.value if device else None, seed=seed)
    try:
        cfg, keep_saved = _train_config(data, out, flags, preset, config, settings)
        result = run_training(cfg, RichHooks(), force=force, resume=resume, keep_saved=keep_saved)
    except USER_ERRORS as exc:
        _fail(exc)
    except KeyboardInterrupt:
        from segment.interrupt import train_message

        print(f"\n{train_message(out)}", file=sys.stderr)  # resume only once last.pt exists
        raise typer.Exit(code=130) from None
    console.print(f"{result.stop_reason}; best val mean IoU {result.best_val_miou:.4f} "
                  f"at epoch {result.best_epoch} ({result.wall_seconds:.0f}s)", highlight=False)
    console.print(f"Wrote {result.run_dir}: best.pt, last.pt, metrics.csv, learning_curve.png, "
                  "confusion_val.png, val_scores.json", highlight=False)


def _train_config(data: Path, out: Path, flags: dict[str, Any], preset: Optional[Preset],
                  config: Optional[Path], settings: Optional[list[str]]
                  ) -> tuple[TrainConfig, tuple[str, ...]]:
    """The run's config: defaults, then the preset, then --config, then --set, then the flags
    given (a later source wins), and which saved values a --resume keeps (epochs unless given)."""
    from curate.io.outputs import check_not_input
    from curate.ui.settings import knobs

    if config is not None:
        check_not_input(out, [config], "run folder")

    given = {k: v for k, v in flags.items() if v is not None}
    chosen = {**knobs(config, settings, TRAIN_SETTINGS), **given}
    values = TrainConfig().to_dict()
    if preset is not None:
        from segment.training.presets import apply_preset

        preset_keys = ("base_width", "epochs", "batch_size", "amp", "channels_last", "workers",
                       "patience")
        merged, line = apply_preset(preset.value, {k: values[k] for k in preset_keys}, set(chosen))
        values.update(merged)
        console.print(line, highlight=False, markup=False, soft_wrap=True)
    values.update(chosen)
    keep_saved = () if "epochs" in chosen or preset is not None else ("epochs",)
    return TrainConfig.from_dict({**values, "data": str(data), "out": str(out)}), keep_saved


@app.command(cls=HelpCommand)
def evaluate(
    checkpoint: Annotated[Path, typer.Argument(help="best.pt or last.pt from `segment train`.")],
    data: Annotated[Path, typer.Argument(help="Dataset folder, AN2DL .npz, or folder with images/ + masks/ paired by file stem.")],
    split: Annotated[Optional[Split], typer.Option(help="Split to score [default: test for a split dataset folder; the whole set for raw or unsplit inputs].")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Folder for scores_<split>.json (a set scored whole: scores_all_<input name>.json), confusion and rare-class files (default: the checkpoint's folder).")] = None,
    json_only: Annotated[bool, typer.Option("--print-json", help="Print the scores as JSON instead of the table.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Count predictions on unlabelled (ignore_index) pixels as false positives.")] = False,
    label_map: Annotated[Optional[str], typer.Option(help="Raw inputs: renumber mask values, RAW:LABEL,... (e.g. 0:1,1:2,2:3,3:4,255:0); values left out keep their number; 0/255 masks read as 0:0,255:1.")] = None,
    num_classes: Annotated[Optional[int], typer.Option(help="Raw inputs: expected classes [default: the checkpoint's].")] = None,
    ignore_index: Annotated[Optional[int], typer.Option(help="Class left out of the mean IoU, -1 for none [default: the checkpoint's].")] = None,
    device: Annotated[Device, typer.Option(help="auto = cuda, then mps, then cpu.")] = Device.auto,
    tta: Annotated[bool, typer.Option("--tta", help="Flip test-time augmentation: average the prediction of each image and of its left-right mirror.")] = False,
    rare_class: Annotated[Optional[int], typer.Option("--class", help="Class of the rare-class error view (rare_errors_<split>.csv/.png) [default: the rarest class of the checkpoint's training split].")] = None,
    class_bias: Annotated[Optional[Path], typer.Option(help="Per-class logit biases from `segment calibrate` (a .json) added before the argmax.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace the files of an earlier evaluation of another input with the same name in --out (scores_test.json of another dataset).")] = False,
) -> None:
    """Per-class precision, recall, F1 and IoU and the mean IoU on one split or a whole labelled set."""
    import json

    from curate.io.label_maps import label_words
    from segment.evaluation.scores import LabelOptions, default_split, evaluate_set
    from segment.evaluation.metrics import format_table

    out = out or checkpoint.parent
    try:
        options = LabelOptions.from_words(label_words(num_classes, label_map, ignore_index))
        chosen = split.value if split else default_split(data)
        result = evaluate_set(checkpoint, data, chosen, device.value, out, not strict, options, tta,
                              rare_class, class_bias, force)
    except USER_ERRORS as exc:
        _fail(exc)
    for note in result.notes:
        err_console.print(f"Note: {note}", markup=False, highlight=False)
    if json_only:
        console.print_json(json.dumps(result.scores.to_dict()))
        return
    console.print(format_table(result.scores, f"{result.title}, {checkpoint}"), highlight=False, markup=False)
    console.print(f"Wrote {result.files[0]}, " + ", ".join(f.name for f in result.files[1:]),
                  highlight=False)


@app.command(cls=HelpCommand)
def calibrate(
    checkpoint: Annotated[Path, typer.Argument(help="best.pt or last.pt from `segment train`.")],
    data: Annotated[Path, typer.Argument(help="Dataset folder (its val split by default), AN2DL .npz, or folder with images/ + masks/ (scored whole).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The .json file to write the biases to.")],
    split: Annotated[Split, typer.Option(help="Dataset folder: the split to tune on. Tuning on test makes the test score a fit.")] = Split.val,
    label_map: Annotated[Optional[str], typer.Option(help="Raw inputs: renumber mask values, RAW:LABEL,... as for `segment evaluate`.")] = None,
    num_classes: Annotated[Optional[int], typer.Option(help="Raw inputs: expected classes [default: the checkpoint's].")] = None,
    ignore_index: Annotated[Optional[int], typer.Option(help="Class left out of the mean IoU, -1 for none [default: the checkpoint's].")] = None,
    device: Annotated[Device, typer.Option(help="auto = cuda, then mps, then cpu.")] = Device.auto,
    tta: Annotated[bool, typer.Option("--tta", help="Tune for flip test-time augmentation (then use --tta with the biases too).")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --out file.")] = False,
) -> None:
    """Tune one logit bias per class on a labelled split for the best mean IoU (e.g. to trade a rare class's false positives for misses); apply it with `evaluate`/`predict --class-bias`."""
    from curate.io.label_maps import label_words
    from segment.evaluation.calibrate import calibrate as run_calibration
    from segment.evaluation.scores import LabelOptions

    try:
        options = LabelOptions.from_words(label_words(num_classes, label_map, ignore_index))
        result = run_calibration(checkpoint, data, out, split.value, device.value, tta, force,
                                 options)
    except USER_ERRORS as exc:
        _fail(exc)
    for note in result.notes:
        err_console.print(f"Note: {note}", markup=False, highlight=False)
    fit = result.fit
    console.print(f"Tuned on {result.title} ({fit.pixels:,} labelled pixels):", highlight=False)
    for name, bias, before, after in zip(result.class_names, fit.bias, fit.before.iou,
                                         fit.after.iou):
        console.print(f"  {name:<14} bias {bias:+.2f}   IoU {before:.3f} -> {after:.3f}",
                      highlight=False)
    console.print(f"  mean IoU {fit.before.mean_iou:.4f} -> {fit.after.mean_iou:.4f} on the "
                  f"split it was tuned on (score it on another: evaluate --class-bias {out})",
                  highlight=False)
    console.print(f"Wrote {out}", highlight=False)


@app.command(cls=HelpCommand)
def predict(
    checkpoint: Annotated[Path, typer.Argument(help="best.pt or last.pt from `segment train`.")],
    data: Annotated[Path, typer.Argument(help="Dataset folder, folder of images, folder with images/ (+ masks/), or .npz (test_set, training_set or image arrays).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")],
    split: Annotated[Optional[Split], typer.Option(help="Dataset folder only: predict one split (default: all rows).")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="png: masks/<id>.png; csv: Kaggle submission.csv.")] = Format.png,
    overlay: Annotated[Overlay, typer.Option(help="Contact sheet, one overlay per image, or none.")] = Overlay.sheet,
    device: Annotated[Device, typer.Option(help="auto = cuda, then mps, then cpu.")] = Device.auto,
    force: Annotated[bool, typer.Option("--force", help="Replace a non-empty --out (never the input or the checkpoint's folder).")] = False,
    tta: Annotated[bool, typer.Option("--tta", help="Flip test-time augmentation: average the prediction of each image and of its left-right mirror.")] = False,
    class_bias: Annotated[Optional[Path], typer.Option(help="Per-class logit biases from `segment calibrate` (a .json) added before the argmax.")] = None,
    raw_values: Annotated[bool, typer.Option("--raw-values", help="Write mask PNGs in the raw values the dataset was read from (the inverse of its label map in dataset.json, e.g. 0/255 for binary masks), not class labels; refused where the map merged values.")] = False,
) -> None:
    """Predict a mask for every image; write mask PNGs and overlays, or the Kaggle CSV."""
    from segment.evaluation.predict import predict as run_prediction

    try:
        result = run_prediction(checkpoint, data, out, split.value if split else None,
                                fmt.value, overlay.value, device.value, force, tta, class_bias,
                                raw_values)
    except USER_ERRORS as exc:
        _fail(exc)
    console.print(f"Predicted {result.count} masks; wrote {len(result.files)} files to {out}", highlight=False)


@app.command(cls=HelpCommand)
def report(
    run: Annotated[Path, typer.Argument(help="Run folder written by `segment train` (and `segment evaluate`).")],
    data: Annotated[Optional[Path], typer.Argument(help="Dataset folder: predict a few images for the overlay sheet (else use RUN's contact_sheet.png if any).")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Report file, .html (default: RUN/report.html; a run folder is an output, so it may go there).")] = None,
    split: Annotated[Optional[Split], typer.Option(help="With DATA: split to predict (default: test, else val).")] = None,
    device: Annotated[Device, typer.Option(help="With DATA: device for the few predictions (auto: CUDA when there is one; --device cpu keeps the report byte-reproducible).")] = Device.auto,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing report.")] = False,
) -> None:
    """Self-contained HTML report of a run: summary, config, learning curves, scores, confusion, overlays."""
    from segment.report.html import write_report

    out = out or run / "report.html"
    try:
        path = write_report(run, out, data, split.value if split else None, device.value, force)
    except USER_ERRORS as exc:
        _fail(exc)
    console.print(f"Wrote {path} ({path.stat().st_size // 1024} KiB, images embedded)", highlight=False)


@app.command(epilog=settings_epilog(), cls=HelpCommand)
def crossval(
    data: Annotated[Path, typer.Argument(help="Dataset folder written by `curate` (split).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for label_quality.csv, label_regions.csv, oof_probs.npy and the fold runs (outside DATA).")],
    folds: Annotated[int, typer.Option(help="Number of folds K (K trainings).")] = 5,
    epochs: Annotated[Optional[int], typer.Option(help=f"Maximum epochs of each fold (default {TrainConfig.epochs}).")] = None,
    batch_size: Annotated[Optional[int], typer.Option(help="Images per step (default: from the pixel budget, as `segment train`).")] = None,
    lr: Annotated[Optional[float], typer.Option(help=f"AdamW learning rate (default {TrainConfig.lr}).")] = None,
    max_minutes: Annotated[Optional[float], typer.Option(help="Each fold stops after the epoch that passes this wall time (default 0 = off).")] = None,
    device: Annotated[Optional[Device], typer.Option(help="auto = cuda, then mps, then cpu (default auto).")] = None,
    seed: Annotated[Optional[int], typer.Option(help=f"Seed (default {TrainConfig.seed}).")] = None,
    settings: SetOpt = None,
    config: ConfigOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --out.")] = False,
) -> None:
    """Train K models on K-1 folds of the train split each; write out-of-fold probabilities
    and label_quality.csv (masks that disagree with confident predictions rank first), and
    label_regions.csv (the regions where the model disputes a mask, most likely wrong first).

    Each fold trains as `segment train` would with the same options and settings. Cost: K
    trainings.
    """
    from segment.label_quality.crossval import crossval as run_crossval

    flags = dict(epochs=epochs, batch_size=batch_size, lr=lr, max_minutes=max_minutes,
                 device=device.value if device else None, seed=seed)

    def on_fold(k: int, total: int, fit: int, held: int, seconds: float, miou: float) -> None:
        console.print(f"fold {k + 1}/{total}: trained on {fit} pairs, predicted {held}; "
                      f"best val mIoU {miou:.4f} ({seconds:.0f}s)", highlight=False)

    try:
        cfg, _ = _train_config(data, out, flags, None, config, settings)
        console.print(f"crossval: {folds} folds = {folds} trainings of {cfg.epochs} epochs "
                      f"on {folds - 1}/{folds} of the train split each", highlight=False)
        result = run_crossval(cfg, folds, RichHooks(), force=force, on_fold=on_fold)
    except USER_ERRORS as exc:
        _fail(exc)
    console.print(f"label-quality score: {result.quality.attrs['score']}", highlight=False)
    top = result.quality.sort_values("score", ascending=False).head(5)
    for row in top.itertuples(index=False):
        console.print(f"  {row.id}: score {row.score:.3f}, low-probability share {row.low_share:.3f}",
                      highlight=False)
    regions = result.regions
    if regions is not None and len(regions):
        sure = int((regions["probability"] >= 0.5).sum())
        console.print(f"disputed regions: {len(regions)} in {regions['id'].nunique()} pairs, "
                      f"{sure} with probability >= 0.5 that the mask is wrong there",
                      highlight=False)
    console.print(f"Wrote {result.run_dir}: label_quality.csv ({result.pairs} pairs), "
                  "label_regions.csv, oof_probs.npy, "
                  f"crossval.json, fold_0..{folds - 1}/; {folds} trainings took "
                  f"{result.wall_seconds:.0f}s", highlight=False)
