"""``unobserved="sampled"``: a weighted sample of the unlisted pairs (issue 15 item 2).

For universes too large to sweep (1e9 pairs and more), the unlisted pairs' term
sum log Phi(-g_o) of ``unobserved="complement"`` is estimated from a fixed random
sample of them, drawn once per fit: each user is a stratum, and a user with n_u logged
pairs of N items gets m_u = max(ceil(ratio n_u), MIN_DRAWS) of its N - n_u unlisted
items, drawn uniformly with replacement, each weighted w_u = (N - n_u) / m_u (where
m_u would reach N - n_u the user's unlisted items are all taken once, w_u = 1). The
weighted sum is unbiased for the complement's term at every theta (Hansen and Hurwitz
1943), and the estimator is weighted exogenous sampling maximum likelihood (Manski and
Lerman 1977) with strata known by design.

Standard errors: the fit's penalised Hessian H (of the weighted objective) estimates the
full sweep's, so H^{-1} is the model variance that the complement fit would report; the
sampling adds its own, conditionally independent, error H^{-1} (S_sampled - S_full), whose
variance given the data is H^{-1} V H^{-1} with V the design variance of the weighted
score: per stratum w_u^2 m_u s_u^2 (s_u^2 the sample covariance of the drawn pairs'
scores). :func:`design_variance` computes W' V W for the interest columns W of H^{-1},
exactly (each draw's score along a column is -mills(-g) times dg), and the fit adds it.
"""

import numbers

import numpy as np
import scipy.special
from sklearn.utils import check_random_state

from .._array.heckman_continuous import log_ndtr_mills
from .._array.unobserved import sampled_loglik_grad as array_sampled
from .._kernels import unobserved as kernels
from ._complement import WithComplement, selection_term

#: At least this many draws per user (unless the user has fewer unlisted items).
MIN_DRAWS = 20

#: Draws per chunk when drawing the sample (about 40 bytes of temporaries per draw).
DRAW_CHUNK = 4_000_000

#: Draws per chunk in the design variance, smaller: each draw's rows of P, Q and their
#: directions are gathered (about 300 bytes per draw at k = 8).
DESIGN_CHUNK = 500_000


class UnobservedSample:
    """A stratified-by-user sample of the unlisted pairs of a log, with weights.

    Parameters
    ----------
    ptr : int64 array (n_users + 1,)
        User u's draws are ``items[ptr[u]:ptr[u + 1]]``.
    items : int32 array
        The drawn item codes (with repeats where drawn twice).
    weight : float array (n_users,)
        How many unlisted pairs each of the user's draws stands for.
    census : bool array (n_users,)
        True where the user's unlisted items were all taken (no sampling error).
    """

    def __init__(self, ptr, items, weight, census):
        self.ptr, self.items, self.weight, self.census = ptr, items, weight, census

    @property
    def n_draws(self):
        """Number of drawn pairs."""
        return int(self.items.shape[0])

    @classmethod
    def draw(cls, pairs, ratio, rng):
        """Draw the sample for the log ``pairs`` (a complement PairSet).

        ``ratio`` draws per logged pair of each user (at least :data:`MIN_DRAWS`); ``rng``
        a numpy Generator (:func:`sample_generator`).
        """
        n_items = pairs.n_items
        logged = np.diff(pairs.user_ptr)
        free = n_items - logged
        want = np.maximum(np.ceil(ratio * logged), MIN_DRAWS).astype(np.int64)
        census = want >= free
        m = np.where(census, free, want)
        weight = np.where(census | (m == 0), 1.0, free / np.maximum(m, 1))
        ptr = np.concatenate([[0], np.cumsum(m)]).astype(np.int64)
        # The j-th unlisted item of user u (0-based) is j + #{logged L : L - rank(L) <= j},
        # rank(L) its position among the user's logged items in item order: one search
        # over keys u N + L - rank, sorted because L - rank is non-decreasing in a user.
        order = np.lexsort((pairs.items, pairs.users))
        users_sorted, items_sorted = pairs.users[order], pairs.items[order]
        rank = np.arange(order.size) - pairs.user_ptr[users_sorted]
        keys = users_sorted * n_items + items_sorted - rank
        items = np.empty(int(ptr[-1]), dtype=np.int32)
        for a, b in user_chunks(ptr, 0, pairs.n_users):
            users = np.repeat(np.arange(a, b), m[a:b])
            offset = np.arange(ptr[a], ptr[b]) - ptr[users]  # 0.. m_u - 1 within a user
            j = np.where(census[users], offset,
                         np.floor(rng.random(users.size) * free[users]).astype(np.int64))
            j = np.minimum(j, free[users] - 1)  # floor(random * free) < free, but be sure
            below = np.searchsorted(keys, users * n_items + j, side="right") - pairs.user_ptr[users]
            items[ptr[a]:ptr[b]] = j + below
        return cls(ptr, items, weight, census)

    def restrict(self, start, stop):
        """The sample of users [start, stop) only (a dask partition's), same user codes."""
        lo, hi = self.ptr[start], self.ptr[stop]
        ptr = np.clip(self.ptr, lo, hi) - lo
        return UnobservedSample(ptr, self.items[lo:hi].copy(), self.weight, self.census)


def sample_generator(random_state):
    """The sample's own random stream from an estimator's ``random_state``.

    Its own stream, so drawing the sample leaves the start values as they are (a census
    sample then reproduces ``unobserved="complement"`` exactly); an int seeds it as
    (seed, 15), a RandomState gives it one draw, None is fresh entropy.
    """
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, numbers.Integral):
        return np.random.default_rng([int(random_state), 15])
    return np.random.default_rng(check_random_state(random_state).randint(2**31 - 1))


def user_chunks(ptr, start, stop, size=DRAW_CHUNK):
    """Ranges of users [a, b) holding at most ``size`` draws each (at least one user)."""
    a = start
    while a < stop:
        b = int(np.searchsorted(ptr, ptr[a] + size, side="right")) - 1
        b = min(stop, max(a + 1, b))
        yield a, b
        a = b


def sampled_term(theta, layout, pairs, backend="numba"):
    """(weighted sum of log Phi(-g_o) over the sample of ``pairs.sweep_users``, gradient)."""
    sample = pairs.sample

    def numba_sweep(p, g, block_ptr, ll_blocks, g_bi_blocks, g_QT_blocks):
        kernels.sampled_sweep(block_ptr, sample.ptr, sample.items, sample.weight, p.mu_o,
                              p.bu_o, p.bi_o, np.ascontiguousarray(p.P_o),
                              np.ascontiguousarray(p.Q_o), ll_blocks, g.bu_o, g.P_o,
                              g_bi_blocks, g_QT_blocks)

    def array_twin(xp, special, mu, bu, bi, P, Q, start, stop):
        return array_sampled(xp, special, mu, bu, bi, P, Q, *_device_sample(sample, xp),
                             start, stop)

    return selection_term(theta, layout, pairs, backend, numba_sweep, array_twin)


def _device_sample(sample, xp):
    """(ptr, items, weight) as ``xp`` arrays, cached on the sample."""
    if xp is np:
        return sample.ptr, sample.items, sample.weight
    if getattr(sample, "_device", (None,))[0] is not xp:
        sample._device = (xp, tuple(xp.asarray(a) for a in (sample.ptr, sample.items,
                                                               sample.weight)))
    return sample._device[1]


def sampled_draws(p, sample, size):
    """The sample's draws by chunks of users holding at most ``size`` draws.

    Yields ``(a, b, users, items, g, mills)`` for users [a, b): each draw's user and
    item codes, its selection score g_o at the unpacked parameters ``p`` and the Mills
    ratio phi(g) / Phi(-g) of its unlisted term log Phi(-g).
    """
    for a, b in user_chunks(sample.ptr, 0, sample.ptr.size - 1, size):
        users = np.repeat(np.arange(a, b), np.diff(sample.ptr[a:b + 1]))
        items = sample.items[sample.ptr[a]:sample.ptr[b]]
        g = (p.mu_o + p.bu_o[users] + p.bi_o[items]
             + np.einsum("jf,jf->j", p.P_o[users], p.Q_o[items]))
        yield a, b, users, items, g, log_ndtr_mills(np, scipy.special, -g)[1]


def design_variance(theta, layout, sample, columns):
    """W' V W: the sampling's variance of ``columns``' parameters (module docstring).

    ``columns``: (theta.size, m) columns of H^{-1}. Users drawn in full (census) add
    nothing; the others add w_u^2 m_u / (m_u - 1) sum_j (d_j - mean_u d)(d_j - mean_u d)',
    d_j the draw's score along the columns.
    """
    p = layout.unpack(theta)
    directions = [layout.unpack(c) for c in columns.T]
    m = columns.shape[1]
    V = np.zeros((m, m))
    counts = np.diff(sample.ptr)
    for a, b, users, items, _, mills in sampled_draws(p, sample, DESIGN_CHUNK):
        P_u, Q_i = p.P_o[users], p.Q_o[items]
        D = np.empty((users.size, m))
        for c, v in enumerate(directions):
            dg = (v.mu_o + v.bu_o[users] + v.bi_o[items]
                  + np.einsum("jf,jf->j", v.P_o[users], Q_i)
                  + np.einsum("jf,jf->j", P_u, v.Q_o[items]))
            D[:, c] = -mills * dg
        local = users - a
        n = counts[a:b].astype(float)
        sums = np.column_stack([np.bincount(local, D[:, c], b - a) for c in range(m)])
        D -= (sums / np.maximum(n, 1)[:, None])[local]
        factor = np.where(sample.census[a:b] | (n < 2), 0.0,
                          sample.weight[a:b] ** 2 * n / np.maximum(n - 1, 1))
        V += (D * factor[local][:, None]).T @ D
    return 0.5 * (V + V.T)


class WithSampledComplement(WithComplement):
    """``likelihood`` over the logged pairs plus the weighted sample of the unlisted ones."""

    def _unlisted_term(self, theta, layout, pairs, backend):
        return sampled_term(theta, layout, pairs, backend)

