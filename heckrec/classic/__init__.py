"""Classic linear-index selection models (R sampleSelection / Stata heckman, heckprobit)."""

from ._results import HeckmanResults
from .heckman import HeckmanSelection
from .heckprobit import HeckmanProbit

__all__ = ["HeckmanSelection", "HeckmanProbit", "HeckmanResults"]
