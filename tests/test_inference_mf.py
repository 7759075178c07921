"""Intervals and tests for rho of the MF estimators: restricted fits, profile, LR, bootstrap."""

import numpy as np
import pytest
from scipy import stats
from scipy.special import ndtr

from heckrec import BivariateProbitMF, HeckmanMFRegressor
from heckrec.datasets import make_selection_mf
from heckrec.inference import bootstrap_rho, lr_test_rho, profile_rho, wald_interval

# biases only: the design leaves rho to the normal shape (structural SE > 1), so the
# inference under test is of the free fit
SETTINGS = dict(n_factors=0, reg_bias=1.0, random_state=0, if_not_identified="estimate")


@pytest.fixture(scope="module")
def data():
    return make_selection_mf(120, 80, n_factors=0, rho=0.5, density=0.3, random_state=0)


@pytest.fixture(scope="module")
def fitted(data):
    X, r, o, _ = data
    return HeckmanMFRegressor(**SETTINGS).fit(X, r, o)


def fresh_objective(data, rho):
    """The penalised objective of an independent cold-start fit with rho held at ``rho``."""
    X, r, o, _ = data
    return HeckmanMFRegressor(**SETTINGS, fixed_rho=rho, compute_se=False).fit(X, r, o).objective_


def test_fixed_rho_holds_rho_and_costs_objective(data, fitted):
    X, r, o, _ = data
    est = HeckmanMFRegressor(**SETTINGS, fixed_rho=0.1).fit(X, r, o)
    assert est.rho_ == pytest.approx(0.1, abs=1e-15) and np.isnan(est.rho_se_)
    assert np.isfinite(est.sigma_se_) and est.degenerate_ is None
    assert est.objective_ > fitted.objective_  # a restriction cannot lower the minimum


def test_lr_statistic_against_two_fits_by_hand(data, fitted):
    X, r, o, _ = data
    stat, p = lr_test_rho(fitted, X, r, o)
    by_hand = 2 * (fresh_objective(data, 0.0) - fitted.objective_)
    # Both sides converge to ~1e-10 of the objective per pair (9600 pairs, L-BFGS ftol):
    # the statistics agree to well under 1e-3.
    assert stat == pytest.approx(by_hand, abs=1e-3)
    assert p == pytest.approx(stats.chi2.sf(stat, 1), rel=1e-9)


def test_profile_interval_against_a_grid_of_cold_fits(data, fitted):
    X, r, o, _ = data
    prof = profile_rho(fitted, X, r, o)
    lo, hi = prof.interval
    assert lo < fitted.rho_ < hi
    crit = stats.chi2.ppf(0.95, 1)
    # Independent: cold-start restricted fits on a grid around each end, and the
    # crossing of the chi2 quantile by linear interpolation. The statistic changes by
    # ~2 over 0.01 of rho here, so a 0.005 grid interpolates the end to ~2e-4.
    for end, sign in ((lo, -1.0), (hi, 1.0)):
        grid = end + np.array([-0.005, 0.0, 0.005])
        lr = np.array([2 * (fresh_objective(data, g) + prof.loglik_max) for g in grid])
        assert np.all(np.diff(sign * lr) > 0)
        assert end == pytest.approx(np.interp(0.0, sign * (lr - crit), grid), abs=5e-4)


def test_wald_standard_error_is_the_profile_curvature(data, fitted):
    X, r, o, _ = data
    wald = wald_interval(fitted)
    z = stats.norm.ppf(0.975)
    a, se_a = np.arctanh(fitted.rho_), fitted.rho_se_ / (1 - fitted.rho_**2)
    np.testing.assert_allclose(wald, np.tanh([a - z * se_a, a + z * se_a]), rtol=1e-12)
    # The Wald SE is the profile's curvature at the maximum: half a standard error
    # either side, the mean LR statistic is (1/2)^2 (the cubic terms cancel in the
    # mean; quartic ones and the SE's CG tolerance stay within a few %).
    grid = np.tanh(a + np.array([-0.5, 0.5]) * se_a)
    prof = profile_rho(fitted, X, r, o, grid=grid)
    at = [prof.lr_statistic[np.argmin(np.abs(prof.rho - g))] for g in grid]
    assert np.mean(at) == pytest.approx(0.25, rel=0.05)
    # Far out the profile is asymmetric here (measured: profile [0.421, 0.771] against
    # Wald [0.504, 0.786]): the quadratic approximation is not to be trusted at the ends.
    assert prof.interval[0] < wald[0] and prof.interval[1] < wald[1]


def test_simulate_draws_from_the_fitted_model(fitted, data):
    X = data[0]
    y, o = fitted.simulate(X, random_state=1)
    g_o, g_r = fitted.decision_scores(X)
    # Share observed: mean of Phi(g_o), binomial SE ~ 0.005 over 9600 pairs; 4 SE.
    assert o.mean() == pytest.approx(ndtr(g_o).mean(), abs=0.02)
    # Outcome residuals: N(0, sigma^2) over all pairs; their SD within 3%.
    assert np.std(y - g_r) == pytest.approx(fitted.sigma_, rel=0.03)
    # Among observed pairs the mean residual is rho sigma E[mills] (> 0 for rho > 0).
    assert np.mean((y - g_r)[o == 1]) == pytest.approx(
        np.mean((fitted.predict_observed(X) - g_r)[o == 1]), abs=0.05)
    np.testing.assert_array_equal(fitted.simulate(X, random_state=1)[1], o)


def test_bootstrap_is_reproducible(data, fitted):
    X = data[0]
    a = bootstrap_rho(fitted, X, n_boot=3, random_state=0)
    b = bootstrap_rho(fitted, X, n_boot=3, random_state=0)
    np.testing.assert_array_equal(a.estimates.to_numpy(), b.estimates.to_numpy())
    assert list(a.estimates.columns) == ["rho", "sigma"] and a.n_failed == 0
    assert a.estimates["rho"].std() > 0  # each replication has its own data


def test_warm_start_reuses_the_solution(data, fitted):
    X, r, o, _ = data
    est = HeckmanMFRegressor(**SETTINGS, warm_start=True, compute_se=False).fit(X, r, o)
    cold_iter = est.n_iter_
    est.fit(X, r, o)
    assert est.n_iter_ < cold_iter / 2
    assert est.objective_ == pytest.approx(fitted.objective_, rel=1e-6)
    # Other users: a warm start is impossible, so it starts afresh without complaint.
    keep = X[:, 0] < 100
    est.fit(X[keep], r[keep], o[keep])
    assert est.n_users_ == 100


def test_binary_profile_and_lr():
    # Biases-only binary fits on grids this small run rho to +-1 (incidental
    # parameters, docs/inference.md); a prior on atanh(rho) keeps this one inside,
    # and the profile is then that of the penalised objective.
    X, r, o, _ = make_selection_mf(100, 80, n_factors=0, rho=0.5, density=0.3,
                                   outcome="binary", random_state=2)
    est = BivariateProbitMF(**SETTINGS, reg_rho=2.0).fit(X, r, o)
    prof = profile_rho(est, X, r, o, grid=[0.0])
    stat, _ = lr_test_rho(est, X, r, o)
    # The LR statistic is the profile's statistic at rho = 0 (both refit the same problem).
    assert stat == pytest.approx(prof.lr_statistic[prof.rho == 0.0][0], abs=1e-3)
    assert prof.interval[0] < est.rho_ < prof.interval[1] < 1.0
    y_sim, o_sim = est.simulate(X, random_state=0)
    assert set(np.unique(y_sim)) <= set(est.classes_)


def test_bad_requests_raise_clear_errors(data, fitted):
    X, r, o, _ = data
    with pytest.raises(ValueError, match="pass the data"):
        profile_rho(fitted)
    restricted = HeckmanMFRegressor(**SETTINGS, fixed_rho=0.2).fit(X, r, o)
    with pytest.raises(ValueError, match="fixed_rho"):
        lr_test_rho(restricted, X, r, o)
    with pytest.raises(ValueError, match="fixed_rho"):
        HeckmanMFRegressor(fixed_rho=1.0).fit(X, r, o)
    Xb, rb, ob, _ = make_selection_mf(40, 30, n_factors=0, rho=0.5, density=0.4,
                                      outcome="binary", random_state=0)
    ghk = BivariateProbitMF(n_factors=0, likelihood="ghk", n_draws=20, reg_rho=2.0,
                            if_not_identified="estimate").fit(Xb, rb, ob)
    with pytest.raises(ValueError, match="likelihood='exact'"):
        profile_rho(ghk, Xb, rb, ob)


@pytest.mark.parametrize("outcome", ["continuous", "binary"])
def test_per_pair_loglik_sums_to_the_kernel_likelihood(outcome):
    # The sandwich covariance's scores difference these per-pair values; their sum must
    # be the likelihood the fit maximised (to rounding: 1e-12 relative over 1200 pairs).
    from heckrec.models._layout import ParamLayout
    from heckrec.models._likelihood import ContinuousHeckmanLikelihood
    from heckrec.models._likelihood_binary import BivariateProbitLikelihood
    from heckrec.models._pairs import PairSet

    X, r, o, _ = make_selection_mf(40, 30, n_factors=2, rho=0.5, density=0.4, n_features=1,
                                   outcome=outcome, random_state=0)
    lik = ContinuousHeckmanLikelihood() if outcome == "continuous" else BivariateProbitLikelihood()
    layout = ParamLayout(40, 30, 2, 1, lik.scalars)
    theta = np.random.default_rng(0).normal(0, 0.3, layout.size)
    pairs = PairSet(X[:, 0].astype(int), X[:, 1].astype(int), np.nan_to_num(r), o.astype(bool),
                    X[:, 2:], 40, 30)
    total = lik.loglik_grad(theta, layout, pairs)[0]
    assert lik.per_pair_loglik(theta, layout, pairs).sum() == pytest.approx(total, rel=1e-12)


def test_binary_robust_standard_error():
    X, r, o, _ = make_selection_mf(100, 80, n_factors=0, rho=0.5, density=0.3,
                                   outcome="binary", random_state=2)
    model = BivariateProbitMF(**SETTINGS, reg_rho=2.0).fit(X, r, o)
    robust = BivariateProbitMF(**SETTINGS, reg_rho=2.0, cov_type="robust").fit(X, r, o)
    assert robust.rho_ == model.rho_
    # Correctly specified model: the sandwich and the inverse Hessian estimate the same
    # variance (they differ by the sampling noise of J, here ~ 10-20%).
    assert robust.rho_se_ == pytest.approx(model.rho_se_, rel=0.3)
