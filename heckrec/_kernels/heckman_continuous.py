"""Numba kernel for the continuous-outcome Heckman likelihood over MF scores.

Per pair, with e = (r - g_r) / sigma, rho = tanh(a), sigma = exp(s):

    o = 1:  -s - log(2 pi)/2 - e^2/2 + log Phi(cosh(a) g_o + sinh(a) e)
    o = 0:  log Phi(-g_o)

(cosh(a) = 1/sqrt(1-rho^2) and sinh(a) = rho/sqrt(1-rho^2), so the argument of
Phi is the guide's (g_o + rho e)/sqrt(1 - rho^2) without a square root.)

The gradient is computed in two passes so that it is deterministic and free of
races (see GUIDE section 4): pass 1 runs in parallel over users, computes the
per-pair derivatives dl/dg_o, dl/dg_r and accumulates the user rows; pass 2
runs in parallel over items through an item-sorted index and accumulates the
item rows. No two threads ever write the same row.

The normal log-CDF and Mills ratio come from :mod:`heckrec._kernels.normal`
(Cody's erfcx, about 4e-15 relative).
"""

import math

from numba import njit, prange

from .mf_rows import item_pass, pair_score  # noqa: F401 (item_pass is pass 2 here)
from .normal import LOG_2PI_HALF, log_ndtr_mills, log_ndtr_mills_array  # noqa: F401


@njit(cache=True, parallel=True)
def user_pass(user_ptr, items, r, o, F,
              mu_o, bu_o, bi_o, P_o, Q_o, w_o,
              mu_r, bu_r, bi_r, P_r, Q_r, w_r, a, s,
              d_o, d_r, g_bu_o, g_P_o, g_bu_r, g_P_r, g_w_o_u, g_w_r_u, scal_u):
    """Pass 1: per-pair derivatives and user-row gradients, parallel over users.

    Pairs must be sorted by user; ``user_ptr`` is the CSR pointer. Writes
    ``d_o``, ``d_r`` (per pair), the user-row gradients and, per user,
    ``scal_u[u] = (loglik, dl/da, dl/ds)``.
    """
    n_users = user_ptr.shape[0] - 1
    k = P_o.shape[1]
    nf = w_o.shape[0]
    ca = math.cosh(a)
    sa = math.sinh(a)
    inv_sigma = math.exp(-s)
    for u in prange(n_users):
        ll = 0.0
        ga = 0.0
        gs = 0.0
        sbo = 0.0
        sbr = 0.0
        for j in range(user_ptr[u], user_ptr[u + 1]):
            i = items[j]
            go = pair_score(mu_o, bu_o, bi_o, P_o, Q_o, w_o, F, u, i, j)
            if o[j]:
                gr = pair_score(mu_r, bu_r, bi_r, P_r, Q_r, w_r, F, u, i, j)
                e = (r[j] - gr) * inv_sigma
                lc, m = log_ndtr_mills(ca * go + sa * e)
                ll += lc - s - LOG_2PI_HALF - 0.5 * e * e
                dgo = m * ca
                dge = m * sa - e          # dl/de
                dgr = -dge * inv_sigma    # de/dg_r = -1/sigma
                gs += -1.0 - dge * e      # de/ds = -e
                ga += m * (sa * go + ca * e)
                d_r[j] = dgr
                sbr += dgr
                for f in range(k):
                    g_P_r[u, f] += dgr * Q_r[i, f]
                for f in range(nf):
                    g_w_r_u[u, f] += dgr * F[j, f]
            else:
                lc, m = log_ndtr_mills(-go)
                ll += lc
                dgo = -m
                d_r[j] = 0.0
            d_o[j] = dgo
            sbo += dgo
            for f in range(k):
                g_P_o[u, f] += dgo * Q_o[i, f]
            for f in range(nf):
                g_w_o_u[u, f] += dgo * F[j, f]
        g_bu_o[u] += sbo
        g_bu_r[u] += sbr
        scal_u[u, 0] = ll
        scal_u[u, 1] = ga
        scal_u[u, 2] = gs
