"""Named errors of the streams package."""


class StreamsError(Exception):
    """Base class of streams errors."""


class BadMessage(StreamsError, ValueError):
    """A message that cannot become an event; `reason` is the short dead-letter reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LateEvent(BadMessage):
    """An event whose bucket was already closed by the watermark."""

    def __init__(self) -> None:
        super().__init__("late")


class FarFromWatermark(BadMessage):
    """An event too far in the future of the watermark to be plausible."""

    def __init__(self) -> None:
        super().__init__("far from watermark")


class CheckpointError(StreamsError):
    """A checkpoint that cannot be read or restored."""
