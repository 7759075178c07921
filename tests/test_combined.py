"""The paper's combined objective alpha (-loglik) + (1 - alpha) L_debias: its value
against a direct computation, its gradient by finite differences, and the fits."""

import warnings

import numpy as np
import pytest
from scipy import optimize
from scipy.special import ndtr

from heckrec import BivariateProbitMF, HeckmanMFRegressor
from heckrec.datasets import make_selection_mf
from heckrec.models._combined import combined_likelihood
from heckrec.models._layout import ParamLayout
from heckrec.models._likelihood import ContinuousHeckmanLikelihood, pair_scores
from heckrec.models._likelihood_binary import BivariateProbitLikelihood
from heckrec.models._pairs import PairSet


def _problem(binary, seed=0, n_users=9, n_items=7, k=2, d=1):
    rng = np.random.default_rng(seed)
    users = np.repeat(np.arange(n_users), n_items)
    items = np.tile(np.arange(n_items), n_users)
    o = rng.random(users.size) < 0.4
    y = (rng.random(users.size) < 0.6).astype(float) if binary else rng.normal(1, 2, users.size)
    F = rng.standard_normal((users.size, d))
    pairs = PairSet(users, items, np.where(o, y, np.nan), o, F, n_users, n_items)
    scalars = ("a",) if binary else ("a", "s")
    layout = ParamLayout(n_users, n_items, k, d, scalars)
    theta = rng.normal(0.0, 0.5, layout.size)
    theta[layout.index("a")] = 0.4
    likelihood = BivariateProbitLikelihood("exact") if binary else ContinuousHeckmanLikelihood()
    return pairs, layout, theta, likelihood


@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize("kind", ["naive", "ips", "dr"])
def test_gradient_against_finite_differences(binary, kind):
    pairs, layout, theta, likelihood = _problem(binary)
    loss, mean = ("probit", ndtr) if binary else ("squared", lambda g: g)
    # Propensities and imputations from a different theta than the one differentiated at.
    anchor = theta + 0.3 * np.random.default_rng(1).standard_normal(theta.size)
    combined = combined_likelihood(likelihood, 0.3, kind, loss, mean, 0.05, anchor, layout,
                                   pairs)

    def value(t):
        return combined.loglik_grad(t, layout, pairs)[0]

    numeric = optimize.approx_fprime(theta, value, 1e-7)
    np.testing.assert_allclose(combined.loglik_grad(theta, layout, pairs)[1], numeric,
                               rtol=1e-5, atol=2e-5)


@pytest.mark.parametrize("kind", ["naive", "ips", "dr"])
def test_value_against_a_direct_computation(kind):
    pairs, layout, theta, likelihood = _problem(False, seed=2)
    anchor = theta + 0.2
    alpha = 0.7
    combined = combined_likelihood(likelihood, alpha, kind, "squared", lambda g: g, 0.05,
                                   anchor, layout, pairs)
    g_o, h = pair_scores(anchor, layout, pairs)
    p = np.maximum(ndtr(g_o), 0.05)
    g_r = pair_scores(theta, layout, pairs)[1]
    o, r = pairs.o, pairs.r
    n = pairs.n_pairs
    # The losses as the paper writes them, per pair, times n (the likelihood is a sum).
    direct = {"naive": np.mean((r[o] - g_r[o]) ** 2) * n,
              "ips": np.sum((r[o] - g_r[o]) ** 2 / p[o]),
              "dr": np.sum((h - g_r) ** 2) + np.sum(((r - g_r) ** 2 - (h - g_r) ** 2)[o] / p[o])}
    ll = likelihood.loglik_grad(theta, layout, pairs)[0]
    assert combined.loglik_grad(theta, layout, pairs)[0] == pytest.approx(
        alpha * ll - (1 - alpha) * direct[kind], rel=1e-12)


def _data(outcome="continuous", seed=0):
    return make_selection_mf(150, 100, n_factors=1, rho=0.5, density=0.3, outcome=outcome,
                             random_state=seed)[:3]


def test_alpha_one_is_the_likelihood_fit():
    X, r, o = _data()
    plain = HeckmanMFRegressor(n_factors=1, random_state=0).fit(X, r, o)
    same = HeckmanMFRegressor(n_factors=1, random_state=0, alpha=1.0,
                              debias_loss="dr").fit(X, r, o)
    np.testing.assert_array_equal(plain.theta_, same.theta_)


@pytest.mark.parametrize("estimator, outcome", [(HeckmanMFRegressor, "continuous"),
                                                (BivariateProbitMF, "binary")])
@pytest.mark.parametrize("kind", ["naive", "ips", "dr"])
def test_combined_fit_lowers_its_objective_and_reports_no_se(estimator, outcome, kind):
    X, r, o = _data(outcome)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # small data: boundary warnings are not the point
        # (penalised: the likelihood fit the combined objective starts from)
        likelihood_fit = estimator(n_factors=1, reg_factors=2.0, random_state=0,
                                   rho_criterion="penalised").fit(X, r, o)
        est = estimator(n_factors=1, reg_factors=2.0, random_state=0, alpha=0.5,
                        debias_loss=kind).fit(X, r, o)
    assert np.isnan(est.rho_se_)
    assert np.isfinite(est.rho_) and est.n_iter_ > likelihood_fit.n_iter_
    assert not np.allclose(est.predict(X), likelihood_fit.predict(X))
    # The combined objective at its minimiser is below its value at the likelihood fit,
    # where it started (rebuild it there: propensities and imputations come from that fit).
    from heckrec.models._objective import PenalisedObjective
    if outcome == "continuous":  # theta_ is in the fit's (standardised) units
        r = (r - likelihood_fit.outcome_loc_) / likelihood_fit.outcome_scale_
    pairs = PairSet(np.asarray(X[:, 0], int), np.asarray(X[:, 1], int), np.where(o, r, 0.0),
                    o.astype(bool), np.zeros((len(o), 0)), 150, 100)
    layout = likelihood_fit._layout
    loss, mean = (("probit", ndtr) if outcome == "binary" else ("squared", lambda g: g))
    lik = BivariateProbitLikelihood("exact") if outcome == "binary" \
        else ContinuousHeckmanLikelihood()
    combined = combined_likelihood(lik, 0.5, kind, loss, mean, 0.05, likelihood_fit.theta_,
                                   layout, pairs)
    objective = PenalisedObjective(combined, layout, pairs, 2.0, est.reg_bias)
    assert est.objective_ == pytest.approx(objective.full(est.theta_)[0], rel=1e-9)
    assert est.objective_ < objective.full(likelihood_fit.theta_)[0] - 1e-6


def test_naive_loss_pulls_the_prediction_towards_the_observed_ratings():
    # With rho = 0.5 the observed ratings sit above the population's; the naive debiasing
    # loss fits them, so the smaller alpha, the closer mean g_r on observed pairs to them.
    X, r, o = _data(seed=3)
    gaps = []
    for alpha in (1.0, 0.5, 0.05):
        est = HeckmanMFRegressor(n_factors=1, reg_factors=2.0, random_state=0, alpha=alpha,
                                 compute_se=False).fit(X, r, o)
        gaps.append(abs(np.mean(r[o == 1]) - est.predict(X[o == 1]).mean()))
    assert gaps[0] > gaps[1] > gaps[2]


@pytest.mark.parametrize("params, match", [({"alpha": 0.0}, "'alpha' parameter"),
                                           ({"alpha": 1.5}, "'alpha' parameter"),
                                           ({"debias_loss": "snips"}, "'debias_loss' parameter"),
                                           ({"propensity_clip": 0.0}, "'propensity_clip'")])
def test_bad_combined_parameters(params, match):
    X, r, o = _data()
    with pytest.raises(ValueError, match=match):
        HeckmanMFRegressor(n_factors=1, **params).fit(X, r, o)
