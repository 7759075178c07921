"""Solvers: full-batch L-BFGS (scipy) and mini-batch Adam."""

import time
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize


@dataclass
class SolverResult:
    theta: np.ndarray
    n_iter: int
    converged: bool
    message: str
    #: True when ``stop`` ended the run (e.g. rho at the boundary), not the iteration limit.
    stopped: bool = False


def lbfgs(objective, theta0, max_iter, tol, verbose=0, scaling=None, stop=None):
    """Minimise ``objective`` (returns scaled f, grad) with scipy's L-BFGS-B.

    With ``scaling`` (an object with ``to_phi``, ``to_theta`` and
    ``grad_to_phi``, see :mod:`heckrec.models._scaling`), L-BFGS works in the
    variables ``phi = A theta`` in which the Hessian is closer to the identity.
    Stops when the largest gradient entry (in phi) is below ``tol / 100`` or the
    relative decrease of f in one iteration is below ``tol / 1000``, or when
    ``stop(theta)`` returns a message (checked after every iteration). Both tolerances are
    far below ``tol`` because the likelihood is very flat in rho: with
    ftol = 1e-7 L-BFGS was measured stopping at rho = 0.07 on data whose
    optimum is rho = 0.62 (objective 1.5e-4 per pair away).
    """
    if scaling is None:
        to_phi = to_theta = grad_to_phi = lambda v: v
    else:
        to_phi, to_theta, grad_to_phi = scaling.to_phi, scaling.to_theta, scaling.grad_to_phi

    def fun(phi):
        f, g = objective(to_theta(phi))
        return f, grad_to_phi(g)

    start = time.perf_counter()
    state = {"it": 0}

    def callback(intermediate_result):
        state["it"] += 1
        if verbose:
            print(f"[lbfgs] iter {state['it']:4d}  objective {intermediate_result.fun:.8f}  "
                  f"{time.perf_counter() - start:7.1f}s", flush=True)
        if stop is not None:
            state["stop"] = stop(to_theta(intermediate_result.x))
            if state["stop"]:
                raise StopIteration  # scipy >= 1.11 ends the run and returns this iterate

    res = minimize(fun, to_phi(theta0), jac=True, method="L-BFGS-B", callback=callback,
                   options={"maxiter": max_iter, "ftol": tol * 1e-3, "gtol": tol * 1e-2,
                            "maxcor": 50})
    if state.get("stop"):
        return SolverResult(to_theta(res.x), int(res.nit), False, state["stop"], stopped=True)
    return SolverResult(to_theta(res.x), int(res.nit), bool(res.success), str(res.message))


def adam(objective, theta0, max_iter, tol, learning_rate, batch_size, rng, verbose=0):
    """Mini-batch Adam over random batches of pairs, ``max_iter`` epochs.

    Each batch's log-likelihood is scaled to the full data, so the gradient
    is an unbiased estimate of the full penalised objective's. The full
    objective is evaluated after each epoch: when it got worse or stopped being
    finite, the epoch is undone (its parameters and moments) and the step size
    halved, so a step size far too large (``learning_rate=1e6``,
    ../shared/reliability F9) costs epochs, never a NaN fit; converged when it
    improves by less than ``tol`` relative.
    """
    pairs = objective.pairs
    n = pairs.n_pairs
    theta = theta0.copy()
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    step = 0
    previous = objective(theta)[0]
    start = time.perf_counter()
    n_undone = 0
    for epoch in range(1, max_iter + 1):
        saved = theta.copy(), m.copy(), v.copy(), step
        order = rng.permutation(n)
        with np.errstate(all="ignore"):  # a diverging epoch is detected below
            for lo in range(0, n, batch_size):
                batch = pairs.subset(order[lo:lo + batch_size])
                _, g = objective.full(theta, batch, weight=n / batch.n_pairs)
                if not np.all(np.isfinite(g)):
                    break
                g /= objective.scale
                step += 1
                m = beta1 * m + (1 - beta1) * g
                v = beta2 * v + (1 - beta2) * g * g
                m_hat = m / (1 - beta1**step)
                v_hat = v / (1 - beta2**step)
                theta -= learning_rate * m_hat / (np.sqrt(v_hat) + eps)
            current = objective(theta)[0] if np.all(np.isfinite(theta)) else np.inf
        if verbose:
            print(f"[adam] epoch {epoch:4d}  objective {current:.8f}  step {learning_rate:.3g}  "
                  f"{time.perf_counter() - start:7.1f}s", flush=True)
        if not np.isfinite(current) or current > previous:
            theta, m, v, step = saved
            learning_rate *= 0.5
            n_undone += 1
            continue
        if previous - current <= tol * max(abs(previous), abs(current), 1.0):
            return SolverResult(theta, epoch, True, "relative objective change below tol")
        previous = current
    message = "maximum number of epochs reached"
    if n_undone:
        message += f" ({n_undone} epochs undone: the objective rose; step size now {learning_rate:.3g})"
    return SolverResult(theta, max_iter, False, message)
