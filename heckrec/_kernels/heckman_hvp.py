"""Numba kernels: exact Hessian-vector products of the continuous Heckman MF likelihood.

The standard errors solve H_EE x = b by conjugate gradients over every parameter but
rho and sigma (E), one product with H_EE per iteration. A finite difference of the
gradient costs a full likelihood pass (a normal log-CDF per pair). Here the per-pair
derivatives dl/dg and d2l/dg dg' are computed once at the estimate
(:func:`pair_derivatives`); a product then needs only the scores' directional
derivatives. With dg_o = v's change of g_o (and dg_r), the product's per-pair terms are

    dd_o = l_oo dg_o + l_or dg_r,    dd_r = l_or dg_o + l_rr dg_r,

reduced into rows like a gradient, plus the terms from g's bilinearity: row p_u gets
d_o * (v's q_i) and row q_i gets d_o * (v's p_u). One kernel serves both sides, users
then items, each over a copy of the per-pair arrays in its own order: every pass
reads the pairs sequentially (the item pass of a gradient gathers them through the
item index, which made a product as slow as a gradient pass at 1.5e7 pairs), and no
two threads write the same row (deterministic). The a and s entries of the product
are not computed (zero): the CG never needs them. Tested against finite differences
of the numpy twin's analytic gradient.
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
def hvp_rows(ptr, other_ids, o, F, d_o, d_r, h_oo, h_or, h_rr,
             P_o, Q_o, P_r, Q_r, v_mu_o, v_b_o, v_c_o, v_P_o, v_Q_o, v_w_o,
             v_mu_r, v_b_r, v_c_r, v_P_r, v_Q_r, v_w_r,
             out_b_o, out_P_o, out_b_r, out_P_r, out_w_o, out_w_r):
    """The rows of one side of H v (loglik's Hessian), in parallel over those rows.

    Pairs must be in this side's order (``ptr`` its CSR pointer; the per-pair
    arrays ``other_ids``, ``o``, ``F``, ``d_*``, ``h_*`` in the same order), so every
    pass reads them sequentially. Own rows: ``P_*`` (factors), ``v_b_*``, ``v_P_*``
    (the direction's own biases and factors), written to ``out_b_*``, ``out_P_*``;
    the other side's: ``Q_*``, ``v_c_*``, ``v_Q_*``. ``out_w_*[row]`` receive the
    row's part of the feature weights' entries.
    """
    k = P_o.shape[1]
    nf = F.shape[1]
    for row in prange(ptr.shape[0] - 1):
        for j in range(ptr[row], ptr[row + 1]):
            other = other_ids[j]
            dgo = _direction(v_mu_o, v_b_o, v_c_o, v_P_o, v_Q_o, v_w_o, P_o, Q_o, F,
                             row, other, j)
            ddo = h_oo[j] * dgo
            if o[j]:
                dgr = _direction(v_mu_r, v_b_r, v_c_r, v_P_r, v_Q_r, v_w_r, P_r, Q_r, F,
                                 row, other, j)
                ddo += h_or[j] * dgr
                ddr = h_or[j] * dgo + h_rr[j] * dgr
                out_b_r[row] += ddr
                for f in range(k):
                    out_P_r[row, f] += ddr * Q_r[other, f] + d_r[j] * v_Q_r[other, f]
                for f in range(nf):
                    out_w_r[row, f] += ddr * F[j, f]
            out_b_o[row] += ddo
            for f in range(k):
                out_P_o[row, f] += ddo * Q_o[other, f] + d_o[j] * v_Q_o[other, f]
            for f in range(nf):
                out_w_o[row, f] += ddo * F[j, f]
