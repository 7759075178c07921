"""Numba kernels for block-coordinate Newton sweeps of the continuous Heckman MF model.

With the global parameters and the item rows held fixed, the log-likelihood of one
user's pairs depends only on that user's row (b_o, p_o, b_r, p_r), through scores
that are linear in it; and per pair it is concave in (g_o, g_r): ``log Phi`` of an
affine function plus ``-e^2/2``. So each user's block is a small, strictly convex
(with the L2 penalty) problem, independent of every other user's: one Newton step
per user, in parallel, with its own backtracking line search, lowers the objective
for every user at once. The same holds for items with the users held fixed.

Per pair, with e = (r - g_r)/sigma, v = cosh(a) g_o + sinh(a) e, lam = phi(v)/Phi(v)
and kap = lam (v + lam) (minus the second derivative of log Phi at v):

    o = 1:  d2l/dg_o2 = -kap cosh(a)^2,   d2l/dg_o dg_r = kap cosh(a) sinh(a) / sigma,
            d2l/dg_r2 = -(1 + kap sinh(a)^2) / sigma^2
    o = 0:  d2l/dg_o2 = -lam0 (lam0 - g_o),  lam0 = phi(-g_o)/Phi(-g_o)

:func:`global_curvature` adds the derivatives in a = atanh(rho) and s = log(sigma)
for the Newton step of the global parameters (mu, w, a, s); its formulas are in the
function. The tests check every second derivative here against finite differences of
the analytic gradient of the numpy twin (:mod:`heckrec._array.heckman_continuous`).
Each row is written by one thread and the global sums are reduced over a fixed
chunking of the users, so the sweeps are deterministic (GUIDE section 4).
"""

import math

import numpy as np
from numba import njit, prange

from .mf_rows import pair_score
from .normal import LOG_2PI_HALF, log_ndtr_mills

#: Armijo constant and the most halvings of a row's Newton step.
ARMIJO = 1e-4
MAX_HALVINGS = 30


@njit(cache=True, inline="always")
def pair_curvature(obs, r, go, gr, ca, sa, inv_sigma):
    """(l, dl/dg_o, dl/dg_r, d2l/dg_o2, d2l/dg_o dg_r, d2l/dg_r2) of one pair.

    ``l`` leaves out the constant ``-s - log(2 pi)/2`` of an observed pair.
    """
    if obs:
        e = (r - gr) * inv_sigma
        v = ca * go + sa * e
        lc, lam = log_ndtr_mills(v)
        kap = lam * (v + lam)
        dl_de = lam * sa - e
        return (lc - 0.5 * e * e, lam * ca, -dl_de * inv_sigma, -kap * ca * ca,
                kap * ca * sa * inv_sigma, -(1.0 + kap * sa * sa) * inv_sigma * inv_sigma)
    lc, lam = log_ndtr_mills(-go)
    return lc, -lam, 0.0, -lam * (lam - go), 0.0, 0.0


@njit(cache=True, inline="always")
def _row_score(mu, b_own, b_oth, P_own, Q_oth, w, F, row, other, j, step, t):
    """g of pair j for row ``row`` moved by ``t * step`` (step = [db, dp...])."""
    g = mu + b_own[row] + b_oth[other] + t * step[0]
    for f in range(P_own.shape[1]):
        g += (P_own[row, f] + t * step[1 + f]) * Q_oth[other, f]
    for f in range(w.shape[0]):
        g += F[j, f] * w[f]
    return g


@njit(cache=True)
def cholesky_solve(H, rhs, out):
    """Solve H out = rhs for symmetric positive definite H (upper triangle read).

    Returns False (``out`` untouched) when H is not positive definite. H is
    overwritten by its Cholesky factor.
    """
    m = H.shape[0]
    for j in range(m):
        d = H[j, j]
        for p in range(j):
            d -= H[p, j] * H[p, j]
        if not d > 0.0:
            return False
        d = math.sqrt(d)
        H[j, j] = d
        for q in range(j + 1, m):
            v = H[j, q]
            for p in range(j):
                v -= H[p, j] * H[p, q]
            H[j, q] = v / d
    y = np.empty(m)
    for q in range(m):  # R^T y = rhs, R upper
        v = rhs[q]
        for p in range(q):
            v -= H[p, q] * y[p]
        y[q] = v / H[q, q]
    for q in range(m - 1, -1, -1):  # R out = y
        v = y[q]
        for p in range(q + 1, m):
            v -= H[q, p] * out[p]
        out[q] = v / H[q, q]
    return True


@njit(cache=True)
def _row_objective(ptr, order, other_ids, r, o, F, mu_o, w_o, mu_r, w_r, b_o, P_o, b_r, P_r,
                   c_o, Q_o, c_r, Q_r, ca, sa, inv_sigma, reg_bias, reg_factors, row,
                   step_o, step_r, t):
    """Penalised negative log-likelihood of one row's pairs, the row moved by t * step."""
    k = P_o.shape[1]
    f = 0.5 * reg_bias * ((b_o[row] + t * step_o[0]) ** 2 + (b_r[row] + t * step_r[0]) ** 2)
    for q in range(k):
        f += 0.5 * reg_factors * ((P_o[row, q] + t * step_o[1 + q]) ** 2
                                  + (P_r[row, q] + t * step_r[1 + q]) ** 2)
    for idx in range(ptr[row], ptr[row + 1]):
        j = order[idx] if order.shape[0] else idx
        other = other_ids[j]
        go = _row_score(mu_o, b_o, c_o, P_o, Q_o, w_o, F, row, other, j, step_o, t)
        gr = 0.0
        if o[j]:
            gr = _row_score(mu_r, b_r, c_r, P_r, Q_r, w_r, F, row, other, j, step_r, t)
        f -= pair_curvature(o[j], r[j], go, gr, ca, sa, inv_sigma)[0]
    return f


@njit(cache=True)
def _accumulate_row(row, ptr, order, other_ids, r, o, F, mu_o, w_o, mu_r, w_r,
                    b_o, P_o, b_r, P_r, c_o, Q_o, c_r, Q_r, ca, sa, inv_sigma,
                    reg_bias, reg_factors, H, G):
    """Value, gradient ``G`` and Hessian ``H`` (upper triangle) of one row's objective.

    The objective is the row's penalised negative log-likelihood in its own
    (b_o, p_o, b_r, p_r), the rest held fixed; ``H`` and ``G`` must be zero on entry.
    """
    k = P_o.shape[1]
    xo = np.empty(k + 1)
    xr = np.empty(k + 1)
    zero = np.zeros(k + 1)
    f0 = 0.0
    for idx in range(ptr[row], ptr[row + 1]):
        j = order[idx] if order.shape[0] else idx
        other = other_ids[j]
        go = _row_score(mu_o, b_o, c_o, P_o, Q_o, w_o, F, row, other, j, zero, 0.0)
        gr = 0.0
        if o[j]:
            gr = _row_score(mu_r, b_r, c_r, P_r, Q_r, w_r, F, row, other, j, zero, 0.0)
        ll, lo, lr, hoo, hor, hrr = pair_curvature(o[j], r[j], go, gr, ca, sa, inv_sigma)
        f0 -= ll
        xo[0] = 1.0
        for q in range(k):
            xo[1 + q] = Q_o[other, q]
        for p in range(k + 1):
            G[p] -= lo * xo[p]
            for q in range(p, k + 1):
                H[p, q] -= hoo * xo[p] * xo[q]
        if o[j]:
            xr[0] = 1.0
            for q in range(k):
                xr[1 + q] = Q_r[other, q]
            for p in range(k + 1):
                G[k + 1 + p] -= lr * xr[p]
                for q in range(k + 1):
                    H[p, k + 1 + q] -= hor * xo[p] * xr[q]
                for q in range(p, k + 1):
                    H[k + 1 + p, k + 1 + q] -= hrr * xr[p] * xr[q]
    # The L2 penalty: value, gradient and diagonal.
    f0 += 0.5 * reg_bias * (b_o[row] ** 2 + b_r[row] ** 2)
    G[0] += reg_bias * b_o[row]
    G[k + 1] += reg_bias * b_r[row]
    H[0, 0] += reg_bias
    H[k + 1, k + 1] += reg_bias
    for q in range(k):
        f0 += 0.5 * reg_factors * (P_o[row, q] ** 2 + P_r[row, q] ** 2)
        G[1 + q] += reg_factors * P_o[row, q]
        G[k + 2 + q] += reg_factors * P_r[row, q]
        H[1 + q, 1 + q] += reg_factors
        H[k + 2 + q, k + 2 + q] += reg_factors
    return f0


@njit(cache=True, parallel=True)
def row_newton_step(ptr, order, other_ids, r, o, F, mu_o, w_o, mu_r, w_r,
                    b_o, P_o, b_r, P_r, c_o, Q_o, c_r, Q_r, a, s, reg_bias, reg_factors,
                    decrease):
    """One damped Newton step on every row of one side, in parallel; rows updated in place.

    The rows are users (``ptr`` the user pointer, ``order`` empty: pairs in row order,
    ``other_ids`` the pairs' items, ``c``/``Q`` the item biases and factors) or
    items (``ptr`` the item pointer, ``order`` the item-sorted pair index,
    ``other_ids`` the pairs' users). Own row = (b_o, P_o, b_r, P_r)[row]. The step
    solves H d = -g for the row's penalised negative log-likelihood and is halved
    until it decreases that by the Armijo rule. ``decrease[row]`` receives how much
    it went down (0 where no step was taken).
    """
    n_rows = ptr.shape[0] - 1
    k = P_o.shape[1]
    m = 2 * (k + 1)
    ca = math.cosh(a)
    sa = math.sinh(a)
    inv_sigma = math.exp(-s)
    for row in prange(n_rows):
        H = np.zeros((m, m))
        G = np.zeros(m)
        f0 = _accumulate_row(row, ptr, order, other_ids, r, o, F, mu_o, w_o, mu_r, w_r,
                             b_o, P_o, b_r, P_r, c_o, Q_o, c_r, Q_r, ca, sa, inv_sigma,
                             reg_bias, reg_factors, H, G)
        # A row with no observed pair has no information on its outcome part:
        # without penalty that block is zero; a tiny ridge keeps it solvable.
        scale = 0.0
        for p in range(m):
            scale = max(scale, H[p, p])
        step = np.zeros(m)
        solved = False
        for attempt in range(8):
            trial = H.copy()
            ridge = 1e-12 * scale * 100.0 ** attempt if attempt else 0.0
            for p in range(m):
                trial[p, p] += ridge + (1e-300 if scale == 0.0 else 0.0)
            if cholesky_solve(trial, -G, step):
                solved = True
                break
        decrease[row] = 0.0
        if not solved:
            continue
        slope = 0.0
        for p in range(m):
            slope += G[p] * step[p]
        if not slope < 0.0:
            continue
        step_o = step[:k + 1]
        step_r = step[k + 1:]
        t = 1.0
        for _ in range(MAX_HALVINGS):
            f_t = _row_objective(ptr, order, other_ids, r, o, F, mu_o, w_o, mu_r, w_r,
                                 b_o, P_o, b_r, P_r, c_o, Q_o, c_r, Q_r, ca, sa, inv_sigma,
                                 reg_bias, reg_factors, row, step_o, step_r, t)
            if f_t <= f0 + ARMIJO * t * slope:
                b_o[row] += t * step_o[0]
                b_r[row] += t * step_r[0]
                for q in range(k):
                    P_o[row, q] += t * step_o[1 + q]
                    P_r[row, q] += t * step_r[1 + q]
                decrease[row] = f0 - f_t
                break
            t *= 0.5


@njit(cache=True, inline="always")
def global_pair(obs, r, go, gr, ca, sa, inv_sigma, s, derivatives, g4, h4):
    """One pair's log-likelihood; with ``derivatives`` its gradient ``g4`` and the upper
    triangle of its Hessian ``h4`` in (g_o, g_r, a, s).

    Per observed pair, with l_e = lam sinh(a) - e and v_a = sinh(a) g_o + cosh(a) e =
    dv/da, in the variables (g_o, e, a):

        H = -kap [c^2, cs, c v_a; cs, s^2 + 1/kap, s v_a; c v_a, s v_a, v_a^2]
            + lam [0, 0, s; 0, 0, c; s, c, v]      (c = cosh a, s = sinh a)

    then mapped to (g_o, g_r, a, s) through e = (r - g_r) exp(-s). An unobserved pair
    depends on g_o only: entries 0 / (0, 0) alone are written.
    """
    if obs:
        e = (r - gr) * inv_sigma
        v = ca * go + sa * e
        lc, lam = log_ndtr_mills(v)
        if derivatives:
            kap = lam * (v + lam)
            va = sa * go + ca * e
            l_e = lam * sa - e
            # Hessian in (g_o, e, a)
            h_oo = -kap * ca * ca
            h_oe = -kap * ca * sa
            h_ee = -1.0 - kap * sa * sa
            h_oa = -kap * ca * va + lam * sa
            h_ea = -kap * sa * va + lam * ca
            h_aa = -kap * va * va + lam * v
            # to (g_o, g_r, a, s): de/dg_r = -1/sigma, de/ds = -e,
            # d2e/dg_r ds = 1/sigma, d2e/ds2 = e
            g4[0] = lam * ca
            g4[1] = -l_e * inv_sigma
            g4[2] = lam * va
            g4[3] = -1.0 - l_e * e
            h4[0, 0] = h_oo
            h4[0, 1] = -h_oe * inv_sigma
            h4[0, 2] = h_oa
            h4[0, 3] = -h_oe * e
            h4[1, 1] = h_ee * inv_sigma * inv_sigma
            h4[1, 2] = -h_ea * inv_sigma
            h4[1, 3] = (h_ee * e + l_e) * inv_sigma
            h4[2, 2] = h_aa
            h4[2, 3] = -h_ea * e
            h4[3, 3] = h_ee * e * e + l_e * e
        return lc - s - LOG_2PI_HALF - 0.5 * e * e
    lc, lam = log_ndtr_mills(-go)
    if derivatives:
        g4[0] = -lam
        h4[0, 0] = -lam * (lam - go)
    return lc


@njit(cache=True, parallel=True)
def linear_selection_terms(Z, X, y, selected, gamma, beta, lnsigma, athrho, n_chunks,
                           derivatives, ll_out, grad_out, hess_out):
    """The linear-index tobit-2 model (classic HeckmanSelection): log-likelihood, and its
    gradient and Hessian in theta = (gamma, beta, lnsigma, athrho).

    g_o = Z gamma and g_r = X beta; each pair's derivatives in (g_o, g_r, a, s) are
    :func:`global_pair`'s (the MF model's, tested against finite differences) and the
    chain rule adds them into theta's rows. Rows are split into ``n_chunks`` fixed chunks,
    chunk c writing ``ll_out[c]``, ``grad_out[c]``, ``hess_out[c]`` (upper triangle; the
    caller sums and mirrors), so the result does not depend on the thread count.
    """
    n, m = Z.shape
    k = X.shape[1]
    ca = math.cosh(athrho)
    sa = math.sinh(athrho)
    inv_sigma = math.exp(-lnsigma)
    i_s = m + k
    i_a = m + k + 1
    for c in prange(n_chunks):
        lo = c * n // n_chunks
        hi = (c + 1) * n // n_chunks
        ll = 0.0
        g4 = np.zeros(4)
        h4 = np.zeros((4, 4))
        grad = grad_out[c]
        hess = hess_out[c]
        if derivatives:
            grad[:] = 0.0
            hess[:, :] = 0.0
        for j in range(lo, hi):
            go = 0.0
            for q in range(m):
                go += Z[j, q] * gamma[q]
            gr = 0.0
            if selected[j]:
                for q in range(k):
                    gr += X[j, q] * beta[q]
            ll += global_pair(selected[j], y[j], go, gr, ca, sa, inv_sigma, lnsigma,
                              derivatives, g4, h4)
            if not derivatives:
                continue
            for p in range(m):
                grad[p] += g4[0] * Z[j, p]
                for q in range(p, m):
                    hess[p, q] += h4[0, 0] * Z[j, p] * Z[j, q]
            if not selected[j]:
                continue
            # (g_o, g_r, a, s) -> theta: Z_j, X_j, 1 at athrho, 1 at lnsigma
            for p in range(k):
                grad[m + p] += g4[1] * X[j, p]
                for q in range(m):
                    hess[q, m + p] += h4[0, 1] * Z[j, q] * X[j, p]
                for q in range(p, k):
                    hess[m + p, m + q] += h4[1, 1] * X[j, p] * X[j, q]
                hess[m + p, i_s] += h4[1, 3] * X[j, p]
                hess[m + p, i_a] += h4[1, 2] * X[j, p]
            for q in range(m):
                hess[q, i_s] += h4[0, 3] * Z[j, q]
                hess[q, i_a] += h4[0, 2] * Z[j, q]
            grad[i_s] += g4[3]
            grad[i_a] += g4[2]
            hess[i_s, i_s] += h4[3, 3]
            hess[i_s, i_a] += h4[2, 3]
            hess[i_a, i_a] += h4[2, 2]
        ll_out[c] = ll


@njit(cache=True, parallel=True)
def global_curvature(user_ptr, items, r, o, F, mu_o, bu_o, bi_o, P_o, Q_o, w_o,
                     mu_r, bu_r, bi_r, P_r, Q_r, w_r, a, s, n_chunks, derivatives,
                     ll_out, grad_out, hess_out):
    """Log-likelihood, and its gradient and Hessian in the global parameters.

    Globals, in order: mu_o, w_o (n_features), mu_r, w_r, a, s. Users are split
    into ``n_chunks`` fixed chunks; chunk c writes ``ll_out[c]``, and with
    ``derivatives`` also ``grad_out[c]`` and ``hess_out[c]`` (the caller sums
    them). Each pair's derivatives in (g_o, g_r, a, s) are :func:`global_pair`'s.
    """
    n_users = user_ptr.shape[0] - 1
    nf = w_o.shape[0]
    ia = 2 * nf + 2
    ca = math.cosh(a)
    sa = math.sinh(a)
    inv_sigma = math.exp(-s)
    for c in prange(n_chunks):
        lo_u = c * n_users // n_chunks
        hi_u = (c + 1) * n_users // n_chunks
        ll = 0.0
        g4 = np.zeros(4)
        h4 = np.zeros((4, 4))
        idx = np.empty((4, nf + 1), dtype=np.int64)
        coef = np.empty((4, nf + 1))
        size = np.array([nf + 1, nf + 1, 1, 1])
        for q in range(nf + 1):
            idx[0, q] = q
            idx[1, q] = nf + 1 + q
        idx[2, 0] = ia
        idx[3, 0] = ia + 1
        coef[0, 0] = coef[1, 0] = coef[2, 0] = coef[3, 0] = 1.0
        grad = grad_out[c]
        hess = hess_out[c]
        if derivatives:
            grad[:] = 0.0
            hess[:, :] = 0.0
        for u in range(lo_u, hi_u):
            for j in range(user_ptr[u], user_ptr[u + 1]):
                i = items[j]
                go = pair_score(mu_o, bu_o, bi_o, P_o, Q_o, w_o, F, u, i, j)
                gr = pair_score(mu_r, bu_r, bi_r, P_r, Q_r, w_r, F, u, i, j) if o[j] else 0.0
                ll += global_pair(o[j], r[j], go, gr, ca, sa, inv_sigma, s, derivatives,
                                  g4, h4)
                if not derivatives:
                    continue
                for q in range(nf):
                    coef[0, 1 + q] = F[j, q]
                    coef[1, 1 + q] = F[j, q]
                n_active = 4 if o[j] else 1  # an unobserved pair depends on g_o only
                for al in range(n_active):
                    for p in range(size[al]):
                        grad[idx[al, p]] += g4[al] * coef[al, p]
                    for be in range(al, n_active):
                        h = h4[al, be]
                        if h == 0.0:
                            continue
                        for p in range(size[al]):
                            for q in range(size[be]):
                                v_pq = h * coef[al, p] * coef[be, q]
                                hess[idx[al, p], idx[be, q]] += v_pq
                                if al != be:
                                    hess[idx[be, q], idx[al, p]] += v_pq
        ll_out[c] = ll
