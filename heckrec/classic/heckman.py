"""Linear-index Heckman selection model (tobit-2): ML and two-step.

The likelihood per observation is the MF model's with linear indices,
g_o = Z gamma and g_r = X beta, so the per-observation terms come from the
same array code (:func:`heckrec._array.heckman_continuous.pair_terms`).
"""

import warnings
from functools import cached_property

import numpy as np
import scipy.special
from scipy import stats

from .._array.heckman_continuous import pair_terms
from ..exceptions import DegenerateEstimateWarning
from ..models._input import reject_constant_outcome
from ._linear import MAX_MAGNITUDE, LinearSelectionModel
from ._results import HeckmanResults


#: Fixed row chunks of the numba pass: the sums do not depend on the thread count.
N_CHUNKS = 64


class HeckmanSelection(LinearSelectionModel):
    """Heckman's sample-selection model with a linear outcome and probit selection.

    ``y = X beta + u``, observed only where ``s = 1[Z gamma + v > 0]``, with
    ``(v, u / sigma)`` standard bivariate normal with correlation ``rho``.
    As in statsmodels, no constant is added: include a column of ones (or use
    :meth:`from_formula`, which adds the intercept as formulas do).

    Parameters
    ----------
    y : array-like (n,)
        Outcome; read only where ``s == 1`` (NaN, 0, -inf allowed elsewhere).
    X : array-like (n, k) or DataFrame
        Outcome regressors; rows with ``s == 0`` are not read.
    s : array-like (n,) of 0/1
        Selection indicator.
    Z : array-like (n, m) or DataFrame
        Selection regressors; must be finite everywhere.
    """

    scalar_names = ("lnsigma", "athrho")
    title = "Heckman selection model"

    def _check_outcome(self, y_selected):
        if not np.all(np.isfinite(y_selected)):
            raise ValueError("y contains NaN or infinity at selected rows (s == 1)")
        peak = float(np.max(np.abs(y_selected)))
        if peak > MAX_MAGNITUDE:
            raise ValueError(f"y holds a value of magnitude {peak:.3g} at a selected row, whose "
                             "square overflows a float: rescale it")
        reject_constant_outcome(y_selected, "selected row")

    def _obs_terms(self, g_o, g_r, s_log, a):
        ll, d_o, d_r, d_a, d_s = pair_terms(np, scipy.special, g_o, g_r, self.y, self.s, a, s_log)
        return ll, [d_o, d_r, d_s, d_a]

    # One numba pass for the log-likelihood, gradient and analytic Hessian (the MF
    # model's per-pair second derivatives, heckrec._kernels.heckman_newton): the
    # differenced Hessian of the base class cost 12 of 17 s at n = 1e6 (issue 17).
    def _kernel_terms(self, theta, derivatives):
        from .._kernels.heckman_newton import linear_selection_terms

        m, k = self.Z.shape[1], self.X.shape[1]
        p = theta.size
        ll = np.empty(N_CHUNKS)
        grad = np.zeros((N_CHUNKS, p))
        hess = np.zeros((N_CHUNKS, p, p))
        data = self._kernel_data
        linear_selection_terms(*data, np.ascontiguousarray(theta[:m]),
                               np.ascontiguousarray(theta[m:m + k]), float(theta[-2]),
                               float(theta[-1]), N_CHUNKS, derivatives, ll, grad, hess)
        if not derivatives:
            return float(ll.sum()), None, None
        H = hess.sum(axis=0)
        H = np.triu(H) + np.triu(H, 1).T
        return float(ll.sum()), grad.sum(axis=0), H

    @cached_property
    def _kernel_data(self):
        return (np.ascontiguousarray(self.Z, dtype=float), np.ascontiguousarray(self.X, dtype=float),
                np.ascontiguousarray(self.y, dtype=float), np.ascontiguousarray(self.s, dtype=np.bool_))

    def loglike(self, theta):
        """Log-likelihood at ``theta`` = (gamma, beta, log sigma, atanh rho)."""
        return self._kernel_terms(np.asarray(theta, dtype=float), False)[0]

    def hessian(self, theta):
        """Analytic Hessian of the log-likelihood at ``theta``."""
        return self._kernel_terms(np.asarray(theta, dtype=float), True)[2]

    def _derivatives(self, theta):
        return self._kernel_terms(np.asarray(theta, dtype=float), True)

    def _draw_outcome(self, g_r, u, theta):
        return g_r + np.exp(theta[-2]) * u

    # ------------------------------------------------------------------ fit
    def fit(self, method="ml", cov_type="hessian", maxiter=100, tol=1e-10, start_params=None):
        """Estimate the model.

        Parameters
        ----------
        method : {"ml", "twostep"}
            Full maximum likelihood (started from the two-step estimates,
            Newton's method with the Hessian above), or Heckman's two-step
            estimator with the corrected second-step covariance.
        cov_type : {"hessian", "opg", "robust"}
            ML covariance (see :func:`heckrec.classic._covariance.ml_covariance`).
            Ignored by two-step.
        maxiter, tol : int, float
            Newton iterations, and the Newton decrement at which to stop.
        start_params : array-like, optional
            ML start (gamma, beta, log sigma, atanh rho), e.g. where a profile found a
            higher maximum; the default is the two-step estimate (rho clipped to +-0.9).

        Returns
        -------
        HeckmanResults

        Warns
        -----
        ConvergenceWarning
            Newton's method did not converge.
        DegenerateEstimateWarning
            |rho| > 0.99, where the likelihood is not regular, or the covariance
            is not positive definite (those standard errors are then NaN).
        """
        if method not in ("ml", "twostep"):
            raise ValueError(f"method must be 'ml' or 'twostep', got {method!r}")
        self._check_fit_args(maxiter, tol)
        from ._twostep import twostep

        two = twostep(self)
        if method == "twostep":
            if abs(two["rho"]) > 1.0:
                # b_lambda / sigma is not bounded by 1. R's heckit reports it as it is (so
                # do we, to agree with R); Stata truncates it to +-1. Either way it is no
                # correlation: say so (../shared/reliability F19).
                warnings.warn(f"degenerate fit: the two-step rho = {two['rho']:.4f} lies outside "
                              "[-1, 1], so it is no correlation (R's heckit reports it as is, "
                              "Stata truncates it to +-1); use method='ml'",
                              DegenerateEstimateWarning, stacklevel=2)
            return HeckmanResults(self, method="twostep", **two)
        if start_params is not None:
            return self._fit_ml(self._check_start(start_params), cov_type, maxiter, tol)
        rho0 = float(np.clip(two["rho"], -0.9, 0.9))
        theta = np.concatenate([two["params_select"], two["params_outcome"],
                                [np.log(two["sigma"]), np.arctanh(rho0)]])
        return self._fit_ml(theta, cov_type, maxiter, tol)

    # -------------------------------------------------------------- tests
    def independent_loglike(self):
        """Log-likelihood of the model with rho = 0: probit + OLS fitted separately."""
        probit = self._selection_probit
        Xs, ys = self.X[self.s], self.y[self.s]
        resid = ys - Xs @ np.linalg.lstsq(Xs, ys, rcond=None)[0]
        n1 = ys.size
        return float(probit.llf) - 0.5 * n1 * (np.log(2 * np.pi * resid @ resid / n1) + 1.0)


def lr_test_rho(results):
    """Likelihood-ratio test of rho = 0 (no selection bias): (statistic, p-value), chi2(1)."""
    stat = 2.0 * (results.llf - results.model.independent_loglike())
    stat = max(stat, 0.0)
    return stat, float(stats.chi2.sf(stat, 1))
