"""The estimators: a shared MF selection base and thin subclasses."""

from .bivariate_probit_mf import BivariateProbitMF
from .heckman_mf import HeckmanMFRegressor

__all__ = ["BivariateProbitMF", "HeckmanMFRegressor"]
