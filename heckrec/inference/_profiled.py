"""Covariance of a few parameters with all the others profiled out.

For an objective F (negative log-likelihood plus penalty) with Hessian H at
its minimum, split the parameters into the block of interest A (here
atanh(rho) and log(sigma)) and the rest E (the embeddings, biases, ...). The
A block of H^{-1} is the inverse of the Schur complement

    S = H_AA - H_AE H_EE^{-1} H_EA,

which accounts for the uncertainty of E, unlike inv(H_AA), which treats E as
known. H_EE is far too large to form for MF models, so H_EE^{-1} H_EA is
found by conjugate gradients using Hessian-vector products, each a finite
difference of the analytic gradient along the direction.
"""

import numpy as np
from scipy.sparse.linalg import LinearOperator, cg


def sandwich_block(per_pair_loglik, theta, columns):
    """Robust covariance of the interest block, ``W' J W`` with ``W = H^{-1}[:, interest]``.

    ``J = sum_i s_i s_i'`` is the outer product of the per-pair scores; only its
    projections ``d_i = W' s_i`` are needed, and each is a directional
    derivative of pair i's log-likelihood along a column of W, found by
    central differences of ``per_pair_loglik`` (two passes per column).
    """
    D = []
    for w in columns.T:
        h = 1e-4 / max(float(np.max(np.abs(w))), 1e-300)  # moves no parameter by > 1e-4
        D.append((per_pair_loglik(theta + h * w) - per_pair_loglik(theta - h * w)) / (2 * h))
    D = np.column_stack(D)
    return D.T @ D


def profiled_covariance(grad, theta, interest, free=None, preconditioner=None, rtol=1e-4,
                        maxiter=1000, hessian_product=None):
    """Covariance of ``theta[interest]`` with the other free parameters profiled out.

    Parameters
    ----------
    grad : callable
        ``grad(theta)``: gradient of the (unscaled) objective.
    theta : ndarray
        The minimiser.
    interest : sequence of int
        Indices of the parameters of interest.
    free : ndarray of bool, optional
        Parameters that vary (default: all); the others are held fixed.
    preconditioner : callable, optional
        ``v -> M^{-1} v`` on full-length vectors, M a positive-definite
        approximation of H whose (interest, rest) block is zero.
    rtol, maxiter : float, int
        Conjugate-gradient tolerance and iteration limit. Measured on a
        600,000-pair fit: rtol 1e-4 gives the SEs of rtol 1e-6 to 1e-4 relative
        with 40% of the products; 1e-3 was off by 1.4%. (The finite-difference
        products are accurate to about 1e-8, so rtol below 1e-7 is out of reach.)
    hessian_product : callable, optional
        ``v -> H v`` exactly, for the CG's products (correct at least on the rest
        block); without it they are differences of ``grad``. The (interest, rest)
        columns are always differences of ``grad``.

    Returns
    -------
    cov : ndarray of shape (len(interest), len(interest))
    info : dict
        ``cg_iterations`` per solve, ``converged``, and ``inverse_columns``: the
        columns of H^{-1} for the interest parameters, shape (theta.size, m).
    """
    interest = np.asarray(interest)
    if free is None:
        free = np.ones(theta.size, dtype=bool)
    rest = free.copy()
    rest[interest] = False
    rest_idx = np.flatnonzero(rest)
    g0 = grad(theta)
    scale = 1.0 + np.linalg.norm(theta)

    def hvp(v):
        # One-sided difference: relative error ~ sqrt(machine eps), ample for an SE.
        h = 1.5e-8 * scale / max(np.linalg.norm(v), 1e-300)
        return (grad(theta + h * v) - g0) / h

    product = hvp if hessian_product is None else hessian_product

    def hvp_rest(x):
        v = np.zeros_like(theta)
        v[rest_idx] = x
        return product(v)[rest_idx]

    op = LinearOperator((rest_idx.size, rest_idx.size), matvec=hvp_rest, dtype=float)
    precond = None
    if preconditioner is not None:
        def apply(x):
            v = np.zeros_like(theta)
            v[rest_idx] = x
            return preconditioner(v)[rest_idx]

        precond = LinearOperator(op.shape, matvec=apply, dtype=float)
    m = interest.size
    H_AA = np.empty((m, m))
    H_EA = np.empty((rest_idx.size, m))
    for col, idx in enumerate(interest):
        e = np.zeros_like(theta)
        e[idx] = 1.0
        column = hvp(e)
        H_AA[:, col] = column[interest]
        H_EA[:, col] = column[rest_idx]
    H_AA = 0.5 * (H_AA + H_AA.T)
    iterations, converged = [], True
    S = H_AA.copy()
    solves = np.empty((rest_idx.size, m))
    for col in range(m):
        count = [0]

        def cb(_):
            count[0] += 1

        x, status = cg(op, H_EA[:, col], rtol=rtol, maxiter=maxiter, M=precond, callback=cb)
        iterations.append(count[0])
        converged &= status == 0
        S[:, col] -= H_EA.T @ x
        solves[:, col] = x
    S = 0.5 * (S + S.T)
    try:
        cov = np.linalg.inv(S)
    except np.linalg.LinAlgError:
        cov = np.full((m, m), np.nan)
    # The interest columns of H^{-1}: S^{-1} on the interest rows, -H_EE^{-1} H_EA S^{-1}
    # on the rest (block inverse); the sandwich covariance needs them.
    columns = np.zeros((theta.size, m))
    columns[interest] = cov
    columns[rest_idx] = -solves @ cov
    return cov, {"cg_iterations": iterations, "converged": bool(converged),
                 "inverse_columns": columns}
