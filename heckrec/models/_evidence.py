"""The evidence's maximum over rho and the prior precisions, by Newton steps.

MacKay's updates (:func:`heckrec.models._laplace.mackay_update`) make the evidence
stationary in each precision only where the Hessian of the rows does not depend on where
the rows' parameters sit, as in a Gaussian linear model. Here it does: a probit's or a
Heckman outcome's curvature W changes with the scores, and the factors enter each other's
blocks. As a precision moves, the fit moves, and log det H_rows with it, a term the
updates leave out; they also take the blocks' posterior variances for the whole
Hessian's. On biases-only binary grids their fixed point sits where log m still rises
in the outcome's bias precisions (6.4 per unit of log precision on tests/test_evidence.py's
300 x 200 grid): those biases get too much variance, take up part of what selection
explains, and rho_ is pulled towards 0 (about 0.03 at rho +-0.8 on a 400 x 300 grid,
docs/inference.md).

So from MacKay's point the evidence of a biases-only model is maximised directly (with
factors the steps did not pay: ``EVIDENCE_NEWTON_FACTORS``): Newton steps on
x = (atanh(rho), log of each free precision), the gradient and Hessian of log m from
central differences of penalised fits (2 d + 1 fits a step for d coordinates, and
d (d - 1) / 2 more for the mixed terms at the first, BFGS-updated after), each
warm-started from the last.
The Hessian at the maximum is also the observed information of x: rho_se_ from its
inverse counts what the precisions' own uncertainty adds to rho's.
"""

import numpy as np

#: Difference step in atanh(rho) and in log precision.
EVIDENCE_STEP = 0.05
#: At most this many Newton steps.
EVIDENCE_NEWTON_STEPS = 8
#: Stop where the Newton step would raise log m by less than this: the point is then
#: within 0.1 standard errors of the maximum along every direction (a fall of 1/2 z^2).
EVIDENCE_GAIN_TOL = 5e-3
#: Largest move of one coordinate in one step.
EVIDENCE_MAX_MOVE = 0.5
#: Whether models with factors take the Newton steps too. They do not: with factors the
#: steps did not pay. On 150 x 100 rank-2 continuous grids they moved rho_ by under 0.01
#: and left coverage as it was, for 3.4-4.4 times the time
#: (benchmarks/evidence_coverage.py --forms exact mackay); on the Yahoo-shaped rank-4 log
#: they took 172 fits against MacKay's 21 (977 s against 298 s), did not settle in
#: EVIDENCE_NEWTON_STEPS, and moved rho_ from 0.484 to 0.479, away from the truth 0.5
#: (benchmarks/bench_scale.py --evidence); on a 60 x 40 rank-1 log they did not settle
#: either. There log m keeps rising as some precisions weaken, a sign that the Laplace
#: approximation, not MacKay's fixed point, limits the evidence with factors.
EVIDENCE_NEWTON_FACTORS = False


def newton_maximum(log_m, x0, step=EVIDENCE_STEP, max_steps=EVIDENCE_NEWTON_STEPS,
                   gain_tol=EVIDENCE_GAIN_TOL, max_move=EVIDENCE_MAX_MOVE):
    """Maximise ``log_m(x)`` from ``x0`` by Newton steps on a differenced Hessian.

    The gradient and the Hessian's diagonal come from central differences at every
    point (2 d evaluations), its off-diagonal terms from mixed differences at the first
    point only (d (d - 1) / 2 more), then from BFGS's update along each step: recomputing
    them would double each step's cost at d = 7 (HeckmanMFRegressor with factors).

    Stops where the Newton step's predicted gain, 1/2 g' (-H)^{-1} g, is below
    ``gain_tol``; the point and its Hessian are then returned as they are. Where the
    Hessian is not negative definite its positive eigenvalues are replaced by small
    negative ones (a step uphill along them); no coordinate moves more than ``max_move``
    in a step, and a step that lowers log m (by more than 1e-3, the fits' noise) is
    halved, up to three times.

    Returns
    -------
    x : ndarray
        The last point.
    hessian : ndarray of shape (d, d) or None
        The Hessian (as above) at x where the steps converged, else at the last point
        differenced; None where a difference was not finite.
    converged : bool
        Whether the predicted gain fell below ``gain_tol``.
    """
    x = np.asarray(x0, dtype=float).copy()
    d = x.size
    E = step * np.eye(d)
    f0 = log_m(x)
    hessian = mixed = last_move = last_gradient = None
    for _ in range(max_steps):
        plus = np.array([log_m(x + E[i]) for i in range(d)])
        minus = np.array([log_m(x - E[i]) for i in range(d)])
        gradient = (plus - minus) / (2.0 * step)
        if mixed is None:  # differenced at the first point
            mixed = np.zeros((d, d))
            for i in range(d):
                for j in range(i + 1, d):
                    mixed[i, j] = mixed[j, i] = (log_m(x + E[i] + E[j]) - plus[i] - plus[j]
                                                 + f0) / step**2
        else:  # then moved by the BFGS update of -H along the last step
            mixed = _bfgs_off_diagonal(hessian, last_move, gradient - last_gradient)
        hessian = mixed + np.diag((plus - 2.0 * f0 + minus) / step**2)
        if not (np.all(np.isfinite(hessian)) and np.all(np.isfinite(gradient))
                and np.isfinite(f0)):
            return x, None, False
        values, vectors = np.linalg.eigh(hessian)
        values = np.minimum(values, -1e-3 * max(np.abs(values).max(), 1.0))
        move = -vectors @ ((vectors.T @ gradient) / values)
        if 0.5 * gradient @ move < gain_tol:
            return x, hessian, True
        move /= max(1.0, np.abs(move).max() / max_move)
        for _ in range(4):
            f_new = log_m(x + move)
            if np.isfinite(f_new) and f_new >= f0 - 1e-3:
                break
            move /= 2.0
        else:
            return x, hessian, False
        x, f0 = x + move, f_new
        last_move, last_gradient = move, gradient
    return x, hessian, False


def _bfgs_off_diagonal(hessian, move, change):
    """Off-diagonal part of the Hessian after BFGS's update of B = -H for a step ``move``
    along which the gradient changed by ``change`` (unchanged where the step shows no
    curvature)."""
    B, y = -hessian, -change
    if y @ move <= 0:
        updated = B
    else:
        Bs = B @ move
        updated = B - np.outer(Bs, Bs) / (move @ Bs) + np.outer(y, y) / (y @ move)
    return -(updated - np.diag(np.diag(updated)))
