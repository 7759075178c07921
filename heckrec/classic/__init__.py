"""Classic linear-index selection models (R sampleSelection / Stata heckman)."""

from ._results import HeckmanResults
from .heckman import HeckmanSelection

__all__ = ["HeckmanSelection", "HeckmanResults"]
