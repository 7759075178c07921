"""Log-likelihood + gradient of the continuous Heckman MF model, per backend.

``backend="numba"`` runs the two-pass kernels of
:mod:`heckrec._kernels.heckman_continuous`; ``"numpy"`` and ``"cupy"`` run the
array twin in :mod:`heckrec._array.heckman_continuous` (the cupy path is the
same code with ``xp = cupy``).
"""

import numpy as np
import scipy.special

from .._array import heckman_continuous as array_impl
from .._array._namespace import get_namespace
from .._kernels import heckman_continuous as kernels
from .._kernels import heckman_hvp, mf_rows

BACKENDS = ("numba", "numpy", "cupy")


def pair_scores(theta, layout, pairs):
    """(g_o, g_r) of every pair at ``theta`` (pairs in PairSet order)."""
    p = layout.unpack(theta)
    out = []
    for tag in ("o", "r"):
        g = np.empty(pairs.n_pairs)
        mf_rows.score_pairs(pairs.user_ptr, pairs.items, pairs.F,
                            *(getattr(p, f"{b}_{tag}") for b in ("mu", "bu", "bi", "P", "Q", "w")),
                            g)
        out.append(g)
    return out


def finish_global_gradients(g, g_w_o_u, g_w_r_u):
    """Fill the gradients of mu and w from the row sums the kernels left.

    dl/dmu is the sum of all per-pair derivatives, i.e. of the user biases';
    dl/dw is the sum of the per-user partial sums ``g_w_*_u``.
    """
    g.mu_o[0] = g.bu_o.sum()
    g.mu_r[0] = g.bu_r.sum()
    g.w_o[:] = g_w_o_u.sum(axis=0)
    g.w_r[:] = g_w_r_u.sum(axis=0)


class WrappedLikelihood:
    """Base of a likelihood that adds a term to another (the combined objective, a MAR slice).

    Passes through what the fits read off a likelihood: its scalar parameters, and the
    mc likelihood's step switch (``step_r``, set by the alternating steps) and guard
    count. There is no exact Hessian-vector product: the standard errors difference
    the gradient.
    """

    hessian_product = None

    def __init__(self, likelihood):
        self.likelihood = likelihood

    @property
    def scalars(self):
        return self.likelihood.scalars

    @property
    def step_r(self):
        return self.likelihood.step_r

    @step_r.setter
    def step_r(self, value):
        self.likelihood.step_r = value

    @property
    def n_guarded(self):
        return self.likelihood.n_guarded


class ContinuousHeckmanLikelihood:
    """Closed-form likelihood of the continuous-outcome selection model (GUIDE section 1)."""

    scalars = ("a", "s")

    def loglik_grad(self, theta, layout, pairs, backend="numba"):
        """Return ``(loglik, gradient)`` at ``theta`` summed over ``pairs``."""
        if backend == "numba":
            return self._numba(theta, layout, pairs)
        xp, special = get_namespace(backend)
        p = layout.unpack(xp.asarray(theta))  # parameters on the same device as the pairs
        dev = pairs.on_device(xp)
        ll, blocks = array_impl.loglik_grad(xp, special, p, dev.users, dev.items, dev.r,
                                            dev.o, dev.F, pairs.n_users, pairs.n_items)
        grad = xp.zeros(layout.size)
        for name, value in blocks.items():
            grad[layout.slices[name]] = xp.asarray(value).ravel()
        return ll, grad

    def hessian_product(self, theta, layout, pairs):
        """``v -> H v``, H the log-likelihood's exact Hessian at ``theta``, on every block
        but a and s (their entries of H v are left 0; see :mod:`heckrec._kernels.heckman_hvp`).

        The per-pair derivatives are computed here once, in user order and in item
        order (ten arrays of the pairs' length); each product then costs two
        sequential passes without a normal CDF.
        """
        p = layout.unpack(theta)
        per_pair = tuple(np.empty(pairs.n_pairs) for _ in range(5))  # d_o d_r h_oo h_or h_rr
        heckman_hvp.pair_derivatives(pairs.user_ptr, pairs.items, pairs.r, pairs.o, pairs.F,
                                     p.mu_o, p.bu_o, p.bi_o, p.P_o, p.Q_o, p.w_o,
                                     p.mu_r, p.bu_r, p.bi_r, p.P_r, p.Q_r, p.w_r, p.a, p.s,
                                     *per_pair)
        by_item = pairs.item_order
        # (own bias, own factors, other bias, other factors, pointer, per-pair arrays)
        sides = (
            ("bu", "P", "bi", "Q", pairs.user_ptr, (pairs.items, pairs.o, pairs.F, *per_pair)),
            ("bi", "Q", "bu", "P", pairs.item_ptr,
             tuple(np.ascontiguousarray(x[by_item])
                   for x in (pairs.users, pairs.o, pairs.F, *per_pair))),
        )
        n_feat = p.w_o.shape[0]

        def product(v):
            d = layout.unpack(v)
            out = np.zeros(layout.size)
            g = layout.unpack(out, scalars_as_float=False)
            w_parts = []
            for bias, factors, other_bias, other_factors, ptr, arrays in sides:
                w_parts.append((np.zeros((ptr.size - 1, n_feat)),
                                np.zeros((ptr.size - 1, n_feat))))
                heckman_hvp.hvp_rows(
                    ptr, *arrays,
                    *(getattr(p, f"{name}_{tag}") for tag in "or"
                      for name in (factors, other_factors)),
                    *(getattr(d, f"{name}_{tag}") for tag in "or"
                      for name in ("mu", bias, other_bias, factors, other_factors, "w")),
                    *(getattr(g, f"{name}_{tag}") for tag in "or" for name in (bias, factors)),
                    *w_parts[-1])
            finish_global_gradients(g, *w_parts[0])  # mu and w from the user pass
            return out

        return product

    def per_pair_loglik(self, theta, layout, pairs):
        """Log-likelihood of each pair at ``theta`` (the sandwich covariance's scores)."""
        g_o, g_r = pair_scores(theta, layout, pairs)
        p = layout.unpack(theta)
        return array_impl.pair_terms(np, scipy.special, g_o, g_r, pairs.r, pairs.o, p.a, p.s)[0]

    def _numba(self, theta, layout, pairs):
        p = layout.unpack(theta)
        grad = np.zeros(layout.size)
        g = layout.unpack(grad, scalars_as_float=False)
        n_feat = p.w_o.shape[0]
        d_o, d_r = pairs.workspace()
        g_w_o_u = np.zeros((pairs.n_users, n_feat))
        g_w_r_u = np.zeros((pairs.n_users, n_feat))
        scal_u = np.empty((pairs.n_users, 3))
        kernels.user_pass(pairs.user_ptr, pairs.items, pairs.r, pairs.o, pairs.F,
                          p.mu_o, p.bu_o, p.bi_o, p.P_o, p.Q_o, p.w_o,
                          p.mu_r, p.bu_r, p.bi_r, p.P_r, p.Q_r, p.w_r, p.a, p.s,
                          d_o, d_r, g.bu_o, g.P_o, g.bu_r, g.P_r, g_w_o_u, g_w_r_u, scal_u)
        kernels.item_pass(pairs.item_ptr, pairs.item_order, pairs.users, d_o, d_r,
                          p.P_o, p.P_r, g.bi_o, g.Q_o, g.bi_r, g.Q_r)
        finish_global_gradients(g, g_w_o_u, g_w_r_u)
        ll, g.a[0], g.s[0] = scal_u.sum(axis=0)
        return float(ll), grad
