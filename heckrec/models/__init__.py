"""The estimators: a shared MF selection base and thin subclasses."""

from .heckman_mf import HeckmanMFRegressor

__all__ = ["HeckmanMFRegressor"]
