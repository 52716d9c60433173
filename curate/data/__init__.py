"""The in-memory dataset: read from any input with its manifest, written as a dataset folder (encoded or linked files)."""
