"""Block-coordinate Newton sweeps for the continuous Heckman MF model.

One sweep is a Newton step on every user row (items and globals fixed), then on every
item row (users fixed), a move along the directions only the penalty sees
(:meth:`BlockNewton.regauge`), then a Newton step on the global parameters (mu, w,
atanh rho, log sigma); the kernels are in :mod:`heckrec._kernels.heckman_newton`. Each
step is damped by a backtracking line search on its own block, so every sweep lowers
the penalised objective. Rows are small independent convex problems, so a sweep does
what L-BFGS needs many iterations for (the row blocks' curvatures differ by the pair
counts and the factors' scale). It is slow on the coupled directions (rho against the
rows' outcome biases), which SQUAREM's extrapolation speeds up; once a cycle gains
little the solver hands over to L-BFGS, which, with the same tolerances as
``solver="lbfgs"``, decides convergence.
"""

import time

import numpy as np

from .._kernels import heckman_newton as kernels
from ._likelihood import ContinuousHeckmanLikelihood
from ._solvers import SolverResult

#: Chunks of users over which the global sums are reduced (fixed: deterministic sums).
N_CHUNKS = 64


class BlockNewton:
    """Sweeps over one :class:`PenalisedObjective` of the continuous likelihood.

    Parameters
    ----------
    objective : PenalisedObjective
        Its ``frozen`` may hold only ``a`` (a fixed rho); other frozen entries are
        not supported by the sweeps (:meth:`supported` says so). The kernels take
        its penalties ``reg_factors``, ``reg_bias``, ``reg_rho`` as scalars.
    """

    def __init__(self, objective):
        self.objective = objective
        self.layout, self.pairs = objective.layout, objective.pairs
        self.reg_factors, self.reg_bias = objective.reg_factors, objective.reg_bias
        self.reg_rho = objective.reg_rho
        layout = self.layout
        names = ["mu_o", "w_o", "mu_r", "w_r", "a", "s"]
        self.global_index = np.concatenate([np.arange(layout.slices[n].start,
                                                      layout.slices[n].stop) for n in names])
        self.free_globals = np.ones(self.global_index.size, dtype=bool)
        if objective.frozen is not None:
            self.free_globals = ~objective.frozen[self.global_index]
        #: An empty ``order`` tells the row kernel that pairs are in row order (users).
        self.in_row_order = np.empty(0, dtype=np.int64)

    @staticmethod
    def supported(objective):
        """Whether the sweeps apply: the plain likelihood (no MAR slice), nothing
        frozen but (perhaps) atanh(rho)."""
        if not isinstance(objective.likelihood, ContinuousHeckmanLikelihood):
            return False
        if getattr(objective, "precisions", None) is not None:
            return False  # the sweeps take one reg_factors and one reg_bias
        if objective.frozen is None:
            return True
        frozen = objective.frozen.copy()
        frozen[objective.layout.index("a")] = False
        return not frozen.any()

    def _global_terms(self, theta, derivatives=True):
        """(loglik, gradient, Hessian) in the globals at ``theta``."""
        p, q = self.layout.unpack(theta), self.pairs
        n_glob = self.global_index.size
        ll = np.empty(N_CHUNKS)
        grad = np.zeros((N_CHUNKS, n_glob))
        hess = np.zeros((N_CHUNKS, n_glob, n_glob))
        kernels.global_curvature(q.user_ptr, q.items, q.r, q.o, q.F,
                                 p.mu_o, p.bu_o, p.bi_o, p.P_o, p.Q_o, p.w_o,
                                 p.mu_r, p.bu_r, p.bi_r, p.P_r, p.Q_r, p.w_r, p.a, p.s,
                                 N_CHUNKS, derivatives, ll, grad, hess)
        return float(ll.sum()), grad.sum(axis=0), hess.sum(axis=0)

    def _global_penalty(self, theta):
        return 0.5 * self.reg_rho * theta[self.layout.index("a")] ** 2

    def global_step(self, theta):
        """Damped Newton step on the free globals, in place; returns -loglik there.

        The objective is not concave in (a, s) jointly everywhere, so an indefinite
        Hessian is made positive definite by a growing ridge (Levenberg).
        """
        ll, grad, hess = self._global_terms(theta)
        free = self.free_globals
        index = self.global_index[free]
        a_pos = np.flatnonzero(index == self.layout.index("a"))
        g = -grad[free]
        H = -hess[np.ix_(free, free)]
        g[a_pos] += self.reg_rho * theta[index[a_pos]]
        H[a_pos, a_pos] += self.reg_rho
        f0 = -ll + self._global_penalty(theta)
        ridge = 0.0
        scale = float(np.max(np.abs(np.diag(H)))) or 1.0
        for _ in range(20):
            try:
                L = np.linalg.cholesky(H + ridge * np.eye(H.shape[0]))
                break
            except np.linalg.LinAlgError:
                ridge = max(1e-10 * scale, 10.0 * ridge)
        else:
            return -ll
        step = -np.linalg.solve(L.T, np.linalg.solve(L, g))
        slope = float(g @ step)
        start = theta[index].copy()
        t = 1.0
        for _ in range(kernels.MAX_HALVINGS):
            theta[index] = start + t * step
            nll = -self._global_terms(theta, derivatives=False)[0]
            if nll + self._global_penalty(theta) <= f0 + kernels.ARMIJO * t * slope:
                return nll
            t *= 0.5
        theta[index] = start
        return -ll

    def row_steps(self, theta):
        """Newton steps on every user row, then every item row, in place."""
        p, q = self.layout.unpack(theta), self.pairs
        common = (q.r, q.o, q.F, p.mu_o, p.w_o, p.mu_r, p.w_r)
        decrease_u = np.empty(q.n_users)
        kernels.row_newton_step(q.user_ptr, self.in_row_order, q.items, *common,
                                p.bu_o, p.P_o, p.bu_r, p.P_r, p.bi_o, p.Q_o, p.bi_r, p.Q_r,
                                p.a, p.s, self.reg_bias, self.reg_factors, decrease_u)
        decrease_i = np.empty(q.n_items)
        kernels.row_newton_step(q.item_ptr, q.item_order, q.users, *common,
                                p.bi_o, p.Q_o, p.bi_r, p.Q_r, p.bu_o, p.P_o, p.bu_r, p.P_r,
                                p.a, p.s, self.reg_bias, self.reg_factors, decrease_i)

    def regauge(self, theta):
        """Move along the directions the likelihood cannot see, to the penalty's minimum.

        g = mu + b_u + b_i + <p_u, q_i> is unchanged by (mu + c, b_u - c) and
        (P A, Q A^-T); only the L2 penalty pins them, so row-by-row steps creep
        along them (measured: mu_o still 0.68 off after 23 sweeps). Here they are
        solved exactly: the biases are centred into mu, and each factor pair is
        replaced by the balanced factorisation of the same product
        (P = U S^1/2, Q = V S^1/2 from the SVD of P Q^T).
        """
        p = self.layout.unpack(theta)
        for tag in ("o", "r"):
            mu, bu, bi = (self.layout.slices[f"{b}_{tag}"] for b in ("mu", "bu", "bi"))
            for bias in (bu, bi):
                shift = theta[bias].mean() if self.reg_bias > 0 else 0.0
                theta[bias] -= shift
                theta[mu] += shift
            P, Q = getattr(p, f"P_{tag}"), getattr(p, f"Q_{tag}")
            if P.shape[1] and self.reg_factors > 0:
                P[:], Q[:] = balanced_factors(P, Q)

    def objective_value(self, theta):
        """The full penalised objective (unscaled)."""
        return (-self._global_terms(theta, derivatives=False)[0]
                + self.objective.penalty_value(theta))


def balanced_factors(P, Q):
    """(P', Q') with P' Q'^T = P Q^T, |P'|^2 + |Q'|^2 smallest, and closest to (P, Q).

    The smallest norms are U S^1/2, V S^1/2 from the SVD of P Q^T, up to a common
    rotation R; R is chosen by orthogonal Procrustes so that (P', Q') moves as
    little as possible (SVD signs and order would otherwise jump between sweeps,
    which the extrapolation of :func:`block_newton` cannot follow).
    """
    Qp, Rp = np.linalg.qr(P)
    Qq, Rq = np.linalg.qr(Q)
    U, S, Vt = np.linalg.svd(Rp @ Rq.T)
    root = np.sqrt(S)
    P0, Q0 = Qp @ (U * root), Qq @ (Vt.T * root)
    W, _, Zt = np.linalg.svd(P0.T @ P + Q0.T @ Q)
    R = W @ Zt
    return P0 @ R, Q0 @ R


def block_newton(objective, theta0, max_sweeps, switch_tol, verbose=0, stop=None):
    """Sweeps from ``theta0``, accelerated by SQUAREM, until a cycle lowers the objective
    by less than ``switch_tol`` (relative) or ``max_sweeps`` ran; ``stop(theta)`` as for
    :func:`lbfgs`.

    A sweep is a fixed-point map that converges linearly (the rows of one side adjust
    to rho and to the other side only over many sweeps). SQUAREM (Varadhan and
    Roland, Scand. J. Stat. 35, 2008, scheme S3) takes two sweeps theta_1, theta_2
    from theta_0, extrapolates to theta_0 - 2 a r + a^2 v (r = theta_1 - theta_0,
    v = theta_2 - 2 theta_1 + theta_0, a = -|r|/|v|), halves the extrapolation
    towards theta_2 until the objective is no worse than at theta_2, and ends the
    cycle with one more sweep from there. Every cycle therefore lowers the objective.

    Returns a :class:`SolverResult` whose ``n_iter`` counts sweeps; ``converged`` is
    False: the caller hands the result to L-BFGS, which decides convergence.
    """
    sweeps = BlockNewton(objective)
    start = time.perf_counter()
    state = {"n": 0}

    def sweep(theta):
        theta = theta.copy()
        sweeps.row_steps(theta)
        sweeps.regauge(theta)
        f = sweeps.global_step(theta) + objective.penalty_value(theta)
        state["n"] += 1
        if verbose:
            print(f"[block-newton] sweep {state['n']:3d}  objective {f / objective.scale:.10f}"
                  f"  {time.perf_counter() - start:7.1f}s", flush=True)
        return theta, f

    theta, previous = theta0.copy(), sweeps.objective_value(theta0)
    while state["n"] + 3 <= max_sweeps:
        theta1, _ = sweep(theta)
        theta2, f2 = sweep(theta1)
        r = theta1 - theta
        v = theta2 - theta1 - r
        alpha = -np.sqrt((r @ r) / (v @ v)) if v @ v > 0 else -1.0
        extrapolated = theta2
        while alpha < -1.01:
            candidate = theta - 2 * alpha * r + alpha**2 * v
            if sweeps.objective_value(candidate) <= f2:
                extrapolated = candidate
                break
            alpha = (alpha - 1.0) / 2.0
        theta, current = sweep(extrapolated)
        message = stop(theta) if stop is not None else None
        if message:
            return SolverResult(theta, state["n"], False, message, stopped=True)
        if previous - current <= switch_tol * max(abs(current), 1.0):
            return SolverResult(theta, state["n"], False, "cycle gain below switch_tol")
        previous = current
    return SolverResult(theta, state["n"], False, "maximum number of sweeps reached")
