"""Domain errors raised by the segment library; only the CLI turns them into exit codes."""


class SegmentError(Exception):
    """Base class for every error a user can cause (bad input, bad option, existing output)."""


class InputError(SegmentError):
    """The dataset, checkpoint or image folder given as input cannot be read or is inconsistent."""


class OutputExistsError(SegmentError):
    """The output directory exists and is not empty, and neither --force nor --resume was given."""


class ConfigError(SegmentError):
    """An option or combination of options is invalid."""
