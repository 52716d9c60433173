"""Stratified train/val/test splits that keep groups together, their report, advice and leakage checks."""
