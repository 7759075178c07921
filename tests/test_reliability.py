"""The bad inputs of ../shared/reliability (findings F1-F34), each answered.

Every test builds its input here (the reproducers need nothing from ../shared), and
expects either the clear error that names the problem or the right answer.
"""

import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from heckrec import BivariateProbitMF, HeckmanMFRegressor
from heckrec.classic import HeckmanSelection
from heckrec.datasets import (
    load_kuairec,
    load_mroz87,
    make_selection_mf,
    make_semisynthetic,
    make_tobit2,
)
from heckrec.debias import EIBMF, NaiveMF, naive_bayes_propensity
from heckrec.exceptions import DegenerateEstimateWarning
from heckrec.inference import bootstrap_rho
from heckrec.metrics import observed_mse_scorer

# small designs whose rho rests on the normal shape: these tests are of the free fit
FAST = dict(n_factors=1, reg_factors=10.0, max_iter=200, compute_se=False, random_state=0,
            if_not_identified="estimate")


@pytest.fixture(scope="module")
def grid():
    # FAST fits rho_ = 0.839 here in 93 iterations (no boundary)
    return make_selection_mf(60, 40, n_factors=1, n_features=1, density=0.3, random_state=0)


# ---------------------------------------------------------------- features (F1-F3, F15)
def test_feature_units_leave_the_fit_unchanged(grid):
    """Side features are standardised inside the fit: an affine change of a column
    changes its weight and nothing else (weights and means are unpenalised)."""
    X, r, o, _ = grid
    a = HeckmanMFRegressor(**FAST).fit(X, r, o)
    X2 = X.copy()
    X2[:, 2] = 1e4 * X2[:, 2] + 7.0
    b = HeckmanMFRegressor(**FAST).fit(X2, r, o)
    assert b.rho_ == pytest.approx(a.rho_, abs=1e-6)
    np.testing.assert_allclose(b.predict(X2), a.predict(X), atol=1e-6)
    np.testing.assert_allclose(b.params_.w_r * 1e4, a.params_.w_r, rtol=1e-5)


@pytest.mark.parametrize("value", [1e20, 1e300])
def test_huge_feature_entry_fits(grid, value):
    """F1 / F2: 1e300 crashed the Cholesky of the scaling, 1e20 returned the start."""
    X, r, o, _ = grid
    X = X.copy()
    X[5, 2] = value
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateEstimateWarning)
        e = HeckmanMFRegressor(**FAST).fit(X, r, o)
    assert e.n_iter_ > 5 and np.isfinite(e.rho_)
    assert np.all(np.isfinite(e.predict(X)))


def test_huge_feature_binary():
    """F3: a ZeroDivisionError inside the numba kernel."""
    X, r, o, _ = make_selection_mf(60, 40, n_factors=0, n_features=1, outcome="binary",
                                   random_state=0)
    X[5, 2] = 1e20
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateEstimateWarning)
        e = BivariateProbitMF(n_factors=0, compute_se=False, random_state=0,
                                  if_not_identified="estimate").fit(X, r, o)
    assert np.isfinite(e.rho_) and np.all(np.isfinite(e.predict_proba(X)))


def test_debias_huge_feature(grid):
    """F15: feature_scale_ was inf and the feature silently zeroed."""
    X, r, o, _ = grid
    X = X.copy()
    X[5, 2] = 1e300
    e = NaiveMF(n_factors=1, max_iter=100, random_state=0).fit(X, r, o)
    assert np.isfinite(e.feature_scale_[0]) and e.feature_scale_[0] > 1e297


# ------------------------------------------------------------ outcome (F4, F5, F7, F13)
def test_huge_outcome_entry(grid):
    """F4: y = 1e300 at one pair was an ArpackError; the fit is in the user's units."""
    X, r, o, _ = grid
    r = r.copy()
    r[np.flatnonzero(o)[0]] = 1e300
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateEstimateWarning)
        e = HeckmanMFRegressor(**FAST).fit(X, r, o)
    # one entry of 1e300 among n observed: the sd is 1e300 sqrt(n - 1) / n
    n = int(o.sum())
    assert e.outcome_scale_ == pytest.approx(1e300 * np.sqrt(n - 1) / n, rel=1e-6)
    assert np.isfinite(e.sigma_)


def test_constant_outcome_is_an_error(grid):
    """F5: an ArpackError; a constant outcome has sigma 0."""
    X, r, o, _ = grid
    with pytest.raises(ValueError, match="y is constant"):
        HeckmanMFRegressor(**FAST).fit(X, np.where(o == 1, 3.0, np.nan), o)


def test_one_observed_pair_is_an_error():
    """F7: rho 0.43, sigma 5e-8 from one observed pair, not reported."""
    X = np.array([[0, 0], [0, 1]])
    with pytest.raises(ValueError, match="only 1 sample is observed"):
        HeckmanMFRegressor().fit(X, np.array([1.0, np.nan]), np.array([1, 0]))


def test_debias_huge_outcome(grid):
    """F13: y = 1e200 at one pair returned the random start with n_iter_ 0. The fit runs
    on the standardised outcome, so outcomes of 1e190 give the predictions of the
    outcomes times 1e190."""
    X, r, o, _ = grid
    fit = dict(n_factors=1, max_iter=300, tol=1e-10, random_state=0)
    plain = NaiveMF(**fit).fit(X, r, o)
    huge = NaiveMF(**fit).fit(X, r * 1e190, o)
    assert huge.n_iter_ > 0
    np.testing.assert_allclose(huge.predict(X), 1e190 * plain.predict(X), rtol=1e-5)
    r = r.copy()
    r[np.flatnonzero(o)[0]] = 1e200
    e = NaiveMF(**fit).fit(X, r, o)
    assert e.n_iter_ > 0 and np.all(np.isfinite(e.predict(X)))


# -------------------------------------------------------------------- ids (F5, F11)
def test_int64_ids_beyond_float_precision(grid):
    """F5: ids 2**62 + u were cast to float64 and 60 users merged into 1."""
    X, r, o, _ = grid
    Xi = X.astype(np.int64)
    Xi[:, 0] += 2**62
    e = HeckmanMFRegressor(**FAST).fit(Xi, r, o)
    assert e.n_users_ == 60
    # the same fit as with small ids (the integer array truncated the feature alike)
    same = HeckmanMFRegressor(**FAST).fit(X.astype(np.int64), r, o)
    assert e.rho_ == pytest.approx(same.rho_, abs=1e-12)


def test_ids_of_another_type_at_predict(grid):
    """F11: fit with int ids, predict with str: every pair silently 'unseen'."""
    X, r, o, _ = grid
    df = pd.DataFrame({"user": X[:, 0].astype(int), "item": X[:, 1].astype(int)})
    e = HeckmanMFRegressor(**FAST).fit(df, r, o)
    with pytest.raises(ValueError, match="user ids given are strings, but fit saw numbers"):
        e.predict(df[:2].astype(str))


# ---------------------------------------------------------------- y where o == 0 (F6)
def test_anything_where_unobserved(grid):
    """F6: strings / None where o == 0 were rejected though the docs allow them."""
    X, r, o, _ = grid
    y = r.astype(object)
    y[o == 0] = "n/a"
    a = HeckmanMFRegressor(**FAST).fit(X, y, o)
    b = HeckmanMFRegressor(**FAST).fit(X, r, o)
    assert a.rho_ == b.rho_
    Xb, rb, ob, _ = make_selection_mf(60, 40, n_factors=0, outcome="binary", random_state=0)
    yb = rb.astype(object)
    yb[ob == 0] = None
    fit = dict(n_factors=0, compute_se=False, random_state=0, if_not_identified="estimate")
    assert (BivariateProbitMF(**fit).fit(Xb, yb, ob).rho_
            == BivariateProbitMF(**fit).fit(Xb, rb, ob).rho_)


# ------------------------------------------------------------ solvers (F3, F9, F10)
def test_adam_with_a_huge_step_gives_no_nan(grid):
    """F9 / F3: adam lr 1e6 returned NaN (continuous) or crashed numba (binary)."""
    X, r, o, _ = grid
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateEstimateWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        e = HeckmanMFRegressor(solver="adam", learning_rate=1e6, max_iter=5,
                               random_state=0, if_not_identified="estimate").fit(X, r, o)
        Xb, rb, ob, _ = make_selection_mf(60, 40, n_factors=0, outcome="binary",
                                          random_state=0)
        b = BivariateProbitMF(solver="adam", learning_rate=1e6, max_iter=5, compute_se=False,
                              random_state=0, if_not_identified="estimate").fit(Xb, rb, ob)
    assert np.isfinite(e.rho_) and np.isfinite(e.sigma_) and np.all(np.isfinite(e.predict(X)))
    assert np.isfinite(b.rho_)


def test_binary_kernel_past_the_rho_boundary():
    """F3: tanh(a) = +-1 exactly divided by zero inside the kernel; now the
    likelihood is held flat in a past A_MAX."""
    from heckrec._kernels import bivariate_probit as terms

    d_o, d_r = np.zeros(1), np.zeros(1)
    args = (np.array([0.3]), np.array([-0.2]), np.array([1.0]), np.array([True]))
    ll_far, da_far = terms.exact_terms(*args, 1e6, d_o, d_r)
    ll_edge, _ = terms.exact_terms(*args, terms.A_MAX, d_o, d_r)
    assert ll_far == ll_edge and da_far == 0.0


def test_init_scale_zero_is_rejected(grid):
    """F10: factors stuck at exactly 0 (a saddle) with converged_ True."""
    X, r, o, _ = grid
    with pytest.raises(ValueError, match="init_scale"):
        HeckmanMFRegressor(init="random", init_scale=0.0).fit(X, r, o)


# ---------------------------------------------------------------- scoring (F12, F30)
def test_score_weights(grid):
    X, r, o, _ = grid
    e = HeckmanMFRegressor(**FAST).fit(X, r, o)
    w = np.ones(len(r))
    w[::3] = -1.0
    with pytest.raises(ValueError, match="Negative values"):
        e.score(X, r, o, sample_weight=w)
    with pytest.raises(ValueError, match="at least one non-zero"):
        e.score(X, r, o, sample_weight=np.zeros(len(r)))
    assert e.score(X, r, o, sample_weight=np.full(len(r), 2.0)) == pytest.approx(e.score(X, r, o))


def test_scorer_with_rows_missing(grid):
    X, r, o, _ = grid
    e = HeckmanMFRegressor(**FAST).fit(X, r, o)
    with pytest.raises(ValueError, match="X has 2397 rows but y has 2400"):
        observed_mse_scorer(e, X[:-3], r, o)


# -------------------------------------------------------------- debias (F14, F16, F33)
def test_eib_imputation_must_be_finite(grid):
    X, r, o, _ = grid
    with pytest.raises(ValueError, match="imputation must be a finite"):
        EIBMF(imputation=np.nan).fit(X, r, o)


def test_naive_bayes_ignores_nan_in_mar():
    """F16: a NaN among the MAR outcomes was counted, doubling a propensity."""
    y = np.array([1, 2, 3, np.nan, 5, 1.0])
    o = np.array([1, 1, 1, 0, 1, 1])
    clean = naive_bayes_propensity(y, o, [1, 2, 3, 5, 5])
    with pytest.raises(ValueError, match="y_mar contains NaN"):
        naive_bayes_propensity(y, o, [1, 2, 3, 5, np.nan])
    assert clean[4] == pytest.approx(0.41666667)


def test_debias_pipeline_score_with_routing():
    """F33: Pipeline(NaiveMF).score with routing on: sample_weight not routed."""
    X, r, o, _ = make_selection_mf(30, 20, random_state=0)
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_pipeline(NaiveMF(n_factors=1, max_iter=50, random_state=0)).fit(X, r, o=o)
        direct = NaiveMF(n_factors=1, max_iter=50, random_state=0).fit(X, r, o=o)
        assert pipe.score(X, r, o=o) == pytest.approx(direct.score(X, r, o=o))


# ---------------------------------------------------------------- classic (F17-F23)
def test_classic_huge_outcome_and_regressor():
    y, X, s, Z = make_tobit2(1000, random_state=0)
    y2 = y.copy()
    y2[np.flatnonzero(s)[0]] = 1e300
    with pytest.raises(ValueError, match="square overflows"):
        HeckmanSelection(y2, X, s, Z)
    X2 = X.copy()
    X2[np.flatnonzero(s)[0], 1] = 1e300
    with pytest.raises(ValueError, match="X column 'x1' holds a value of magnitude 1e"):
        HeckmanSelection(y, X2, s, Z)


def test_classic_constant_outcome():
    y, X, s, Z = make_tobit2(1000, random_state=0)
    with pytest.raises(ValueError, match="y is constant"):
        HeckmanSelection(np.where(s == 1, 2.0, np.nan), X, s, Z)


def test_twostep_rho_outside_unit_interval_warns():
    """F19: rho 1.128 returned with no warning; R's heckit gives the same number."""
    y, X, s, Z = make_tobit2(1000, rho=0.999, sigma=2.0, random_state=0)
    with pytest.warns(DegenerateEstimateWarning, match="outside"):
        r = HeckmanSelection(y, X, s, Z).fit(method="twostep")
    assert r.rho > 1.0


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(maxiter=-5), ValueError, "maxiter must be >= 1"),
    (dict(maxiter=2.5), TypeError, "maxiter must be an int"),
    (dict(tol=float("nan")), ValueError, "tol must be a positive finite"),
    (dict(tol=-1.0), ValueError, "tol must be a positive finite"),
])
def test_classic_fit_arguments(kwargs, error, match):
    m = HeckmanSelection(*make_tobit2(300, random_state=0))
    with pytest.raises(error, match=match):
        m.fit(**kwargs)


def test_formula_with_a_bool_selection_variable():
    d = load_mroz87()
    as_int = HeckmanSelection.from_formula("lfp ~ age + educ", "wage ~ educ + exper", d).fit()
    d["lfp"] = d["lfp"] == 1
    as_bool = HeckmanSelection.from_formula("lfp ~ age + educ", "wage ~ educ + exper", d).fit()
    assert as_bool.rho == pytest.approx(as_int.rho, abs=1e-10)
    d["lfp"] = np.where(d["lfp"], "yes", "no")
    with pytest.raises(ValueError, match="categorical.*0/1 or bool"):
        HeckmanSelection.from_formula("lfp ~ age + educ", "wage ~ educ + exper", d)


def test_perfect_separation_is_named():
    y, X, s, Z = make_tobit2(1000, random_state=0)
    s = (Z[:, 1] > 0).astype(int)
    y = np.where(s == 1, X @ [1.0, 0.5, -1.0] + np.random.default_rng(0).standard_normal(1000),
                 np.nan)
    with pytest.raises(ValueError, match="column 'z1' alone separates"):
        HeckmanSelection(y, X, s, Z).fit()


# ------------------------------------------------------------ loaders (F24-F28)
def _kuairec(tmp_path, user, random="1,2,1.0\n"):
    (tmp_path / "user.txt").write_text(user)
    (tmp_path / "random.txt").write_text(random)
    return tmp_path


def test_loader_malformed_line_names_the_file(tmp_path):
    path = _kuairec(tmp_path, "1,1,2.0\n2,2,1.0\n3,1,0.5,9\n")
    with pytest.raises(ValueError, match="user.txt.*3 columns.*line 3"):
        load_kuairec(path)


def test_loader_huge_id(tmp_path):
    path = _kuairec(tmp_path, f"1,1,2.0\n{2**70},2,1.0\n")
    with pytest.raises(ValueError, match="line 2: user id .* does not fit a 64-bit"):
        load_kuairec(path)
    big = 2**62 + 1  # exact, where a float64 would round it
    path = _kuairec(tmp_path, f"1,1,2.0\n{big},2,1.0\n")
    assert big in load_kuairec(path).X_train["user"].to_numpy()


def test_loader_infinite_value_and_threshold(tmp_path):
    path = _kuairec(tmp_path, "1,1,2.0\n2,2,inf\n", "1,2,3.0\n")
    with pytest.raises(ValueError, match="line 2: watch_ratio 'inf' is not finite"):
        load_kuairec(path)
    path = _kuairec(tmp_path, "1,1,2.0\n2,2,1.0\n", "1,2,3.0\n")
    with pytest.raises(ValueError, match="threshold must be finite"):
        load_kuairec(path, threshold=np.nan)
    with pytest.raises(TypeError, match="threshold must be a number"):
        load_kuairec(path, threshold="3")


def test_semisynthetic_bad_inputs(tmp_path):
    empty = tmp_path / "u.data"
    empty.write_text("")
    with pytest.raises(ValueError, match="is empty"):
        make_semisynthetic(empty, 0.5)
    data = tmp_path / "u2.data"
    data.write_text("".join(f"{u}\t{i}\t{(u * i) % 5 + 1}\t88125{u}{i}\n"
                            for u in range(1, 31) for i in range(1, 21) if (u + 2 * i) % 3))
    with pytest.raises(ValueError, match="beta must be a finite"):
        make_semisynthetic(data, 0.5, beta=np.nan)
    with pytest.raises(ValueError, match="n_factors must be a positive int"):
        make_semisynthetic(data, 0.5, n_factors=-1)


def test_simulator_arguments():
    with pytest.raises(ValueError, match="sigma must be a finite positive"):
        make_selection_mf(10, 10, sigma=np.nan)
    with pytest.raises(ValueError, match="sigma must be a finite positive"):
        make_tobit2(100, sigma=-1.0)
    with pytest.raises(ValueError, match="n_features must be >= 0"):
        make_selection_mf(10, 10, n_features=-1)


# ------------------------------------------------------------ inference (F31, F32)
def test_bootstrap_on_other_data_is_an_error(grid):
    X, r, o, _ = grid
    e = HeckmanMFRegressor(**FAST).fit(X, r, o)
    with pytest.raises(ValueError, match="X has 10 rows and the fit had 2400"):
        bootstrap_rho(e, X[:10], n_boot=3, random_state=0)


def test_binary_bootstrap_does_not_depend_on_n_jobs():
    X, r, o, _ = make_selection_mf(60, 40, n_factors=0, rho=0.5, density=0.3, n_features=1,
                                   outcome="binary", random_state=0)
    e = BivariateProbitMF(n_factors=0, random_state=0).fit(X, r, o)
    a, b = (bootstrap_rho(e, X, n_boot=3, n_jobs=j, random_state=0).estimates for j in (1, 2))
    pd.testing.assert_frame_equal(a, b, check_exact=True)


THREAD_SCRIPT = """
from heckrec import BivariateProbitMF, HeckmanMFRegressor
from heckrec.classic import HeckmanProbit, HeckmanSelection
from heckrec.datasets import make_selection_mf, make_tobit2
X, r, o, _ = make_selection_mf(80, 60, n_factors=0, rho=0.6, density=0.3, outcome='binary',
                               random_state=0)
for kind in ('exact', 'ghk'):
    e = BivariateProbitMF(n_factors=0, likelihood=kind, random_state=0).fit(X, r, o)
    print(kind, e.rho_.hex(), e.loglik_.hex(), e.rho_se_.hex())
X, r, o, _ = make_selection_mf(80, 60, n_factors=2, rho=0.5, density=0.3, random_state=0)
for solver in ('lbfgs', 'block-newton'):
    e = HeckmanMFRegressor(n_factors=2, solver=solver, random_state=0).fit(X, r, o)
    print(solver, e.rho_.hex(), e.loglik_.hex(), e.rho_se_.hex())
y, X, s, Z = make_tobit2(5000, random_state=0)
print('tobit2', HeckmanSelection(y, X, s, Z).fit().llf.hex())
print('heckprobit', HeckmanProbit((y > 0).astype(float), X, s, Z).fit().llf.hex())
"""


def test_fits_bitwise_across_thread_counts():
    """F32: BivariateProbitMF's rho differed in the 4th digit between NUMBA_NUM_THREADS 1
    and 2. Every numba path (binary kernels, the continuous passes, block-Newton, the SEs'
    Hessian products, the classic kernel) must give the same bits at any thread count."""
    import os

    runs = [subprocess.run([sys.executable, "-c", THREAD_SCRIPT], capture_output=True,
                           text=True, env={**os.environ, "NUMBA_NUM_THREADS": str(t)},
                           check=True).stdout for t in (1, 2)]
    assert runs[0] == runs[1] and len(runs[0].splitlines()) == 6


# ---------------------------------------------------------------- grid search (F34)
def test_grid_search_binary_with_routing():
    """F34: GridSearchCV(BivariateProbitMF(), cv=3) with routing on stopped at "Input y
    contains NaN": scikit-learn stratifies a classifier's folds on y, before any heckrec
    code runs. y may hold anything where o == 0, so a label there (documented in the
    class docstring) or cv=KFold(3) makes it work, with o routed to fit and score."""
    from sklearn.model_selection import KFold

    X, r, o, _ = make_selection_mf(40, 30, n_factors=0, outcome="binary", random_state=0)
    search = GridSearchCV(BivariateProbitMF(n_factors=0, compute_se=False, max_iter=50),
                          {"reg_bias": [0.1, 1.0]}, cv=3)
    with sklearn.config_context(enable_metadata_routing=True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DegenerateEstimateWarning)
            with pytest.raises(ValueError, match="Input y contains NaN"):
                search.fit(X, r, o=o)
            search.fit(X, np.where(o == 1, r, 0.0), o=o)
            scores = search.cv_results_["mean_test_score"]
            search.set_params(cv=KFold(3)).fit(X, r, o=o)
    assert np.all(np.isfinite(scores)) and np.all(np.isfinite(search.cv_results_["mean_test_score"]))
