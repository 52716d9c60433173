"""Out-of-fold predictions and the per-pair label-quality score."""
