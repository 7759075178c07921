"""solver="block-newton": second derivatives, row and global Newton steps, the optimum."""

import warnings

import numpy as np
import pytest
import scipy.special
from sklearn.exceptions import ConvergenceWarning
from test_kernels_continuous import _problem

from heckrec import BivariateProbitMF, DegenerateEstimateWarning, HeckmanMFRegressor
from heckrec._array import heckman_continuous as twin
from heckrec._kernels import heckman_newton as kernels
from heckrec.datasets import make_selection_mf
from heckrec.models._block_newton import BlockNewton, balanced_factors, block_newton
from heckrec.models._likelihood import ContinuousHeckmanLikelihood
from heckrec.models._objective import PenalisedObjective

H_FD = 1e-6  # central differences of an analytic gradient: error ~ h^2 * l''' ~ 1e-12


def _objective(pairs, layout, reg_factors=2.0, reg_bias=0.5, reg_rho=0.0, frozen=None):
    return PenalisedObjective(ContinuousHeckmanLikelihood(), layout, pairs, reg_factors,
                              reg_bias, "numpy", frozen, reg_rho)


@pytest.mark.parametrize("observed", [False, True])
def test_pair_curvature_against_the_twin_and_finite_differences(observed):
    rng = np.random.default_rng(0)
    a, s = 0.7, -0.2
    for go, gr, r in zip(rng.normal(0, 2, 40), rng.normal(0, 2, 40), rng.normal(0, 2, 40)):
        out = kernels.pair_curvature(observed, r, go, gr, np.cosh(a), np.sinh(a), np.exp(-s))

        def first(go_, gr_):
            terms = twin.pair_terms(np, scipy.special, np.array([go_]), np.array([gr_]),
                                    np.array([r]), np.array([observed]), a, s)
            return np.array([terms[1][0], terms[2][0]]), terms[0][0]

        d, ll = first(go, gr)
        constant = -s - twin.LOG_2PI_HALF if observed else 0.0
        assert out[0] + constant == pytest.approx(ll, rel=1e-13, abs=1e-13)
        np.testing.assert_allclose(out[1:3], d, rtol=1e-12, atol=1e-13)
        d_go = (first(go + H_FD, gr)[0] - first(go - H_FD, gr)[0]) / (2 * H_FD)
        d_gr = (first(go, gr + H_FD)[0] - first(go, gr - H_FD)[0]) / (2 * H_FD)
        np.testing.assert_allclose([out[3], out[4], out[5]], [d_go[0], d_gr[0], d_gr[1]],
                                   rtol=1e-6, atol=1e-8)
        assert d_go[1] == pytest.approx(d_gr[0], abs=1e-7)  # symmetric


def test_cholesky_solve():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((7, 7))
    H = A @ A.T + 0.1 * np.eye(7)
    b = rng.standard_normal(7)
    out = np.zeros(7)
    assert kernels.cholesky_solve(H.copy(), b, out)
    np.testing.assert_allclose(out, np.linalg.solve(H, b), rtol=1e-10)
    indefinite = H - 50 * np.eye(7)
    untouched = np.zeros(7)
    assert not kernels.cholesky_solve(indefinite, b, untouched)
    assert not untouched.any()


def _global_block(layout):
    return np.concatenate([np.arange(layout.slices[n].start, layout.slices[n].stop)
                           for n in ("mu_o", "w_o", "mu_r", "w_r", "a", "s")])


def test_global_curvature_against_the_twin_and_finite_differences():
    pairs, layout, theta = _problem(seed=2)
    sweeps = BlockNewton(_objective(pairs, layout))
    index = _global_block(layout)
    likelihood = ContinuousHeckmanLikelihood()

    def twin_grad(t):
        ll, g = likelihood.loglik_grad(t, layout, pairs, "numpy")
        return ll, g[index]

    ll, grad, hess = sweeps._global_terms(theta)
    ll_twin, grad_twin = twin_grad(theta)
    assert ll == pytest.approx(ll_twin, rel=1e-12)
    np.testing.assert_allclose(grad, grad_twin, rtol=1e-10, atol=1e-10)
    fd = np.empty_like(hess)
    for col, j in enumerate(index):
        step = np.zeros(layout.size)
        step[j] = H_FD
        fd[:, col] = (twin_grad(theta + step)[1] - twin_grad(theta - step)[1]) / (2 * H_FD)
    np.testing.assert_allclose(hess, fd, rtol=1e-6, atol=1e-6 * np.abs(fd).max())
    np.testing.assert_allclose(hess, hess.T, rtol=1e-12, atol=1e-12)


def test_row_step_is_the_exact_newton_step():
    # Near the optimum every row's full Newton step passes the Armijo test, so the
    # kernel's new row must equal row - H^-1 g with H and g of that row's penalised
    # objective from the numpy twin (H by finite differences of its gradient).
    pairs, layout, theta = _problem(seed=3)
    objective = _objective(pairs, layout)
    sweeps = BlockNewton(objective)
    for _ in range(4):  # towards the optimum of the user rows (items, globals fixed)
        sweeps.row_steps(theta)
    before = theta.copy()
    p = layout.unpack(theta)
    decrease = np.empty(pairs.n_users)
    kernels.row_newton_step(pairs.user_ptr, sweeps.in_row_order, pairs.items, pairs.r, pairs.o,
                            pairs.F, p.mu_o, p.w_o, p.mu_r, p.w_r, p.bu_o, p.P_o, p.bu_r,
                            p.P_r, p.bi_o, p.Q_o, p.bi_r, p.Q_r, p.a, p.s, 0.5, 2.0, decrease)  # reg_bias, reg_factors
    k = layout.shapes["P_o"][1]
    for user in (0, 5, 12):
        index = np.concatenate([[layout.slices["bu_o"].start + user],
                                layout.slices["P_o"].start + user * k + np.arange(k),
                                [layout.slices["bu_r"].start + user],
                                layout.slices["P_r"].start + user * k + np.arange(k)])
        g = objective.full(before)[1][index]
        H = np.empty((index.size, index.size))
        for col, j in enumerate(index):
            step = np.zeros(layout.size)
            step[j] = H_FD
            H[:, col] = (objective.full(before + step)[1][index]
                         - objective.full(before - step)[1][index]) / (2 * H_FD)
        newton = before[index] - np.linalg.solve(H, g)
        np.testing.assert_allclose(theta[index], newton, rtol=1e-6, atol=1e-8)
        assert decrease[user] >= 0


def test_balanced_factors_keep_the_product_at_the_nuclear_norm():
    rng = np.random.default_rng(4)
    P = rng.standard_normal((30, 3)) * [3.0, 1.0, 0.2]
    Q = rng.standard_normal((20, 3))
    P2, Q2 = balanced_factors(P, Q)
    np.testing.assert_allclose(P2 @ Q2.T, P @ Q.T, atol=1e-12)
    # min |P|^2 + |Q|^2 over factorisations of M is 2 |M|_* (nuclear norm).
    nuclear = np.linalg.svd(P @ Q.T, compute_uv=False).sum()
    assert (P2**2).sum() + (Q2**2).sum() == pytest.approx(2 * nuclear, rel=1e-12)
    # Balanced factors are a fixed point, up to rounding (no jump in rotation or sign).
    P3, Q3 = balanced_factors(P2, Q2)
    np.testing.assert_allclose(P3, P2, atol=1e-10)
    np.testing.assert_allclose(Q3, Q2, atol=1e-10)


def test_sweeps_lower_the_objective_from_a_random_start():
    pairs, layout, theta = _problem(seed=5)
    objective = _objective(pairs, layout, reg_rho=0.5)
    start = objective.full(theta)[0]
    result = block_newton(objective, theta, 9, 0.0)
    assert result.n_iter == 9
    assert objective.full(result.theta)[0] < start
    # The regauged biases are centred (where the penalty pins their mean to 0).
    p = layout.unpack(result.theta)
    assert abs(p.bu_o.mean()) < 1e-12 and abs(p.bi_r.mean()) < 1e-12


# ------------------------------------------------------------- estimator
@pytest.fixture(scope="module")
def grid():
    return make_selection_mf(300, 150, n_factors=2, rho=0.5, density=0.15, n_features=1,
                             bias_scale=0.8, random_state=7)


def _fit(X, r, o, **kw):
    params = dict(n_factors=2, reg_factors=5.0, reg_bias=1.0, random_state=0,
                  compute_se=False, tol=1e-9, max_iter=3000)
    params.update(kw)
    return HeckmanMFRegressor(**params).fit(X, r, o)


@pytest.mark.parametrize("extra", [{}, {"fixed_rho": 0.3}, {"reg_rho": 2.0}])
def test_block_newton_reaches_the_lbfgs_optimum(grid, extra):
    X, r, o, _ = grid
    ref = _fit(X, r, o, **extra)
    est = _fit(X, r, o, solver="block-newton", **extra)
    assert est.n_sweeps_ >= 3 and est.converged_
    # Same penalised optimum: objective to 1e-9 relative (both stop at tol 1e-9),
    # rho to 1e-3 (0.03 of its SE here: the likelihood is flat in rho), predictions.
    assert est.objective_ == pytest.approx(ref.objective_, rel=1e-9)
    assert est.rho_ == pytest.approx(ref.rho_, abs=1e-3)
    np.testing.assert_allclose(est.predict(X), ref.predict(X), atol=2e-3)
    if "fixed_rho" in extra:
        assert est.rho_ == pytest.approx(0.3, abs=1e-12)


def test_block_newton_finishes_with_the_array_backend(grid):
    # The sweeps run the numba kernels whatever the backend; L-BFGS then finishes with
    # ``backend`` (numpy here, the same array code as cupy): the same fit either way.
    X, r, o, _ = grid
    a = _fit(X, r, o, solver="block-newton")
    b = _fit(X, r, o, solver="block-newton", backend="numpy")
    assert b.n_sweeps_ == a.n_sweeps_
    assert b.objective_ == pytest.approx(a.objective_, rel=1e-10)
    assert b.rho_ == pytest.approx(a.rho_, abs=1e-5)


def test_block_newton_is_deterministic(grid):
    X, r, o, _ = grid
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = _fit(X, r, o, solver="block-newton", max_iter=7)
        b = _fit(X, r, o, solver="block-newton", max_iter=7)
    assert np.array_equal(a.theta_, b.theta_)


def test_block_newton_with_every_pair_observed_falls_back_to_lbfgs(grid):
    X, r, o, _ = grid
    y = np.where(o == 1, r, 0.0)  # an outcome everywhere
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateEstimateWarning)
        est = _fit(X, y, np.ones_like(o), solver="block-newton")
        ref = _fit(X, y, np.ones_like(o))
    assert est.n_sweeps_ == 0
    np.testing.assert_allclose(est.predict(X), ref.predict(X), atol=1e-6)


def test_block_newton_standard_errors_match_lbfgs(grid):
    X, r, o, _ = grid
    ref = _fit(X, r, o, compute_se=True)
    est = _fit(X, r, o, solver="block-newton", compute_se=True)
    assert est.rho_se_ == pytest.approx(ref.rho_se_, rel=1e-3)
    assert est.sigma_se_ == pytest.approx(ref.sigma_se_, rel=1e-3)


def test_block_newton_warns_when_it_runs_out_of_iterations(grid):
    X, r, o, _ = grid
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        _fit(X, r, o, solver="block-newton", max_iter=4)


def test_block_newton_is_only_for_the_continuous_model(grid):
    X, r, o, _ = grid
    with pytest.raises(ValueError, match="solver"):
        BivariateProbitMF(solver="block-newton").fit(X, (r > 0).astype(int), o)


def test_exact_hessian_product_against_finite_differences():
    # H v from the per-pair second derivatives against central differences of the numpy
    # twin's analytic gradient along v, on every block but a and s (not computed).
    pairs, layout, theta = _problem(seed=6)
    likelihood = ContinuousHeckmanLikelihood()
    product = likelihood.hessian_product(theta, layout, pairs)
    rng = np.random.default_rng(7)
    v = rng.standard_normal(layout.size)
    v[[layout.index("a"), layout.index("s")]] = 0.0
    h = 1e-5
    fd = (likelihood.loglik_grad(theta + h * v, layout, pairs, "numpy")[1]
          - likelihood.loglik_grad(theta - h * v, layout, pairs, "numpy")[1]) / (2 * h)
    exact = product(v)
    rest = np.ones(layout.size, dtype=bool)
    rest[[layout.index("a"), layout.index("s")]] = False
    np.testing.assert_allclose(exact[rest], fd[rest], rtol=1e-7, atol=1e-7 * np.abs(fd).max())
    assert exact[layout.index("a")] == 0.0 and exact[layout.index("s")] == 0.0
