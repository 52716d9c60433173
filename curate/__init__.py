"""curate: find outliers, describe, split and augment small segmentation datasets."""

__version__ = "0.1.0"
