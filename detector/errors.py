"""Named errors of the detector package."""


class DetectorError(Exception):
    """Base class of detector errors."""


class UnknownServiceError(DetectorError, KeyError):
    """A service name that the bank does not hold."""


class SnapshotError(DetectorError, ValueError):
    """A snapshot that cannot be restored (wrong version or shape)."""
