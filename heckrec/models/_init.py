"""Start values for the MF scores: spectral (truncated SVD) or small random factors.

A random start leaves L-BFGS hundreds of iterations escaping the saddle at small
factors. The spectral start reads biases and factors off the data instead:

- selection: user and item means of ``o - mean(o)`` give the biases, the truncated
  SVD of the doubly-centred ``o`` the factors, all divided by phi(Phi^-1(mean o)),
  the slope of the probit at the mean (a linearisation of Phi(mu + g)).
- outcome: the same on the observed ``r`` (missing cells as zeros, so the SVD is
  divided by the observed share), for a binary ``r`` also divided by the probit
  slope at its mean.
"""

import numpy as np
import scipy.sparse
from scipy.sparse.linalg import ArpackError, LinearOperator, svds
from scipy.special import ndtri
from scipy.stats import norm


def _centred(pairs, values, rows_mask, slope):
    """Biases (user, item) and the doubly-centred residual of ``values`` on ``rows_mask``."""
    users, items = pairs.users[rows_mask], pairs.items[rows_mask]
    v = values[rows_mask] - values[rows_mask].mean()
    n_u = np.bincount(users, minlength=pairs.n_users)
    n_i = np.bincount(items, minlength=pairs.n_items)
    # Shrunk means (one pseudo-observation at 0), so users with few pairs stay near 0.
    bu = np.bincount(users, weights=v, minlength=pairs.n_users) / (n_u + 1.0)
    v = v - bu[users]
    bi = np.bincount(items, weights=v, minlength=pairs.n_items) / (n_i + 1.0)
    v = v - bi[items]
    return bu / slope, bi / slope, users, items, v / slope


def _factors(pairs, users, items, resid, k, share, rng):
    """Rank-k factors of the residual, or None when it has nothing to factor."""
    if not np.any(resid) or not np.all(np.isfinite(resid)):
        # A constant outcome leaves a zero residual (ARPACK: "starting vector is
        # zero", ../shared/reliability F4); the caller keeps the random factors.
        return None
    matrix = scipy.sparse.csr_matrix((resid, (users, items)),
                                     shape=(pairs.n_users, pairs.n_items))
    v0 = rng.standard_normal(min(matrix.shape))
    try:
        U, S, Vt = svds(matrix, k=k, v0=v0)
    except ArpackError:
        return None
    root = np.sqrt(S / share)
    return U * root, Vt.T * root


def spectral_start(pairs, n_factors, rng, outcome_slope=1.0):
    """Biases and factors of g_o and g_r read off the data (see the module docstring).

    ``outcome_slope`` divides the outcome's part as the probit slope divides the
    selection's: 1 for a continuous outcome, phi(Phi^-1(mean r)) for a binary one.

    Returns a dict of blocks, or ``None`` when the grid is too small for a rank
    ``n_factors`` SVD (the caller then starts from random factors).
    """
    if n_factors >= min(pairs.n_users, pairs.n_items) - 1:
        return None
    o = pairs.o.astype(float)
    p = float(np.clip(pairs.observed_share, 1e-6, 1 - 1e-6))
    slope = norm.pdf(ndtri(p))
    everything = np.ones(pairs.n_pairs, dtype=bool)
    blocks = {}
    equations = [("r", pairs.r, pairs.o, outcome_slope)]
    if pairs.complement:
        blocks.update(_log_selection_start(pairs, n_factors, p, slope, rng))
    else:
        equations.insert(0, ("o", o, everything, slope))
    for tag, values, rows, scale in equations:
        bu, bi, users, items, resid = _centred(pairs, values, rows, scale)
        blocks[f"bu_{tag}"], blocks[f"bi_{tag}"] = bu, bi
        if n_factors:
            share = rows.sum() / (pairs.n_users * pairs.n_items)
            factors = _factors(pairs, users, items, resid, n_factors, share, rng)
            if factors is not None:
                blocks[f"P_{tag}"], blocks[f"Q_{tag}"] = factors
    return blocks


def _log_selection_start(pairs, n_factors, p, slope, rng):
    """The selection blocks when ``pairs`` is a log (every unlisted pair unobserved).

    The same reading as for a listed grid, on the dense 0/1 matrix O of the log, which
    is never built: the doubly-centred residual O - p - b_u - b_i is a sparse matrix
    plus rank-two terms, so ARPACK works on it as a linear operator.
    """
    n_u, n_i = pairs.by_user("r"), pairs.by_item("r")  # logged pairs per user / item
    bu = (n_u - p * pairs.n_items) / (pairs.n_items + 1.0)
    bi = (n_i - p * pairs.n_users - bu.sum()) / (pairs.n_users + 1.0)
    blocks = {"bu_o": bu / slope, "bi_o": bi / slope}
    if not n_factors:
        return blocks
    O = scipy.sparse.csr_matrix((np.ones(pairs.n_pairs), (pairs.users, pairs.items)),
                                shape=(pairs.n_users, pairs.n_items))
    row = p + bu  # the residual is O - row 1' - 1 bi'

    def matvec(x):
        x = np.ravel(x)
        return O @ x - row * x.sum() - bi @ x

    def rmatvec(y):
        y = np.ravel(y)
        return O.T @ y - row @ y - bi * y.sum()

    residual = LinearOperator(O.shape, matvec=matvec, rmatvec=rmatvec, dtype=float)
    try:
        U, S, Vt = svds(residual, k=n_factors, v0=rng.standard_normal(min(O.shape)))
    except ArpackError:
        return blocks
    root = np.sqrt(S / slope)  # the factors of residual / slope, as for a listed grid
    blocks["P_o"], blocks["Q_o"] = U * root, Vt.T * root
    return blocks
