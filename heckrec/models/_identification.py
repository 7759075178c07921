"""How much the data's structure identifies rho, apart from the errors' normal shape.

The selection term of the outcome equation on the observed pairs is
rho sigma lambda(g_o), lambda = phi / Phi (the inverse Mills ratio). The outcome score
has its own user and item biases (and the side features), so only the part of
lambda(g_o) that those cannot reproduce, lambda_perp, separates rho from them. In the
regression of the outcome on its own effects and lambda (Heckman's two-step, with the
effects free), the SE of rho would be about

    1 / sqrt(n_observed * var(lambda_perp))

(the coefficient of lambda is rho sigma and the noise's SD at most sigma, so sigma
cancels; for a binary outcome, sigma = 1 for the latent outcome). When that is above 1,
a 95% interval would span all of (-1, 1): rho then rests on the normality of the errors
and on the penalties alone, not on anything in the design. On Coat every user chose 24
coats, so the users' selection biases are equal, lambda is a function of the item, and
the item biases absorb it (docs/model.md). The outcome's factors can absorb part of
lambda_perp too, and a binary outcome carries less information than its latent one, so
rho's SE from the design is at least this number: a warning based on it errs towards
silence. The classic literature's version is the collinearity of the inverse Mills
ratio with the outcome regressors (Leung and Yu 1996; Puhani 2000).
"""

import numpy as np
import scipy.special

from .._array.heckman_continuous import log_ndtr_mills

#: Alternating projections stop when a sweep removes less than this share of v's
#: variance ...
PROJECTION_TOL = 1e-14
#: ... or after this many sweeps.
PROJECTION_SWEEPS = 200


def left_after_effects(v, users, items, F=None):
    """v minus its least-squares fit on user effects, item effects and the columns of F.

    Alternating projections (the two-way fixed-effects sweep of Guimaraes and Portugal
    2010), each sweep removing the user means, the item means and the projection on F.

    Parameters
    ----------
    v : ndarray of shape (n,)
    users, items : ndarray of int of shape (n,)
    F : ndarray of shape (n, n_features) or None

    Returns
    -------
    ndarray of shape (n,)
        The residual, orthogonal to the three parts to ``PROJECTION_TOL``.
    """
    users = np.asarray(users, dtype=np.int64)
    items = np.asarray(items, dtype=np.int64)
    n_u = np.maximum(np.bincount(users), 1)
    n_i = np.maximum(np.bincount(items), 1)
    basis = None
    if F is not None and F.shape[1]:
        centred = F - F.mean(axis=0)
        keep = np.linalg.norm(centred, axis=0) > 0
        if keep.any():
            basis = np.linalg.qr(centred[:, keep])[0]
    res = np.asarray(v, dtype=float) - np.mean(v)
    total = float(res @ res)
    if total == 0.0:
        return res
    for _ in range(PROJECTION_SWEEPS):
        before = float(res @ res)
        res = res - (np.bincount(users, res, minlength=n_u.size) / n_u)[users]
        res = res - (np.bincount(items, res, minlength=n_i.size) / n_i)[items]
        if basis is not None:
            res = res - basis @ (basis.T @ res)
        if before - float(res @ res) <= PROJECTION_TOL * total:
            break
    return res


def structural_rho_se(g_o, users, items, F=None):
    """(SE of rho from the selection term beyond the outcome's own effects, share left).

    Parameters
    ----------
    g_o : ndarray of shape (n_observed,)
        The selection score at the observed pairs.
    users, items : ndarray of int of shape (n_observed,)
    F : ndarray of shape (n_observed, n_features) or None
        The side features of the outcome score at those pairs.

    Returns
    -------
    se : float
        ``1 / sqrt(n_observed * var(lambda_perp))`` (inf where nothing is left).
    share : float
        ``var(lambda_perp) / var(lambda)``: how much of the selection term's variation
        the outcome's user and item effects and features leave (0 where lambda is
        constant).
    """
    lam = log_ndtr_mills(np, scipy.special, np.asarray(g_o, dtype=float))[1]
    left = left_after_effects(lam, users, items, F)
    n = lam.size
    var_left = float(left @ left) / n if n else 0.0
    var_total = float(np.var(lam)) if n else 0.0
    se = 1.0 / np.sqrt(n * var_left) if var_left > 0 else float("inf")
    share = var_left / var_total if var_total > 0 else 0.0
    return float(se), float(share)
