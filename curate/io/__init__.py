"""curate's I/O layer: reading raw inputs, the dataset-folder contract, guarded atomic outputs.

This is the one part of curate that `segment` may import.
"""
