"""Array twin of :mod:`heckrec._kernels.unobserved`: the unobserved pairs' term by tiles.

Scores a tile of users x every item with one matrix product, takes log Phi(-g) and its
derivative elementwise, zeroes the logged pairs and folds the derivatives back with two
more products. The same code runs on numpy and on cupy (``xp``); the tests check the
numba sweep against it.
"""

from .heckman_continuous import log_ndtr_mills, tile_scores

#: Users per tile: a tile holds (rows x n_items) scores.
TILE_PAIRS = 4_000_000


def unlisted_tiles(xp, special, mu, bu, bi, P, Q, log_ptr, log_items, user_start,
                   user_stop, tile_pairs=TILE_PAIRS):
    """Tiles of users [a, b) x every item, for the terms of the unlisted pairs.

    ``log_ptr`` / ``log_items``: CSR of the logged items by user code (``log_ptr`` has
    n_users + 1 entries). Yields ``(a, b, g, log Phi(-g), phi(g) / Phi(-g), logged)``
    per tile of about ``tile_pairs`` grid pairs, g the selection scores of the tile and
    ``logged`` the (row, item) index of its logged pairs, which a caller zeroes: they are
    observed, not in the unlisted term.
    """
    rows = max(1, tile_pairs // max(1, Q.shape[0]))
    for a in range(user_start, user_stop, rows):
        b = min(a + rows, user_stop)
        g = tile_scores(mu, bu, bi, P, Q, a, b)
        log_cdf, mills = log_ndtr_mills(xp, special, -g)
        lo, hi = int(log_ptr[a]), int(log_ptr[b])
        logged = (xp.repeat(xp.arange(b - a), xp.diff(log_ptr[a:b + 1])), log_items[lo:hi])
        yield a, b, g, log_cdf, mills, logged


def unobserved_loglik_grad(xp, special, mu, bu, bi, P, Q, log_ptr, log_items,
                           user_start, user_stop):
    """Sum of log Phi(-g_o) over the unlisted pairs of users [user_start, user_stop).

    ``log_ptr`` / ``log_items``: CSR of the logged items by user code (``log_ptr`` has
    n_users + 1 entries). Returns ``(ll, g_mu, g_bu, g_bi, g_P, g_Q)``; the user rows
    outside the range are 0.
    """
    g_bu, g_P = xp.zeros_like(bu), xp.zeros_like(P)
    g_bi, g_Q = xp.zeros_like(bi), xp.zeros_like(Q)
    ll = 0.0
    for a, b, _, lc, mills, logged in unlisted_tiles(xp, special, mu, bu, bi, P, Q, log_ptr,
                                                     log_items, user_start, user_stop):
        d = -mills
        lc[logged] = 0.0
        d[logged] = 0.0
        ll += float(lc.sum())
        g_bu[a:b] = d.sum(axis=1)
        g_bi += d.sum(axis=0)
        g_P[a:b] = d @ Q
        g_Q += d.T @ P[a:b]
    return ll, float(g_bu.sum()), g_bu, g_bi, g_P, g_Q


def sampled_loglik_grad(xp, special, mu, bu, bi, P, Q, sample_ptr, sample_items, weight,
                        user_start, user_stop):
    """Weighted sum of log Phi(-g_o) over the sampled unlisted pairs of users
    [user_start, user_stop) (``unobserved="sampled"``), by chunks of draws.

    User u's draws are ``sample_items[sample_ptr[u]:sample_ptr[u + 1]]``, each counting
    ``weight[u]`` times. Returns ``(ll, g_mu, g_bu, g_bi, g_P, g_Q)`` as
    :func:`unobserved_loglik_grad` does.
    """
    n_users = bu.shape[0]
    g_bu, g_P = xp.zeros_like(bu), xp.zeros_like(P)
    g_bi, g_Q = xp.zeros_like(bi), xp.zeros_like(Q)
    counts = xp.diff(sample_ptr)
    ll = 0.0
    a = user_start
    while a < user_stop:
        # users [a, b) hold at most TILE_PAIRS draws (at least one user)
        limit = int(sample_ptr[a]) + TILE_PAIRS
        b = max(a + 1, min(user_stop, int(xp.searchsorted(sample_ptr, limit, side="right")) - 1))
        lo, hi = int(sample_ptr[a]), int(sample_ptr[b])
        users = xp.repeat(xp.arange(a, b), counts[a:b])
        items = sample_items[lo:hi]
        G = mu + bu[users] + bi[items] + (P[users] * Q[items]).sum(axis=1)
        lc, mills = log_ndtr_mills(xp, special, -G)
        w = weight[users]
        d = -w * mills
        ll += float((w * lc).sum())
        g_bu += xp.bincount(users, weights=d, minlength=n_users)
        g_bi += xp.bincount(items, weights=d, minlength=bi.shape[0])
        for f in range(P.shape[1]):
            g_P[:, f] += xp.bincount(users, weights=d * Q[items, f], minlength=n_users)
            g_Q[:, f] += xp.bincount(items, weights=d * P[users, f], minlength=bi.shape[0])
        a = b
    return ll, float(g_bu.sum()), g_bu, g_bi, g_P, g_Q
