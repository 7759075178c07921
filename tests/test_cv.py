"""HeckmanMFRegressorCV / BivariateProbitMFCV: rank and penalties by held-out likelihood."""

import numpy as np
import pytest
from sklearn.base import clone

from heckrec import BivariateProbitMFCV, HeckmanMFRegressor, HeckmanMFRegressorCV
from heckrec.datasets import make_selection_mf

GRID = dict(n_factors=(0, 1), reg_factors=(1.0, 100.0), reg_bias=(1.0,))


@pytest.fixture(scope="module")
def rank1():
    # the coverage study's design (rank 1 in both scores): the held-out likelihood must
    # want the factor, which reg_factors = 100 shrinks away (then it scores as rank 0)
    X, r, o, _ = make_selection_mf(200, 150, n_factors=1, rho=0.4, density=0.3,
                                   random_state=1)
    return X, r, o, HeckmanMFRegressorCV(**GRID, random_state=0).fit(X, r, o)


def test_chooses_the_true_rank_and_refits_it(rank1):
    X, r, o, cv = rank1
    assert cv.best_params_ == {"n_factors": 1, "reg_factors": 1.0, "reg_bias": 1.0}
    results = cv.cv_results_
    assert len(results["params"]) == 3  # rank 0 has no reg_factors to vary
    assert cv.best_score_ == pytest.approx(np.max(results["mean_test_score"]), abs=0)
    rank0 = results["params"].index({"n_factors": 0, "reg_factors": 1.0, "reg_bias": 1.0})
    assert results["mean_test_score"][rank0] < cv.best_score_ - 0.01  # per pair
    np.testing.assert_allclose(np.mean([results[f"split{i}_test_score"] for i in range(3)],
                                       axis=0), results["mean_test_score"])
    assert list(results["rank_test_score"]).count(1) == 1
    # the refit is the chosen setting on all the data, and its results are read through
    direct = HeckmanMFRegressor(n_factors=1, reg_factors=1.0, reg_bias=1.0,
                                random_state=0).fit(X, r, o)
    assert cv.rho_ == pytest.approx(direct.rho_, abs=1e-10)
    assert cv.rho_se_ == cv.best_estimator_.rho_se_
    np.testing.assert_allclose(cv.predict(X[:5]), direct.predict(X[:5]), atol=1e-8)
    assert "Chosen by 3-fold held-out log-likelihood" in cv.summary().as_text()


def test_fold_score_is_the_held_out_likelihood(rank1):
    """Independent of the path code: a plain fit on the first fold's training pairs,
    scored on its held-out pairs, gives split0's score (warm starts along the path end
    at the same optimum, to the fit's tolerance)."""
    from sklearn.model_selection import KFold

    X, r, o, cv = rank1
    train, test = next(KFold(3, shuffle=True, random_state=0).split(X))
    j = cv.cv_results_["params"].index(cv.best_params_)
    est = HeckmanMFRegressor(**cv.best_params_, random_state=0, compute_se=False).fit(
        X[train], r[train], o[train])
    assert cv.cv_results_["split0_test_score"][j] == pytest.approx(
        est.score(X[test], r[test], o[test]), abs=1e-5)


def test_deterministic_and_clonable(rank1):
    X, r, o, cv = rank1
    again = clone(cv).fit(X, r, o)
    np.testing.assert_array_equal(again.cv_results_["mean_test_score"],
                                  cv.cv_results_["mean_test_score"])
    assert clone(cv).get_params()["n_factors"] == (0, 1)


def test_with_a_slice_the_settings_are_chosen_on_it():
    """With a MAR slice each fold also splits the slice: its training part enters the fit
    and the score is the held-out slice pairs' outcome log-density (checked here against
    scipy's normal log-density of an independent refit). The refit uses all of it."""
    from scipy.stats import norm
    from sklearn.model_selection import KFold

    X, r, o, truth = make_selection_mf(60, 40, n_factors=0, rho=0.5, density=0.3,
                                       random_state=4)
    pick = np.random.default_rng(0).choice(len(r), 60, replace=False)
    y_slice = truth["g_r"][pick] + np.random.default_rng(1).standard_normal(60)
    cv = HeckmanMFRegressorCV(n_factors=(0,), reg_bias=(0.1, 1.0), random_state=0).fit(
        X, r, o, X_unbiased=X[pick], y_unbiased=y_slice)
    assert cv.scoring_ == "mar_slice"
    assert cv.best_estimator_.n_unbiased_ == 60 and cv.n_unbiased_ == 60
    train, _ = next(KFold(3, shuffle=True, random_state=0).split(X))
    s_train, s_test = next(KFold(3, shuffle=True, random_state=0).split(pick))
    j = cv.cv_results_["params"].index({"n_factors": 0, "reg_factors": 1.0, "reg_bias": 1.0})
    est = HeckmanMFRegressor(n_factors=0, reg_bias=1.0, random_state=0, compute_se=False).fit(
        X[train], r[train], o[train], X_unbiased=X[pick][s_train], y_unbiased=y_slice[s_train])
    expected = norm.logpdf(y_slice[s_test], est.predict(X[pick][s_test]), est.sigma_).mean()
    assert cv.cv_results_["split0_test_score"][j] == pytest.approx(expected, abs=1e-5)
    assert "MAR-slice log-density" in cv.summary().as_text()


def test_binary_cv_runs_and_chooses_from_its_grid():
    X, r, o, _ = make_selection_mf(60, 40, n_factors=0, rho=0.5, density=0.3,
                                   outcome="binary", random_state=0)
    cv = BivariateProbitMFCV(n_factors=(0,), reg_bias=(0.1, 1.0), random_state=0).fit(X, r, o)
    assert cv.best_params_["reg_bias"] in (0.1, 1.0) and np.isfinite(cv.best_score_)
    # the candidates are penalised fits at the grid's penalties, not the estimator's default
    # "auto", whose evidence would re-choose the precisions and make the grid moot
    assert cv.best_estimator_.rho_criterion_ == "penalised"
    scores = cv.cv_results_["mean_test_score"]
    assert abs(scores[0] - scores[1]) > 1e-6
    proba = cv.predict_proba(X[:3])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_factors=()), "n_factors must hold at least one value"),
    (dict(n_factors=(1.5,)), "n_factors must hold numbers >= 0"),
    (dict(reg_bias=(-1.0,)), "reg_bias must hold numbers >= 0"),
    (dict(cv=1), "cv must be an int >= 2"),
    (dict(estimator_params={"n_factors": 3}), "must not set 'n_factors'"),
])
def test_bad_settings_are_named(kwargs, match):
    X, r, o, _ = make_selection_mf(20, 15, n_factors=0, random_state=0)
    with pytest.raises(ValueError, match=match):
        HeckmanMFRegressorCV(**kwargs).fit(X, r, o)


def test_unfitted_access_is_a_clear_error():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        HeckmanMFRegressorCV().predict(np.zeros((2, 2)))
    with pytest.raises(AttributeError):
        HeckmanMFRegressorCV().rho_
