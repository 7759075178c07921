"""heckrec: Heckman-style selection estimators for debiased recommendation."""

from .exceptions import DegenerateEstimateWarning, NotIdentifiedWarning
from .models import BivariateProbitMF, HeckmanMFRegressor

__version__ = "0.1.0"
__all__ = ["BivariateProbitMF", "HeckmanMFRegressor", "DegenerateEstimateWarning",
           "NotIdentifiedWarning", "__version__"]
