"""The domain errors, kept importable here; they live in curate's I/O layer (curate.io.errors)."""

from curate.io.errors import (  # noqa: F401
    USER_ERRORS, ConfigError, CurateError, InputError, OutputExistsError,
)
