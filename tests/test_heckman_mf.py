"""HeckmanMFRegressor: recovery, inference, scikit-learn API and input errors."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from heckrec import DegenerateEstimateWarning, HeckmanMFRegressor
from heckrec.datasets import make_selection_mf
from heckrec.metrics import loglik_scorer, observed_mse_scorer


@pytest.fixture(scope="module")
def biases_data():
    # Biases-only truth with enough spread in g_o (bias_scale 0.8) for rho to
    # be well identified: it is identified only through the non-linearity of
    # the selection term in g_o, and with bias_scale 0.3 the estimates were
    # measured scattering +-0.4 around a true 0 (see docs/model.md).
    return make_selection_mf(600, 400, n_factors=0, rho=0.6, sigma=1.5, density=0.2,
                             bias_scale=0.8, random_state=1)


@pytest.fixture(scope="module")
def biases_fit(biases_data):
    X, r, o, _ = biases_data
    return HeckmanMFRegressor(n_factors=0, random_state=0).fit(X, r, o)


@pytest.fixture(scope="module")
def small():
    # Small enough for fast tests, with factors and a side feature. Weaker
    # penalties (reg_factors 2 or 5) drive this grid to rho = -1, as the GUIDE
    # warns for small data. The penalties act on the standardised outcome (sd 1.61
    # here): reg_factors 16, reg_bias 2.5 are the 10 and 1 in outcome units that
    # fitted rho_ = -0.506 +- 0.158 before the fit standardised the outcome.
    return make_selection_mf(60, 40, n_factors=2, rho=-0.5, density=0.3, n_features=1,
                             bias_scale=1.0, random_state=3)


def small_estimator(**kw):
    params = dict(n_factors=2, reg_factors=16.0, reg_bias=2.5, random_state=0, compute_se=False)
    params.update(kw)
    return HeckmanMFRegressor(**params)


@parametrize_with_checks([HeckmanMFRegressor(n_factors=2, max_iter=50, compute_se=False),
                          HeckmanMFRegressor(n_factors=2, max_iter=50, compute_se=False,
                                             solver="block-newton")])
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateEstimateWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


# --------------------------------------------------------------- estimates
def test_recovers_rho_and_sigma(biases_fit):
    est = biases_fit
    # Truth rho = 0.6, sigma = 1.5 on 240,000 pairs. Measured here: rho_ 0.627
    # +- 0.013, sigma_ 1.496 +- 0.012. Three standard errors is the bound a
    # correct estimator and SE pass with probability 0.997.
    assert est.degenerate_ is None
    assert abs(est.rho_ - 0.6) < 3 * est.rho_se_
    assert abs(est.sigma_ - 1.5) < 3 * est.sigma_se_
    assert 0.003 < est.rho_se_ < 0.05
    assert est.converged_


def test_rho_zero_is_not_spurious():
    X, r, o, _ = make_selection_mf(500, 300, n_factors=0, rho=0.0, sigma=1.0, density=0.2,
                                   bias_scale=0.8, random_state=7)
    est = HeckmanMFRegressor(n_factors=0, random_state=0).fit(X, r, o)
    assert abs(est.rho_) < 3 * est.rho_se_


def test_debiased_prediction_beats_naive_mean(biases_data, biases_fit):
    X, r, o, truth = biases_data
    # The naive estimate of the unconditional mean (mean of observed r) is
    # biased up by rho sigma E[mills]; predict() targets g_r itself.
    naive_bias = abs(np.nanmean(r) - truth["g_r"].mean())
    ours = abs(biases_fit.predict(X).mean() - truth["g_r"].mean())
    assert naive_bias > 0.3
    assert ours < 0.1 * naive_bias


def test_predict_observed_adds_the_selection_term(biases_data, biases_fit):
    from scipy.stats import norm

    X = biases_data[0][:50]
    g_o, g_r = biases_fit.decision_scores(X)
    expected = g_r + biases_fit.rho_ * biases_fit.sigma_ * norm.pdf(g_o) / norm.cdf(g_o)
    np.testing.assert_allclose(biases_fit.predict_observed(X), expected, rtol=1e-12)
    np.testing.assert_allclose(biases_fit.predict_selection_proba(X), norm.cdf(g_o), rtol=1e-12)


def test_score_is_mean_loglik(small):
    X, r, o, _ = small
    est = small_estimator().fit(X, r, o)
    assert est.score(X, r, o) * len(r) == pytest.approx(est.loglik_, rel=1e-10)
    # Weight 2 on the first half equals repeating those rows.
    w = np.where(np.arange(len(r)) < len(r) // 2, 2.0, 1.0)
    half = slice(0, len(r) // 2)
    repeated = est.score(np.vstack([X, X[half]]), np.concatenate([r, r[half]]),
                         np.concatenate([o, o[half]]))
    assert est.score(X, r, o, sample_weight=w) == pytest.approx(repeated, rel=1e-12)


def test_profiled_se_matches_dense_inverse_hessian(small):
    # Independent check of the CG / Schur-complement machinery: on a problem
    # small enough to form the whole Hessian (by differencing the gradient),
    # invert it and read the (atanh rho, log sigma) block.
    from heckrec.models._layout import ParamLayout
    from heckrec.models._likelihood import ContinuousHeckmanLikelihood
    from heckrec.models._objective import PenalisedObjective
    from heckrec.models._pairs import PairSet

    X, r, o, _ = small
    # (penalised: the SEs of the penalised Hessian are checked; "auto" moves to the evidence)
    est = small_estimator(compute_se=True, tol=1e-10, max_iter=2000,
                          rho_criterion="penalised").fit(X, r, o)
    layout = ParamLayout(est.n_users_, est.n_items_, 2, 1)
    r_fit = (r - est.outcome_loc_) / est.outcome_scale_  # theta_ is in the fit's units
    pairs = PairSet(est.user_encoder_.transform(X[:, 0]), est.item_encoder_.transform(X[:, 1]),
                    r_fit, o.astype(bool), (X[:, 2:] - est.feature_loc_) / est.feature_scale_,
                    est.n_users_, est.n_items_)
    objective = PenalisedObjective(ContinuousHeckmanLikelihood(), layout, pairs, 16.0, 2.5)
    theta = est.theta_
    h = 1e-5
    H = np.empty((theta.size, theta.size))
    for j in range(theta.size):
        e = np.zeros_like(theta)
        e[j] = h
        H[:, j] = (objective.full(theta + e)[1] - objective.full(theta - e)[1]) / (2 * h)
    cov = np.linalg.inv(0.5 * (H + H.T))
    ia, is_ = layout.index("a"), layout.index("s")
    rho_se = (1 - est.rho_**2) * np.sqrt(cov[ia, ia])
    sigma_se = est.sigma_ * np.sqrt(cov[is_, is_])
    # CG to rtol 1e-6 on one-sided difference products: 1e-3 relative is ample.
    assert est.rho_se_ == pytest.approx(rho_se, rel=1e-3)
    assert est.sigma_se_ == pytest.approx(sigma_se, rel=1e-3)
    # Treating the embeddings as known (the 2x2 block alone) understates it.
    naive = (1 - est.rho_**2) / np.sqrt(H[ia, ia])
    assert naive < 0.9 * rho_se

    # cov_type="robust": the dense sandwich H^-1 J H^-1, with J from the per-pair scores
    # formed column by column by differencing each pair's log-likelihood.
    lik = ContinuousHeckmanLikelihood()
    scores = np.empty((pairs.n_pairs, theta.size))
    for j in range(theta.size):
        e = np.zeros_like(theta)
        e[j] = h
        scores[:, j] = (lik.per_pair_loglik(theta + e, layout, pairs)
                        - lik.per_pair_loglik(theta - e, layout, pairs)) / (2 * h)
    sandwich = cov @ (scores.T @ scores) @ cov
    robust = small_estimator(compute_se=True, tol=1e-10, max_iter=2000,
                             cov_type="robust").fit(X, r, o)
    assert robust.rho_ == est.rho_
    assert robust.rho_se_ == pytest.approx((1 - est.rho_**2) * np.sqrt(sandwich[ia, ia]),
                                           rel=1e-3)
    assert robust.sigma_se_ == pytest.approx(est.sigma_ * np.sqrt(sandwich[is_, is_]), rel=1e-3)
    # Normal errors, correct model: robust and model-based SEs measure the same thing.
    assert robust.rho_se_ == pytest.approx(est.rho_se_, rel=0.3)


# --------------------------------------------------------------- solvers
def test_backends_agree(small):
    X, r, o, _ = small
    a = small_estimator(backend="numba").fit(X, r, o)
    b = small_estimator(backend="numpy").fit(X, r, o)
    # Same start, same maths to 1e-12: L-BFGS follows the same path.
    assert a.rho_ == pytest.approx(b.rho_, abs=1e-6)
    np.testing.assert_allclose(a.predict(X), b.predict(X), atol=1e-5)


def test_adam_reaches_the_lbfgs_optimum(small):
    X, r, o, _ = small
    ref = small_estimator(tol=1e-10, max_iter=2000).fit(X, r, o)
    est = small_estimator(solver="adam", learning_rate=0.02, batch_size=256, max_iter=2000,
                          tol=1e-10).fit(X, r, o)
    assert est.n_epochs_ > 1
    # Both end at the same optimum: objective to 1e-9, rho to 1e-4 (the
    # likelihood is flat in rho, so its position is looser than the value).
    assert est.objective_ == pytest.approx(ref.objective_, rel=1e-9)
    assert est.rho_ == pytest.approx(ref.rho_, abs=1e-4)


@pytest.mark.parametrize("param, first, second", [("init", "spectral", "random"),
                                                   ("scaling", "block", "diagonal")])
def test_start_and_scaling_do_not_change_the_optimum(small, param, first, second):
    X, r, o, _ = small
    a = small_estimator(**{param: first}, tol=1e-10, max_iter=3000).fit(X, r, o)
    b = small_estimator(**{param: second}, tol=1e-10, max_iter=3000).fit(X, r, o)
    # Same penalised optimum up to the optimiser's tolerance (the factors
    # themselves are only defined up to rotation, so compare the objective
    # and what is rotation-invariant: rho, predictions).
    assert a.objective_ == pytest.approx(b.objective_, rel=1e-8)
    assert a.rho_ == pytest.approx(b.rho_, abs=1e-3)
    np.testing.assert_allclose(a.predict(X), b.predict(X), atol=1e-3)


def test_block_scaling_is_a_consistent_change_of_variables(small):
    from heckrec.models._layout import ParamLayout
    from heckrec.models._pairs import PairSet
    from heckrec.models._scaling import BlockScaling

    X, r, o, _ = small
    est = small_estimator().fit(X, r, o)
    layout = ParamLayout(est.n_users_, est.n_items_, 2, 1)
    pairs = PairSet(est.user_encoder_.transform(X[:, 0]), est.item_encoder_.transform(X[:, 1]),
                    r, o.astype(bool), X[:, 2:], est.n_users_, est.n_items_)
    penalty = np.random.default_rng(0).random(layout.size)
    scaling = BlockScaling(layout, pairs, est.theta_, penalty)
    rng = np.random.default_rng(1)
    theta, g, d_phi = rng.standard_normal((3, layout.size))
    np.testing.assert_allclose(scaling.to_theta(scaling.to_phi(theta)), theta, atol=1e-10)
    # A linear map theta = B phi: the chain rule says g_phi . d_phi = g . (B d_phi).
    d_theta = scaling.to_theta(d_phi)
    assert scaling.grad_to_phi(g) @ d_phi == pytest.approx(g @ d_theta, rel=1e-10)
    # The preconditioner M^-1 is symmetric positive definite.
    u, v = rng.standard_normal((2, layout.size))
    assert u @ scaling.inverse_curvature(v) == pytest.approx(v @ scaling.inverse_curvature(u),
                                                             rel=1e-10)
    assert v @ scaling.inverse_curvature(v) > 0


def test_fit_is_deterministic(small):
    X, r, o, _ = small
    a = small_estimator().fit(X, r, o)
    b = small_estimator().fit(X, r, o)
    assert np.array_equal(a.theta_, b.theta_)


def test_fit_runs_blas_on_one_thread(small, monkeypatch):
    # numba's threads and a multi-threaded BLAS fight for the cores (heckrec.models._base
    # .blas_on_one_thread): during fit every BLAS library must be limited to one thread.
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from heckrec.models._objective import PenalisedObjective

    seen = []
    original = PenalisedObjective.full

    def spy(self, theta, *args, **kwargs):
        seen.extend(info["num_threads"] for info in threadpoolctl.threadpool_info()
                    if info["user_api"] == "blas")
        return original(self, theta, *args, **kwargs)

    monkeypatch.setattr(PenalisedObjective, "full", spy)
    X, r, o, _ = small
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        small_estimator(max_iter=5).fit(X, r, o)
    if not seen:
        pytest.skip("no BLAS library that threadpoolctl can see")
    assert set(seen) == {1}


def test_convergence_warning(small):
    X, r, o, _ = small
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        small_estimator(max_iter=2).fit(X, r, o)


def test_verbose_reports_progress(small, capsys):
    X, r, o, _ = small
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        small_estimator(max_iter=3, verbose=1).fit(X, r, o)
    assert capsys.readouterr().out.count("[lbfgs] iter") == 3


def test_degenerate_fit_is_reported():
    # Rank-4 MF on a small grid: rho runs to +-1 (GUIDE section 4).
    X, r, o, _ = make_selection_mf(150, 100, n_factors=4, rho=0.6, sigma=1.5, density=0.2,
                                   random_state=1)
    est = HeckmanMFRegressor(n_factors=4, reg_factors=0.01, random_state=0, max_iter=300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.warns(DegenerateEstimateWarning, match="boundary") as caught:
            est.fit(X, r, o)
    assert est.degenerate_ is not None
    assert np.isnan(est.rho_se_)
    # On the continuous model more regularisation is the advice (GUIDE section 4).
    assert any("raise reg_factors" in str(w.message) for w in caught)


def test_unpenalised_fit_never_returns_unflagged_standard_errors(small):
    # reg = 0: the factors can be rotated freely, so the information matrix is
    # singular. Whatever the SE step meets, it must say so: NaN standard errors
    # with a DegenerateEstimateWarning, or a ConvergenceWarning about the CG
    # solve; never a RuntimeWarning from inside the maths.
    X, r, o, _ = small
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("error", RuntimeWarning)
        est = small_estimator(reg_factors=0.0, reg_bias=0.0, compute_se=True).fit(X, r, o)
    messages = [str(w.message) for w in caught]
    singular = any("not positive definite" in m for m in messages)
    unsolved = any("conjugate-gradient solve behind the standard errors did not converge" in m
                   for m in messages)
    # (with the side feature standardised in the fit, this grid now meets the second)
    assert singular or unsolved
    if singular:
        assert np.isnan(est.rho_se_) and np.isnan(est.sigma_se_)


def test_all_observed_fits_outcome_only(small):
    X, r, o, truth = small
    y = truth["g_r"] + np.random.default_rng(0).standard_normal(len(r))
    with pytest.warns(DegenerateEstimateWarning, match="every pair is observed"):
        est = small_estimator(compute_se=True).fit(X, y)
    assert np.isnan(est.rho_) and np.isnan(est.rho_se_)
    assert est.sigma_ == pytest.approx(1.0, abs=0.15)
    assert est.sigma_se_ > 0


# -------------------------------------------------------------- inputs
def test_unobserved_outcomes_are_never_read(small):
    X, r, o, _ = small
    fits = [small_estimator().fit(X, np.where(o == 1, r, fill), o) for fill in (np.nan, 0.0, -np.inf)]
    for est in fits[1:]:
        assert np.array_equal(est.theta_, fits[0].theta_)


def test_o_defaults_to_not_nan(small):
    X, r, o, _ = small
    a = small_estimator().fit(X, r)
    b = small_estimator().fit(X, r, o)
    assert np.array_equal(a.theta_, b.theta_)


def test_label_ids_in_a_dataframe(small):
    X, r, o, _ = small
    # Zero-padded labels sort like the numbers, so both fits start alike.
    df = pd.DataFrame({"user": [f"u{int(v):03d}" for v in X[:, 0]],
                       "item": pd.Categorical([f"i{int(v):03d}" for v in X[:, 1]]),
                       "feat": X[:, 2]})
    a = small_estimator().fit(df, r, o)
    b = small_estimator().fit(X, r, o)
    np.testing.assert_allclose(a.predict(df), b.predict(X), atol=1e-8)
    assert list(a.feature_names_in_) == ["user", "item", "feat"]


def test_unseen_ids_fall_back_to_global_part(small):
    X, r, o, _ = small
    est = small_estimator().fit(X, r, o)
    p = est.params_
    new = np.array([[999.0, 999.0, 0.7], [999.0, X[0, 1], 0.7], [X[0, 0], 999.0, 0.7]])
    pred = est.predict(new)
    assert pred[0] == pytest.approx(p.mu_r + 0.7 * p.w_r[0], rel=1e-12)
    item = est.item_encoder_.transform(X[:1, 1])[0]
    user = est.user_encoder_.transform(X[:1, 0])[0]
    assert pred[1] == pytest.approx(p.mu_r + 0.7 * p.w_r[0] + p.bi_r[item], rel=1e-12)
    assert pred[2] == pytest.approx(p.mu_r + 0.7 * p.w_r[0] + p.bu_r[user], rel=1e-12)


@pytest.mark.parametrize("o, match", [
    (np.full(2400, 2), "only 0/1"),
    (np.ones(5), "o has 5 rows"),
    (np.zeros(2400), "no observed pairs"),
])
def test_bad_o(small, o, match):
    X, r, _, _ = small
    with pytest.raises(ValueError, match=match):
        small_estimator().fit(X, np.nan_to_num(r), o)


def test_nan_outcome_at_observed_pair(small):
    X, r, o, _ = small
    r = r.copy()
    r[np.flatnonzero(o)[0]] = np.nan
    with pytest.raises(ValueError, match="NaN at observed pairs"):
        small_estimator().fit(X, r, o)


@pytest.mark.parametrize("params, match", [
    ({"n_factors": -1}, "n_factors"), ({"solver": "sgd"}, "solver"),
    ({"backend": "tpu"}, "backend"), ({"reg_factors": -1.0}, "reg_factors"),
    ({"tol": 0.0}, "tol"), ({"max_iter": 0}, "max_iter"), ({"init": "svd"}, "init"),
    ({"scaling": "none"}, "scaling"), ({"n_factors": True}, "n_factors"),
    ({"reg_bias": np.inf}, "reg_bias"), ({"compute_se": "yes"}, "compute_se"),
])
def test_bad_hyperparameters(small, params, match):
    X, r, o, _ = small
    with pytest.raises(ValueError, match=match):
        small_estimator(**params).fit(X, r, o)


def test_one_column_x(small):
    X, r, o, _ = small
    with pytest.raises(ValueError, match="1 feature"):
        small_estimator().fit(X[:, :1], r, o)


def test_not_fitted():
    with pytest.raises(NotFittedError):
        HeckmanMFRegressor().predict(np.zeros((2, 2)))


def test_cupy_backend_is_explained_without_a_gpu(small):
    pytest.importorskip("numpy")
    try:
        import cupy  # noqa: F401
        pytest.skip("CuPy is installed: the GPU backend tests cover it")
    except ImportError:
        pass
    X, r, o, _ = small
    with pytest.raises(ImportError, match="CuPy"):
        small_estimator(backend="cupy").fit(X, r, o)


# ----------------------------------------------------- sklearn plumbing
def test_clone_and_pickle(small):
    X, r, o, _ = small
    est = small_estimator().fit(X, r, o)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict(X), est.predict(X))
    assert clone(est).get_params() == est.get_params()


@pytest.fixture
def routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


def hand_cv(X, r, o, param_grid, scorer=None):
    out = {}
    for reg in param_grid["reg_factors"]:
        scores = []
        for train, test in KFold(3).split(X):
            est = small_estimator(reg_factors=reg).fit(X[train], r[train], o[train])
            if scorer is None:
                scores.append(est.score(X[test], r[test], o[test]))
            else:
                scores.append(scorer(est, X[test], r[test], o[test]))
        out[reg] = np.mean(scores)
    return out


@pytest.mark.parametrize("scoring", [None, loglik_scorer, observed_mse_scorer])
def test_grid_search_routes_o_to_fit_and_score(routing, small, scoring):
    X, r, o, _ = small
    # Unobserved outcomes hold junk (0), so a score that ignored o would differ.
    r = np.where(o == 1, r, 0.0)
    grid = {"reg_factors": [10.0, 30.0]}
    search = GridSearchCV(small_estimator(), grid, cv=KFold(3), scoring=scoring)
    search.fit(X, r, o=o)
    expected = hand_cv(X, r, o, grid, scoring)
    for reg, score in zip(search.cv_results_["param_reg_factors"],
                          search.cv_results_["mean_test_score"]):
        assert score == pytest.approx(expected[reg], rel=1e-10)


def test_pipeline_routes_o(routing, small):
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import StandardScaler

    X, r, o, _ = small
    prep = ColumnTransformer([("ids", "passthrough", [0, 1]), ("f", StandardScaler(), [2])])
    pipe = make_pipeline(prep, small_estimator())
    pipe.fit(X, np.where(o == 1, r, 0.0), o=o)
    direct = small_estimator().fit(prep.fit_transform(X), r, o)
    np.testing.assert_allclose(pipe.predict(X), direct.predict(prep.transform(X)), atol=1e-10)
    assert pipe.score(X, r, o=o) == pytest.approx(direct.score(prep.transform(X), r, o))


@pytest.mark.parametrize("scale, shift", [(1e6, 0.0), (1e-3, 0.0), (1.0, 1e3), (-2.0, 5.0)])
def test_outcome_units_do_not_change_rho(scale, shift):
    # ../shared/reliability r10: r x 1e6 moved rho_ from 0.886 to 0.109 when the
    # penalties acted in outcome units. The fit now runs on the standardised outcome,
    # so the optimum is the same point: rho_ to 1e-3 (measured 1e-7), predictions and
    # sigma_ equivariant, loglik_ shifted by the Jacobian n_obs log|scale|.
    X, r, o, _ = make_selection_mf(60, 40, n_factors=1, n_features=1, rho=0.5, density=0.3,
                                   random_state=0)
    base = HeckmanMFRegressor(n_factors=1, reg_factors=10, random_state=0).fit(X, r, o)
    moved = HeckmanMFRegressor(n_factors=1, reg_factors=10, random_state=0).fit(
        X, scale * r + shift, o)
    if scale < 0:  # a sign flip of the outcome flips the sign of rho
        assert moved.rho_ == pytest.approx(-base.rho_, abs=1e-3)
    else:
        assert moved.rho_ == pytest.approx(base.rho_, abs=1e-3)
    assert moved.rho_se_ == pytest.approx(base.rho_se_, rel=1e-2)
    assert moved.sigma_ == pytest.approx(abs(scale) * base.sigma_, rel=1e-3)
    np.testing.assert_allclose(moved.predict(X), scale * base.predict(X) + shift,
                               rtol=1e-3, atol=1e-3 * abs(scale))
    assert moved.loglik_ == pytest.approx(base.loglik_ - o.sum() * np.log(abs(scale)), rel=1e-6)


def test_compile_note_once_at_verbose(small, monkeypatch, capsys):
    """Issue 17: the first fit after an install compiles for 10-20 s; at verbose >= 1 it
    says so, once per process, and only when no compiled kernel is cached."""
    import heckrec._kernels as kernels
    import heckrec.models._base as base

    X, r, o, _ = small
    monkeypatch.setattr(kernels, "cache_is_warm", lambda: False)
    monkeypatch.setattr(base, "_COMPILE_NOTE_SHOWN", False)
    small_estimator(max_iter=2).fit(X, r, o)  # verbose=0: silent
    assert "compiling" not in capsys.readouterr().out
    for _ in range(2):
        small_estimator(max_iter=2, verbose=1).fit(X, r, o)
    assert capsys.readouterr().out.count("[heckrec] compiling the numba kernels") == 1
    monkeypatch.setattr(base, "_COMPILE_NOTE_SHOWN", False)
    monkeypatch.setattr(kernels, "cache_is_warm", lambda: True)
    small_estimator(max_iter=2, verbose=1).fit(X, r, o)
    assert "compiling" not in capsys.readouterr().out
