"""Errors the user can act on. Each carries an exit status and says what to do."""

from __future__ import annotations


class StationError(Exception):
    """Base class: a problem the station reports as one clear line, never a traceback."""

    exit_status = 1


class UsageError(StationError):
    """Bad input from the user: a malformed file, a wrong argument."""

    exit_status = 2


class ConfigError(StationError):
    """A configuration key is unknown or its value is invalid."""

    exit_status = 78  # EX_CONFIG: systemd's RestartPreventExitStatus= keeps it from looping


class RecordingError(UsageError):
    """A keypoint recording (.npz) is malformed."""


class ModelError(StationError):
    """The pose model file is missing, corrupt, or no TFLite runtime can load it."""

    exit_status = 78


class CameraError(StationError):
    """The camera is missing or stopped delivering frames."""

    exit_status = 69  # EX_UNAVAILABLE


class SourceError(UsageError):
    """A video file, image folder or recording cannot be read."""


class StorageError(StationError):
    """The history database cannot be written (locked, read-only, disk full)."""
