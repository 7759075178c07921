"""heckrec: Heckman-style selection estimators for debiased recommendation."""

from .exceptions import DegenerateEstimateWarning
from .models import HeckmanMFRegressor

__version__ = "0.1.0"
__all__ = ["HeckmanMFRegressor", "DegenerateEstimateWarning", "__version__"]
