"""The one pass over the pixels: per-pair features, the image embedding, near-duplicate search, the cluster scan."""
