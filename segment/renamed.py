"""The `segment` flags earlier releases had and what each became (curate.ui.renamed does the
rewriting). Remove an entry one release after it was added."""

from curate.ui.renamed import Renamed, settings_renamed

# 0.1.0 moved the training and model knobs from flags of their own to --set KEY=VALUE.
RENAMED = settings_renamed(
    ["threads", "workers", "patience", "min_delta", "plateau_patience", "warmup_share",
     "weight_decay", "scheduler", "loss", "class_weights", "class_weight_power", "focal_gamma",
     "tversky_alpha", "tversky_beta", "oversample_class", "oversample_factor", "copy_paste_class",
     "copy_paste_prob", "ema", "depth", "base_width", "dropout", "spatial_dropout", "amp",
     "compile", "channels_last", "augment", "se", "residual", "attention", "aspp", "batchnorm"],
    switches=["amp", "compile", "channels_last", "augment", "se", "residual", "attention", "aspp",
              "batchnorm"],
    since="0.1.0") + (
    Renamed("--json", "--print-json", "0.1.0", ("evaluate",)),
    Renamed("--data", "DATA", "0.1.0", ("report",)),
)
