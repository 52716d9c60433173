"""Domain errors raised by the curate library (and by the I/O layer segment reads through);
only a CLI turns them into exit codes."""

from curate.io.outputs import OutputError
from curate.ui.settings import SettingsError


class CurateError(Exception):
    """Base class for every error a user can cause (bad input, bad option, existing output)."""


class InputError(CurateError):
    """The dataset given as input cannot be read or is inconsistent."""


# The output guard's error lives in curate.io.outputs (segment shares it); its old name stays.
OutputExistsError = OutputError


class ConfigError(CurateError):
    """An option or combination of options is invalid."""


# What a command line turns into `Error: ...` and exit code 1: curate's errors, the output
# guard's and the --set/--config parser's.
USER_ERRORS = (CurateError, OutputError, SettingsError)
