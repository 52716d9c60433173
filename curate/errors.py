"""Domain errors raised by the curate library; only the CLI turns them into exit codes."""

from curate.io.outputs import OutputError
from curate.io.settings import SettingsError


class CurateError(Exception):
    """Base class for every error a user can cause (bad input, bad option, existing output)."""


class InputError(CurateError):
    """The dataset given as input cannot be read or is inconsistent."""


# The output guard's error lives in curate.io (segment shares it); its old name here stays.
OutputExistsError = OutputError

# What the command line turns into `Error: ...` and exit code 1.
USER_ERRORS = (CurateError, OutputError, SettingsError)


class ConfigError(CurateError):
    """An option or combination of options is invalid."""
