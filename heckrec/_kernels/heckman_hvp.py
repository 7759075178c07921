"""Numba kernels: exact Hessian-vector products of the continuous Heckman MF likelihood.

The standard errors solve H_EE x = b by conjugate gradients over every parameter but
rho and sigma (E), one product with H_EE per iteration. A finite difference of the
gradient costs a full likelihood pass (a normal log-CDF per pair). Here the per-pair
derivatives dl/dg and d2l/dg dg' are computed once at the estimate
(:func:`pair_derivatives`); a product then needs only the scores' directional
derivatives. With dg_o = v's change of g_o (and dg_r), the product's per-pair terms are

    dd_o = l_oo dg_o + l_or dg_r,    dd_r = l_or dg_o + l_rr dg_r,

reduced into rows like a gradient, plus the terms from g's bilinearity: row p_u gets
d_o * (v's q_i) and row q_i gets d_o * (v's p_u). Two passes, users then items, as in
:mod:`heckrec._kernels.heckman_continuous`: deterministic, no races. The a and s
entries of the product are not computed (zero): the CG never needs them. Tested
against finite differences of the numpy twin's analytic gradient.
"""

import math

from numba import njit, prange

from .heckman_newton import pair_curvature
from .mf_rows import pair_score


@njit(cache=True, parallel=True)
def pair_derivatives(user_ptr, items, r, o, F, mu_o, bu_o, bi_o, P_o, Q_o, w_o,
                     mu_r, bu_r, bi_r, P_r, Q_r, w_r, a, s, d_o, d_r, h_oo, h_or, h_rr):
    """Per pair: dl/dg_o, dl/dg_r and the three second derivatives (pairs by user)."""
    ca, sa, inv_sigma = math.cosh(a), math.sinh(a), math.exp(-s)
    for u in prange(user_ptr.shape[0] - 1):
        for j in range(user_ptr[u], user_ptr[u + 1]):
            i = items[j]
            go = pair_score(mu_o, bu_o, bi_o, P_o, Q_o, w_o, F, u, i, j)
            gr = pair_score(mu_r, bu_r, bi_r, P_r, Q_r, w_r, F, u, i, j) if o[j] else 0.0
            _, d_o[j], d_r[j], h_oo[j], h_or[j], h_rr[j] = pair_curvature(
                o[j], r[j], go, gr, ca, sa, inv_sigma)


@njit(cache=True, inline="always")
def _direction(v_mu, v_bu, v_bi, v_P, v_Q, v_w, P, Q, F, u, i, j):
    """dg of pair j along v: v_mu + v_bu + v_bi + <p_u, v_q_i> + <v_p_u, q_i> + F v_w."""
    dg = v_mu + v_bu[u] + v_bi[i]
    for f in range(P.shape[1]):
        dg += P[u, f] * v_Q[i, f] + v_P[u, f] * Q[i, f]
    for f in range(v_w.shape[0]):
        dg += F[j, f] * v_w[f]
    return dg


@njit(cache=True, parallel=True)
def hvp_user_pass(user_ptr, items, o, F, P_o, Q_o, P_r, Q_r, d_o, d_r, h_oo, h_or, h_rr,
                  v_mu_o, v_bu_o, v_bi_o, v_P_o, v_Q_o, v_w_o,
                  v_mu_r, v_bu_r, v_bi_r, v_P_r, v_Q_r, v_w_r,
                  dd_o, dd_r, out_bu_o, out_P_o, out_bu_r, out_P_r, out_w_o_u, out_w_r_u):
    """Pass 1: per-pair dd_o, dd_r and the user rows of H v (loglik's Hessian)."""
    k = P_o.shape[1]
    nf = F.shape[1]
    for u in prange(user_ptr.shape[0] - 1):
        for j in range(user_ptr[u], user_ptr[u + 1]):
            i = items[j]
            dgo = _direction(v_mu_o, v_bu_o, v_bi_o, v_P_o, v_Q_o, v_w_o, P_o, Q_o, F, u, i, j)
            ddo = h_oo[j] * dgo
            ddr = 0.0
            if o[j]:
                dgr = _direction(v_mu_r, v_bu_r, v_bi_r, v_P_r, v_Q_r, v_w_r, P_r, Q_r, F,
                                 u, i, j)
                ddo += h_or[j] * dgr
                ddr = h_or[j] * dgo + h_rr[j] * dgr
                out_bu_r[u] += ddr
                for f in range(k):
                    out_P_r[u, f] += ddr * Q_r[i, f] + d_r[j] * v_Q_r[i, f]
                for f in range(nf):
                    out_w_r_u[u, f] += ddr * F[j, f]
            dd_o[j] = ddo
            dd_r[j] = ddr
            out_bu_o[u] += ddo
            for f in range(k):
                out_P_o[u, f] += ddo * Q_o[i, f] + d_o[j] * v_Q_o[i, f]
            for f in range(nf):
                out_w_o_u[u, f] += ddo * F[j, f]


@njit(cache=True, parallel=True)
def hvp_item_pass(item_ptr, item_order, users, o, P_o, P_r, d_o, d_r, dd_o, dd_r,
                  v_P_o, v_P_r, out_bi_o, out_Q_o, out_bi_r, out_Q_r):
    """Pass 2: the item rows of H v from pass 1's dd and the direction's user factors."""
    k = P_o.shape[1]
    for i in prange(item_ptr.shape[0] - 1):
        for idx in range(item_ptr[i], item_ptr[i + 1]):
            j = item_order[idx]
            u = users[j]
            out_bi_o[i] += dd_o[j]
            for f in range(k):
                out_Q_o[i, f] += dd_o[j] * P_o[u, f] + d_o[j] * v_P_o[u, f]
            if o[j]:
                out_bi_r[i] += dd_r[j]
                for f in range(k):
                    out_Q_r[i, f] += dd_r[j] * P_r[u, f] + d_r[j] * v_P_r[u, f]
