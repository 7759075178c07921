"""A few ratings of randomly exposed pairs as a term of the selection likelihood.

A pair shown at random (a MAR slice, e.g. 5% of Coat's or Yahoo! R3's random-exposure
test ratings) was not selected by the user, so it carries no selection event: it enters
the likelihood through the outcome's marginal density alone,

    continuous:  log f(r) = -log sigma + log phi((r - g_r) / sigma)
    binary:      log P(r)  = log Phi(q g_r),  q = 2 r - 1.

This anchors the level of g_r where the selected pairs only show it through the
selection-shifted mean g_r + rho sigma lambda(g_o), so rho is identified by the level
difference and not by the normal functional form alone (issue 13; GUIDE section 4
measured it on Coat: rho -0.61 -> +0.03 at lam 10, MAR RMSE 2.15 -> 1.13).

The slice is small (hundreds to thousands of pairs), so its term is plain numpy; the
row sums use ``np.bincount``, which adds in index order, so the term is deterministic.
"""

import numpy as np
from scipy.special import log_ndtr

from .._array.heckman_continuous import LOG_2PI_HALF
from ._likelihood import WrappedLikelihood


class UnbiasedSlice:
    """Randomly exposed pairs and their outcomes, with ids encoded as in the fit.

    Parameters
    ----------
    users, items : ndarray of int
        Encoded ids (every one seen in the fit's ``X``).
    r : ndarray of float
        Outcome in the fit's units (standardised continuous outcome, or 0/1).
    F : ndarray of shape (n, n_features)
        Side features.
    """

    def __init__(self, users, items, r, F):
        self.users = np.asarray(users, dtype=np.int64)
        self.items = np.asarray(items, dtype=np.int64)
        self.r = np.asarray(r, dtype=np.float64)
        self.F = np.ascontiguousarray(F, dtype=np.float64)

    @property
    def n_pairs(self):
        return self.users.shape[0]

    def outcome_score(self, p):
        """g_r of each slice pair at the unpacked parameters ``p``."""
        g = p.mu_r + p.bu_r[self.users] + p.bi_r[self.items] + np.einsum(
            "ij,ij->i", p.P_r[self.users], p.Q_r[self.items])
        if self.F.shape[1]:
            g = g + self.F @ p.w_r
        return g


def continuous_terms(g_r, r, s):
    """Per-pair log f(r) and its derivatives in g_r and s = log sigma."""
    e = (r - g_r) * np.exp(-s)
    ll = -s - LOG_2PI_HALF - 0.5 * e * e
    return ll, e * np.exp(-s), e * e - 1.0


def binary_terms(g_r, r):
    """Per-pair log Phi(q g_r) and its derivative in g_r (no scale parameter)."""
    q = 2.0 * r - 1.0
    x = q * g_r
    ll = log_ndtr(x)
    mills = np.exp(-0.5 * x * x - LOG_2PI_HALF - ll)
    return ll, q * mills, None


class WithUnbiasedSlice(WrappedLikelihood):
    """``likelihood`` plus the outcome density of the MAR slice (same parameters).

    Parameters
    ----------
    likelihood : object with ``scalars`` and ``loglik_grad(theta, layout, pairs, backend)``
    unbiased : UnbiasedSlice
    outcome : {"continuous", "binary"}
    """

    def __init__(self, likelihood, unbiased, outcome):
        super().__init__(likelihood)
        self.unbiased, self.outcome = unbiased, outcome

    def slice_terms(self, p):
        """Per-pair log-likelihood of the slice and its derivatives (g_r, s or None) at the
        unpacked parameters ``p``."""
        g_r = self.unbiased.outcome_score(p)
        if self.outcome == "continuous":
            return continuous_terms(g_r, self.unbiased.r, p.s)
        return binary_terms(g_r, self.unbiased.r)

    def slice_loglik_grad(self, theta, layout):
        """(log-likelihood, gradient) of the slice term alone."""
        s = self.unbiased
        p = layout.unpack(np.asarray(theta))
        ll, d_r, d_s = self.slice_terms(p)
        grad = np.zeros(layout.size)
        g = layout.unpack(grad, scalars_as_float=False)
        g.mu_r[0] = d_r.sum()
        g.bu_r[:] = np.bincount(s.users, weights=d_r, minlength=g.bu_r.shape[0])
        g.bi_r[:] = np.bincount(s.items, weights=d_r, minlength=g.bi_r.shape[0])
        for f in range(p.P_r.shape[1]):
            g.P_r[:, f] = np.bincount(s.users, weights=d_r * p.Q_r[s.items, f],
                                      minlength=g.P_r.shape[0])
            g.Q_r[:, f] = np.bincount(s.items, weights=d_r * p.P_r[s.users, f],
                                      minlength=g.Q_r.shape[0])
        if s.F.shape[1]:
            g.w_r[:] = s.F.T @ d_r
        if d_s is not None:
            g.s[0] = d_s.sum()
        return float(ll.sum()), grad

    def loglik_grad(self, theta, layout, pairs, backend="numba"):
        """Return ``(loglik, gradient)``: the selected pairs' plus the slice's."""
        ll, grad = self.likelihood.loglik_grad(theta, layout, pairs, backend)
        ll_s, grad_s = self.slice_loglik_grad(theta, layout)
        if hasattr(grad, "get"):  # a cupy gradient: add the slice's on the device
            import cupy

            return ll + ll_s, grad + cupy.asarray(grad_s)
        return ll + ll_s, grad + grad_s

    def per_pair_loglik(self, theta, layout, pairs):
        """Per-pair log-likelihood: the selected pairs', then the slice's."""
        return np.concatenate([self.likelihood.per_pair_loglik(theta, layout, pairs),
                               self.slice_terms(layout.unpack(np.asarray(theta)))[0]])
