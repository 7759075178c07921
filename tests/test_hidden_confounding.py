"""RD / BRD, Res-IPS / Res-DR, PUID / BPUID and SliceSearch (heckrec.debias, issue 16)."""

import warnings

import numpy as np
import pytest
import sklearn
from scipy import optimize
from scipy.special import expit, logit
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from heckrec import DegenerateEstimateWarning
from heckrec.debias import (
    BPUIDMF,
    BRDDRMF,
    BRDIPSMF,
    DRJLMF,
    IPSMF,
    PUIDMF,
    RDDRMF,
    RDIPSMF,
    ResDRMF,
    ResIPSMF,
    SliceSearch,
    inverse_propensity_box,
)
from heckrec.debias._backbone import MFScore
from heckrec.debias._estimators import debias_terms
from heckrec.debias._residual import ResidualObjective
from heckrec.debias._robust import WorstCase, per_pair_loss, worst_case_objective


def _grid(n_users=6, n_items=5, seed=0):
    rng = np.random.default_rng(seed)
    users, items = (a.ravel() for a in np.meshgrid(np.arange(n_users), np.arange(n_items),
                                                   indexing="ij"))
    return users, items, rng.standard_normal((len(users), 1))


def _pair_data(n, loss, seed):
    """Outcomes, observation, propensities, imputation and two scores for n pairs."""
    rng = np.random.default_rng(seed)
    if loss == "logistic":
        r, imputed = rng.integers(0, 2, n).astype(float), rng.uniform(0.1, 0.9, n)
    else:
        r, imputed = rng.standard_normal(n), rng.standard_normal(n)
    o = (rng.random(n) < 0.5).astype(float)
    return r, o, rng.uniform(0.05, 0.9, n), imputed, rng.standard_normal(n), rng.standard_normal(n)


# ------------------------------------------------------------------ the box and its maximum
def test_box_holds_every_propensity_within_the_odds_bound():
    """RD's set: true odds within a factor gamma of the nominal odds (either way)."""
    p_hat = np.array([0.02, 0.1, 0.5, 0.93])
    a, b = inverse_propensity_box(p_hat, 3.0)
    odds_ratio = np.exp(np.linspace(-np.log(3.0), np.log(3.0), 2001))[:, None]
    true_odds = p_hat / (1 - p_hat) * odds_ratio
    inverse = 1.0 + 1.0 / true_odds  # 1 / p for p = odds / (1 + odds)
    np.testing.assert_allclose(inverse.min(0), a, rtol=1e-12)
    np.testing.assert_allclose(inverse.max(0), b, rtol=1e-12)
    a1, b1 = inverse_propensity_box(p_hat, 1.0)
    np.testing.assert_allclose(a1, 1 / p_hat, rtol=1e-14)
    np.testing.assert_allclose(b1, 1 / p_hat, rtol=1e-14)


@pytest.mark.parametrize("loss", ["squared", "logistic"])
@pytest.mark.parametrize("kind", ["ips", "dr"])
@pytest.mark.parametrize("benchmarked", [False, True])
def test_closed_form_inner_maximum_matches_brute_force(loss, kind, benchmarked):
    """The vertex maximum equals the maximum over a fine grid of weights in the box (the
    loss is linear in w, piecewise linear for the clipped logistic DR label)."""
    n = 40
    r, o, p_hat, imputed, g, g0 = _pair_data(n, loss, seed=3)
    reference = g0 if benchmarked else None
    a, b = inverse_propensity_box(p_hat, 4.0)
    worst = WorstCase([debias_terms(kind, loss, r, o, 1.0 / w, imputed) for w in (a, b)],
                      loss, reference)
    value, _, _ = worst.evaluate(loss, g)

    def objective_at(w):  # the estimator's per-pair loss at weights w, minus the benchmark's
        terms = debias_terms(kind, loss, r, o, 1.0 / w, imputed)
        out = per_pair_loss(terms, loss, g)[0]
        return out - per_pair_loss(terms, loss, g0)[0] if benchmarked else out

    t = np.linspace(0.0, 1.0, 401)[:, None]
    brute = np.max([objective_at(w) for w in a + t * (b - a)], axis=0)
    np.testing.assert_allclose(value, brute, rtol=1e-12, atol=1e-12)
    # and it is a maximum: no weight drawn inside the box beats it
    rng = np.random.default_rng(0)
    for _ in range(50):
        assert np.all(objective_at(rng.uniform(a, b)) <= value + 1e-12)


def test_squared_ips_maximum_by_hand():
    """IPS squared loss o w (r - g)^2: its maximum is at w = b wherever o = 1."""
    r, o, p_hat, _, g, _ = _pair_data(30, "squared", seed=5)
    a, b = inverse_propensity_box(p_hat, 2.5)
    worst = WorstCase([debias_terms("ips", "squared", r, o, 1 / w) for w in (a, b)], "squared")
    value, slope, _ = worst.evaluate("squared", g)
    np.testing.assert_allclose(value, o * b * (r - g) ** 2, rtol=1e-13)
    np.testing.assert_allclose(slope, -2 * o * b * (r - g), rtol=1e-13)


@pytest.mark.parametrize("loss", ["squared", "logistic"])
@pytest.mark.parametrize("kind", ["ips", "dr"])
def test_worst_case_objective_gradient(loss, kind):
    users, items, F = _grid()
    n = len(users)
    model = MFScore(6, 5, 2, 1)
    rng = np.random.default_rng(1)
    theta = model.init(rng, scale=0.5) + 0.1 * rng.standard_normal(model.size)
    r, o, p_hat, imputed, _, g0 = _pair_data(n, loss, seed=2)
    a, b = inverse_propensity_box(p_hat, 3.0)
    worst = WorstCase([debias_terms(kind, loss, r, o, 1 / w, imputed) for w in (a, b)], loss, g0)
    penalty = model.penalty_weights(0.7, 0.2)

    def f(t):
        return worst_case_objective(model, t, (users, items, F), worst, loss, penalty, n)

    numeric = optimize.approx_fprime(theta, lambda t: f(t)[0], 1e-7)
    np.testing.assert_allclose(f(theta)[1], numeric, atol=2e-6)


def test_benchmarked_loss_is_zero_at_the_benchmark():
    r, o, p_hat, imputed, _, g0 = _pair_data(50, "logistic", seed=7)
    for kind in ("ips", "dr"):
        terms = [debias_terms(kind, "logistic", r, o, 1 / w, imputed)
                 for w in inverse_propensity_box(p_hat, 5.0)]
        value, _, _ = WorstCase(terms, "logistic", g0).evaluate("logistic", g0)
        assert np.all(value == 0.0)


# ------------------------------------------------------------------ the estimators
def _mnar_data(seed=0, n_users=100, n_items=60, hidden=1.0):
    """Continuous outcome; observation depends on the outcome's own noise (hidden)."""
    rng = np.random.default_rng(seed)
    P, Q = rng.normal(0, 0.6, (n_users, 2)), rng.normal(0, 0.6, (n_items, 2))
    bu, bi = rng.normal(0, 0.5, n_users), rng.normal(0, 0.5, n_items)
    users, items = (a.ravel() for a in np.meshgrid(np.arange(n_users), np.arange(n_items),
                                                   indexing="ij"))
    truth = 3.0 + bu[users] + bi[items] + (P[users] * Q[items]).sum(1)
    noise = rng.normal(0, 0.5, len(users))
    y = truth + noise
    propensity = expit(-1.3 + 0.8 * (bu[users] - bi[items]) + hidden * 2.0 * noise)
    o = (rng.random(len(users)) < propensity).astype(int)
    X = np.column_stack([users, items])
    return X, np.where(o == 1, y, np.nan), o, y


def _quiet_fit(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


@pytest.fixture(scope="module")
def mnar():
    return _mnar_data()


def test_gamma_one_is_ips_and_dr(mnar):
    X, r, o, _ = mnar
    pairs = [(IPSMF, RDIPSMF), (DRJLMF, RDDRMF)]
    for plain, robust in pairs:
        a = _quiet_fit(plain(n_factors=2, random_state=0), X, r, o).predict(X)
        b = _quiet_fit(robust(n_factors=2, random_state=0, gamma=1.0), X, r, o).predict(X)
        np.testing.assert_allclose(b, a, atol=1e-6)


def test_gamma_max_one_makes_puid_ips(mnar):
    X, r, o, _ = mnar
    ips = _quiet_fit(IPSMF(n_factors=2, random_state=0), X, r, o)
    puid = _quiet_fit(PUIDMF(n_factors=2, random_state=0, gamma_max=1.0), X, r, o)
    assert np.all(puid.gamma_ == 1.0)
    np.testing.assert_allclose(puid.predict(X), ips.predict(X), atol=1e-6)


def test_puid_default_bounds_recover_the_true_odds_ratios():
    """PUID's default selection model on a biases-only bivariate probit (rho 0.6): the
    per-pair log gamma against the truth's, from scipy's bivariate normal CDF on 200
    pairs. Measured: median error 0.20 and rho_ 0.64; the rank-2 penalised selection
    model PUID used before ran rho_ to 0.96 and put most gamma_ui at the cap of 25
    (median error 1.4)."""
    from scipy.stats import multivariate_normal, norm

    from heckrec.datasets import make_selection_mf

    X, r, o, truth = make_selection_mf(300, 200, n_factors=0, rho=0.6, density=0.15,
                                       outcome="binary", random_state=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        puid = PUIDMF(n_factors=2, loss="logistic", random_state=0).fit(X, r, o)
    assert abs(puid.selection_model_.rho_ - 0.6) < 0.15   # its SD here is about 0.04
    rho = truth["rho"]
    pairs = np.random.default_rng(0).choice(len(o), 200, replace=False)
    true_log_gamma = []
    for g_o, g_r in zip(truth["g_o"][pairs], truth["g_r"][pairs]):
        given = [multivariate_normal.cdf([g_o, s * g_r], cov=[[1, s * rho], [s * rho, 1]])
                 / norm.cdf(s * g_r) for s in (1, -1)]   # P(o = 1 | r = 1), P(o = 1 | r = 0)
        true_log_gamma.append(max(abs(logit(p) - logit(norm.cdf(g_o))) for p in given))
    error = np.abs(np.log(puid.gamma_[pairs]) - np.array(true_log_gamma))
    assert np.median(error) < 0.5


def test_larger_gamma_raises_the_worst_case_and_bends_towards_caution(mnar):
    X, r, o, _ = mnar
    fits = [_quiet_fit(RDIPSMF(n_factors=2, random_state=0, gamma=gamma), X, r, o)
            for gamma in (1.0, 2.0, 4.0)]
    worst = [est.worst_case_loss_ for est in fits]
    assert worst[0] < worst[1] < worst[2]


@pytest.mark.parametrize("cls", [BRDIPSMF, BRDDRMF])
def test_brd_is_no_worse_than_its_benchmark_in_the_worst_case(mnar, cls):
    """The benchmark itself scores 0 (tested above), so the minimiser's worst-case loss
    difference is at most the penalty it saves, ~0 here."""
    X, r, o, _ = mnar
    est = _quiet_fit(cls(n_factors=2, random_state=0, gamma=3.0), X, r, o)
    assert est.worst_case_loss_ <= 1e-3
    assert type(est.benchmark_) is (IPSMF if cls is BRDIPSMF else DRJLMF)


def test_brd_uses_a_prefit_benchmark_and_checks_its_loss(mnar):
    X, r, o, _ = mnar
    bench = _quiet_fit(IPSMF(n_factors=2, random_state=1), X, r, o)
    est = _quiet_fit(BRDIPSMF(n_factors=2, random_state=0, benchmark=bench,
                              benchmark_prefit=True), X, r, o)
    assert est.benchmark_ is bench
    with pytest.raises(ValueError, match="benchmark's loss"):
        BRDIPSMF(n_factors=2, benchmark=bench, benchmark_prefit=True, loss="logistic").fit(
            X, (np.nan_to_num(r) > 3).astype(float), o)
    with pytest.raises(ValueError, match="benchmark_prefit=True needs"):
        BRDIPSMF(benchmark_prefit=True).fit(X, r, o)


def test_residual_calibration_with_a_known_slice_reduces_the_level_bias():
    """The nominal propensity (a logistic MF of o) cannot see the outcome noise that drives
    observation, so IPS keeps a positive level bias; a 3% MAR slice of the same model's
    pairs corrects part of it. Mean prediction minus mean outcome, measured on seeds 0 / 1
    / 2: IPS +0.287 / +0.316 / +0.326, Res-IPS +0.175 / +0.184 / +0.161, Res-DR +0.180 /
    +0.188 / +0.170 (ratios 0.49-0.63); 0.75 fails a calibration that does nothing."""
    X, r, o, y = _mnar_data(seed=0)
    rng = np.random.default_rng(1)
    slice_ = rng.choice(len(y), int(0.03 * len(y)), replace=False)  # any pair: MAR
    ips = _quiet_fit(IPSMF(n_factors=2, random_state=0), X, r, o)
    bias = {"ips": ips.predict(X).mean() - y.mean()}
    for cls in (ResIPSMF, ResDRMF):
        est = _quiet_fit(cls(n_factors=2, random_state=0), X, r, o,
                         X_unbiased=X[slice_], y_unbiased=y[slice_])
        assert est.n_unbiased_ == len(slice_)
        bias[cls.__name__] = est.predict(X).mean() - y.mean()
    assert bias["ips"] > 0.1, bias
    assert abs(bias["ResIPSMF"]) < 0.75 * bias["ips"], bias
    assert abs(bias["ResDRMF"]) < 0.75 * bias["ips"], bias


@pytest.mark.parametrize("cls", [ResIPSMF, ResDRMF])
def test_residual_fit_stops_at_the_equilibrium_of_its_two_objectives(cls, monkeypatch):
    """The prediction minimises the whole objective, the residuals their own: the fit
    ends where neither block's gradient of its own objective is left (max entry, measured
    4e-5 and 2e-7 / 2e-5 at the end, 0.9 and 7e-3 at the start) and says it settled.
    These data (seed 1) made the old rule, a small change of the whole objective, warn
    for both: the residuals keep moving it along directions their own objective does
    not see."""
    from heckrec.debias import _residual

    alternate, seen = _residual._ResidualBase._alternate, {}

    def spy(self, objective, theta):
        theta, n_iter, settled = alternate(self, objective, theta)
        seen.update(terms=objective.terms(theta), size=self.model_.size)
        return theta, n_iter, settled

    monkeypatch.setattr(_residual._ResidualBase, "_alternate", spy)
    X, r, o, y = _mnar_data(seed=1)
    pick = np.random.default_rng(1).choice(len(y), int(0.03 * len(y)), replace=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        cls(n_factors=2, random_state=0).fit(X, r, o, X_unbiased=X[pick],
                                             y_unbiased=y[pick])
    _, grad, _, residual_grad = seen["terms"]
    size = seen["size"]
    assert np.abs(grad[:size]).max() < 1e-4
    assert np.abs(residual_grad[size:]).max() < 1e-4


def test_res_dr_logistic_loss_is_bounded_below_in_the_scores():
    """Unclipped, the logistic DR loss weighs an observed pair's imputed loss by 1 - 1/p~
    < 0, and the prediction, which minimises beta L_B + gamma (L_B - L_U)^2, ran its scores
    off: here the largest |logit| reached 690 and the fit did not settle. Against the
    clipped pseudo-label it settles with the largest |logit| at 12.8; 20 (a probability
    within 2e-9 of 0 or 1 for noisy labels) fails the unclipped loss."""
    X, _, o, y = _mnar_data(seed=0)
    labels = (y > 3).astype(float)
    pick = np.random.default_rng(1).choice(len(y), int(0.03 * len(y)), replace=False)
    est = ResDRMF(n_factors=2, loss="logistic", reg_factors=10.0, res_weight=10.0,
                  consistency_weight=0.1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(X, np.where(o == 1, labels, np.nan), o, X_unbiased=X[pick],
                y_unbiased=labels[pick])
    assert np.abs(logit(est.predict(X))).max() < 20.0


def test_residual_without_slice_warns_and_half_a_slice_raises(mnar):
    X, r, o, y = mnar
    with pytest.warns(UserWarning, match="nothing calibrates"):
        _quiet_fit(ResIPSMF(n_factors=2, max_iter=20), X, r, o)
    with pytest.raises(ValueError, match="pass both X_unbiased and y_unbiased"):
        ResIPSMF(n_factors=2).fit(X, r, o, X_unbiased=X[:5])
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        ResIPSMF(n_factors=2, loss="logistic").fit(
            X, (np.nan_to_num(r) > 3).astype(float), o, X_unbiased=X[:5], y_unbiased=y[:5])


@pytest.mark.parametrize("loss", ["squared", "logistic"])
@pytest.mark.parametrize("imputes", [False, True])
def test_residual_objective_gradient(loss, imputes):
    users, items, F = _grid()
    n = len(users)
    model = MFScore(6, 5, 2, 1)
    rng = np.random.default_rng(4)
    r, o, p_hat, imputed, _, _ = _pair_data(n, loss, seed=6)
    m_hat = imputed if imputes else None
    pick = rng.choice(n, 8, replace=False)
    y_u = r[pick] if loss == "squared" else rng.integers(0, 2, 8).astype(float)
    objective = ResidualObjective(model, (users, items, F), r, o, logit(p_hat), m_hat,
                                  (users[pick], items[pick], F[pick], y_u), loss, 0.7, 0.3,
                                  model.penalty_weights(0.5, 0.2))
    theta = 0.3 * rng.standard_normal(model.size * objective.n_blocks)
    value, grad, residual_value, residual_grad = objective.terms(theta)
    numeric = optimize.approx_fprime(theta, lambda t: objective(t)[0], 1e-7)
    np.testing.assert_allclose(grad, numeric, atol=3e-6)
    # the residuals' own objective, in the residual blocks
    numeric = optimize.approx_fprime(theta, lambda t: objective.terms(t)[2], 1e-7)
    np.testing.assert_allclose(residual_grad[model.size:], numeric[model.size:], atol=3e-6)
    assert np.all(residual_grad[:model.size] == 0.0)


# ------------------------------------------------------------------ choosing on a slice
def test_slice_search_keeps_the_best_setting_on_the_slice(mnar):
    X, r, o, y = mnar
    rng = np.random.default_rng(2)
    pick = rng.choice(len(y), 200, replace=False)
    search = SliceSearch(RDIPSMF(n_factors=2, random_state=0), {"gamma": [1.0, 1.5, 3.0]})
    _quiet_fit(search, X, r, o, X_unbiased=X[pick], y_unbiased=y[pick])
    scores = [-np.mean((y[pick] - _quiet_fit(RDIPSMF(n_factors=2, random_state=0, gamma=g),
                                             X, r, o).predict(X[pick])) ** 2)
              for g in (1.0, 1.5, 3.0)]
    np.testing.assert_allclose(search.results_["score"], scores, rtol=1e-10)
    assert search.best_params_ == {"gamma": [1.0, 1.5, 3.0][int(np.argmax(scores))]}
    assert search.best_score_ == pytest.approx(max(scores))
    np.testing.assert_allclose(search.predict(X), search.best_estimator_.predict(X))


def test_slice_search_passes_the_slice_to_the_estimators_that_train_on_it(mnar):
    X, r, o, y = mnar
    search = SliceSearch(ResIPSMF(n_factors=2, max_iter=30), {"res_weight": [1.0]})
    _quiet_fit(search, X, r, o, X_unbiased=X[:40], y_unbiased=y[:40])
    assert search.best_estimator_.n_unbiased_ == 40


def test_slice_search_errors(mnar):
    X, r, o, y = mnar
    with pytest.raises(ValueError, match="scoring must be one of"):
        SliceSearch(IPSMF(), {"clip": [0.1]}, scoring="rmse").fit(
            X, r, o, X_unbiased=X[:5], y_unbiased=y[:5])
    with pytest.raises(ValueError, match="y_unbiased is empty"):
        SliceSearch(IPSMF(), {"clip": [0.1]}).fit(X, r, o, X_unbiased=X[:0], y_unbiased=y[:0])


# ------------------------------------------------------------------ scikit-learn checks
_SMALL = dict(n_factors=2, max_iter=20)
_ESTIMATORS = [RDIPSMF(**_SMALL), RDDRMF(**_SMALL, n_rounds=1), BRDIPSMF(**_SMALL),
               BRDDRMF(**_SMALL, n_rounds=1), ResIPSMF(**_SMALL), ResDRMF(**_SMALL),
               PUIDMF(**_SMALL), BPUIDMF(**_SMALL)]


@pytest.fixture(params=[False, True], ids=["routing-off", "routing-on"])
def routing(request):
    with sklearn.config_context(enable_metadata_routing=request.param):
        yield request.param


@parametrize_with_checks(_ESTIMATORS)
def test_sklearn_compatible(estimator, check, routing):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", ".*without X_unbiased", UserWarning)
        # PUID's selection model on the checks' data, where every pair is observed
        warnings.simplefilter("ignore", DegenerateEstimateWarning)
        check(estimator)
