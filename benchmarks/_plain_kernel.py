"""The baseline: a plain one-loop numba likelihood + gradient (GUIDE section 4).

One serial pass over the pairs with ``math.erfc`` and direct scatter-adds into the
user and item rows. It is serial because the same loop under ``prange`` races.
"""

import math

from numba import njit

LOG_2PI_HALF = 0.9189385332046727
SQRT1_2 = 0.7071067811865476


@njit(cache=True)
def plain_pass(users, items, r, o, mu_o, bu_o, bi_o, P_o, Q_o, mu_r, bu_r, bi_r, P_r, Q_r, a, s,
               g_bu_o, g_bi_o, g_P_o, g_Q_o, g_bu_r, g_bi_r, g_P_r, g_Q_r):
    k = P_o.shape[1]
    ca, sa, inv_sigma = math.cosh(a), math.sinh(a), math.exp(-s)
    ll = 0.0
    for j in range(users.shape[0]):
        u, i = users[j], items[j]
        go = mu_o + bu_o[u] + bi_o[i]
        for f in range(k):
            go += P_o[u, f] * Q_o[i, f]
        if o[j]:
            gr = mu_r + bu_r[u] + bi_r[i]
            for f in range(k):
                gr += P_r[u, f] * Q_r[i, f]
            e = (r[j] - gr) * inv_sigma
            x = ca * go + sa * e
            cdf = 0.5 * math.erfc(-x * SQRT1_2)
            m = math.exp(-0.5 * x * x - LOG_2PI_HALF) / cdf
            ll += math.log(cdf) - s - LOG_2PI_HALF - 0.5 * e * e
            dgo = m * ca
            dgr = -(m * sa - e) * inv_sigma
            g_bu_r[u] += dgr
            g_bi_r[i] += dgr
            for f in range(k):
                g_P_r[u, f] += dgr * Q_r[i, f]
                g_Q_r[i, f] += dgr * P_r[u, f]
        else:
            cdf = 0.5 * math.erfc(go * SQRT1_2)
            ll += math.log(cdf)
            dgo = -math.exp(-0.5 * go * go - LOG_2PI_HALF) / cdf
        g_bu_o[u] += dgo
        g_bi_o[i] += dgo
        for f in range(k):
            g_P_o[u, f] += dgo * Q_o[i, f]
            g_Q_o[i, f] += dgo * P_o[u, f]
    return ll
