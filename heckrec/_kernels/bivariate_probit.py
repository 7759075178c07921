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
  P(o = 1, r = 0) is Phi(g_o) - MC, which sampling error can make zero or
  negative; such a probability is raised to the floor Phi(g_o) / (2 L), half
  the smallest share one of L draws can carry, where its derivatives in g_r
  and a are zero. The count of floored pairs is returned so the fit can
  report it.
"""

import math

from numba import njit, prange

from .bivariate_normal import log_bvn_cdf
from .normal import log_ndtr_mills, ndtri_log


@njit(cache=True, parallel=True)
def exact_terms(g_o, g_r, r, o, a, d_o, d_r):
    """Exact likelihood; returns (loglik, dl/da)."""
    ll = 0.0
    ga = 0.0
    for j in prange(g_o.shape[0]):
        if o[j]:
            q = 1.0 if r[j] > 0.5 else -1.0
            lp, dh, dk, da = log_bvn_cdf(g_o[j], q * g_r[j], q * a)
            ll += lp
            ga += q * da
            d_o[j] = dh
            d_r[j] = q * dk
        else:
            lc, m = log_ndtr_mills(-g_o[j])
            ll += lc
            d_o[j] = -m
            d_r[j] = 0.0
    return ll, ga


@njit(cache=True, parallel=True)
def ghk_terms(g_o, g_r, r, o, a, log_v, d_o, d_r):
    """Smooth simulator with fixed log-uniforms ``log_v``; returns (loglik, dl/da)."""
    ca = math.cosh(a)
    sa = math.sinh(a)
    n_draws = log_v.shape[0]
    log_n = math.log(n_draws)
    ll = 0.0
    ga = 0.0
    for j in prange(g_o.shape[0]):
        if not o[j]:
            lc, m = log_ndtr_mills(-g_o[j])
            ll += lc
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
        ll += lc_o + top + math.log(total) - log_n
        d_r[j] = q * ca * s_z / total
        d_o[j] = mills_o + q * s_o / total
        ga += q * s_a / total
    return ll, ga


@njit(cache=True, parallel=True)
def mc_terms(g_o, g_r, r, o, a, eps, step_r, d_o, d_r):
    """The paper's MC^r (``step_r``) or MC^o likelihood; returns (loglik, dl/da, n_floored)."""
    ca = math.cosh(a)
    sa = math.sinh(a)
    n_draws = eps.shape[0]
    ll = 0.0
    ga = 0.0
    n_floor = 0
    for j in prange(g_o.shape[0]):
        go = g_o[j]
        lc_o, mills_o = log_ndtr_mills(go)
        if not o[j]:
            lc, m = log_ndtr_mills(-go)
            ll += lc
            d_o[j] = -m
            d_r[j] = 0.0
            continue
        # In the r step the indicator is on g_o and Phi's argument moves with g_r;
        # in the o step the other way round.
        mover = g_r[j] if step_r else go
        gate = go if step_r else g_r[j]
        mc = 0.0
        d_mover = 0.0
        d_a = 0.0
        for l in range(n_draws):
            if eps[l] > -gate:
                z = mover * ca + eps[l] * sa
                lz, mz = log_ndtr_mills(z)
                cdf = math.exp(lz)
                mc += cdf
                d_mover += cdf * mz * ca
                d_a += cdf * mz * (mover * sa + eps[l] * ca)
        mc /= n_draws
        d_mover /= n_draws
        d_a /= n_draws
        p_o = math.exp(lc_o)
        floor = p_o / (2.0 * n_draws)
        if r[j] > 0.5:
            p, sign, dp_o = mc, 1.0, 0.0
        else:
            # P(o=1, r=0) = Phi(g_o) - MC; dPhi(g_o)/dg_o = Phi(g_o) mills(g_o)
            p, sign, dp_o = p_o - mc, -1.0, p_o * mills_o
        if p < floor:
            n_floor += 1
            ll += math.log(floor)
            d_o[j] = mills_o if not step_r else 0.0
            d_r[j] = 0.0
            continue
        ll += math.log(p)
        ga += sign * d_a / p
        if step_r:
            d_r[j] = sign * d_mover / p
            d_o[j] = 0.0
        else:
            d_o[j] = (dp_o + sign * d_mover) / p
            d_r[j] = 0.0
    return ll, ga, n_floor


@njit(cache=True, parallel=True)
def exact_per_pair(g_o, g_r, r, o, a, out):
    """Exact log-likelihood of each pair into ``out`` (for scoring)."""
    for j in prange(g_o.shape[0]):
        if o[j]:
            q = 1.0 if r[j] > 0.5 else -1.0
            out[j] = log_bvn_cdf(g_o[j], q * g_r[j], q * a)[0]
        else:
            out[j] = log_ndtr_mills(-g_o[j])[0]
