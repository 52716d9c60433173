"""Domain errors raised by the segment library; only the CLI turns them into exit codes."""

from curate.io.outputs import OutputError
from curate.io.settings import SettingsError


class SegmentError(Exception):
    """Base class for every error a user can cause (bad input, bad option, existing output)."""


class InputError(SegmentError):
    """The dataset, checkpoint or image folder given as input cannot be read or is inconsistent."""


# The output guard's error, shared with curate (curate.io is the one part of curate that
# segment imports): an output that touches an input, or exists without --force.
OutputExistsError = OutputError

# What the command line turns into `Error: ...` and exit code 1.
USER_ERRORS = (SegmentError, OutputError, SettingsError)


class ConfigError(SegmentError):
    """An option or combination of options is invalid."""
