"""Linear-index Heckman selection model (tobit-2): ML and two-step.

The likelihood per observation is the MF model's with linear indices,
g_o = Z gamma and g_r = X beta, so the per-observation terms come from the
same array code (:func:`heckrec._array.heckman_continuous.pair_terms`).
"""

import warnings

import numpy as np
import pandas as pd
import scipy.special
from scipy import stats
from sklearn.exceptions import ConvergenceWarning

from .._array.heckman_continuous import pair_terms
from ..exceptions import DegenerateEstimateWarning
from ..models._base import RHO_BOUNDARY
from ._covariance import ml_covariance
from ._results import HeckmanResults

# Steps for differencing the per-observation score in (g_o, g_r, a, s).
_FD_STEP = 1e-5


def _as_2d(name, A):
    names = list(A.columns) if isinstance(A, pd.DataFrame) else None
    A = np.asarray(A, dtype=float)
    if A.ndim == 1:
        A = A[:, None]
    if A.ndim != 2:
        raise ValueError(f"{name} must be 2-dimensional, got shape {A.shape}")
    if names is None:
        names = [f"{name.lower()}{j}" for j in range(A.shape[1])]
    return A, [str(n) for n in names]


class HeckmanSelection:
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

    def __init__(self, y, X, s, Z):
        X, self.exog_names = _as_2d("X", X)
        Z, self.exog_select_names = _as_2d("Z", Z)
        y = np.asarray(y, dtype=float).ravel()
        s = np.asarray(s).ravel()
        n = Z.shape[0]
        for name, arr in (("y", y), ("X", X), ("s", s)):
            if arr.shape[0] != n:
                raise ValueError(f"{name} has {arr.shape[0]} rows but Z has {n}")
        if not np.all((s == 0) | (s == 1)):
            raise ValueError("s must hold only 0/1 or False/True")
        s = s.astype(bool)
        if not np.all(np.isfinite(Z)):
            raise ValueError("Z contains NaN or infinity")
        if not s.any() or s.all():
            raise ValueError("s must have both selected (1) and unselected (0) rows")
        if not np.all(np.isfinite(y[s])):
            raise ValueError("y contains NaN or infinity at selected rows (s == 1)")
        if not np.all(np.isfinite(X[s])):
            raise ValueError("X contains NaN or infinity at selected rows (s == 1)")
        for name, A, rows in (("X", X[s], s.sum()), ("Z", Z, n)):
            if np.linalg.matrix_rank(A) < A.shape[1]:
                raise ValueError(f"{name} is rank deficient (collinear columns)")
            if A.shape[1] >= rows:
                raise ValueError(f"{name} has more columns than usable rows")
        self.y, self.X, self.s, self.Z = np.where(s, y, 0.0), np.where(s[:, None], X, 0.0), s, Z
        self._pandas = None

    @classmethod
    def from_formula(cls, selection, outcome, data):
        """Build the model from two formulas, e.g. ``"lfp ~ age + educ"``, ``"wage ~ educ"``.

        Both formulas get an intercept unless they say ``- 1``. Rows are never
        dropped for missing values in the outcome or its regressors (they are
        only read where selected); missing values in selected rows or in the
        selection equation raise ``ValueError``.
        """
        import patsy

        keep = patsy.NAAction(NA_types=[])
        s, Z = patsy.dmatrices(selection, data, NA_action=keep, return_type="dataframe")
        # log(wage) is -inf where wage = 0 in unselected rows: expected, never read.
        with np.errstate(divide="ignore", invalid="ignore"):
            y, X = patsy.dmatrices(outcome, data, NA_action=keep, return_type="dataframe")
        if s.shape[1] != 1 or y.shape[1] != 1:
            raise ValueError("each formula needs exactly one left-hand-side variable")
        model = cls(y.iloc[:, 0].to_numpy(), X, s.iloc[:, 0].to_numpy(), Z)
        model._pandas = True
        return model

    # ------------------------------------------------------------ likelihood
    def _split(self, theta):
        m, k = self.Z.shape[1], self.X.shape[1]
        return theta[:m], theta[m:m + k], theta[m + k], theta[m + k + 1]

    def _terms(self, theta):
        gamma, beta, s_log, a = self._split(theta)
        g_o, g_r = self.Z @ gamma, self.X @ beta
        return g_o, g_r, a, s_log

    def loglike(self, theta):
        """Log-likelihood at ``theta = (gamma, beta, log sigma, atanh rho)``."""
        g_o, g_r, a, s_log = self._terms(theta)
        return float(np.sum(pair_terms(np, scipy.special, g_o, g_r, self.y, self.s, a, s_log)[0]))

    def score_obs(self, theta):
        """Per-observation scores (n, p) in the order of ``theta``."""
        g_o, g_r, a, s_log = self._terms(theta)
        _, d_o, d_r, d_a, d_s = pair_terms(np, scipy.special, g_o, g_r, self.y, self.s, a, s_log)
        return np.column_stack([d_o[:, None] * self.Z, d_r[:, None] * self.X, d_s, d_a])

    def hessian(self, theta):
        """Hessian of the log-likelihood, by central differences of the analytic score.

        The score of observation i depends on theta only through the four
        numbers (g_o, g_r, a, s), linear in theta; differencing its derivatives
        in those four gives the 4x4 second-derivative matrix per observation,
        and the chain rule assembles H at the cost of eight score evaluations,
        whatever the number of regressors.
        """
        g_o, g_r, a, s_log = self._terms(theta)
        n = g_o.shape[0]
        base = [g_o, g_r, np.full(n, a), np.full(n, s_log)]
        h = np.empty((n, 4, 4))
        for j in range(4):
            step = _FD_STEP * max(1.0, float(np.max(np.abs(base[j]))))
            args_up = list(base)
            args_dn = list(base)
            args_up[j] = base[j] + step
            args_dn[j] = base[j] - step
            up = pair_terms(np, scipy.special, args_up[0], args_up[1], self.y, self.s,
                            args_up[2], args_up[3])[1:]
            dn = pair_terms(np, scipy.special, args_dn[0], args_dn[1], self.y, self.s,
                            args_dn[2], args_dn[3])[1:]
            # pair_terms returns derivatives in the order (g_o, g_r, a, s).
            for i in range(4):
                h[:, i, j] = (up[i] - dn[i]) / (2 * step)
        h = 0.5 * (h + h.transpose(0, 2, 1))
        # Jacobian of (g_o, g_r, a, s) in theta = (gamma, beta, s, a).
        blocks = [self.Z, self.X, np.ones((n, 1)), np.ones((n, 1))]
        order = [0, 1, 3, 2]  # theta's blocks map to h's index: gamma->g_o, beta->g_r, s, a
        H = np.block([[blocks[bi].T @ (h[:, order[bi], order[bj]][:, None] * blocks[bj])
                       for bj in range(4)] for bi in range(4)])
        return 0.5 * (H + H.T)

    # ------------------------------------------------------------------ fit
    def fit(self, method="ml", cov_type="hessian", maxiter=100, tol=1e-10):
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
        from ._twostep import twostep

        two = twostep(self)
        if method == "twostep":
            return HeckmanResults(self, method="twostep", **two)
        rho0 = float(np.clip(two["rho"], -0.9, 0.9))
        theta = np.concatenate([two["params_select"], two["params_outcome"],
                                [np.log(two["sigma"]), np.arctanh(rho0)]])
        theta, n_iter, converged = self._newton(theta, maxiter, tol)
        if not converged:
            warnings.warn(f"HeckmanSelection ML did not converge in {n_iter} Newton iterations",
                          ConvergenceWarning, stacklevel=2)
        rho = float(np.tanh(theta[-1]))
        if abs(rho) > RHO_BOUNDARY:
            warnings.warn(f"degenerate fit: rho = {rho:+.5f} is at the boundary +-1, where the "
                          "likelihood is not regular; the estimate and its standard errors are "
                          "not to be trusted (is the outcome equation misspecified?)",
                          DegenerateEstimateWarning, stacklevel=2)
        H = self.hessian(theta)
        cov = ml_covariance(H, self.score_obs(theta), cov_type)
        if np.any(np.diag(cov) <= 0):
            warnings.warn("the covariance matrix is not positive definite (the fit is not at a "
                          "regular maximum); the affected standard errors are NaN",
                          DegenerateEstimateWarning, stacklevel=2)
        return HeckmanResults(self, method="ml", theta=theta, cov=cov, cov_type=cov_type,
                              llf=self.loglike(theta), n_iter=n_iter, converged=converged)

    def _newton(self, theta, maxiter, tol):
        llf = self.loglike(theta)
        for it in range(1, maxiter + 1):
            g = self.score_obs(theta).sum(axis=0)
            H = self.hessian(theta)
            try:
                step = np.linalg.solve(-H, g)
                decrement = float(g @ step)
                if not decrement >= 0:
                    raise np.linalg.LinAlgError
            except np.linalg.LinAlgError:
                # Not concave here: a scaled gradient step instead.
                step = g / max(1.0, np.abs(np.diag(H)).max())
                decrement = float(g @ step)
            t = 1.0
            while t > 1e-10:
                candidate = theta + t * step
                new = self.loglike(candidate)
                if np.isfinite(new) and new >= llf - 1e-12 * abs(llf):
                    break
                t *= 0.5
            theta, llf = candidate, new
            if decrement < tol:
                return theta, it, True
        return theta, maxiter, False

    # -------------------------------------------------------------- tests
    def independent_loglike(self):
        """Log-likelihood of the model with rho = 0: probit + OLS fitted separately."""
        import statsmodels.api as sm

        probit = sm.Probit(self.s.astype(float), self.Z).fit(disp=0, method="newton", tol=1e-12)
        Xs, ys = self.X[self.s], self.y[self.s]
        resid = ys - Xs @ np.linalg.lstsq(Xs, ys, rcond=None)[0]
        n1 = ys.size
        return float(probit.llf) - 0.5 * n1 * (np.log(2 * np.pi * resid @ resid / n1) + 1.0)


def lr_test_rho(results):
    """Likelihood-ratio test of rho = 0 (no selection bias): (statistic, p-value), chi2(1)."""
    stat = 2.0 * (results.llf - results.model.independent_loglike())
    stat = max(stat, 0.0)
    return stat, float(stats.chi2.sf(stat, 1))
