"""rho by the Laplace-approximated marginal likelihood (``rho_criterion="laplace"``).

The penalised fit treats every user's and item's biases and factors as parameters. With a
few binary outcomes per user that is the incidental-parameter problem: the penalised
likelihood keeps rising towards rho = +-1, because near the boundary the model can fit
each user's and item's outcomes more sharply, and the gain is of the order of the number
of parameters (docs/model.md). Read the penalties as Gaussian priors (precision
``reg_bias`` on the biases, ``reg_factors`` on the factors) and integrate those row
parameters out instead. By Laplace's method, at a = atanh(rho) held fixed,

    log m(a) = -F(theta_a) - 1/2 log det H_rows(theta_a) + 1/2 sum_j log lam_j + const,

where theta_a is the penalised fit at that a, F the penalised objective, H_rows the
Hessian of F in the users' and items' parameters and lam_j their prior precisions (the
Gaussian prior's normaliser, which makes log m comparable across penalties). rho_ maximises log m; its standard
error comes from the curvature of log m in a. The sharper fits near the boundary now pay
for themselves through log det H.

Where one side of the grid is small (at most MAX_KEPT / (2k + 2) users or items),
H_rows is taken whole, user-item cross terms and the factors' rotations included
(:mod:`heckrec.models._laplace_exact`); ``laplace_hessian_`` is then "exact". Above that
it is approximated block-diagonally ("block-diagonal"): one block per user, (b_u, p_u) of
both scores, and one per item, as in variational matrix factorisation. Within a block
every score is linear in the block's parameters, so the block is exact:

    B_u = sum over u's pairs of [x_o, 0; 0, x_r]^T W_pair [x_o, 0; 0, x_r] + diag(penalties)

with x = [1, q_i] of each score and W_pair the 2 x 2 matrix of -d2 loglik / d(g_o, g_r)^2.
Only the user-item cross terms are left out. Against the dense Hessian on a simulated
300 x 200 biases-only grid (benchmarks/issue13/laplace_block_check.py) they lower log m by
1.97, 2.06, 2.44 and 4.17 at rho = 0, 0.3, 0.6, 0.9: both forms peak at 0.6 of these, and
the slope the difference adds near the maximum (about -1 per unit of atanh(rho), against a
curvature of about 140) moves the maximiser by under 0.01. With factors they matter more:
+0.03 on rank-2 grids (benchmarks/laplace_cross_terms.py), about half an SE, towards the
truth. The evidence's precision updates use the blocks' posterior variances in both cases.

``rho_criterion="evidence"`` also chooses the two precisions (reg_factors, reg_bias) by
the same marginal likelihood, with MacKay's fixed-point updates (:func:`evidence_penalties`),
as sklearn's BayesianRidge does for a linear model: a prior that is wrong for the data
biases rho under the Laplace criterion as it does the penalised fit.
"""

import numpy as np
import scipy.sparse
import scipy.special

from .._array.unobserved import unlisted_tiles
from ._sampled import sampled_draws

#: Step of the central differences of the per-pair derivatives behind W_pair.
CURVATURE_STEP = 1e-4
#: The range the evidence updates keep the prior precisions in.
EVIDENCE_MIN, EVIDENCE_MAX = 1e-3, 1e5
#: Pairs aggregated at a time into the row blocks: each chunk holds three (pairs, 2k+2,
#: 2k+2) arrays, 80 MB at rank 4 (at 1 << 17 they took the evidence's fit of a
#: Yahoo-shaped log from 481 MB, the penalised fit's peak, to 805 MB).
CHUNK = 1 << 15
#: Grid pairs (or sampled draws) per tile of the unlisted pairs' curvature (four arrays
#: of this size).
UNLISTED_TILE = 1 << 19


def pair_curvature(derivatives, g_o, g_r, step=CURVATURE_STEP):
    """Per-pair (w_oo, w_or, w_rr) of W = -d2 loglik / d(g_o, g_r)^2.

    Central differences of the analytic first derivatives; ``derivatives(g_o, g_r)``
    returns the per-pair (dl/dg_o, dl/dg_r). The error is O(step^2), 1e-8 here.
    """
    do_p, dr_p = derivatives(g_o + step, g_r)
    do_m, dr_m = derivatives(g_o - step, g_r)
    w_oo = -(do_p - do_m) / (2 * step)
    w_ro = -(dr_p - dr_m) / (2 * step)
    do_p, dr_p = derivatives(g_o, g_r + step)
    do_m, dr_m = derivatives(g_o, g_r - step)
    w_rr = -(dr_p - dr_m) / (2 * step)
    w_or = -(do_p - do_m) / (2 * step)
    return w_oo, 0.5 * (w_or + w_ro), w_rr


def _accumulate(rows, n_rows, x_o, x_r, w_oo, w_or, w_rr, out):
    """Add the pairs' blocks [x_o w_oo x_o', x_o w_or x_r'; ., x_r w_rr x_r'] to out[rows]."""
    d = x_o.shape[1]
    for start in range(0, rows.size, CHUNK):
        sl = slice(start, start + CHUNK)
        r, xo, xr = rows[sl], x_o[sl], x_r[sl]
        z = np.concatenate([xo, xr], axis=1)                        # (n, 2d)
        w = np.empty((r.size, 2 * d, 2 * d))
        w[:, :d, :d] = w_oo[sl, None, None]
        w[:, :d, d:] = w[:, d:, :d] = w_or[sl, None, None]
        w[:, d:, d:] = w_rr[sl, None, None]
        outer = (w * z[:, :, None] * z[:, None, :]).reshape(r.size, -1)
        indicator = scipy.sparse.csr_matrix((np.ones(r.size), (r, np.arange(r.size))),
                                            shape=(n_rows, r.size))
        out += (indicator @ outer).reshape(n_rows, 2 * d, 2 * d)


def unlisted_selection_blocks(p, pairs):
    """The unlisted pairs' part of every user's and item's selection block.

    Every pair that the log does not list adds log Phi(-g_o), whose curvature
    w = -d2/dg_o2 log Phi(-g_o) = m (m - g_o), m = phi(g_o) / Phi(-g_o), enters its
    user's block as w [1, q_i][1, q_i]^T (bias and factors of g_o) and its item's as
    w [1, p_u][1, p_u]^T. With W the users x items matrix of these curvatures and the
    rows' outer products flattened to (k + 1)^2 columns, the users' blocks are W times
    the items' and the items' blocks W^T times the users': two products per tile of W,
    so W is never held whole.

    ``unobserved="complement"``: W is swept by dense tiles of users x every item, the
    logged pairs zeroed, as the likelihood's term is. ``unobserved="sampled"``: W is the
    sample's, sparse, each draw's curvature times its weight (the Hansen-Hurwitz
    estimate the likelihood's term uses, unbiased for the complement's blocks).

    Returns
    -------
    users, items : ndarray of shape (n_users, k + 1, k + 1), (n_items, k + 1, k + 1)
    """
    d = p.P_o.shape[1] + 1
    x_user = np.hstack([np.ones((pairs.n_users, 1)), p.P_o])
    x_item = np.hstack([np.ones((pairs.n_items, 1)), p.Q_o])
    outer_user = (x_user[:, :, None] * x_user[:, None, :]).reshape(pairs.n_users, d * d)
    outer_item = (x_item[:, :, None] * x_item[:, None, :]).reshape(pairs.n_items, d * d)
    users = np.zeros((pairs.n_users, d * d))
    items = np.zeros((pairs.n_items, d * d))
    tiles = (_sampled_curvature(p, pairs) if pairs.sample is not None
             else _complement_curvature(p, pairs))
    for a, b, w in tiles:
        users[a:b] = w @ outer_item
        items += w.T @ outer_user[a:b]
    return users.reshape(-1, d, d), items.reshape(-1, d, d)


def _complement_curvature(p, pairs):
    """(a, b, W[a:b]) dense tiles of the unlisted pairs' curvatures, logged pairs 0."""
    for a, b, g, _, mills, logged in unlisted_tiles(
            np, scipy.special, p.mu_o, p.bu_o, p.bi_o, p.P_o, p.Q_o, pairs.user_ptr,
            pairs.items, 0, pairs.n_users, UNLISTED_TILE):
        w = mills * (mills - g)
        w[logged] = 0.0
        yield a, b, w


def _sampled_curvature(p, pairs):
    """(a, b, W[a:b]) sparse rows of the sample's weighted curvatures (a pair drawn
    twice counts twice, as in the likelihood's sum)."""
    sample = pairs.sample
    for a, b, users, items, g, mills in sampled_draws(p, sample, UNLISTED_TILE):
        w = sample.weight[users] * mills * (mills - g)
        yield a, b, scipy.sparse.csr_matrix((w, items, sample.ptr[a:b + 1] - sample.ptr[a]),
                                            shape=(b - a, pairs.n_items))


def row_blocks(layout, p, penalty, listed, extra=None, unlisted=None):
    """Every user's and item's diagonal block of H_rows (see the module).

    Parameters
    ----------
    layout : ParamLayout
    p : unpacked parameters (``layout.unpack(theta)``)
    penalty : ndarray
        The per-parameter penalties of the objective (the prior precisions).
    listed : tuple (users, items, w_oo, w_or, w_rr)
        The listed pairs' codes and curvatures.
    extra : tuple (users, items, w_rr) or None
        Pairs that enter through the outcome alone (a MAR slice).
    unlisted : tuple (users, items) of block arrays or None
        The selection part of the blocks from pairs not listed
        (:func:`unlisted_selection_blocks`).

    Returns
    -------
    list of two (blocks, index)
        The users' then the items': blocks of shape (n, 2k + 2, 2k + 2), each row's
        parameters in the order (b_o, p_o, b_r, p_r), and their positions in theta.
    """
    sides = []
    k = p.P_o.shape[1]
    for own, other_factor, bias, factor in (("users", "Q", "bu", "P"), ("items", "P", "bi", "Q")):
        n_rows = getattr(p, f"{bias}_o").shape[0]
        blocks = np.zeros((n_rows, 2 * (k + 1), 2 * (k + 1)))
        sources = [listed]
        if extra is not None:
            u, i, w_rr = extra
            zeros = np.zeros_like(w_rr)
            sources.append((u, i, zeros, zeros, w_rr))
        for users, items, w_oo, w_or, w_rr in sources:
            rows, others = (users, items) if own == "users" else (items, users)
            ones = np.ones((rows.size, 1))
            x_o = np.hstack([ones, getattr(p, f"{other_factor}_o")[others]])
            x_r = np.hstack([ones, getattr(p, f"{other_factor}_r")[others]])
            _accumulate(rows, n_rows, x_o, x_r, w_oo, w_or, w_rr, blocks)
        if unlisted is not None:
            blocks[:, :k + 1, :k + 1] += unlisted[0 if own == "users" else 1]
        index = np.hstack([
            np.arange(layout.slices[f"{bias}_{tag}"].start,
                      layout.slices[f"{bias}_{tag}"].stop)[:, None] if part == "bias" else
            np.arange(layout.slices[f"{factor}_{tag}"].start,
                      layout.slices[f"{factor}_{tag}"].stop).reshape(n_rows, k)
            for tag in ("o", "r") for part in ("bias", "factor")])
        diag = np.arange(2 * (k + 1))
        blocks[:, diag, diag] += penalty[index]
        sides.append((blocks, index))
    return sides


def block_logdet(sides, size):
    """Sum over users and items of log det of their blocks (:func:`row_blocks`).

    Returns
    -------
    logdet : float
        The log determinant; ``nan`` if a block is not positive definite (not a
        minimum of the penalised objective in that row).
    variances : ndarray of shape (size,)
        The diagonal of the block inverses (the Laplace posterior variances) at the
        rows' parameters, NaN elsewhere and where logdet is NaN: what the evidence
        updates of the penalties need (:func:`evidence_precisions`).
    """
    total = 0.0
    variances = np.full(size, np.nan)
    for blocks, index in sides:
        sign, logdet = np.linalg.slogdet(blocks)
        if np.any(sign <= 0):
            return float("nan"), np.full(size, np.nan)
        total += float(logdet.sum())
        variances[index] = np.diagonal(np.linalg.inv(blocks), axis1=1, axis2=2)
    return total, variances


def mackay_update(w, s, lam):
    """MacKay's fixed-point update of one group's prior precision.

    With w the group's parameters at the penalised fit, s their Laplace posterior
    variances and lam the group's precision, the evidence is stationary in lam where
    lam = gamma / |w|^2, gamma = sum(1 - lam s) the number of parameters the data
    determine (MacKay 1992, "Bayesian interpolation"; sklearn's BayesianRidge uses the
    same update). Clipped to [EVIDENCE_MIN, EVIDENCE_MAX]: gamma -> 0 with |w| -> 0 is a
    group the data do not support (the bound, not 0 / 0).
    """
    gamma = float(np.sum(1.0 - lam * s))
    update = gamma / float(w @ w) if w @ w > 0 else EVIDENCE_MAX
    return float(np.clip(update, EVIDENCE_MIN, EVIDENCE_MAX))


def evidence_precisions(theta, variances, layout, precisions):
    """One MacKay update of every prior group's precision (``ParamLayout.prior_groups``).

    ``variances`` are the diagonal of the row blocks' inverses (:func:`block_logdet`);
    a group without parameters (rank 0) keeps its precision.
    """
    return {group: (mackay_update(theta[index], variances[index], precisions[group])
                    if index.size else precisions[group])
            for group, index in layout.prior_groups().items()}
