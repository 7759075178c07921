"""Per-pair terms of the binary-outcome selection likelihood (numba).

For a pair with scores g_o, g_r and rho = tanh(a), q = +1 where r = 1 and
q = -1 where r = 0:

    o = 0:  log Phi(-g_o)
    o = 1:  log P(o = 1, r) = log Phi2(g_o, q g_r; q rho)

Each kernel writes dl/dg_o and dl/dg_r per pair and returns the sums of the
log-likelihood and of dl/da; :mod:`heckrec._kernels.mf_rows` turns the
per-pair derivatives into row gradients. Three ways to get P(o = 1, r):

* ``exact_terms``: Phi2 by :func:`heckrec._kernels.bivariate_normal.log_bvn_cdf`.
* ``ghk_terms``: the smooth simulator. With fixed uniforms v_l, the draws
  t_l = Phi^{-1}(v_l Phi(g_o)) are N(0, 1) truncated to t < g_o (t = -U_O),
  and P(o = 1, r) = Phi(g_o) mean_l Phi(q (g_r cosh a - t_l sinh a)). Every
  term is positive and differentiable, also through t_l(g_o).
* ``mc_terms``: the paper's estimator. With fixed normal draws eps_l,
  MC^r = mean_l Phi(g_r cosh a + eps_l sinh a) 1[eps_l > -g_o] (differentiable
  in g_r and a only) and MC^o, the same with the roles of g_o and g_r
  swapped (differentiable in g_o and a only); both estimate P(o = 1, r = 1).
  ``step`` picks which: the fit alternates between them (Algorithm 1).
  P(o = 1, r = 0) is Phi(g_o) - MC, which sampling error makes zero or
  negative for a pair whose P(r = 0 | o = 1) is small. The guard: where
  the same draws' direct estimate of P(o = 1, r = 0) (MC with Phi(-z) in the
  r step, the complementary gate in the o step; positive, consistent) is
  larger, it is used instead; the count of such pairs is returned. A
  first version floored the difference at Phi(g_o) / (2 L) instead; that
  floor made impossible outcomes cheap, and the fit ran to rho = 1 (exact
  log-likelihood -433,884 against -4,440 at the exact fit).
"""

import math

import numpy as np
from numba import njit, prange

from .bivariate_normal import log_bvn_cdf
from .normal import log_ndtr_mills, ndtri_log


#: |a| = |atanh(rho)| is evaluated at most here (rho = 1 - 1.9e-13): beyond it
#: tanh(a) rounds to +-1 and sqrt(1 - rho^2) to 0 (a ZeroDivisionError inside the
#: kernels, ../shared/reliability F3). The fit stops at |rho| = 0.9999 (a = 4.95)
#: long before; only a line search or a wild step reaches past it.
A_MAX = 15.0


def clip_a(a):
    """a held to [-A_MAX, A_MAX] for evaluation."""
    return min(max(float(a), -A_MAX), A_MAX)


def _sums(terms, d_a, a):
    """(loglik, dl/da) from per-pair terms, summed in a fixed order.

    The kernels write per-pair values instead of reducing across threads, so
    the sums do not depend on how the pairs were split between threads
    (bitwise the same at any NUMBA_NUM_THREADS; ../shared/reliability F32).
    Past A_MAX the likelihood is held flat in a: its derivative there is 0.
    """
    return float(np.sum(terms)), (float(np.sum(d_a)) if abs(a) <= A_MAX else 0.0)


@njit(cache=True, inline="always")
def _exact_pair(go, gr, r_j, o_j, a):
    """One pair's exact term: (loglik, dl/dg_o, dl/dg_r, dl/da)."""
    if not o_j:
        lc, m = log_ndtr_mills(-go)
        return lc, -m, 0.0, 0.0
    q = 1.0 if r_j > 0.5 else -1.0
    lp, dh, dk, da = log_bvn_cdf(go, q * gr, q * a)
    return lp, dh, q * dk, q * da


@njit(cache=True, parallel=True)
def _exact_pairs(g_o, g_r, r, o, a, d_o, d_r, terms, d_a):
    for j in prange(g_o.shape[0]):
        terms[j], d_o[j], d_r[j], d_a[j] = _exact_pair(g_o[j], g_r[j], r[j], o[j], a)


def exact_terms(g_o, g_r, r, o, a, d_o, d_r):
    """Exact likelihood; returns (loglik, dl/da)."""
    terms, d_a = np.empty(g_o.shape[0]), np.empty(g_o.shape[0])
    _exact_pairs(g_o, g_r, r, o, clip_a(a), d_o, d_r, terms, d_a)
    return _sums(terms, d_a, a)


def ghk_terms(g_o, g_r, r, o, a, log_v, d_o, d_r):
    """Smooth simulator with fixed log-uniforms ``log_v``; returns (loglik, dl/da)."""
    terms, d_a = np.empty(g_o.shape[0]), np.empty(g_o.shape[0])
    _ghk_pairs(g_o, g_r, r, o, clip_a(a), log_v, d_o, d_r, terms, d_a)
    return _sums(terms, d_a, a)


@njit(cache=True, parallel=True)
def _ghk_pairs(g_o, g_r, r, o, a, log_v, d_o, d_r, terms, d_a):
    ca = math.cosh(a)
    sa = math.sinh(a)
    n_draws = log_v.shape[0]
    log_n = math.log(n_draws)
    for j in prange(g_o.shape[0]):
        if not o[j]:
            lc, m = log_ndtr_mills(-g_o[j])
            terms[j] = lc
            d_a[j] = 0.0
            d_o[j] = -m
            d_r[j] = 0.0
            continue
        q = 1.0 if r[j] > 0.5 else -1.0
        go = g_o[j]
        gr = g_r[j]
        lc_o, mills_o = log_ndtr_mills(go)
        # First sweep: the largest log Phi(z_l), to sum the terms without underflow.
        top = -math.inf
        for l in range(n_draws):
            t = ndtri_log(log_v[l] + lc_o)
            top = max(top, log_ndtr_mills(q * (gr * ca - t * sa))[0])
        total = 0.0
        s_z = 0.0   # sum of w_l m_l, w_l = Phi(z_l) / max Phi
        s_a = 0.0   # ... times dz_l/da / q
        s_o = 0.0   # ... times dz_l/dg_o / q
        for l in range(n_draws):
            t = ndtri_log(log_v[l] + lc_o)
            lz, mz = log_ndtr_mills(q * (gr * ca - t * sa))
            w = math.exp(lz - top)
            total += w
            wm = w * mz
            s_z += wm
            s_a += wm * (gr * sa - t * ca)
            # dt/dg_o = lambda(g_o) / lambda(t), lambda the Mills ratio phi/Phi
            s_o += wm * (-sa) * mills_o / log_ndtr_mills(t)[1]
        terms[j] = lc_o + top + math.log(total) - log_n
        d_r[j] = q * ca * s_z / total
        d_o[j] = mills_o + q * s_o / total
        d_a[j] = q * s_a / total


@njit(cache=True)
def _mc_pair(go, gr, r_is_1, ca, sa, eps, step_r):
    """One observed pair's MC term: (loglik, dl/dg_o, dl/dg_r, dl/da, guarded)."""
    n_draws = eps.shape[0]
    lc_o, mills_o = log_ndtr_mills(go)
    # r step: draws of U_O, gate 1[eps > -g_o], Phi's argument moves with g_r.
    # o step: draws of U_R, gate 1[eps > -g_r] (r = 1) or its complement
    # (r = 0), Phi's argument moves with g_o.
    mover = gr if step_r else go
    gate = go if step_r else gr
    s1 = 0.0   # sum of Phi(z_l) over the gate: n_draws * MC
    s1_m = 0.0
    s1_a = 0.0
    s0 = 0.0   # the direct estimate of P(o = 1, r = 0), used as the guard
    s0_m = 0.0
    s0_a = 0.0
    for l in range(n_draws):
        z = mover * ca + eps[l] * sa
        lz, mz = log_ndtr_mills(z)
        cdf = math.exp(lz)
        pdf_m = cdf * mz * ca                          # d Phi(z) / d mover
        pdf_a = cdf * mz * (mover * sa + eps[l] * ca)  # d Phi(z) / d a
        if eps[l] > -gate:
            s1 += cdf
            s1_m += pdf_m
            s1_a += pdf_a
            if step_r:
                s0 += math.exp(log_ndtr_mills(-z)[0])  # Phi(-z), accurate in its tail
                s0_m -= pdf_m
                s0_a -= pdf_a
        elif not step_r:
            s0 += cdf
            s0_m += pdf_m
            s0_a += pdf_a
    guarded = 0
    if r_is_1:
        p, dp_m, dp_a, dp_o = s1 / n_draws, s1_m / n_draws, s1_a / n_draws, 0.0
    else:
        # The paper's Phi(g_o) - MC, unless the direct estimate is larger (then
        # the subtraction has lost the probability to sampling error).
        p_o = math.exp(lc_o)
        p = p_o - s1 / n_draws
        dp_m, dp_a, dp_o = -s1_m / n_draws, -s1_a / n_draws, p_o * mills_o
        if p < s0 / n_draws:
            guarded = 1
            p, dp_m, dp_a, dp_o = s0 / n_draws, s0_m / n_draws, s0_a / n_draws, 0.0
    if p <= 0.0:
        # No draw supports this outcome: log-probability 700 below Phi(g_o),
        # a wall rather than a soft floor, with no gradient to follow.
        return lc_o - 700.0, (0.0 if step_r else mills_o), 0.0, 0.0, guarded
    if step_r:
        return math.log(p), 0.0, dp_m / p, dp_a / p, guarded
    return math.log(p), (dp_o + dp_m) / p, 0.0, dp_a / p, guarded


def mc_terms(g_o, g_r, r, o, a, eps, step_r, d_o, d_r):
    """The paper's MC^r (``step_r``) or MC^o likelihood; returns (loglik, dl/da, n_guarded)."""
    n = g_o.shape[0]
    terms, d_a, guarded = np.empty(n), np.empty(n), np.empty(n, dtype=np.int64)
    _mc_pairs(g_o, g_r, r, o, clip_a(a), eps, step_r, d_o, d_r, terms, d_a, guarded)
    return (*_sums(terms, d_a, a), int(guarded.sum()))


@njit(cache=True, parallel=True)
def _mc_pairs(g_o, g_r, r, o, a, eps, step_r, d_o, d_r, terms, d_a, guarded):
    ca = math.cosh(a)
    sa = math.sinh(a)
    for j in prange(g_o.shape[0]):
        if o[j]:
            lj, doj, drj, daj, gj = _mc_pair(g_o[j], g_r[j], r[j] > 0.5, ca, sa, eps, step_r)
        else:
            lj, mj = log_ndtr_mills(-g_o[j])
            doj, drj, daj, gj = -mj, 0.0, 0.0, 0
        terms[j] = lj
        d_a[j] = daj
        guarded[j] = gj
        d_o[j] = doj
        d_r[j] = drj


@njit(cache=True, parallel=True)
def exact_per_pair(g_o, g_r, r, o, a, out):
    """Exact log-likelihood of each pair into ``out`` (for scoring)."""
    a = min(max(a, -A_MAX), A_MAX)
    for j in prange(g_o.shape[0]):
        out[j] = _exact_pair(g_o[j], g_r[j], r[j], o[j], a)[0]
