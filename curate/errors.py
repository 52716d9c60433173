"""The domain errors, kept importable here; they live in curate's I/O layer (curate.io.errors)."""

from curate.io.errors import CurateError, ConfigError, InputError, OutputExistsError  # noqa: F401
