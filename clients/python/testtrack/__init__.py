"""TestTrack for Python: a REST client (``TestTrackClient``) and a pytest plugin."""

from .ci import RunContext, detect_run
from .client import TestTrackClient, TestTrackError, TestTrackUnavailable

__all__ = ["RunContext", "TestTrackClient", "TestTrackError", "TestTrackUnavailable", "detect_run"]
__version__ = "0.1.0"
