"""Standard errors: profiled (Schur complement) covariance for the MF models."""

from ._profiled import profiled_covariance

__all__ = ["profiled_covariance"]
