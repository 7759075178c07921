"""The debiasing baselines: gradients by finite differences, exact equivalences between
methods, recovery under outcome-dependent missingness, and clear errors."""

import numpy as np
import pytest
from scipy import optimize
from scipy.special import expit
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from heckrec.debias import EIBMF, IPSMF, SNIPSMF, NaiveMF
from heckrec.debias._backbone import MFScore, pair_loss
from heckrec.debias._estimators import weighted_objective


def _grid(n_users=6, n_items=5, n_features=1, seed=0):
    rng = np.random.default_rng(seed)
    users, items = (a.ravel() for a in np.meshgrid(np.arange(n_users), np.arange(n_items),
                                                   indexing="ij"))
    return users, items, rng.standard_normal((len(users), n_features))


@pytest.mark.parametrize("kind", ["squared", "logistic"])
def test_pair_loss_derivative(kind):
    g = np.linspace(-30, 30, 13)
    target = np.full_like(g, 0.3)
    _, d = pair_loss(kind, target, g)
    step = 1e-6
    numeric = (pair_loss(kind, target, g + step)[0] - pair_loss(kind, target, g - step)[0]) / 2e-6
    np.testing.assert_allclose(d, numeric, rtol=1e-6, atol=1e-6)
    if kind == "logistic":  # finite where exp(30) would dominate a naive log(1 + e^g)
        assert np.all(np.isfinite(pair_loss(kind, 0.3, np.array([-800.0, 800.0]))[0]))


@pytest.mark.parametrize("kind", ["squared", "logistic"])
def test_weighted_objective_gradient(kind):
    users, items, F = _grid()
    model = MFScore(6, 5, 2, 1)
    rng = np.random.default_rng(1)
    theta = model.init(rng, scale=0.5) + 0.1 * rng.standard_normal(model.size)
    n = len(users)
    target = rng.random(n) if kind == "logistic" else rng.standard_normal(n)
    terms = [(rng.random(n), target), (rng.standard_normal(n), 0.5 * target)]
    penalty = model.penalty_weights(0.7, 0.2)

    def f(t):
        return weighted_objective(model, t, (users, items, F), terms, kind, penalty)

    numeric = optimize.approx_fprime(theta, lambda t: f(t)[0], 1e-7)
    np.testing.assert_allclose(f(theta)[1], numeric, atol=2e-6)


def test_pairs_without_weight_can_be_left_out():
    users, items, F = _grid(seed=4)
    model = MFScore(6, 5, 2, 1)
    rng = np.random.default_rng(5)
    theta = model.init(rng, scale=0.5)
    weight = np.where(rng.random(len(users)) < 0.3, rng.random(len(users)), 0.0)
    target = rng.standard_normal(len(users))
    penalty = model.penalty_weights(0.5, 0.1)
    full = weighted_objective(model, theta, (users, items, F), [(weight, target)], "squared",
                              penalty)
    used = weight != 0
    part = weighted_objective(model, theta, (users[used], items[used], F[used]),
                              [(weight[used], target[used])], "squared", penalty, len(users))
    assert part[0] == pytest.approx(full[0], rel=1e-13)
    np.testing.assert_allclose(part[1], full[1], rtol=1e-12, atol=1e-15)


def _mnar_data(seed=0, n_users=120, n_items=80):
    """Continuous outcome; pairs with a higher outcome are more often observed (MNAR)."""
    rng = np.random.default_rng(seed)
    P, Q = rng.normal(0, 0.6, (n_users, 2)), rng.normal(0, 0.6, (n_items, 2))
    bu, bi = rng.normal(0, 0.5, n_users), rng.normal(0, 0.5, n_items)
    users, items = (a.ravel() for a in np.meshgrid(np.arange(n_users), np.arange(n_items),
                                                   indexing="ij"))
    truth = 3.0 + bu[users] + bi[items] + (P[users] * Q[items]).sum(1)
    y = truth + rng.normal(0, 0.5, len(users))
    propensity = expit(-4.0 + 1.0 * y)  # depends on the outcome itself
    o = (rng.random(len(users)) < propensity).astype(int)
    X = np.column_stack([users, items])
    return X, np.where(o == 1, y, np.nan), o, y, propensity


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_known_propensities_reduce_the_level_bias(seed):
    X, r, o, y, propensity = _mnar_data(seed)
    assert 0.2 < o.mean() < 0.4
    naive = NaiveMF(n_factors=2, random_state=0).fit(X, r, o)
    # Seed 0 measured: naive +0.183, IPS and SNIPS +0.076 (mean prediction minus mean y).
    bias = {"naive": naive.predict(X).mean() - y.mean()}
    for cls in (IPSMF, SNIPSMF):
        est = cls(n_factors=2, random_state=0, clip=0.01).fit(X, r, o, propensity=propensity)
        bias[cls.__name__] = est.predict(X).mean() - y.mean()
    assert bias["naive"] > 0.12
    assert abs(bias["IPSMF"]) < 0.6 * bias["naive"]
    assert abs(bias["SNIPSMF"]) < 0.6 * bias["naive"]


def test_exact_equivalences_between_methods():
    X, r, o, _, _ = _mnar_data(seed=1, n_users=30, n_items=20)
    # Tight tolerance: the objectives are equal, so the fits differ only by where
    # L-BFGS stops. Compare predictions: a rotation of the factors (P R, Q R) changes
    # neither the loss nor the penalty, so theta itself is not unique. The two fits
    # agree to about 2e-6; a different weighting (naive against IPS at propensity 1,
    # which weighs the penalty differently) moves predictions by up to 3.5 here.
    common = dict(n_factors=2, random_state=0, tol=1e-12, max_iter=5000)
    # Constant propensity: SNIPS's weights are the naive ones.
    naive = NaiveMF(**common).fit(X, r, o)
    snips = SNIPSMF(**common).fit(X, r, o, propensity=np.full(len(o), 0.3))
    np.testing.assert_allclose(snips.predict(X), naive.predict(X), atol=1e-4)
    # Propensity 1: IPS weighs observed pairs 1, as EIB with no imputation weight does.
    ips = IPSMF(**common).fit(X, r, o, propensity=np.ones(len(o)))
    eib = EIBMF(**common, imputation_weight=0.0).fit(X, r, o)
    np.testing.assert_allclose(ips.predict(X), eib.predict(X), atol=1e-4)


def test_eib_pulls_unobserved_pairs_towards_the_imputed_value():
    X, r, o, _, _ = _mnar_data(seed=2, n_users=40, n_items=30)
    unobserved = o == 0
    plain = EIBMF(n_factors=2, random_state=0, imputation_weight=0.0).fit(X, r, o)
    imputed = EIBMF(n_factors=2, random_state=0, imputation=0.0, imputation_weight=1.0).fit(X, r, o)
    assert imputed.predict(X)[unobserved].mean() < 0.5 * plain.predict(X)[unobserved].mean()


def test_estimated_propensities_track_the_observation_rate():
    X, r, o, _, _ = _mnar_data(seed=4, n_users=60, n_items=40)
    est = IPSMF(n_factors=2, random_state=0, clip=1e-3).fit(X, r, o)
    # A logistic fit with an intercept: its mean matches the observed share closely.
    assert est.propensity_.mean() == pytest.approx(o.mean(), abs=0.01)


def test_clone_and_unseen_ids():
    X, r, o, _, _ = _mnar_data(seed=5, n_users=20, n_items=15)
    est = clone(NaiveMF(n_factors=1, reg_factors=2.0)).fit(X, r, o)
    assert est.get_params()["reg_factors"] == 2.0
    mu = est.theta_[0]
    # A user and an item never seen in fit: the global mean only.
    assert est.predict(np.array([[999, 999]]))[0] == pytest.approx(mu)


@pytest.mark.parametrize("make, fit_kwargs, error, match", [
    (lambda: NaiveMF(loss="hinge"), {}, ValueError, "'loss' parameter of NaiveMF"),
    (lambda: NaiveMF(n_factors=-1), {}, ValueError, "'n_factors' parameter of NaiveMF"),
    (lambda: NaiveMF(max_iter=True), {}, ValueError, "max_iter must be an integer"),
    (lambda: NaiveMF(loss="logistic"), {}, ValueError, r"y in \[0, 1\]"),
    (lambda: IPSMF(clip=0.0), {}, ValueError, "'clip' parameter of IPSMF"),
    (lambda: IPSMF(), {"propensity": np.zeros(600)}, ValueError, r"propensity must lie in \(0, 1\]"),
    (lambda: IPSMF(), {"propensity": np.ones(3)}, ValueError, "one entry per pair"),
    (lambda: EIBMF(imputation_weight=-1.0), {}, ValueError, "'imputation_weight' parameter"),
])
def test_bad_input_raises(make, fit_kwargs, error, match):
    X, r, o, _, _ = _mnar_data(seed=6, n_users=30, n_items=20)
    with pytest.raises(error, match=match):
        make().fit(X, r, o, **fit_kwargs)


def test_predict_before_fit():
    with pytest.raises(NotFittedError):
        NaiveMF().predict(np.array([[0, 0]]))


def test_grid_search_routes_o_to_fit_and_the_ranking_scorer():
    from sklearn import config_context
    from sklearn.model_selection import GridSearchCV, KFold

    from heckrec.metrics import make_ranking_scorer

    X, r, o, _, _ = _mnar_data(seed=7, n_users=30, n_items=20)
    # 0, not NaN, where unobserved: only a routed o can tell those pairs apart.
    r = np.where(o == 1, r, 0.0)
    scorer = make_ranking_scorer("ndcg", k=3, threshold=3.5, convention="corrected")
    folds = KFold(3, shuffle=True, random_state=0)
    grid = {"reg_factors": [0.5, 5.0]}
    with config_context(enable_metadata_routing=True):
        search = GridSearchCV(NaiveMF(n_factors=2, random_state=0), grid, scoring=scorer,
                              cv=folds).fit(X, r, o=o)
    # The same by hand: fit on each training fold with its o, score its test fold with its o.
    for j, reg in enumerate(grid["reg_factors"]):
        scores = []
        for train, test in folds.split(X):
            est = NaiveMF(n_factors=2, random_state=0, reg_factors=reg)
            est.fit(X[train], r[train], o[train])
            scores.append(scorer(est, X[test], r[test], o[test]))
        assert search.cv_results_["mean_test_score"][j] == pytest.approx(np.mean(scores),
                                                                         abs=1e-12)
    # Without o the zeros would count as outcomes: a different score.
    unrouted = NaiveMF(n_factors=2, random_state=0).fit(X, r)
    routed = NaiveMF(n_factors=2, random_state=0).fit(X, r, o)
    assert scorer(unrouted, X, r) != pytest.approx(scorer(routed, X, r, o), abs=1e-3)
