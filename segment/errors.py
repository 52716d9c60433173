"""Domain errors raised by the segment library; only the CLI turns them into exit codes."""

from curate.io.errors import CurateError


class SegmentError(Exception):
    """Base class for every error a user can cause (bad input, bad option, existing output)."""


class InputError(SegmentError):
    """The dataset, checkpoint or image folder given as input cannot be read or is inconsistent."""


class OutputExistsError(SegmentError):
    """The output directory exists and is not empty, and neither --force nor --resume was given."""


class ConfigError(SegmentError):
    """An option or combination of options is invalid."""


# What a user can cause, as the CLI catches it: segment's own errors and those of the data
# layer segment reads through (curate.io raises its InputError for a raw input it cannot read).
USER_ERRORS = (SegmentError, CurateError)
