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

The normal log-CDF and Mills ratio are evaluated by W. J. Cody's rational
approximations of erfc/erfcx (Math. Comp. 23, 1969; CALERF), to about 4e-15
relative for |x| <= 5 (tests compare with scipy and mpmath). Both outputs
together ran at 52.7 M values/s on one thread here, against 43.6 M/s for
``math.log(0.5 * math.erfc(...))`` alone.
They live in this module on purpose: a cached numba kernel does not notice
edits to helpers imported from other modules.
"""

import math

import numpy as np
from numba import njit, prange

LOG_2PI_HALF = 0.9189385332046727  # log(2 pi) / 2
INV_SQRT_2PI = 0.3989422804014327
SQRT_2_OVER_PI = 0.7978845608028654
SQRT1_2 = 0.7071067811865476
INV_SQRT_PI = 0.5641895835477563
LOG_HALF = -0.6931471805599453


@njit(cache=True, inline="always")
def _erf_small(t):
    """erf(t) for |t| <= 0.46875 (Cody's first interval)."""
    z = t * t
    num = ((((1.85777706184603153e-1 * z + 3.16112374387056560e00) * z
             + 1.13864154151050156e02) * z + 3.77485237685302021e02) * z
           + 3.20937758913846947e03)
    den = ((((z + 2.36012909523441209e01) * z + 2.44024637934444173e02) * z
            + 1.28261652607737228e03) * z + 2.84423683343917062e03)
    return t * num / den


@njit(cache=True, inline="always")
def _erfcx_large(t):
    """erfcx(t) = exp(t^2) erfc(t) for t > 0.46875 (Cody's second and third intervals)."""
    if t <= 4.0:
        num = ((((((((2.15311535474403846e-8 * t + 5.64188496988670089e-1) * t
                     + 8.88314979438837594e00) * t + 6.61191906371416295e01) * t
                   + 2.98635138197400131e02) * t + 8.81952221241769090e02) * t
                 + 1.71204761263407058e03) * t + 2.05107837782607147e03) * t
               + 1.23033935479799725e03)
        den = ((((((((t + 1.57449261107098347e01) * t + 1.17693950891312499e02) * t
                    + 5.37181101862009858e02) * t + 1.62138957456669019e03) * t
                  + 3.29079923573345963e03) * t + 4.36261909014324716e03) * t
                + 3.43936767414372164e03) * t + 1.23033935480374942e03)
        return num / den
    z = 1.0 / (t * t)
    num = (((((1.63153871373020978e-2 * z + 3.05326634961232344e-1) * z
              + 3.60344899949804439e-1) * z + 1.25781726111229246e-1) * z
            + 1.60837851487422766e-2) * z + 6.58749161529837803e-4)
    den = (((((z + 2.56852019228982242e00) * z + 1.87295284992346725e00) * z
             + 5.27905102951428412e-1) * z + 6.05183413124413191e-2) * z
           + 2.33520497626869185e-3)
    return (INV_SQRT_PI - z * num / den) / t


@njit(cache=True, inline="always")
def log_ndtr_mills(x):
    """Return (log Phi(x), phi(x) / Phi(x)) accurately for every finite x."""
    t = abs(x) * SQRT1_2
    if t <= 0.46875:
        cdf = 0.5 + 0.5 * math.copysign(_erf_small(t), x)
        return math.log(cdf), INV_SQRT_2PI * math.exp(-t * t) / cdf
    ex = _erfcx_large(t)
    if x < 0.0:
        # Phi(x) = exp(-t^2) erfcx(t) / 2: no exp needed, no underflow.
        return LOG_HALF - t * t + math.log(ex), SQRT_2_OVER_PI / ex
    w = math.exp(-t * t)
    tail = 0.5 * w * ex  # Phi(-x)
    return math.log1p(-tail), INV_SQRT_2PI * w / (1.0 - tail)


@njit(cache=True)
def log_ndtr_mills_array(x):
    """Vectorised :func:`log_ndtr_mills` (used by tests and benchmarks)."""
    out_log = np.empty_like(x)
    out_mills = np.empty_like(x)
    for j in range(x.shape[0]):
        out_log[j], out_mills[j] = log_ndtr_mills(x[j])
    return out_log, out_mills


@njit(cache=True, inline="always")
def _score(mu, bu, bi, P, Q, w, F, u, i, j):
    g = mu + bu[u] + bi[i]
    for f in range(P.shape[1]):
        g += P[u, f] * Q[i, f]
    for f in range(w.shape[0]):
        g += F[j, f] * w[f]
    return g


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
            go = _score(mu_o, bu_o, bi_o, P_o, Q_o, w_o, F, u, i, j)
            if o[j]:
                gr = _score(mu_r, bu_r, bi_r, P_r, Q_r, w_r, F, u, i, j)
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


@njit(cache=True, parallel=True)
def item_pass(item_ptr, item_order, users, d_o, d_r, P_o, P_r,
              g_bi_o, g_Q_o, g_bi_r, g_Q_r):
    """Pass 2: item-row gradients from the per-pair derivatives, parallel over items.

    ``item_order[item_ptr[i]:item_ptr[i+1]]`` lists the (user-sorted) pair
    indices of item ``i``.
    """
    n_items = item_ptr.shape[0] - 1
    k = P_o.shape[1]
    for i in prange(n_items):
        sbo = 0.0
        sbr = 0.0
        for idx in range(item_ptr[i], item_ptr[i + 1]):
            j = item_order[idx]
            u = users[j]
            do = d_o[j]
            sbo += do
            for f in range(k):
                g_Q_o[i, f] += do * P_o[u, f]
            dr = d_r[j]
            if dr != 0.0:
                sbr += dr
                for f in range(k):
                    g_Q_r[i, f] += dr * P_r[u, f]
        g_bi_o[i] += sbo
        g_bi_r[i] += sbr
