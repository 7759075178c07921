"""The unobserved pairs' term, sum log Phi(-g_o), swept from the factors (issue 15).

With ``unobserved="complement"`` X lists only the log (the observed pairs); every other
pair of the seen users x seen items is unobserved and contributes log Phi(-g_o), where
g_o = mu + b_u + b_i + <p_u, q_i> depends on the selection factors alone. This kernel
sweeps those pairs user by user without listing them: for a user u it scores every
item at once (a vectorisable loop over the item-major ``QT``), evaluates the normal
log-CDF and Mills ratio, zeroes the user's logged items, and folds the derivatives
into the user's row and into the item rows. Memory: O((users + items) k).

Parallel over fixed blocks of users; each block sums its item-row gradients into its
own buffer and the blocks are added in block order, so the result does not depend on
the thread count (GUIDE section 4). The block count depends only on the sizes.
"""

import numpy as np
from numba import njit, prange

from .normal import log_ndtr_mills

#: At most this many floats in the per-block item-gradient buffers together.
BUFFER_FLOATS = 8_000_000
MAX_BLOCKS = 64


def n_blocks(n_users, n_items, k):
    """How many user blocks the sweep uses: enough for every core, within the buffer."""
    by_memory = BUFFER_FLOATS // max(1, n_items * (k + 1))
    return int(max(1, min(MAX_BLOCKS, n_users, by_memory)))


@njit(cache=True, parallel=True)
def sweep(block_ptr, log_ptr, log_items, mu, bu, bi, P, QT,
          ll_blocks, g_bu, g_P, g_bi_blocks, g_QT_blocks):
    """Sum log Phi(-g) over the unlisted pairs of ``users`` and its gradient.

    Parameters
    ----------
    block_ptr : int64 array (n_blocks + 1,)
        Block b sweeps the users ``block_ptr[b] <= u < block_ptr[b + 1]`` (user codes:
        all users, or a partition's range of them).
    log_ptr, log_items : int64 arrays
        CSR of the logged items per user (by user code), to be skipped.
    mu, bu, bi, P, QT
        The selection score's blocks; ``QT`` is ``Q.T`` made contiguous.
    ll_blocks : (n_blocks,) out
    g_bu, g_P : out, the user rows (written for the swept users only)
    g_bi_blocks : (n_blocks, n_items) out; g_QT_blocks : (n_blocks, k, n_items) out
    """
    k, n_items = QT.shape
    for b in prange(block_ptr.shape[0] - 1):
        g = np.empty(n_items)
        d = np.empty(n_items)
        ll = 0.0
        for u in range(block_ptr[b], block_ptr[b + 1]):
            base = mu + bu[u]
            for i in range(n_items):
                g[i] = base + bi[i]
            for f in range(k):
                puf = P[u, f]
                for i in range(n_items):
                    g[i] += puf * QT[f, i]
            # log Phi(-g) and d/dg log Phi(-g) = -phi(g) / Phi(-g)
            for i in range(n_items):
                lc, mills = log_ndtr_mills(-g[i])
                g[i] = lc
                d[i] = -mills
            for j in range(log_ptr[u], log_ptr[u + 1]):  # the logged pairs are not unobserved
                g[log_items[j]] = 0.0
                d[log_items[j]] = 0.0
            su = 0.0
            for i in range(n_items):
                ll += g[i]
                su += d[i]
                g_bi_blocks[b, i] += d[i]
            g_bu[u] = su
            for f in range(k):
                puf = P[u, f]
                acc = 0.0
                for i in range(n_items):
                    acc += d[i] * QT[f, i]
                    g_QT_blocks[b, f, i] += d[i] * puf
                g_P[u, f] = acc
        ll_blocks[b] = ll


@njit(cache=True, parallel=True)
def sampled_sweep(block_ptr, sample_ptr, sample_items, weight, mu, bu, bi, P, Q,
                  ll_blocks, g_bu, g_P, g_bi_blocks, g_QT_blocks):
    """Weighted sum of log Phi(-g) over a sample of the unlisted pairs, and its gradient.

    ``unobserved="sampled"``: user u's drawn items are ``sample_items[sample_ptr[u]:
    sample_ptr[u + 1]]``, each counting ``weight[u]`` times (the inverse of its
    inclusion rate). Blocks of users as in :func:`sweep`; ``g_bu`` and ``g_P`` must
    start at 0 for the swept users. ``g_bi_blocks``: (n_blocks, n_items),
    ``g_QT_blocks``: (n_blocks, k, n_items), both zeroed (as :func:`sweep`'s). ``Q`` is
    row-major here: a draw reads one item's row.
    """
    k = P.shape[1]
    for b in prange(block_ptr.shape[0] - 1):
        ll = 0.0
        for u in range(block_ptr[b], block_ptr[b + 1]):
            w = weight[u]
            base = mu + bu[u]
            su = 0.0
            for j in range(sample_ptr[u], sample_ptr[u + 1]):
                i = sample_items[j]
                g = base + bi[i]
                for f in range(k):
                    g += P[u, f] * Q[i, f]
                lc, mills = log_ndtr_mills(-g)
                d = -w * mills
                ll += w * lc
                su += d
                g_bi_blocks[b, i] += d
                for f in range(k):
                    g_P[u, f] += d * Q[i, f]
                    g_QT_blocks[b, f, i] += d * P[u, f]
            g_bu[u] = su
        ll_blocks[b] = ll
