"""rho_criterion="laplace": rho by the Laplace marginal likelihood (heckrec.models._laplace)."""

import warnings

import numpy as np
import pytest

from heckrec import BivariateProbitMF, HeckmanMFRegressor
from heckrec.datasets import make_selection_mf
from heckrec.exceptions import NotIdentifiedWarning
from heckrec.models import _base, _laplace_exact
from heckrec.models._base import LAPLACE_A_MAX, LAPLACE_GRID, LAPLACE_XATOL, SelectionMFBase


def _fit_with_dense_hessian(est, X, r, o, **fit_params):
    """Fit ``est`` and return the dense Hessian of its penalised objective in the users'
    and items' parameters (differenced analytic gradients), their positions in theta and
    the Gaussian priors' normaliser 1/2 sum log lam."""
    captured = {}
    finish = est._finish_fit

    def hook(objective, y):
        captured["objective"] = objective
        return finish(objective, y)

    est._finish_fit = hook
    est.fit(X, r, o, **fit_params)
    objective, theta, layout = captured["objective"], est.theta_, est._layout
    rows = np.concatenate(list(layout.prior_groups().values()))
    h = 1e-5
    H = np.empty((rows.size, rows.size))
    for j, col in enumerate(rows):
        up, down = theta.copy(), theta.copy()
        up[col] += h
        down[col] -= h
        H[:, j] = (objective.full(up)[1][rows] - objective.full(down)[1][rows]) / (2 * h)
    prior = objective.penalty[rows]
    return 0.5 * (H + H.T), rows, 0.5 * float(np.log(prior).sum())


def _row_blocks_logdet(est, H, rows):
    """Sum of log det of each user's and item's diagonal block of the dense H."""
    position = {int(col): j for j, col in enumerate(rows)}
    layout, k = est._layout, est.n_factors
    total = 0.0
    for n, bias, factor in ((est.n_users_, "bu", "P"), (est.n_items_, "bi", "Q")):
        parts = []
        for tag in ("o", "r"):
            parts.append(np.arange(layout.slices[f"{bias}_{tag}"].start,
                                   layout.slices[f"{bias}_{tag}"].stop)[:, None])
            parts.append(np.arange(layout.slices[f"{factor}_{tag}"].start,
                                   layout.slices[f"{factor}_{tag}"].stop).reshape(n, k))
        for row in np.hstack(parts):
            index = [position[int(c)] for c in row]
            total += np.linalg.slogdet(H[np.ix_(index, index)])[1]
    return total


@pytest.mark.parametrize("outcome", ["binary", "continuous"])
@pytest.mark.parametrize("with_slice", [False, True])
@pytest.mark.parametrize("hessian", ["exact", "block-diagonal"])
def test_log_marginal_matches_the_dense_hessian(outcome, with_slice, hessian, monkeypatch):
    # Rank 1: no rotations, so log m is -F - 1/2 log det H_rows + the prior's normaliser,
    # H_rows whole ("exact", the default where one side is small) or its diagonal blocks
    # (the fallback above MAX_KEPT, forced here).
    if hessian == "block-diagonal":
        monkeypatch.setattr(_laplace_exact, "MAX_KEPT", 0)
    X, r, o, truth = make_selection_mf(25, 20, n_factors=1, rho=0.5, density=0.3,
                                       outcome=outcome, random_state=3)
    fit_params = {}
    if with_slice:
        rng = np.random.default_rng(0)
        rows = rng.choice(np.flatnonzero(o == 0), 40, replace=False)
        noise = rng.standard_normal(rows.size)
        y = truth["g_r"][rows] + noise
        fit_params = {"X_unbiased": X[rows], "y_unbiased": (y > 0).astype(float)
                      if outcome == "binary" else y}
    cls = BivariateProbitMF if outcome == "binary" else HeckmanMFRegressor
    est = cls(1, reg_factors=2.0, reg_bias=0.5, fixed_rho=0.4, rho_criterion="laplace",
              compute_se=False, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        H, rows, prior = _fit_with_dense_hessian(est, X, r, o, **fit_params)
    logdet = (np.linalg.slogdet(H)[1] if hessian == "exact"
              else _row_blocks_logdet(est, H, rows))
    assert est.laplace_hessian_ == hessian
    # The kernel's log m sums the same terms built from per-pair curvatures (differenced
    # first derivatives, error ~1e-8 each); the dense Hessian's step errors are ~1e-6.
    assert est.log_marginal_ == pytest.approx(-est.objective_ - 0.5 * logdet + prior, abs=1e-3)
    if hessian == "exact":  # the cross terms are not small: the two forms differ by units
        assert abs(_row_blocks_logdet(est, H, rows) - logdet) > 1.0


@pytest.mark.parametrize("cls", [BivariateProbitMF, HeckmanMFRegressor])
@pytest.mark.parametrize("unobserved", ["listed", "complement"])
def test_exact_log_marginal_integrates_over_the_rotations(cls, unobserved):
    # Rank 3 at a weak prior: rotating a score's factors (P A, Q A) leaves the penalised
    # objective unchanged, so the dense H_rows has 3 zero eigenvalues per score. Laplace's
    # method integrates over that orbit: the log det over the other directions, and the
    # orbit's volume, |det G'G|^(1/2) for the unit tangents G times the volume of O(3),
    # less (2 pi)^(m/2) for the m directions taken out of the Gaussian integral.
    from scipy.special import gammaln

    k = 3
    binary = cls is BivariateProbitMF
    X, r, o, _ = make_selection_mf(30, 25, n_factors=k, rho=0.5, density=0.3,
                                   outcome="binary" if binary else "continuous",
                                   random_state=3)
    o = o.astype(bool)
    data = (X, r, o) if unobserved == "listed" else (X[o], r[o], None)
    est = cls(k, reg_factors=3.0, reg_bias=3.0, fixed_rho=0.4, rho_criterion="laplace",
              compute_se=False, tol=1e-12, random_state=0, unobserved=unobserved)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        H, rows, prior = _fit_with_dense_hessian(est, *data)
    p = est._layout.unpack(est.theta_)
    tangents = []
    for tag in ("o", "r"):
        P, Q = getattr(p, f"P_{tag}"), getattr(p, f"Q_{tag}")
        for i in range(k):
            for j in range(i + 1, k):
                A = np.zeros((k, k))
                A[i, j], A[j, i] = 1.0, -1.0
                t = np.zeros(est._layout.size)
                t[est._layout.slices[f"P_{tag}"]] = (P @ A).ravel()
                t[est._layout.slices[f"Q_{tag}"]] = (Q @ A).ravel()
                tangents.append(t[rows])
    G = np.array(tangents).T
    m = G.shape[1]
    eigenvalues = np.linalg.eigvalsh(H)
    # the m rotation directions are the flat ones: tiny next to the rest
    assert np.abs(eigenvalues[:m]).max() < 1e-5 < 1e-2 < eigenvalues[m]
    assert np.abs(H @ G).max() < 1e-4 * np.abs(G).max()
    log_o3 = sum(np.log(2.0) + 0.5 * j * np.log(np.pi) - gammaln(0.5 * j) for j in (1, 2, 3))
    orbit = 0.5 * np.linalg.slogdet(G.T @ G)[1] + 2 * log_o3 - 0.5 * m * np.log(2 * np.pi)
    expected = -est.objective_ - 0.5 * np.log(eigenvalues[m:]).sum() + orbit + prior
    assert est.laplace_hessian_ == "exact"
    assert est.log_marginal_ == pytest.approx(expected, abs=1e-3)


@pytest.mark.parametrize("cls", [BivariateProbitMF, HeckmanMFRegressor])
def test_log_marginal_from_the_log_equals_the_listed_grids(cls):
    # unobserved="complement" sweeps the unlisted pairs' curvature by tiles; listing every
    # pair sums it pair by pair. Same data, same optimum (to the solver's tolerance), so
    # the same log m and, searched over rho, the same rho_.
    X, r, o, _ = make_selection_mf(40, 30, n_factors=1, rho=0.5, density=0.3,
                                   outcome="binary" if cls is BivariateProbitMF
                                   else "continuous", random_state=4)
    logged = o == 1
    assert np.unique(X[logged, 0]).size == 40 and np.unique(X[logged, 1]).size == 30
    kw = dict(reg_factors=2.0, reg_bias=0.5, rho_criterion="laplace", random_state=0)
    data = {"listed": (X, r, o), "complement": (X[logged], r[logged])}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fixed = [cls(1, fixed_rho=0.4, compute_se=False, unobserved=mode, **kw).fit(
                 *data[mode]) for mode in data]
        free = [cls(1, unobserved=mode, **kw).fit(*data[mode]) for mode in data]
    assert fixed[1].log_marginal_ == pytest.approx(fixed[0].log_marginal_, rel=1e-6)
    assert free[1].rho_ == pytest.approx(free[0].rho_, abs=1e-4)
    assert free[1].rho_se_ == pytest.approx(free[0].rho_se_, rel=1e-3)


def test_binary_laplace_removes_the_incidental_parameter_bias():
    # Biases only, 300 x 200, 10% observed, true rho 0.6, reg_bias 10 (prior sd 0.32, the
    # simulator's bias spread 0.3). The penalised fit runs to the boundary here; the
    # marginal likelihood's maximum is at 0.572 +- 0.054 (docs/model.md).
    X, r, o, _ = make_selection_mf(300, 200, n_factors=0, rho=0.6, density=0.1,
                                   outcome="binary", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ml = BivariateProbitMF(0, reg_bias=10.0, random_state=0, rho_criterion="penalised",
                               if_not_identified="estimate").fit(X, r, o)
    assert ml.rho_ > 0.95
    # (this design leaves rho to the normal shape, structural SE above 1, so the default
    # if_not_identified="fix" would hold it at 0: the criterion is studied free)
    est = BivariateProbitMF(0, reg_bias=10.0, rho_criterion="laplace", random_state=0,
                            if_not_identified="estimate")
    with pytest.warns(NotIdentifiedWarning, match="not identified by the design"):
        est.fit(X, r, o)
    assert est.rho_structural_se_ > 1
    assert est.degenerate_ is None
    assert abs(est.rho_ - 0.6) < 2 * est.rho_se_
    assert 0.02 < est.rho_se_ < 0.1
    # rho_ is the best point of the profile it searched (the final fit restarts from the
    # curvature's last point, so log m agrees to the solver's tolerance, not bitwise)
    best = est.laplace_profile_[np.argmax(est.laplace_profile_[:, 1])]
    assert est.rho_ == pytest.approx(best[0], abs=1e-12)
    assert est.log_marginal_ == pytest.approx(best[1], abs=1e-2)


def test_continuous_laplace_covers_where_the_penalised_fit_does_not():
    # 200 x 150, rank 1, weak penalties (issue 14's design): the penalised rho_ is 0.511
    # +- 0.035 for a true 0.4 (3 SE off), the marginal likelihood's 0.417 +- 0.038.
    X, r, o, _ = make_selection_mf(200, 150, n_factors=1, rho=0.4, density=0.3,
                                   random_state=1)
    kw = dict(reg_factors=1.0, reg_bias=0.1, random_state=0)
    ml = HeckmanMFRegressor(1, **kw).fit(X, r, o)
    est = HeckmanMFRegressor(1, rho_criterion="laplace", **kw).fit(X, r, o)
    assert abs(ml.rho_ - 0.4) > 2.5 * ml.rho_se_
    assert ml.laplace_hessian_ is None and np.isnan(ml.log_marginal_)  # penalised
    assert abs(est.rho_ - 0.4) < 2 * est.rho_se_
    assert est.sigma_se_ > 0  # the final fit's other standard errors are kept


@pytest.mark.parametrize("criterion", ["laplace", "evidence"])
@pytest.mark.parametrize("setting", [{"alpha": 0.5}, {"backend": "numpy"}])
def test_laplace_refuses_what_it_is_not_written_for(setting, criterion):
    X, r, o, _ = make_selection_mf(20, 15, n_factors=0, density=0.3, random_state=0)
    with pytest.raises(ValueError, match=f"rho_criterion='{criterion}' needs"):
        HeckmanMFRegressor(0, rho_criterion=criterion, **setting).fit(X, r, o)


def test_an_unknown_rho_criterion_is_named():
    X, r, o, _ = make_selection_mf(20, 15, n_factors=0, density=0.3, outcome="binary",
                                   random_state=0)
    with pytest.raises(ValueError, match="rho_criterion"):
        BivariateProbitMF(0, rho_criterion="marginal").fit(X, r, o)


def test_evidence_update_reaches_the_conjugate_models_evidence_maximum():
    # y = X w + e, e ~ N(0, 1), w ~ N(0, 1 / lam), X with orthogonal columns: the posterior
    # covariance is diagonal, so MacKay's fixed point is the exact maximiser of the closed-form
    # log evidence, found here independently by scipy.
    from scipy.optimize import minimize_scalar

    from heckrec.models._laplace import mackay_update

    rng = np.random.default_rng(0)
    n, d = 200, 30
    X = np.linalg.qr(rng.standard_normal((n, d)))[0] * rng.uniform(1, 4, d)
    y = X @ rng.normal(0, 0.5, d) + rng.standard_normal(n)
    xtx, xty = np.sum(X**2, axis=0), X.T @ y

    def log_evidence(log_lam):  # log N(y; 0, I + X X' / lam), by the determinant lemma
        lam = np.exp(log_lam)
        quad = y @ y - np.sum(xty**2 / (xtx + lam))
        return -0.5 * (quad + np.sum(np.log1p(xtx / lam)))

    best = np.exp(minimize_scalar(lambda t: -log_evidence(t), bounds=(-5, 5),
                                  method="bounded", options={"xatol": 1e-10}).x)
    lam = 100.0
    for _ in range(200):
        variances = 1.0 / (xtx + lam)
        w = variances * xty
        lam = mackay_update(w, variances, lam)
    assert lam == pytest.approx(best, rel=1e-6)
    assert 2.0 < best < 8.0  # the prior's precision, 1 / 0.5^2 = 4, give or take 30 draws


def test_evidence_chooses_the_penalties_and_recovers_rho():
    # Continuous 200 x 150, rank 1 at the defaults' 100 / 1: the factors' prior is 50x too
    # strong for the simulator's (factor sd 0.7, precision 2.04) and the Laplace rho_ is
    # 0.125 +- 0.215 for a true 0.4; the evidence finds factor precisions 1.97 / 2.31 and
    # rho_ 0.409 +- 0.035 (34 fits).
    X, r, o, _ = make_selection_mf(200, 150, n_factors=1, rho=0.4, density=0.3,
                                   random_state=0)
    est = HeckmanMFRegressor(1, rho_criterion="evidence", random_state=0).fit(X, r, o)
    for tag in ("o", "r"):
        assert est.prior_precisions_[f"factors_{tag}"] == pytest.approx(2.04, rel=0.25)
    assert est.reg_factors == 100.0  # the hyper-parameter itself is left alone
    assert abs(est.rho_ - 0.4) < 2 * est.rho_se_
    assert 0.02 < est.rho_se_ < 0.06
    # the profile searched was the evidence's last, at the chosen penalties
    best = est.laplace_profile_[np.argmax(est.laplace_profile_[:, 1])]
    assert est.rho_ == pytest.approx(best[0], abs=1e-12)


def test_evidence_rescues_the_binary_fit_from_a_weak_prior():
    # Biases only, true rho 0.6 (bias sd 0.3: precision 11.1). At the default reg_bias 0.1
    # the Laplace rho_ is 0.004 +- 0.064 and the penalised 0.890 +- 0.074; the evidence
    # finds bias precisions 9.2 to 13.6 and rho_ 0.557 +- 0.059 (41 fits).
    X, r, o, _ = make_selection_mf(200, 150, n_factors=0, rho=0.6, density=0.3,
                                   outcome="binary", random_state=0)
    est = BivariateProbitMF(0, rho_criterion="evidence", random_state=0).fit(X, r, o)
    # 150 to 200 draws per group: their sample precision alone varies by about 12% (sd)
    for group in ("bu_o", "bi_o", "bu_r", "bi_r"):
        assert est.prior_precisions_[group] == pytest.approx(11.1, rel=0.25)
    assert abs(est.rho_ - 0.6) < 2 * est.rho_se_
    assert est.degenerate_ is None


def test_evidence_at_a_fixed_rho_moves_only_the_penalties():
    X, r, o, _ = make_selection_mf(60, 40, n_factors=1, rho=0.3, density=0.3, random_state=0)
    est = HeckmanMFRegressor(1, rho_criterion="evidence", fixed_rho=0.3,
                             random_state=0).fit(X, r, o)
    assert est.rho_ == pytest.approx(0.3, abs=1e-12)
    assert est.prior_precisions_["factors_r"] != 100.0
    assert not hasattr(est, "_prior_precisions")  # a refit of est uses its own parameters
    assert np.isfinite(est.log_marginal_)


def test_profile_and_lr_test_use_the_marginal_likelihood():
    from heckrec.inference import lr_test_rho, profile_rho

    X, r, o, _ = make_selection_mf(200, 150, n_factors=0, rho=0.6, density=0.3,
                                   outcome="binary", random_state=0)
    est = BivariateProbitMF(0, reg_bias=10.0, rho_criterion="laplace",
                            random_state=0).fit(X, r, o)
    rho_grid, log_m = est.laplace_profile_.T
    stat, _ = lr_test_rho(est, X, r, o)
    # the fit's own search evaluated log m at rho = 0 and at rho_: the test's refits agree
    # to the solver's tolerance
    assert stat == pytest.approx(2 * (log_m.max() - log_m[rho_grid == 0.0][0]), rel=1e-3)
    lower, upper = profile_rho(est, X, r, o).interval
    # the profile interval against the curvature's Wald interval (atanh scale, where log m is
    # close to quadratic here): measured 0.485 / 0.798 against 0.489 / 0.801, 2% of the
    # half-width; 5% allowed
    se_a = est.rho_se_ / (1 - est.rho_**2)
    a = np.arctanh(est.rho_)
    assert np.arctanh(lower) == pytest.approx(a - 1.96 * se_a, abs=0.05 * 1.96 * se_a)
    assert np.arctanh(upper) == pytest.approx(a + 1.96 * se_a, abs=0.05 * 1.96 * se_a)


@pytest.mark.parametrize("criterion, rank, source", [
    ("laplace", 0, "curvature in atanh(rho), delta"),
    ("evidence", 0, "curvature in atanh(rho) and the log prior precisions together, delta"),
    # with factors the evidence stops at MacKay's point (EVIDENCE_NEWTON_FACTORS), and
    # rho_se_ is the profile's at those precisions
    ("evidence", 1, "curvature in atanh(rho), delta")])
def test_summary_says_where_rho_and_its_standard_error_come_from(criterion, rank, source):
    X, r, o, _ = make_selection_mf(60, 40, n_factors=rank, rho=0.5, density=0.3,
                                   random_state=0)
    # (a grid this small leaves rho to the normal shape: kept free to show its source)
    est = HeckmanMFRegressor(rank, rho_criterion=criterion, if_not_identified="estimate",
                             random_state=0).fit(X, r, o)
    text = " ".join(str(est.summary()).split())
    assert "rho chosen by the Laplace marginal likelihood" in text
    assert source in text
    assert "delta method for sigma." in text  # sigma's SE is still the Hessian's
    # under the evidence sigma stays at the joint mode, which understates the noise
    # (docs/inference.md): the summary says so rather than print it as if it were fine
    assert ("understates the noise" in text) == (criterion == "evidence")
    assert "without the user-item cross terms" not in text  # H_rows whole on this grid
    # sigma_se_ carries rho's uncertainty (every search ends on a triplet around rho_)
    assert "adds rho's uncertainty along" in text
    if "together" not in source:  # the SE from the profile's last triplet, a +- 0.1
        a = np.arctanh(est.rho_)
        low, mid, high = (next(v for rho, v in est.laplace_profile_
                               if abs(rho - np.tanh(a + d)) < 1e-12)
                          for d in (-0.1, 0.0, 0.1))
        curvature = (low - 2 * mid + high) / 0.1**2
        assert est.rho_se_ == pytest.approx((1 - est.rho_**2) / np.sqrt(-curvature), rel=1e-9)


def _counted(f):
    """f with a record of the points it was called at."""
    calls = []

    def wrapped(a):
        calls.append(a)
        return f(a)
    return wrapped, calls


@pytest.mark.parametrize("peak", [-1.2, -0.2, 0.45, 1.0])
def test_rho_search_climbs_to_the_maximum_without_the_far_grid_points(peak):
    # a concave log m in a = atanh(rho): the climb goes from the centre to the best grid
    # point, the Newton steps (Brent at an end of the grid) find the peak to the search's
    # tolerance, and the grid points fitted are those on the way and one beyond
    f, calls = _counted(lambda a: -50.0 * (a - peak) ** 2)
    profile, converged, best = SelectionMFBase._search_rho(f)
    assert converged
    assert best == pytest.approx(peak, abs=2 * LAPLACE_XATOL)
    grid = np.arctanh(LAPLACE_GRID)
    j = int(np.argmin(np.abs(grid - peak)))
    fitted = {int(np.flatnonzero(np.isclose(grid, a))[0]) for a in calls
              if np.isclose(grid, a).any()}
    assert fitted == set(range(min(j, 3) - 1, max(j, 3) + 2)) & set(range(7))
    assert len(calls) < 7 + 8  # the whole grid and Brent's steps, before


def test_rho_search_from_a_previous_rho_fits_only_near_it():
    # the Newton triplets start at the previous rho: every fit within 0.2 of it
    f, calls = _counted(lambda a: -50.0 * (a - 0.5) ** 2)
    _, _, best = SelectionMFBase._search_rho(f, around=0.45)
    assert best == pytest.approx(0.5, abs=2 * LAPLACE_XATOL)
    assert all(abs(a - 0.45) <= 0.2 + 1e-12 for a in calls)
    # a maximum the steps do not reach sends it back to the grid, which finds it
    f, calls = _counted(lambda a: -50.0 * (a + 0.8) ** 2)
    _, _, best = SelectionMFBase._search_rho(f, around=0.45)
    assert best == pytest.approx(-0.8, abs=2 * LAPLACE_XATOL)


def test_rho_search_follows_a_rise_to_the_boundary_and_skips_non_finite_points():
    _, _, best = SelectionMFBase._search_rho(lambda a: 10.0 * a)
    assert best > LAPLACE_A_MAX - 10 * LAPLACE_XATOL  # reported as degenerate by the fit
    # no finite point near the centre: the whole grid is tried
    _, _, best = SelectionMFBase._search_rho(
        lambda a: -(a + 1.4) ** 2 if a < -1.0 else float("nan"))
    assert best == pytest.approx(-1.4, abs=2 * LAPLACE_XATOL)
    with pytest.raises(FloatingPointError, match="not finite"):
        SelectionMFBase._search_rho(lambda a: float("nan"))


def test_evidence_updates_pass_a_prior_too_weak_for_a_minimum():
    # From the default prior (100) the rank-2 factors are shrunk to 0 and the first MacKay
    # update drops their precision to EVIDENCE_MIN; the fit there stops short of a minimum
    # and H_rows whole is not positive definite (log m NaN). The updates need only the
    # blocks' variances, so they go on and settle at the simulator's precision (factor
    # scale 0.7: about 2); the search then finds rho near the true 0.
    X, r, o, _ = make_selection_mf(150, 100, n_factors=2, rho=0.0, density=0.2,
                                   random_state=1025)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = HeckmanMFRegressor(2, rho_criterion="evidence", random_state=0,
                                 if_not_identified="estimate").fit(X, r, o)
    assert est.laplace_hessian_ == "exact"
    assert 1.5 < est.prior_precisions_["factors_o"] < 3.5
    assert abs(est.rho_) < 2 * est.rho_se_


@pytest.mark.parametrize("rank", [0, 1])
def test_summary_says_when_the_blocks_leave_the_cross_terms_out(monkeypatch, rank):
    """Where one side of the grid is too large for H_rows whole (forced here), log m takes
    its diagonal blocks, whose missing cross terms pull rho towards 0 with factors
    (docs/inference.md): the summary says the interval is then too narrow on large logs;
    biases only, where that pull was not measured, it does not."""
    monkeypatch.setattr(_base, "exact_logdet_fits", lambda *args: False)
    X, r, o, _ = make_selection_mf(60, 40, n_factors=rank, rho=0.5, density=0.3,
                                   random_state=0)
    est = HeckmanMFRegressor(rank, rho_criterion="laplace", if_not_identified="estimate",
                             random_state=0).fit(X, r, o)
    assert est.laplace_hessian_ == "block-diagonal"
    text = " ".join(str(est.summary()).split())
    assert ("without the user-item cross terms" in text) == (rank > 0)


def test_sigma_se_along_the_profile_is_the_joint_inverse_hessians():
    """The identity behind sigma_se_ where the marginal likelihood chose rho:
    Var(log sigma) = Var(log sigma | a) + (d log sigma / da)^2 Var(a). On a penalised fit
    with rho free the joint inverse Hessian obeys it: its sigma_se_ against the fit at
    rho_ held plus the profile's slope by central differences at a +- 0.1 (within 2%: the
    slope's O(h^2) error and the fits' tolerances)."""
    X, r, o, _ = make_selection_mf(60, 40, n_factors=1, rho=0.5, density=0.3,
                                   random_state=1)
    kw = dict(rho_criterion="penalised", if_not_identified="estimate", random_state=0)
    free = HeckmanMFRegressor(1, **kw).fit(X, r, o)
    held = HeckmanMFRegressor(1, fixed_rho=free.rho_, **kw).fit(X, r, o)
    a = np.arctanh(free.rho_)
    low, high = (np.log(HeckmanMFRegressor(1, fixed_rho=np.tanh(a + d), compute_se=False,
                                           **kw).fit(X, r, o).sigma_) for d in (-0.1, 0.1))
    var_a = (free.rho_se_ / (1 - free.rho_**2)) ** 2
    var_log_sigma = (held.sigma_se_ / held.sigma_) ** 2 + ((high - low) / 0.2) ** 2 * var_a
    assert free.sigma_ == pytest.approx(held.sigma_, rel=1e-5)
    assert free.sigma_se_ == pytest.approx(free.sigma_ * np.sqrt(var_log_sigma), rel=0.02)
    assert free.sigma_se_ > 2 * held.sigma_se_  # rho's part dominates here


@pytest.mark.parametrize("criterion", ["laplace", "evidence"])
def test_sigma_se_adds_rhos_uncertainty_where_the_marginal_likelihood_chose_rho(criterion):
    """sigma_se_ is the final fit's (rho held at rho_, under the search's precisions) plus
    (sigma slope)^2 Var(a), the slope of log sigma between fits at atanh(rho_) +- 0.1 and
    Var(a) from rho_se_: recomputed here by separate fits at those rhos (to 1e-3: the
    search's fits start warm, these cold)."""
    X, r, o, _ = make_selection_mf(60, 40, n_factors=1, rho=0.5, density=0.3,
                                   random_state=1)
    est = HeckmanMFRegressor(1, rho_criterion=criterion, if_not_identified="estimate",
                             random_state=0).fit(X, r, o)
    kw = dict(rho_criterion="penalised", random_state=0, tol=1e-10)
    if criterion == "evidence":  # the fits at fixed rho under the evidence's precisions
        groups = est.prior_precisions_
        assert groups["factors_o"] != 100.0  # (they moved from reg_factors)

    def fit_at(rho, **extra):
        refit = HeckmanMFRegressor(1, fixed_rho=rho, **kw, **extra)
        if criterion == "evidence":
            refit._prior_precisions = dict(groups)
        return refit.fit(X, r, o)

    held = fit_at(est.rho_)
    a = np.arctanh(est.rho_)
    low, high = (np.log(fit_at(np.tanh(a + d), compute_se=False).sigma_)
                 for d in (-0.1, 0.1))
    var_a = (est.rho_se_ / (1 - est.rho_**2)) ** 2
    var_log_sigma = (held.sigma_se_ / held.sigma_) ** 2 + ((high - low) / 0.2) ** 2 * var_a
    assert est.sigma_se_ == pytest.approx(est.sigma_ * np.sqrt(var_log_sigma), rel=1e-3)
    assert est.sigma_se_ > 2 * held.sigma_se_
