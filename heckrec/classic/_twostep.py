"""Heckman's two-step estimator (Heckit) with the corrected covariance.

Greene (2003, p. 785) / R sampleSelection's heckit2fit + heckitVcov:
sigma^2 = e'e/n1 + mean(delta) b_lambda^2, rho = b_lambda / sigma, and
V = sigma^2 (X*'X*)^-1 [X*'(I - rho^2 D) X* + rho^2 F V_probit F'] (X*'X*)^-1
with X* = [X, lambda], D = diag(delta), F = X*' D Z (selected rows).
"""

import numpy as np
import scipy.special

from .._array.heckman_continuous import log_ndtr_mills


def twostep(model):
    """Two-step estimates of a :class:`HeckmanSelection` model, as a dict."""
    s = model.s
    probit = model._selection_probit
    gamma = np.asarray(probit.params)
    V_probit = np.asarray(probit.cov_params())
    zg = model.Z[s] @ gamma
    lam = log_ndtr_mills(np, scipy.special, zg)[1]  # inverse Mills ratio
    Xs = np.column_stack([model.X[s], lam])
    ys = model.y[s]
    XtX_inv = np.linalg.inv(Xs.T @ Xs)
    coef = XtX_inv @ Xs.T @ ys
    resid = ys - Xs @ coef
    b_lambda = coef[-1]
    delta = lam * (lam + zg)
    sigma = float(np.sqrt(resid @ resid / ys.size + np.mean(delta) * b_lambda**2))
    rho = b_lambda / sigma
    F = Xs.T @ (delta[:, None] * model.Z[s])
    middle = Xs.T @ ((1.0 - rho**2 * delta)[:, None] * Xs) + rho**2 * F @ V_probit @ F.T
    V = sigma**2 * XtX_inv @ middle @ XtX_inv
    k = model.X.shape[1]
    return {
        "params_select": gamma, "cov_select": V_probit, "params_outcome": coef[:k],
        "cov_outcome": V[:k, :k], "params_lambda": float(b_lambda),
        "bse_lambda": float(np.sqrt(V[k, k])), "sigma": sigma, "rho": float(rho),
        "llf_select": float(probit.llf),
    }
