"""Linear-index bivariate probit with sample selection (Stata heckprobit).

The per-observation terms are the binary MF model's with linear indices,
g_o = Z gamma and g_r = X beta, evaluated by the exact bivariate normal CDF
of :mod:`heckrec._kernels.bivariate_normal`.
"""

from functools import cached_property

import numpy as np
import scipy.special
import statsmodels.api as sm

from .._array.heckman_continuous import log_ndtr_mills
from .._kernels.bivariate_normal import log_bvn_cdf_array
from ._linear import LinearSelectionModel


class HeckmanProbit(LinearSelectionModel):
    """Probit outcome with probit sample selection (bivariate probit with selection).

    ``y = 1[X beta + u > 0]``, observed only where ``s = 1[Z gamma + v > 0]``,
    with ``(v, u)`` standard bivariate normal with correlation ``rho``. The
    likelihood is P(s = 0) = Phi(-Z gamma), P(s = 1, y) = Phi2(Z gamma, q X beta;
    q rho) with q = 2 y - 1, as in Stata's ``heckprobit`` and R sampleSelection's
    ``selection()`` with a binary outcome. As in statsmodels, no constant is
    added: include a column of ones, or use :meth:`from_formula`.

    Parameters
    ----------
    y : array-like (n,)
        Binary outcome (0/1 or bool); read only where ``s == 1``.
    X : array-like (n, k) or DataFrame
        Outcome regressors; rows with ``s == 0`` are not read.
    s : array-like (n,) of 0/1
        Selection indicator.
    Z : array-like (n, m) or DataFrame
        Selection regressors; must be finite everywhere.

    Examples
    --------
    >>> import numpy as np
    >>> from heckrec.classic import HeckmanProbit
    >>> from heckrec.datasets import make_tobit2
    >>> y, X, s, Z = make_tobit2(5000, rho=0.5, sigma=1.0, random_state=0)
    >>> res = HeckmanProbit((y > 0).astype(float), X, s, Z).fit()
    >>> round(res.rho, 1)
    0.5
    """

    scalar_names = ("athrho",)
    title = "Probit with sample selection"

    def _check_outcome(self, y_selected):
        if not np.all((y_selected == 0) | (y_selected == 1)):
            raise ValueError("y must be binary (0/1 or False/True) at selected rows (s == 1)")
        if y_selected.min() == y_selected.max():
            raise ValueError("y takes only one value at the selected rows; the outcome "
                             "equation is not identified")

    def _obs_terms(self, g_o, g_r, a):
        n = self.s.size
        a = np.broadcast_to(np.asarray(a, dtype=float), (n,))
        sel = self.s
        q = np.where(self.y > 0.5, 1.0, -1.0)[sel]
        ll, mills = log_ndtr_mills(np, scipy.special, -g_o)
        d_o = -mills
        d_r = np.zeros(n)
        d_a = np.zeros(n)
        out = log_bvn_cdf_array(np.ascontiguousarray(g_o[sel]),
                                np.ascontiguousarray(q * g_r[sel]),
                                np.ascontiguousarray(q * a[sel]))
        ll[sel], d_o[sel], d_r[sel], d_a[sel] = out[0], out[1], q * out[2], q * out[3]
        return ll, [d_o, d_r, d_a]

    def _obs_second(self, g_o, g_r, a):
        """(loglik, first derivatives, second derivatives (n, 3, 3)) in (g_o, g_r, a).

        One evaluation of log Phi2 gives everything: with P = Phi2(h, k; rho), its
        derivatives as ratios d_h = P_h / P, d_k = P_k / P, D = phi2 / P (the kernel's
        log-space values, finite where P underflows) and Phi2's own identities
        P_hh = -h P_h - rho phi2, P_hk = phi2, P_h rho = -phi2 (h - rho k) / (1 - rho^2),
        P_rho rho = phi2 [rho / (1 - rho^2) + (hk (1 + rho^2) - rho (h^2 + k^2)) / (1 - rho^2)^2],
        L_ij = P_ij / P - (P_i / P)(P_j / P); then rho = tanh(a) and the sign q = 2y - 1
        (h = g_o, k = q g_r, rho -> q rho). This replaced six differenced evaluations per
        Newton step (issue 17: heckprobit 58x R at 1e5, the aim 100x). Checked against
        finite differences of the analytic first derivatives in the tests.
        """
        n = self.s.size
        sel = self.s
        a = float(np.asarray(a).ravel()[0]) if np.ndim(a) else float(a)
        q = np.where(self.y > 0.5, 1.0, -1.0)[sel]
        ll, mills = log_ndtr_mills(np, scipy.special, -g_o)
        d_o, d_r, d_a = -mills, np.zeros(n), np.zeros(n)
        h = np.zeros((n, 3, 3))
        h[:, 0, 0] = -mills * (mills - g_o)
        hh, kk = np.ascontiguousarray(g_o[sel]), np.ascontiguousarray(q * g_r[sel])
        aq = q * a
        out = log_bvn_cdf_array(hh, kk, np.ascontiguousarray(aq))
        rho, one_minus = np.tanh(aq), 1.0 / np.cosh(aq) ** 2  # rho' and 1 - rho'^2
        dh, dk = out[1], out[2]
        D = out[3] / one_minus  # phi2 / P (the kernel's d/da is (1 - rho^2) phi2 / P)
        L_hh = -hh * dh - rho * D - dh * dh
        L_hk = D - dh * dk
        L_kk = -kk * dk - rho * D - dk * dk
        L_hr = -D * (hh - rho * kk) / one_minus - dh * D
        L_kr = -D * (kk - rho * hh) / one_minus - dk * D
        L_rr = D * (rho / one_minus + (hh * kk * (1 + rho**2) - rho * (hh**2 + kk**2))
                    / one_minus**2) - D * D
        # a' = q a with rho' = tanh(a'): d rho'/da' = 1 - rho'^2, d2 rho'/da'^2 = -2 rho' (1 - rho'^2)
        L_ha = L_hr * one_minus
        L_ka = L_kr * one_minus
        L_aa = L_rr * one_minus**2 - 2.0 * rho * one_minus * D
        ll[sel], d_o[sel], d_r[sel], d_a[sel] = out[0], dh, q * dk, q * out[3]
        hs = h[sel]
        hs[:, 0, 0] = L_hh
        hs[:, 0, 1] = hs[:, 1, 0] = q * L_hk
        hs[:, 1, 1] = L_kk
        hs[:, 0, 2] = hs[:, 2, 0] = q * L_ha
        hs[:, 1, 2] = hs[:, 2, 1] = L_ka
        hs[:, 2, 2] = L_aa
        h[sel] = hs
        return ll, [d_o, d_r, d_a], h

    def _draw_outcome(self, g_r, u, theta):
        return (g_r + u > 0).astype(float)

    def fit(self, method="ml", cov_type="hessian", maxiter=100, tol=1e-10, start_params=None):
        """Estimate the model by maximum likelihood.

        Parameters
        ----------
        method : {"ml"}
            Only maximum likelihood (there is no two-step estimator for a
            binary outcome).
        cov_type : {"hessian", "opg", "robust"}
            Covariance: inverse observed information, outer product of
            gradients (BHHH, what R's default ``maxLik`` run reports), or
            the sandwich.
        maxiter, tol : int, float
            Newton iterations, and the Newton decrement at which to stop.
        start_params : array-like, optional
            ML start (gamma, beta, atanh rho); the default is the two independent
            probits with rho = 0.

        Returns
        -------
        HeckmanResults

        Warns
        -----
        ConvergenceWarning, DegenerateEstimateWarning
            As for :meth:`HeckmanSelection.fit`.
        """
        if method != "ml":
            raise ValueError(f"HeckmanProbit is fitted by method='ml' only, got {method!r}")
        self._check_fit_args(maxiter, tol)
        if start_params is not None:
            return self._fit_ml(self._check_start(start_params), cov_type, maxiter, tol)
        # Start: the two equations as independent probits (rho = 0).
        theta = np.concatenate([np.asarray(self._selection_probit.params),
                                np.asarray(self._outcome_probit.params), [0.0]])
        return self._fit_ml(theta, cov_type, maxiter, tol)

    @cached_property
    def _outcome_probit(self):
        """statsmodels Probit of y on X over the selected rows, fitted once per model."""
        return sm.Probit(self.y[self.s], self.X[self.s]).fit(disp=0, method="newton", tol=1e-12,
                                                             maxiter=100)

    def independent_loglike(self):
        """Log-likelihood with rho = 0: the two probits fitted separately."""
        return float(self._selection_probit.llf + self._outcome_probit.llf)

