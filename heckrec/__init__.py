"""heckrec: Heckman-style selection estimators for debiased recommendation."""

from .exceptions import DegenerateEstimateWarning, NotIdentifiedWarning
from .models import (
    BivariateProbitMF,
    BivariateProbitMFCV,
    HeckmanMFRegressor,
    HeckmanMFRegressorCV,
)

__version__ = "0.1.0"
__all__ = ["BivariateProbitMF", "BivariateProbitMFCV", "HeckmanMFRegressor",
           "HeckmanMFRegressorCV", "DegenerateEstimateWarning",
           "NotIdentifiedWarning", "__version__"]
