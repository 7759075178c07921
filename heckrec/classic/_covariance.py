"""Covariance estimators of an ML fit, chosen by ``cov_type``."""

import numpy as np

COV_TYPES = ("hessian", "opg", "robust")


def ml_covariance(hessian, scores, cov_type):
    """Covariance of the ML estimate.

    Parameters
    ----------
    hessian : ndarray (p, p)
        Hessian of the log-likelihood at the estimate.
    scores : ndarray (n, p) or None
        Per-observation scores at the estimate (not needed, and may be None, for
        ``hessian``).
    cov_type : {"hessian", "opg", "robust"}
        ``hessian``: -H^{-1} (observed information); ``opg``: (S'S)^{-1}, the
        outer product of gradients (BHHH); ``robust``: the sandwich
        H^{-1} (S'S) H^{-1} (Huber / White).
    """
    check_cov_type(cov_type)
    h_inv = None if cov_type == "opg" else np.linalg.inv(-hessian)
    if cov_type == "hessian":
        return h_inv
    opg = scores.T @ scores
    if cov_type == "opg":
        return np.linalg.inv(opg)
    return h_inv @ opg @ h_inv


def check_cov_type(cov_type):
    """ValueError unless cov_type is one of COV_TYPES (checked before the fit runs)."""
    if cov_type not in COV_TYPES:
        raise ValueError(f"cov_type must be one of {COV_TYPES}, got {cov_type!r}")
