"""The `curate` flags earlier releases had and what each became (curate.ui.renamed does the
rewriting). Remove an entry one release after it was added."""

from curate.ui.renamed import Renamed, settings_renamed

# Flags earlier releases had and what each became (curate.ui.renamed rewrites them).
RENAMED = settings_renamed(["blank_std", "bright_level", "dark_level", "min_shared_mask_group",
                            "odd_image_z", "simple_mask_share", "z_threshold"], (), "0.1.0") + (
    Renamed("--distance", "--near-duplicate-distance", "0.1.0"),
    Renamed("--workers", "--dask-workers", "0.1.0"),
    Renamed("--data", "--input", "0.1.0", ("review",)),
)
