"""Numba kernels shared by the MF likelihoods: scores per pair and row gradients.

A likelihood pass is (1) the scores g_o, g_r of every pair, (2) the model's
per-pair log-likelihood and derivatives dl/dg_o, dl/dg_r, then (3) the
reduction of those derivatives into user rows (parallel over users, pairs
sorted by user) and item rows (parallel over items, through an item-sorted
index). No two threads write the same row, so the result is deterministic
(GUIDE section 4). The continuous model fuses (1)-(3a) in one kernel for
speed; the binary model uses these pieces as they are.
"""

from numba import njit, prange


@njit(cache=True, inline="always")
def pair_score(mu, bu, bi, P, Q, w, F, u, i, j):
    """g = mu + b_u + b_i + <p_u, q_i> + F[j] w for pair j = (u, i)."""
    g = mu + bu[u] + bi[i]
    for f in range(P.shape[1]):
        g += P[u, f] * Q[i, f]
    for f in range(w.shape[0]):
        g += F[j, f] * w[f]
    return g


@njit(cache=True, parallel=True)
def score_pairs(user_ptr, items, F, mu, bu, bi, P, Q, w, out):
    """Write g for every pair (pairs sorted by user, ``user_ptr`` the CSR pointer)."""
    for u in prange(user_ptr.shape[0] - 1):
        for j in range(user_ptr[u], user_ptr[u + 1]):
            out[j] = pair_score(mu, bu, bi, P, Q, w, F, u, items[j], j)


@njit(cache=True, parallel=True)
def user_rows(user_ptr, items, F, d_o, d_r, Q_o, Q_r,
              g_bu_o, g_P_o, g_bu_r, g_P_r, g_w_o_u, g_w_r_u):
    """Accumulate the per-pair derivatives into user-row gradients, parallel over users."""
    k = Q_o.shape[1]
    nf = F.shape[1]
    for u in prange(user_ptr.shape[0] - 1):
        sbo = 0.0
        sbr = 0.0
        for j in range(user_ptr[u], user_ptr[u + 1]):
            i = items[j]
            do = d_o[j]
            dr = d_r[j]
            sbo += do
            sbr += dr
            for f in range(k):
                g_P_o[u, f] += do * Q_o[i, f]
                g_P_r[u, f] += dr * Q_r[i, f]
            for f in range(nf):
                g_w_o_u[u, f] += do * F[j, f]
                g_w_r_u[u, f] += dr * F[j, f]
        g_bu_o[u] += sbo
        g_bu_r[u] += sbr


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
