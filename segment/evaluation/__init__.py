"""Scores, inference, predictions, per-class biases and rare-class errors of a checkpoint."""
