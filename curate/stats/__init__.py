"""Class distribution of a dataset: pixel shares, images per class, co-occurrence."""
