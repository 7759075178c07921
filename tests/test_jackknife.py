"""Split-panel jackknife of rho (heckrec.inference.jackknife_rho)."""

import numpy as np
import pytest
from sklearn.base import clone

from heckrec import BivariateProbitMF, HeckmanMFRegressor
from heckrec.datasets import make_selection_mf
from heckrec.inference import jackknife_rho, split_panel_correction

#: Weak penalties: the incidental-parameter bias dominates the shrinkage (issue 14).
WEAK = dict(n_factors=1, reg_factors=1.0, reg_bias=0.1, random_state=0)


@pytest.fixture(scope="module")
def grid():
    X, r, o, _ = make_selection_mf(200, 150, n_factors=1, rho=0.4, density=0.3,
                                   random_state=100)
    return X, r, o, HeckmanMFRegressor(**WEAK).fit(X, r, o)


def test_split_panel_formula_by_hand():
    a_hat, users, items = 0.5, [[0.6, 0.7], [0.65, 0.55]], [[0.62, 0.58], [0.6, 0.6]]
    # 3 * 0.5 - mean(0.6, 0.7, 0.65, 0.55) - mean(0.62, 0.58, 0.6, 0.6) = 1.5 - 0.625 - 0.6
    assert split_panel_correction(a_hat, users, items) == pytest.approx(0.275, abs=1e-15)


def test_estimate_is_the_formula_over_refits_of_its_halves(grid):
    # Hand-built: refit the recorded halves ourselves (cold starts, where the jackknife
    # warm-starts them from the full fit) and combine them. At tol 1e-10 the corrected
    # estimates agree to 2e-6 (measured; at the default tol 1e-4): the same optimum.
    X, r, o, est = grid
    est = clone(est).set_params(tol=1e-10).fit(X, r, o)
    res = jackknife_rho(est, X, r, o, n_partitions=1, random_state=0)
    a = {}
    for name, column in (("user_halves", 0), ("item_halves", 1)):
        first = np.isin(X[:, column], res.subpanels[name][0])
        a[name] = [np.arctanh(clone(est).set_params(compute_se=False).fit(
            X[rows], r[rows], o[rows]).rho_) for rows in (first, ~first)]
    expected = np.tanh(3 * np.arctanh(est.rho_) - np.mean(a["user_halves"])
                       - np.mean(a["item_halves"]))
    assert res.estimate == pytest.approx(expected, abs=1e-5)
    assert res.bias == pytest.approx(est.rho_ - res.estimate, abs=1e-15)
    low, high = res.conf_int(0.05)
    se_a = est.rho_se_ / (1 - est.rho_**2)
    assert low == pytest.approx(np.tanh(np.arctanh(res.estimate) - 1.959964 * se_a), rel=1e-6)
    assert -1 < low < res.estimate < high < 1
    assert "bias-corrected rho" in res.summary() and "JackknifeResult(" in repr(res)
    with pytest.raises(ValueError, match="alpha"):
        res.conf_int(alpha=1.5)


def test_correction_removes_the_incidental_parameter_bias():
    # Four simulated grids (200 x 150, rank 1, 30% observed, true rho 0.4) at weak penalties.
    # Measured: mean rho_ 0.484 (bias 3 SDs of the estimator), corrected 0.37 over 6 seeds.
    errors = []
    for seed in range(4):
        X, r, o, _ = make_selection_mf(200, 150, n_factors=1, rho=0.4, density=0.3,
                                       random_state=100 + seed)
        est = HeckmanMFRegressor(**WEAK).fit(X, r, o)
        res = jackknife_rho(est, X, r, o, random_state=seed)
        errors.append((est.rho_ - 0.4, res.estimate - 0.4))
    raw, corrected = np.mean(errors, axis=0)
    assert raw > 0.05
    assert abs(corrected) < 0.5 * raw


def test_deterministic_given_random_state(grid):
    X, r, o, est = grid
    a = jackknife_rho(est, X, r, o, n_partitions=1, random_state=3)
    b = jackknife_rho(est, X, r, o, n_partitions=1, random_state=3)
    c = jackknife_rho(est, X, r, o, n_partitions=1, random_state=4)
    assert a.estimate == b.estimate
    np.testing.assert_array_equal(a.subpanels["users"], b.subpanels["users"])
    assert not np.array_equal(a.subpanels["user_halves"][0], c.subpanels["user_halves"][0])


def test_binary_model_and_fitted_estimator_unchanged():
    # (smaller binary grids run rho to the boundary: docs/model.md)
    X, r, o, _ = make_selection_mf(400, 300, n_factors=0, rho=0.4, density=0.3,
                                   outcome="binary", random_state=0)
    est = BivariateProbitMF(n_factors=0, reg_bias=1.0, random_state=0).fit(X, r, o)
    theta = est.theta_.copy()
    res = jackknife_rho(est, X, r, o, n_partitions=1, random_state=0)
    assert np.isfinite(res.estimate) and res.subpanels["items"].shape == (1, 2)
    np.testing.assert_array_equal(est.theta_, theta)


def test_errors_name_the_problem(grid):
    X, r, o, est = grid
    with pytest.raises(ValueError, match="X has 100 rows but the estimator was fitted on"):
        jackknife_rho(est, X[:100], r[:100], o[:100])
    flipped = o.copy()
    flipped[np.flatnonzero(o == 0)[:5]] = 1
    with pytest.raises(ValueError, match="o has .* observed pairs but the estimator"):
        jackknife_rho(est, X, r, flipped)
    with pytest.raises(ValueError, match="n_partitions must be a positive integer"):
        jackknife_rho(est, X, r, o, n_partitions=0)
    with pytest.raises(ValueError, match="pass the data it was fitted on"):
        jackknife_rho(est, None, None)
    fixed = clone(est).set_params(fixed_rho=0.2, compute_se=False).fit(X, r, o)
    with pytest.raises(ValueError, match="rho was estimated"):
        jackknife_rho(fixed, X, r, o)


def test_summary_shows_the_corrected_estimate(grid):
    """Issue 14: a fitted estimator's summary can show the bias-corrected rho; its
    interval is the jackknife's, the plain rho's is tanh(atanh(rho_) -+ z se)."""
    X, r, o, est = grid
    res = jackknife_rho(est, X, r, o, n_partitions=1, random_state=0)
    table = est.summary(corrected=res).tables[1]
    row = table.loc["rho (jackknife bias-corrected)"]
    low, high = res.conf_int()
    assert row.iloc[0] == f"{res.estimate:.5g}" and row.iloc[2] == f"{low:.5g}"
    assert row.iloc[3] == f"{high:.5g}"
    a, se_a = np.arctanh(est.rho_), est.rho_se_ / (1 - est.rho_**2)
    assert table.loc["rho"].iloc[2] == f"{np.tanh(a - 1.959963984540054 * se_a):.5g}"
    text = est.summary().as_text()
    rules = {len(line) for line in text.splitlines() if line and set(line) <= set("=-")}
    assert len(rules) == 1 and "nan" not in text


def test_summary_of_an_unconverged_fit_says_why(grid):
    X, r, o, _ = grid
    with pytest.warns(Warning, match="did not converge"):
        est = HeckmanMFRegressor(**WEAK, max_iter=3).fit(X, r, o)
    text = est.summary().as_text()
    assert "Not converged after 3 iterations: STOP: TOTAL NO. OF ITERATIONS" in " ".join(
        text.split())  # the note is wrapped to the table's width
    assert "nan" not in text


def test_bootstrap_bias_correction_by_hand_and_on_a_known_bias():
    """BootstrapResult.bias_corrected: 2 atanh(rho_hat) - mean atanh(rho*) by hand, and on
    the weak-penalty grid whose estimate is biased away from 0 it moves rho_ towards the
    truth. At rho 0.8 on 200 x 150 the bias (0.045) is three SDs of rho_hat (0.015), so on
    one dataset the corrected value is nearer the truth with probability about 0.97
    (measured over 40 datasets: bias 0.045 -> see docs/inference.md)."""
    import pandas as pd

    from heckrec.inference import BootstrapResult, bootstrap_rho

    boot = BootstrapResult(estimates=pd.DataFrame({"rho": [0.5, 0.6, 0.7]}),
                           estimate=pd.Series({"rho": 0.55}), n_failed=0, n_degenerate=0)
    a = np.arctanh([0.5, 0.6, 0.7])
    res = boot.bias_corrected()
    assert res.estimate == pytest.approx(np.tanh(2 * np.arctanh(0.55) - a.mean()), abs=1e-15)
    # no fit SE on this result: the replications' spread, inflated for the mean's own
    # Monte Carlo noise, var(a_bc) = v (1 + 1/B)
    assert res.se_atanh == pytest.approx(np.std(a, ddof=1) * np.sqrt(1 + 1 / 3), abs=1e-15)
    assert res.se == pytest.approx(res.se_atanh * (1 - res.estimate**2), abs=1e-15)
    with pytest.raises(ValueError, match="estimate_se_atanh is NaN"):
        boot.bias_corrected(se="fit")
    with pytest.raises(ValueError, match="se must be"):
        boot.bias_corrected(se="hessian")
    with pytest.raises(ValueError, match="positive number"):
        boot.bias_corrected(se=-1.0)
    with_se = BootstrapResult(estimates=pd.DataFrame({"rho": [0.5, 0.6, 0.7]}),
                              estimate=pd.Series({"rho": 0.55}), n_failed=0, n_degenerate=0,
                              estimate_se_atanh=0.04)
    # with the fit's SE known, fewer than 20 replications use it by default
    assert with_se.bias_corrected().se_atanh == pytest.approx(0.04 * np.sqrt(4 / 3), abs=1e-15)
    assert with_se.bias_corrected(se="replications").se_atanh == pytest.approx(
        res.se_atanh, abs=1e-15)
    assert with_se.bias_corrected(se=0.1).se_atanh == pytest.approx(0.1 * np.sqrt(4 / 3),
                                                                     abs=1e-15)
    low, high = res.conf_int()
    assert low == pytest.approx(np.tanh(np.arctanh(res.estimate) - 1.959964 * res.se_atanh),
                                rel=1e-6)
    assert "BiasCorrectedRho(method='bootstrap'" in repr(res)

    raw, fixed = [], []
    for seed in (7, 8, 9):
        X, r, o, _ = make_selection_mf(200, 150, n_factors=1, rho=0.8, density=0.3,
                                       random_state=seed)
        est = HeckmanMFRegressor(**WEAK).fit(X, r, o)
        boot = bootstrap_rho(est, X, n_boot=10, random_state=0)
        assert boot.estimate_se_atanh == pytest.approx(est.rho_se_ / (1 - est.rho_**2),
                                                       rel=1e-12)
        corrected = boot.bias_corrected()
        raw.append(est.rho_ - 0.8)
        fixed.append(corrected.estimate - 0.8)
    # measured over 40 datasets (30 replications each): bias 0.045 -> -0.012, SDs 0.015 and
    # 0.016, so over three datasets the gap is about 3.5 standard errors
    assert np.mean(raw) > 0.02
    assert abs(np.mean(fixed)) < np.mean(raw) - 0.015
    row = est.summary(corrected=corrected).tables[1].loc["rho (bootstrap bias-corrected)"]
    assert row.iloc[0] == f"{corrected.estimate:.5g}"
