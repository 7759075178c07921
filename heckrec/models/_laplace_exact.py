"""log det H_rows with the user-item cross terms, where one side of the grid is small.

The Laplace criterion (:mod:`heckrec.models._laplace`) needs log det H_rows, the Hessian of
the penalised objective in every user's and item's parameters. The blocks there keep one
block per user and per item and leave out the cross blocks between user u and item i,

    C_ui = sum_{s, t} W_st x_s^u (x_t^i)' + sum_s e_s J_s,

with W = -d2 loglik / d(g_o, g_r)^2 of the pair, x_s^u = [1, q_i^s] (the derivative of
g_s in u's bias and factors), x_t^i = [1, p_u^t], e_s = -d loglik / d g_s and J_s the
identity on score s's factors (d2 g_s / dp_u dq_i). On simulated grids those terms move
the evidence's rho by +0.03, about half an SE, always away from 0 (docs/inference.md).

Exactly, with U the eliminated side's blocks (the larger side) and K the kept side's:

    log det H_rows = sum log det U_u + log det S,   S = K - sum_u C_u' U_u^-1 C_u,

S the Schur complement on the kept side, dense, (n_kept (2k + 2))^2 numbers. It is formed
from chunks of the eliminated side, C_u built from the pairs' (W, e) on a dense
chunk x kept grid (every grid pair is there under ``unobserved="complement"``).

**Rotations.** Rotating a score's factors (P A, Q A, A orthogonal) changes neither the
likelihood nor the penalty, so at the fit H_rows is singular along the orbit's tangents
(P E, Q E), E skew: k (k - 1) / 2 directions per score. Laplace's method then integrates
over the orbit: its volume times the Gaussian integral across it,

    Vol(orbit) (2 pi)^((n - m) / 2) pdet(H)^(-1/2),   Vol(orbit) = vol(Stiefel) det(G'G)^(1/2),

G the m tangents, each of unit length in the group's metric. With Gk their kept-side
parts, det(H + [0; Gk][0; Gk]') = pdet(H) det(Gk'Gk)^2 / det(G'G) (H is diag(0, L) in
its null space and the rest), so the two det(G'G) cancel:

    -1/2 log pdet H + 1/2 log det G'G = -1/2 (log det U + log det(S + Gk Gk')) + log det Gk'Gk.

A score whose factors the prior has shrunk to 0 has no orbit (the mode is isolated); so
does a direction of A between two such factors. The orbit is then the Stiefel manifold of
the r factor directions that are not 0 (their count r from the factors' Gram matrix), of
volume prod_{j = k - r + 1}^{k} 2 pi^(j/2) / Gamma(j/2) in that metric.
"""

import numpy as np
import scipy.linalg
import scipy.special

from .._array.unobserved import unlisted_tiles
from ._sampled import sampled_draws

#: The largest kept side (its Schur complement has this many rows): 4096^2 doubles,
#: 134 MB, held twice (S and its Cholesky factor).
MAX_KEPT = 4096
#: Bytes of one chunk's cross blocks (three arrays of chunk x kept x (2k + 2)^2).
CHUNK_BYTES = 1 << 26
#: A factor direction is not 0 where its share of the Gram matrix's trace is above this.
ZERO_FACTOR = 1e-8


def exact_logdet_fits(n_users, n_items, n_factors):
    """Whether the kept side's Schur complement stays within MAX_KEPT rows."""
    return min(n_users, n_items) * 2 * (n_factors + 1) <= MAX_KEPT


def exact_row_logdet(p, user_blocks, item_blocks, sources, complement=None):
    """The log det term of log m with H_rows whole, rotations integrated (module docstring).

    Parameters
    ----------
    p : unpacked parameters (``ParamLayout.unpack``)
    user_blocks, item_blocks : ndarray of shape (n, 2k + 2, 2k + 2)
        The diagonal blocks of H_rows (:func:`heckrec.models._laplace.row_blocks`), each
        row ordered (b_o, p_o, b_r, p_r).
    sources : list of tuples (users, items, w_oo, w_or, w_rr, e_o, e_r)
        The pairs' curvatures W and gradients e = -d loglik / dg (listed pairs, a MAR
        slice's, a sample's draws times their weights).
    complement : PairSet or None
        Under ``unobserved="complement"``, the log: every grid pair it does not list adds
        log Phi(-g_o), swept here on the dense chunk grid.

    Returns
    -------
    logdet : float
        log det H_rows over the directions across the rotations' orbits, less twice the
        log of the orbits' volumes and the Gaussian normaliser they take: what
        ``-1/2 logdet`` is in log m. NaN where a block or S is not positive definite.
    """
    k = p.P_o.shape[1]
    d = 2 * (k + 1)
    keep_items = item_blocks.shape[0] <= user_blocks.shape[0]
    if keep_items:
        elim, kept = user_blocks, item_blocks
        F_elim, F_kept = (p.P_o, p.P_r), (p.Q_o, p.Q_r)
        b_elim, b_kept = p.bu_o, p.bi_o
        codes = [(s[0], s[1], *s[2:]) for s in sources]
    else:
        elim, kept = item_blocks, user_blocks
        F_elim, F_kept = (p.Q_o, p.Q_r), (p.P_o, p.P_r)
        b_elim, b_kept = p.bi_o, p.bu_o
        codes = [(s[1], s[0], *s[2:]) for s in sources]
    n_elim, n_kept = elim.shape[0], kept.shape[0]
    codes = [_sorted_by_row(c, n_elim) for c in codes]
    logged = None
    if complement is not None:
        logged = ((complement.user_ptr, complement.items) if keep_items else
                  (complement.item_ptr, complement.users[complement.item_order]))

    S = scipy.linalg.block_diag(*kept)
    logdet = 0.0
    x_kept = [np.hstack([np.ones((n_kept, 1)), F]) for F in F_kept]
    rows = max(1, CHUNK_BYTES // (24 * n_kept * d * d))
    for a in range(0, n_elim, rows):
        b = min(a + rows, n_elim)
        terms = _chunk_terms(p, a, b, n_kept, codes, logged, F_elim[0], F_kept[0],
                             b_elim, b_kept)
        cross = _cross_blocks(terms, [np.hstack([np.ones((b - a, 1)), F[a:b]])
                                      for F in F_elim], x_kept, k)
        try:
            chol = np.linalg.cholesky(elim[a:b])
        except np.linalg.LinAlgError:
            return float("nan")
        logdet += 2.0 * float(np.log(np.diagonal(chol, axis1=1, axis2=2)).sum())
        # L_u^-1 C_u for every u of the chunk, stacked: S -= K'K
        whitened = np.linalg.solve(chol, cross.transpose(0, 2, 1, 3).reshape(b - a, d, -1))
        stacked = whitened.reshape(-1, n_kept * d)
        S -= stacked.T @ stacked
    G, orbit_volume = _orbit_tangents(F_elim, F_kept, k)
    if G.shape[1]:
        S += G @ G.T
    try:
        logdet += 2.0 * float(np.log(np.diagonal(scipy.linalg.cholesky(S, lower=True))).sum())
    except np.linalg.LinAlgError:
        return float("nan")
    if G.shape[1]:
        logdet -= 2.0 * float(np.linalg.slogdet(G.T @ G)[1]) + 2.0 * orbit_volume
    return logdet


def sampled_source(p, sample):
    """The sample's draws as a source of :func:`exact_row_logdet`: each draw's unlisted
    term log Phi(-g_o) times its weight (w_oo = m (m - g), e_o = m)."""
    parts = [(users, items, sample.weight[users] * mills, g, mills)
             for _, _, users, items, g, mills in sampled_draws(p, sample, 1 << 20)]
    users, items, weighted, g, mills = (np.concatenate(x) for x in zip(*parts))
    zeros = np.zeros_like(g)
    return users, items, weighted * (mills - g), zeros, zeros, weighted, zeros


def _sorted_by_row(source, n_rows):
    """A source's arrays sorted by its first (eliminated-side) code, with CSR pointers."""
    order = np.argsort(source[0], kind="stable")
    arrays = [np.asarray(x)[order] for x in source]
    return np.searchsorted(arrays[0], np.arange(n_rows + 1)), arrays


def _chunk_terms(p, a, b, n_kept, codes, logged, F_elim, F_kept, b_elim, b_kept):
    """(w_oo, w_or, w_rr, e_o, e_r), each (b - a, n_kept): the pairs' sums on the dense
    grid of eliminated rows [a, b) x the kept side."""
    terms = np.zeros((5, (b - a) * n_kept))
    for ptr, (rows, cols, *values) in codes:
        lo, hi = ptr[a], ptr[b]
        flat = (rows[lo:hi] - a) * n_kept + cols[lo:hi]
        for j, v in enumerate(values):
            terms[j] += np.bincount(flat, weights=v[lo:hi], minlength=terms.shape[1])
    terms = terms.reshape(5, b - a, n_kept)
    if logged is not None:  # the unlisted pairs' log Phi(-g_o): w = m (m - g), e_o = m
        # (one tile: rows [a, b) x the whole kept side, the roles of users and items as
        # the caller swapped them)
        (_, _, g, _, mills, listed), = unlisted_tiles(
            np, scipy.special, p.mu_o, b_elim, b_kept, F_elim, F_kept, *logged, a, b,
            (b - a) * n_kept)
        w = mills * (mills - g)
        w[listed] = mills[listed] = 0.0
        terms[0] += w
        terms[3] += mills
    return terms


def _cross_blocks(terms, x_elim, x_kept, k):
    """C (chunk, n_kept, 2k + 2, 2k + 2): d2F / d(eliminated row) d(kept row)'.

    The eliminated row's derivative of g_s is x_kept[s] (the kept row's bias and factors),
    the kept row's is x_elim[s]; e_s adds the identity on the score's factors.
    """
    w_oo, w_or, w_rr, e_o, e_r = terms
    d = k + 1
    cross = np.empty(w_oo.shape + (2 * d, 2 * d))
    for s, t, w in ((0, 0, w_oo), (0, 1, w_or), (1, 0, w_or), (1, 1, w_rr)):
        cross[:, :, s * d:(s + 1) * d, t * d:(t + 1) * d] = (
            w[:, :, None, None] * x_kept[s][None, :, :, None] * x_elim[t][:, None, None, :])
    factors = np.arange(1, d)
    cross[:, :, factors, factors] += e_o[:, :, None]
    cross[:, :, d + factors, d + factors] += e_r[:, :, None]
    return cross


def _orbit_tangents(F_elim, F_kept, k):
    """The kept-side parts of the rotations' unit tangents, (n_kept (2k + 2), m), and the
    log volume of their orbit less m/2 log 2 pi (module docstring)."""
    d = k + 1
    n_kept = F_kept[0].shape[0]
    tangents, log_volume = [], 0.0
    for s in (0, 1):
        gram = F_elim[s].T @ F_elim[s] + F_kept[s].T @ F_kept[s]
        values, vectors = np.linalg.eigh(gram)
        values, vectors = values[::-1], vectors[:, ::-1]
        r = int(np.sum(values > ZERO_FACTOR * max(values.sum(), 1.0))) if k else 0
        n_before = len(tangents)
        for i in range(r):
            for j in range(i + 1, k):
                A = np.outer(vectors[:, i], vectors[:, j]) - np.outer(vectors[:, j],
                                                                      vectors[:, i])
                t = np.zeros((n_kept, 2 * d))
                t[:, s * d + 1:(s + 1) * d] = F_kept[s] @ A
                tangents.append(t.ravel())
        m = len(tangents) - n_before
        # vol(Stiefel of r frames in R^k) = prod_{j = k - r + 1}^{k} |S^{j - 1}|
        log_volume += sum(np.log(2.0) + 0.5 * j * np.log(np.pi) - scipy.special.gammaln(0.5 * j)
                          for j in range(k - r + 1, k + 1)) - 0.5 * m * np.log(2 * np.pi)
    G = np.array(tangents).T if tangents else np.zeros((n_kept * 2 * d, 0))
    return G, float(log_volume)
