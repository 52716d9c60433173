"""Reading a curated folder for training: arrays or file references, sampling, copy-paste."""
