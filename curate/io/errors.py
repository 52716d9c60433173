"""Domain errors raised by the curate library (and by the I/O layer segment reads through);
only a CLI turns them into exit codes."""


class CurateError(Exception):
    """Base class for every error a user can cause (bad input, bad option, existing output)."""


class InputError(CurateError):
    """The dataset given as input cannot be read or is inconsistent."""


class OutputExistsError(CurateError):
    """The output path exists and --force was not given."""


class ConfigError(CurateError):
    """An option or combination of options is invalid."""
