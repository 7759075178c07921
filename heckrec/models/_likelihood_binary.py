"""Log-likelihood + gradient of the binary-outcome (bivariate probit) MF model.

The pass is: scores g_o, g_r per pair, the per-pair terms of the chosen
likelihood (:mod:`heckrec._kernels.bivariate_probit`), then the row
reductions of :mod:`heckrec._kernels.mf_rows`. Only the numba backend exists
for this model; the tests check the kernels against mpmath / scipy
quadrature and finite differences instead of an array twin.
"""

import numpy as np

from .._kernels import bivariate_probit as terms
from .._kernels import mf_rows
from ._likelihood import finish_global_gradients, pair_scores

LIKELIHOODS = ("exact", "ghk", "mc")


class BivariateProbitLikelihood:
    """P(o=0) = Phi(-g_o), P(o=1, r) = Phi2(g_o, q g_r; q rho) (GUIDE section 1).

    Parameters
    ----------
    kind : {"exact", "ghk", "mc"}
    draws : ndarray or None
        ``ghk``: log-uniforms; ``mc``: standard normals. Fixed for the fit.
    step_r : bool
        ``mc`` only: use MC^r (True, moves g_r and rho) or MC^o (False).
    """

    scalars = ("a",)

    def __init__(self, kind="exact", draws=None, step_r=True):
        self.kind, self.draws, self.step_r = kind, draws, step_r
        self.n_guarded = 0

    def pair_terms(self, g_o, g_r, r, o, a, d_o, d_r):
        """Fill the per-pair derivatives; return (loglik, dl/da)."""
        if self.kind == "exact":
            return terms.exact_terms(g_o, g_r, r, o, a, d_o, d_r)
        if self.kind == "ghk":
            return terms.ghk_terms(g_o, g_r, r, o, a, self.draws, d_o, d_r)
        ll, ga, self.n_guarded = terms.mc_terms(g_o, g_r, r, o, a, self.draws, self.step_r,
                                                d_o, d_r)
        return ll, ga

    def per_pair_loglik(self, theta, layout, pairs):
        """Exact log-likelihood of each pair at ``theta`` (whatever ``kind`` fits)."""
        g_o, g_r = pair_scores(theta, layout, pairs)
        out = np.empty(pairs.n_pairs)
        terms.exact_per_pair(g_o, g_r, pairs.r, pairs.o, layout.unpack(theta).a, out)
        return out

    def loglik_grad(self, theta, layout, pairs, backend="numba"):
        """Return ``(loglik, gradient)`` at ``theta`` summed over ``pairs``."""
        if backend != "numba":
            raise ValueError(f"BivariateProbitMF runs on backend='numba' only, got {backend!r}")
        p = layout.unpack(theta)
        grad = np.zeros(layout.size)
        g = layout.unpack(grad, scalars_as_float=False)
        d_o, d_r, g_o, g_r = pairs.workspace(4)
        for tag, out in (("o", g_o), ("r", g_r)):
            mf_rows.score_pairs(pairs.user_ptr, pairs.items, pairs.F,
                                *(getattr(p, f"{b}_{tag}") for b in ("mu", "bu", "bi", "P", "Q", "w")),
                                out)
        ll, g.a[0] = self.pair_terms(g_o, g_r, pairs.r, pairs.o, p.a, d_o, d_r)
        n_feat = pairs.F.shape[1]
        g_w_o_u = np.zeros((pairs.n_users, n_feat))
        g_w_r_u = np.zeros((pairs.n_users, n_feat))
        mf_rows.user_rows(pairs.user_ptr, pairs.items, pairs.F, d_o, d_r, p.Q_o, p.Q_r,
                          g.bu_o, g.P_o, g.bu_r, g.P_r, g_w_o_u, g_w_r_u)
        mf_rows.item_pass(pairs.item_ptr, pairs.item_order, pairs.users, d_o, d_r,
                          p.P_o, p.P_r, g.bi_o, g.Q_o, g.bi_r, g.Q_r)
        finish_global_gradients(g, g_w_o_u, g_w_r_u)
        return float(ll), grad
