"""Shared machinery of the linear-index selection models (continuous and binary outcome).

A model has the selection index g_o = Z gamma, the outcome index g_r = X beta
and trailing scalar parameters (atanh rho, and log sigma for a continuous
outcome). A subclass supplies the per-observation log-likelihood and its
derivatives in (g_o, g_r, scalars) through ``_obs_terms``; the score, the
Hessian, Newton's method and the covariance follow here from the chain rule.
"""

import warnings
from functools import cached_property

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning

from ..exceptions import DegenerateEstimateWarning
from ..models._base import RHO_BOUNDARY
from ._covariance import check_cov_type, ml_covariance
from ._results import HeckmanResults


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


#: Regressors beyond this magnitude make the likelihood's squares overflow.
MAX_MAGNITUDE = 1e150


def _check_magnitude(name, A, names):
    """A clear error for a column whose squares overflow (F20: it read "rank deficient")."""
    peak = np.max(np.abs(A), axis=0) if A.size else np.zeros(A.shape[1])
    for j in np.flatnonzero(peak > MAX_MAGNITUDE):
        raise ValueError(f"{name} column {names[j]!r} holds a value of magnitude {peak[j]:.3g}, "
                         "whose square overflows a float: rescale it (e.g. to thousands or "
                         "logs)")


def _selection_column(s, formula):
    """patsy codes a bool or two-level selection variable as two indicator columns."""
    if s.shape[1] != 2:
        return s
    names = [str(c) for c in s.columns]
    if names[1].endswith("[True]") and names[0].endswith("[False]"):
        return s.iloc[:, [1]]  # a bool: selected where True
    raise ValueError(f"the selection variable in {formula!r} is categorical, with levels "
                     f"{names}: it must be 0/1 or bool; say which level is selected, e.g. "
                     "'I(lfp == \"yes\") ~ age + educ'")


def _separation_message(Z, s, names):
    """Say that s is separated by Z, naming a column that separates it alone if one does."""
    culprit = ""
    for j in range(Z.shape[1]):
        z = Z[:, j]
        if np.ptp(z) > 0 and (z[s].min() > z[~s].max() or z[s].max() < z[~s].min()):
            culprit = f" (column {names[j]!r} alone separates it)"
            break
    return ("the selection s is perfectly predicted by Z" + culprit + ": the probit's "
            "coefficients run to infinity, so neither the selection equation nor rho has a "
            "maximum-likelihood estimate; drop or coarsen the separating regressor")


class LinearSelectionModel:
    """Base class: probit selection on Z, an outcome index on X, correlated errors.

    Subclasses set ``scalar_names`` (the trailing parameters of theta) and
    implement ``_check_outcome``, ``_obs_terms`` and ``_obs_second`` (the terms with
    their analytic second derivatives), or override ``hessian`` and ``_derivatives``.
    """

    scalar_names = ()

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
        self._check_outcome(y[s])
        if not np.all(np.isfinite(X[s])):
            raise ValueError("X contains NaN or infinity at selected rows (s == 1)")
        for name, A, rows, names in (("X", X[s], s.sum(), self.exog_names),
                                     ("Z", Z, n, self.exog_select_names)):
            _check_magnitude(name, A, names)
            if np.linalg.matrix_rank(A) < A.shape[1]:
                raise ValueError(f"{name} is rank deficient (collinear columns)")
            if A.shape[1] >= rows:
                raise ValueError(f"{name} has more columns than usable rows")
        self.y, self.X, self.s, self.Z = np.where(s, y, 0.0), np.where(s[:, None], X, 0.0), s, Z
        # X as given, unselected rows included: a parametric bootstrap may select them.
        self._X_given = X
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
        s = _selection_column(s, selection)
        if s.shape[1] != 1 or y.shape[1] != 1:
            raise ValueError("each formula needs exactly one left-hand-side variable")
        model = cls(y.iloc[:, 0].to_numpy(), X, s.iloc[:, 0].to_numpy(), Z)
        model._pandas = True
        return model

    @cached_property
    def _selection_probit(self):
        """statsmodels Probit of s on Z, fitted once per model: start values, the
        two-step's first step and the rho = 0 likelihood all use it."""
        import statsmodels.api as sm

        with warnings.catch_warnings():
            # separation is diagnosed below, by name; statsmodels' generic warnings are not
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            probit = sm.Probit(self.s.astype(float), self.Z).fit(
                disp=0, method="newton", tol=1e-12, maxiter=100)
        sign = np.where(self.s, 1.0, -1.0)
        if np.all(sign * (self.Z @ np.asarray(probit.params)) > 0):
            raise ValueError(_separation_message(self.Z, self.s, self.exog_select_names))
        return probit

    # ------------------------------------------------------------ likelihood
    def _components(self, theta):
        """(g_o, g_r, scalar, ...) at theta: the numbers each observation's terms depend on."""
        m, k = self.Z.shape[1], self.X.shape[1]
        return [self.Z @ theta[:m], self.X @ theta[m:m + k]] + list(theta[m + k:])

    def loglike(self, theta):
        """Log-likelihood at ``theta`` = (gamma, beta, scalars in ``scalar_names`` order)."""
        return float(np.sum(self._obs_terms(*self._components(theta))[0]))

    def score_obs(self, theta):
        """Per-observation scores (n, p) in the order of ``theta``."""
        _, derivs = self._obs_terms(*self._components(theta))
        n = self.s.size
        cols = [derivs[0][:, None] * self.Z, derivs[1][:, None] * self.X]
        cols += [np.broadcast_to(d, (n,))[:, None] for d in derivs[2:]]
        return np.hstack(cols)

    def hessian(self, theta):
        """Hessian of the log-likelihood at ``theta``.

        The terms of observation i depend on theta only through a few numbers
        (g_o, g_r and the scalars), linear in theta, so H is assembled from the
        subclass's analytic per-observation second derivatives in those
        (``_obs_second``); HeckmanSelection computes all of it in one numba pass.
        """
        return self._assemble(self._obs_second(*self._components(theta))[2])

    def _assemble(self, h):
        """H = sum_i J_i^T h_i J_i, J_i mapping theta to observation i's components."""
        n, c = h.shape[0], h.shape[1]
        blocks = [self.Z, self.X] + [np.ones((n, 1))] * (c - 2)
        H = np.block([[blocks[i].T @ (h[:, i, j][:, None] * blocks[j]) for j in range(c)]
                      for i in range(c)])
        return 0.5 * (H + H.T)

    def _derivatives(self, theta):
        """(loglik, gradient, Hessian) at theta, from one evaluation of the terms."""
        ll, derivs, h = self._obs_second(*self._components(theta))
        grad = np.concatenate([self.Z.T @ derivs[0], self.X.T @ derivs[1]]
                              + [[float(np.sum(d))] for d in derivs[2:]])
        return float(np.sum(ll)), grad, self._assemble(h)

    # ------------------------------------------------------------------ fit
    def _fit_ml(self, theta, cov_type, maxiter, tol):
        """Newton from ``theta``, then the covariance; returns the ML HeckmanResults."""
        check_cov_type(cov_type)
        theta, n_iter, converged = self._newton(theta, maxiter, tol)
        name = type(self).__name__
        if not converged:
            warnings.warn(f"{name} ML did not converge in {n_iter} Newton iterations",
                          ConvergenceWarning, stacklevel=3)
        rho = float(np.tanh(theta[-1]))
        if abs(rho) > RHO_BOUNDARY:
            warnings.warn(f"degenerate fit: rho = {rho:+.5f} is at the boundary +-1, where the "
                          "likelihood is not regular; the estimate and its standard errors are "
                          "not to be trusted (is the outcome equation misspecified?)",
                          DegenerateEstimateWarning, stacklevel=3)
        scores = None if cov_type == "hessian" else self.score_obs(theta)
        cov = ml_covariance(self.hessian(theta), scores, cov_type)
        if np.any(np.diag(cov) <= 0):
            warnings.warn("the covariance matrix is not positive definite (the fit is not at a "
                          "regular maximum); the affected standard errors are NaN",
                          DegenerateEstimateWarning, stacklevel=3)
        return HeckmanResults(self, method="ml", theta=theta, cov=cov, cov_type=cov_type,
                              llf=self.loglike(theta), n_iter=n_iter, converged=converged)

    def profile_loglike(self, athrho, start):
        """Log-likelihood maximised with atanh(rho) held at ``athrho``, from ``start``.

        Returns (loglik, theta at the restricted maximum).
        """
        theta = np.array(start, dtype=float)
        theta[-1] = athrho
        free = np.ones(theta.size, dtype=bool)
        free[-1] = False
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            theta, _, _ = self._newton(theta, 100, 1e-10, free)
        return self.loglike(theta), theta

    def _simulate(self, theta, rng):
        """(y, s) drawn from the model at ``theta``, at the regressors given (a new sample)."""
        if not np.all(np.isfinite(self._X_given)):
            raise ValueError("the parametric bootstrap simulates outcomes at every row, so X "
                             "must be finite at unselected rows too (here it holds NaN/inf)")
        m, k = self.Z.shape[1], self.X.shape[1]
        rho = np.tanh(theta[-1])
        v = rng.standard_normal(self.s.size)
        u = rho * v + np.sqrt(1.0 - rho**2) * rng.standard_normal(self.s.size)
        s = self.Z @ theta[:m] + v > 0
        return self._draw_outcome(self._X_given @ theta[m:m + k], u, theta), s

    @staticmethod
    def _check_fit_args(maxiter, tol):
        """maxiter a positive int and tol a positive finite number (F21)."""
        if isinstance(maxiter, (bool, np.bool_)) or not isinstance(maxiter, (int, np.integer)):
            raise TypeError(f"maxiter must be an int, got {maxiter!r}")
        if maxiter < 1:
            raise ValueError(f"maxiter must be >= 1, got {maxiter}")
        if isinstance(tol, (bool, np.bool_)) or not isinstance(tol, (int, float, np.number)):
            raise TypeError(f"tol must be a number, got {tol!r}")
        if not (np.isfinite(tol) and tol > 0):
            raise ValueError(f"tol must be a positive finite number, got {tol!r}")

    def _check_start(self, start_params):
        """start_params as a float vector of theta's length, finite, |atanh rho| <= 20."""
        theta = np.asarray(start_params, dtype=float).ravel()
        size = self.Z.shape[1] + self.X.shape[1] + len(self.scalar_names)
        if theta.size != size:
            raise ValueError(f"start_params needs {size} values (selection coefficients, "
                             f"outcome coefficients, {', '.join(self.scalar_names)}), got "
                             f"{theta.size}")
        if not np.all(np.isfinite(theta)) or abs(theta[-1]) > 20.0:
            raise ValueError("start_params must be finite, with |athrho| <= 20")
        return theta

    def _newton(self, theta, maxiter, tol, free=None):
        """Newton's method with a backtracking line search over ``theta[free]``."""
        free = np.ones(theta.size, dtype=bool) if free is None else free
        llf = self.loglike(theta)
        for it in range(1, maxiter + 1):
            _, g, H = self._derivatives(theta)
            g, H = g[free], H[np.ix_(free, free)]
            try:
                step = np.linalg.solve(-H, g)
                decrement = float(g @ step)
                if not decrement >= 0:
                    raise np.linalg.LinAlgError
            except np.linalg.LinAlgError:
                # Not concave here: a scaled gradient step instead.
                step = g / max(1.0, np.abs(np.diag(H)).max())
                decrement = float(g @ step)
            t, accepted = 1.0, False
            while t > 1e-10 and not accepted:
                candidate = theta.copy()
                candidate[free] += t * step
                # Beyond |atanh rho| = 20 (|rho| = 1 - 8e-18) the kernels' 1/cosh
                # overflows: no step may land there.
                if np.max(np.abs(candidate[-len(self.scalar_names):])) <= 20.0:
                    new = self.loglike(candidate)
                    accepted = np.isfinite(new) and new >= llf - 1e-12 * abs(llf)
                t *= 0.5
            if not accepted:
                return theta, it, False  # no step improves: stuck, report non-convergence
            theta, llf = candidate, new
            if decrement < tol:
                return theta, it, True
        return theta, maxiter, False
