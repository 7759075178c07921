"""Array twin of :mod:`heckrec._kernels.heckman_continuous` (numpy or cupy)."""

import math

import numpy as np

from ._namespace import segment_sum

LOG_2PI_HALF = 0.5 * math.log(2.0 * math.pi)


def mf_score(xp, mu, bu, bi, P, Q, w, users, items, F):
    """g = mu + b_u + b_i + <p_u, q_i> + F w for each pair."""
    g = mu + bu[users] + bi[items] + xp.sum(P[users] * Q[items], axis=1)
    if w.shape[0]:
        g = g + F @ w
    return g


def tile_scores(mu, bu, bi, P, Q, start, stop):
    """g = mu + b_u + b_i + <p_u, q_i> for users [start, stop) x every item (no features)."""
    return mu + bu[start:stop, None] + bi[None, :] + P[start:stop] @ Q.T


def log_ndtr_mills(xp, special, x):
    """(log Phi(x), phi(x)/Phi(x)), the Mills ratio from logs so it never overflows."""
    log_cdf = special.log_ndtr(x)
    return log_cdf, xp.exp(-0.5 * x * x - LOG_2PI_HALF - log_cdf)


def pair_terms(xp, special, g_o, g_r, r, o, a, s):
    """Per-pair log-likelihood and its derivatives in g_o, g_r, a and s.

    ``a`` and ``s`` may be floats or per-pair arrays (the classic model's
    Hessian differences them per observation).
    """
    ca, sa, inv_sigma = np.cosh(a), np.sinh(a), np.exp(-s)
    e = xp.where(o, (r - g_r) * inv_sigma, 0.0)
    arg = xp.where(o, ca * g_o + sa * e, -g_o)
    log_cdf, mills = log_ndtr_mills(xp, special, arg)
    ll = log_cdf + xp.where(o, -s - LOG_2PI_HALF - 0.5 * e * e, 0.0)
    d_o = xp.where(o, mills * ca, -mills)
    dl_de = xp.where(o, mills * sa - e, 0.0)
    d_r = -dl_de * inv_sigma
    d_a = xp.where(o, mills * (sa * g_o + ca * e), 0.0)
    d_s = xp.where(o, -1.0 - dl_de * e, 0.0)
    return ll, d_o, d_r, d_a, d_s


def loglik_grad(xp, special, p, users, items, r, o, F, n_users, n_items):
    """Log-likelihood and its gradient, blocks named as in ``p``.

    ``p`` has the attributes mu_o, bu_o, bi_o, P_o, Q_o, w_o, the same with
    ``_r``, and the scalars a = atanh(rho), s = log(sigma).
    """
    g_o = mf_score(xp, p.mu_o, p.bu_o, p.bi_o, p.P_o, p.Q_o, p.w_o, users, items, F)
    g_r = mf_score(xp, p.mu_r, p.bu_r, p.bi_r, p.P_r, p.Q_r, p.w_r, users, items, F)
    ll, d_o, d_r, d_a, d_s = pair_terms(xp, special, g_o, g_r, r, o, p.a, p.s)
    grad = {"a": float(xp.sum(d_a)), "s": float(xp.sum(d_s))}
    for tag, d, P, Q in (("o", d_o, p.P_o, p.Q_o), ("r", d_r, p.P_r, p.Q_r)):
        grad["mu_" + tag] = float(xp.sum(d))
        grad["bu_" + tag] = segment_sum(xp, users, d, n_users)
        grad["bi_" + tag] = segment_sum(xp, items, d, n_items)
        grad["P_" + tag] = segment_sum(xp, users, d[:, None] * Q[items], n_users)
        grad["Q_" + tag] = segment_sum(xp, items, d[:, None] * P[users], n_items)
        grad["w_" + tag] = F.T @ d
    return float(xp.sum(ll)), grad
