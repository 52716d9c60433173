"""Domain errors raised by the segment library; only the CLI turns them into exit codes."""

from curate.io.errors import USER_ERRORS as IO_ERRORS
from curate.io.outputs import OutputError


class SegmentError(Exception):
    """Base class for every error a user can cause (bad input, bad option, existing output)."""


class InputError(SegmentError):
    """The dataset, checkpoint or image folder given as input cannot be read or is inconsistent."""


# The output guard's error, shared with curate (curate.io is the one part of curate that
# segment imports): an output that touches an input, or exists without --force.
OutputExistsError = OutputError


class ConfigError(SegmentError):
    """An option or combination of options is invalid."""


# What the command line shows as `Error: ...` with exit code 1: segment's own errors and those
# of the I/O layer it reads and writes through (raw inputs, the output guard, --set/--config).
USER_ERRORS = (SegmentError, *IO_ERRORS)
