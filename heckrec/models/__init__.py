"""The estimators: a shared MF selection base and thin subclasses."""

from ._cv import BivariateProbitMFCV, HeckmanMFRegressorCV
from .bivariate_probit_mf import BivariateProbitMF
from .heckman_mf import HeckmanMFRegressor

__all__ = ["BivariateProbitMF", "BivariateProbitMFCV", "HeckmanMFRegressor",
           "HeckmanMFRegressorCV"]
