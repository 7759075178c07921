"""HeckmanSelection: derivatives, tests of rho = 0, covariance types, recovery, inputs."""

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from heckrec.classic import HeckmanProbit, HeckmanSelection
from heckrec.datasets import load_mroz87, make_tobit2

GREENE = ("lfp ~ age + I(age**2) + faminc + kids + educ",
          "wage ~ exper + I(exper**2) + educ + city")


def simulate(n=20000, rho=0.5, sigma=2.0, seed=0):
    return make_tobit2(n, rho=rho, sigma=sigma, random_state=seed)


@pytest.fixture(scope="module")
def sim():
    return simulate()


@pytest.fixture(scope="module")
def greene():
    d = load_mroz87()
    d["kids"] = ((d.kids5 + d.kids618) > 0).astype(float)
    return d


def check_score_against_finite_differences(model, theta, h=1e-6):
    g = model.score_obs(theta).sum(axis=0)
    for j in range(theta.size):
        e = np.zeros_like(theta)
        e[j] = h
        fd = (model.loglike(theta + e) - model.loglike(theta - e)) / (2 * h)
        assert g[j] == pytest.approx(fd, rel=1e-6, abs=1e-6)


def check_hessian_against_finite_differences(model, theta, h=1e-6):
    H = model.hessian(theta)
    for j in range(theta.size):
        e = np.zeros_like(theta)
        e[j] = h
        col = (model.score_obs(theta + e).sum(0) - model.score_obs(theta - e).sum(0)) / (2 * h)
        np.testing.assert_allclose(H[:, j], col, rtol=1e-5, atol=1e-5)


def test_score_against_finite_differences(sim):
    y, X, s, Z = sim
    model = HeckmanSelection(y[:500], X[:500], s[:500], Z[:500])
    check_score_against_finite_differences(
        model, np.array([0.2, 0.9, -0.7, 1.1, 0.4, -0.9, np.log(1.8), 0.4]))


def test_hessian_against_finite_differences_of_the_score(sim):
    y, X, s, Z = sim
    model = HeckmanSelection(y[:500], X[:500], s[:500], Z[:500])
    check_hessian_against_finite_differences(
        model, np.array([0.2, 0.9, -0.7, 1.1, 0.4, -0.9, np.log(1.8), 0.4]))


def test_recovers_parameters(sim):
    y, X, s, Z = sim
    res = HeckmanSelection(y, X, s, Z).fit()
    truth = {"select": [0.3, 1.0, -0.8], "outcome": [1.0, 0.5, -1.0]}
    # Each estimate within 3.5 standard errors of the truth (8 parameters:
    # all pass with probability ~0.996 for a correct estimator and SE).
    assert np.all(np.abs(res.params_select - truth["select"]) < 3.5 * res.bse_select)
    assert np.all(np.abs(res.params_outcome - truth["outcome"]) < 3.5 * res.bse_outcome)
    assert abs(res.rho - 0.5) < 3.5 * res.rho_se
    assert abs(res.sigma - 2.0) < 3.5 * res.sigma_se
    assert res.converged


def test_twostep_close_to_ml(sim):
    y, X, s, Z = sim
    model = HeckmanSelection(y, X, s, Z)
    ml, two = model.fit(), model.fit(method="twostep")
    # Both consistent: they differ by much less than a standard error here.
    assert np.all(np.abs(ml.params_outcome - two.params_outcome) < ml.bse_outcome)
    assert abs(ml.rho - two.rho) < 2 * ml.rho_se


def test_independent_loglike_is_the_joint_likelihood_at_rho_zero(greene):
    model = HeckmanSelection.from_formula(*GREENE, greene)
    # At rho = 0 the likelihood separates; its maximum has gamma = probit,
    # beta = OLS, sigma^2 = RSS/n1. Evaluate the joint likelihood there.
    s = model.s
    gamma = sm.Probit(s.astype(float), model.Z).fit(disp=0, method="newton", tol=1e-12).params
    beta, rss = np.linalg.lstsq(model.X[s], model.y[s], rcond=None)[:2]
    theta = np.concatenate([gamma, beta, [0.5 * np.log(rss[0] / s.sum()), 0.0]])
    assert model.independent_loglike() == pytest.approx(model.loglike(theta), rel=1e-12)


def test_lr_and_wald_tests_of_rho(greene):
    res = HeckmanSelection.from_formula(*GREENE, greene).fit()
    lr, p = res.lr_test_rho
    assert lr == pytest.approx(2 * (res.llf - res.model.independent_loglike()), rel=1e-12)
    # rho_hat = -0.13 with SE 0.165: no evidence of selection bias on either test.
    assert 0.3 < p < 0.7
    wald, p_wald = res.wald_test_rho
    assert wald == pytest.approx((res.athrho / res.athrho_se) ** 2, rel=1e-12)
    # Different statistics (measured p = 0.43 Wald, 0.52 LR); neither rejects.
    assert 0.3 < p_wald < 0.7


def test_lr_tests_of_other_restrictions_match_r(refcase, greene):
    # R's LR tests of restricted ML fits (sampleSelection's lrtest): an
    # independent check of the ML fit on three more specifications.
    ref = refcase("mroz87_greene_tobit2_ml")["lr_tests_vs_restricted_ml_fits"]
    full = HeckmanSelection.from_formula(*GREENE, greene).fit()
    restricted = [
        (GREENE[0], "wage ~ 1"),
        (GREENE[0], "wage ~ educ"),
        ("lfp ~ faminc + kids + educ", GREENE[1]),
    ]
    for (sel, out), expected in zip(restricted, ref):
        res = HeckmanSelection.from_formula(sel, out, greene).fit()
        assert res.llf == pytest.approx(expected["restricted_loglik"], abs=0.5)
        chisq = 2 * (full.llf - res.llf)
        assert chisq == pytest.approx(expected["chisq"], rel=6e-3)  # printed to 3 digits


@pytest.mark.parametrize("cov_type", ["hessian", "opg", "robust"])
def test_cov_types(sim, cov_type):
    y, X, s, Z = sim
    model = HeckmanSelection(y, X, s, Z)
    res = model.fit(cov_type=cov_type)
    S = model.score_obs(res.theta)
    H = model.hessian(res.theta)
    expected = {"hessian": np.linalg.inv(-H), "opg": np.linalg.inv(S.T @ S),
                "robust": np.linalg.inv(-H) @ (S.T @ S) @ np.linalg.inv(-H)}[cov_type]
    np.testing.assert_allclose(res.cov_params, expected, rtol=1e-10)
    # Correct specification: the three agree to sampling error (within 10%).
    ref = np.sqrt(np.diag(np.linalg.inv(-H)))
    np.testing.assert_allclose(np.sqrt(np.diag(res.cov_params)), ref, rtol=0.1)


def test_summary_and_html(greene):
    res = HeckmanSelection.from_formula(*GREENE, greene).fit()
    text = res.summary().as_text()
    for piece in ("Heckman selection model (ML)", "S: educ", "O: city", "rho", "sigma",
                  "LR test rho=0", "753"):
        assert piece in text
    assert "<table" in res._repr_html_()
    assert isinstance(res.params_outcome, pd.Series)
    assert list(res.params_outcome.index) == ["Intercept", "exper", "I(exper ** 2)", "educ",
                                               "city"]


def test_summary_prints_what_stata_prints(greene):
    """Issue 17: rho's interval is tanh(athrho -+ z se) (conf_int's, inside (-1, 1)),
    athrho and lnsigma rows carry the z-tests, sigma has none, four significant digits
    (faminc was 0.0000), no 'nan' cells, one table so the rule lines are even."""
    res = HeckmanSelection.from_formula(*GREENE, greene).fit()
    table = res._coefficient_table()
    low, high = res.conf_int().loc["rho"]
    assert table.loc["rho", "[0.025"] == f"{low:.4g}" and table.loc["rho", "0.975]"] == f"{high:.4g}"
    z = 1.959963984540054
    assert low == pytest.approx(np.tanh(res.athrho - z * res.athrho_se), rel=1e-12)
    assert table.loc["athrho", "z"] == f"{res.athrho / res.athrho_se:.4g}"
    assert table.loc["lnsigma", "coef"] == f"{res.lnsigma:.4g}"
    assert table.loc["sigma", "z"] == "" and table.loc["sigma", "P>|z|"] == ""
    assert table.loc["S: faminc", "coef"] == f"{res.params_select['faminc']:.4g}" != "0"
    text = res.summary().as_text()
    assert "nan" not in text
    rules = [len(line) for line in text.splitlines() if line and set(line) <= set("=-")]
    assert len(set(rules)) == 1
    two = HeckmanSelection.from_formula(*GREENE, greene).fit(method="twostep").summary()
    assert "nan" not in two.as_text()


def test_start_params(greene):
    """Issue 17: the local-maximum warning says "refit from there"; start_params does.
    From the two-step start and from a far one the ML fit lands on the same maximum."""
    model = HeckmanSelection.from_formula(*GREENE, greene)
    default = model.fit()
    far = default.theta.copy()
    far[-1] = 1.5  # rho 0.905 instead of -0.132
    moved = model.fit(start_params=far)
    assert moved.n_iter != default.n_iter  # it started elsewhere
    np.testing.assert_allclose(moved.theta, default.theta, rtol=1e-6, atol=1e-10)
    with pytest.raises(ValueError, match="start_params needs 13 values"):
        model.fit(start_params=np.zeros(3))


def test_minus_infinity_outcome_in_unselected_rows_is_accepted(greene):
    model = HeckmanSelection.from_formula("lfp ~ educ + age", "np.log(wage) ~ educ", greene)
    assert model.s.size == 753
    assert np.isfinite(model.fit().llf)


@pytest.mark.parametrize("change, match", [
    (lambda y, X, s, Z: (y, X, np.where(s == 1, 2, 0), Z), "0/1"),
    (lambda y, X, s, Z: (y, X, s, np.where(np.arange(len(s))[:, None] == 0, np.nan, Z)), "Z contains NaN"),
    (lambda y, X, s, Z: (np.where(np.arange(len(s)) == np.argmax(s), np.nan, y), X, s, Z), "y contains NaN"),
    (lambda y, X, s, Z: (y, np.column_stack([X, X[:, 1]]), s, Z), "rank deficient"),
    (lambda y, X, s, Z: (y[:10], X, s, Z), "y has 10 rows"),
    (lambda y, X, s, Z: (y, X, np.ones_like(s), Z), "both selected"),
])
def test_bad_input(sim, change, match):
    with pytest.raises(ValueError, match=match):
        HeckmanSelection(*change(*sim))


def test_bad_method_and_cov_type(sim):
    model = HeckmanSelection(*sim)
    with pytest.raises(ValueError, match="method"):
        model.fit(method="gmm")
    with pytest.raises(ValueError, match="cov_type"):
        model.fit(cov_type="hc0")


def test_twostep_has_no_likelihood_tests(sim):
    res = HeckmanSelection(*sim).fit(method="twostep")
    assert np.isnan(res.llf) and np.isnan(res.rho_se)
    with pytest.raises(ValueError, match="ML fit"):
        res.lr_test_rho
    stat, p = res.wald_test_rho
    assert stat == pytest.approx((res.params_lambda / res.bse_lambda) ** 2)


def test_rho_at_the_boundary_is_reported():
    from heckrec import DegenerateEstimateWarning

    # True rho 0.995: the ML estimate lands within 0.01 of 1 (measured 0.9937
    # to 0.9962 over three seeds), where the likelihood is not regular.
    y, X, s, Z = make_tobit2(2000, rho=0.995, random_state=1)
    with pytest.warns(DegenerateEstimateWarning, match="boundary"):
        res = HeckmanSelection(y, X, s, Z).fit()
    assert abs(res.rho) > 0.99


def test_non_positive_variances_become_nan_with_a_warning():
    from sklearn.exceptions import ConvergenceWarning

    from heckrec import DegenerateEstimateWarning

    # Measured: at true rho 0.999 (seed 0) the fit ends at rho = 0.99995 with a
    # Hessian that is not negative definite.
    y, X, s, Z = make_tobit2(2000, rho=0.999, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("error", RuntimeWarning)
        res = HeckmanSelection(y, X, s, Z).fit()
    degenerate = [str(w.message) for w in caught if w.category is DegenerateEstimateWarning]
    assert any("not positive definite" in m for m in degenerate)
    assert any("at the boundary" in m for m in degenerate)
    assert any(w.category is ConvergenceWarning for w in caught)
    se = np.concatenate([res.bse_select, res.bse_outcome, [res.rho_se]])
    assert np.isnan(se).any()


# ------------------------------------------------------------ HeckmanProbit
@pytest.fixture(scope="module")
def probit_sim():
    # make_tobit2 with sigma = 1, outcome 1[X beta + u > 0]: beta = (1, 0.5, -1),
    # gamma = (0.3, 1, -0.8), rho = 0.5.
    y, X, s, Z = make_tobit2(20000, rho=0.5, sigma=1.0, random_state=5)
    return np.where(s == 1, (y > 0).astype(float), np.nan), X, s, Z


def test_probit_score_and_hessian_against_finite_differences(probit_sim):
    from heckrec.classic import HeckmanProbit

    y, X, s, Z = probit_sim
    model = HeckmanProbit(y[:400], X[:400], s[:400], Z[:400])
    theta = np.array([0.2, 0.9, -0.7, 1.1, 0.4, -0.9, 0.4])
    check_score_against_finite_differences(model, theta)
    check_hessian_against_finite_differences(model, theta)


def test_probit_recovers_parameters(probit_sim):
    from heckrec.classic import HeckmanProbit

    res = HeckmanProbit(*probit_sim).fit()
    # Each of 7 estimates within 3.5 standard errors of the truth.
    assert np.all(np.abs(res.params_select - [0.3, 1.0, -0.8]) < 3.5 * res.bse_select)
    assert np.all(np.abs(res.params_outcome - [1.0, 0.5, -1.0]) < 3.5 * res.bse_outcome)
    assert abs(res.rho - 0.5) < 3.5 * res.rho_se
    assert res.converged and not hasattr(res, "sigma")
    # rho = 0.5 is far from 0 at n = 20000: both tests reject.
    assert res.lr_test_rho[1] < 1e-6 and res.wald_test_rho[1] < 1e-6
    for cov_type in ("opg", "robust"):
        other = HeckmanProbit(*probit_sim).fit(cov_type=cov_type)
        # Correct model: every covariance estimates the same matrix (within 10%).
        np.testing.assert_allclose(other.rho_se, res.rho_se, rtol=0.1)
    assert "rho" in str(res.summary()) and "sigma" not in str(res.summary())


def test_probit_lr_test_uses_independent_probits(probit_sim):
    from heckrec.classic import HeckmanProbit

    y, X, s, Z = probit_sim
    model = HeckmanProbit(y, X, s, Z)
    sel = sm.Probit(s.astype(float), Z).fit(disp=0)
    out = sm.Probit(y[s == 1], X[s == 1]).fit(disp=0)
    theta = np.concatenate([sel.params, out.params, [0.0]])
    # At rho = 0 the likelihood factorises into the two probits.
    assert model.loglike(theta) == pytest.approx(sel.llf + out.llf, rel=1e-10)
    assert model.independent_loglike() == pytest.approx(sel.llf + out.llf, rel=1e-8)


def test_probit_bad_input(probit_sim):
    from heckrec.classic import HeckmanProbit

    y, X, s, Z = probit_sim
    with pytest.raises(ValueError, match="binary"):
        HeckmanProbit(np.where(s == 1, 2.0, np.nan), X, s, Z)
    with pytest.raises(ValueError, match="only one value"):
        HeckmanProbit(np.where(s == 1, 1.0, np.nan), X, s, Z)
    with pytest.raises(ValueError, match="method='ml'"):
        HeckmanProbit(y, X, s, Z).fit(method="twostep")


# ---------------------------------------------------- analytic Hessians (issue 17 speed)
def _differenced_hessian(model, theta):
    """Central differences of the analytic per-observation derivatives (the base
    class's generic path), assembled by the same chain rule."""
    from heckrec.classic._linear import LinearSelectionModel

    comps = model._components(theta)
    n = model.s.size
    base = [np.broadcast_to(np.asarray(c, dtype=float), (n,)).copy() for c in comps]
    h = np.empty((n, len(base), len(base)))
    for j in range(len(base)):
        up, dn = list(base), list(base)
        up[j], dn[j] = base[j] + 1e-6, base[j] - 1e-6
        d_up, d_dn = model._obs_terms(*up)[1], model._obs_terms(*dn)[1]
        for i in range(len(base)):
            h[:, i, j] = (d_up[i] - d_dn[i]) / 2e-6
    return LinearSelectionModel._assemble(model, 0.5 * (h + h.transpose(0, 2, 1)))


def test_tobit2_kernel_matches_the_numpy_terms_and_differenced_hessian():
    """HeckmanSelection's one-pass numba kernel: loglik and gradient against the numpy
    twin's per-observation terms, Hessian against differences of them."""
    y, X, s, Z = make_tobit2(2000, rho=0.6, sigma=1.5, random_state=3)
    model = HeckmanSelection(y, X, s, Z)
    theta = np.array([0.2, 0.9, -0.4, 0.8, 0.6, -0.9, np.log(1.4), 0.5])
    ll, grad, H = model._derivatives(theta)
    terms = model._obs_terms(*model._components(theta))
    assert ll == pytest.approx(float(np.sum(terms[0])), rel=1e-12)
    np.testing.assert_allclose(grad, model.score_obs(theta).sum(axis=0), rtol=1e-10,
                               atol=1e-9)
    # central differences with step 1e-6 on O(1) terms: 1e-6 relative is ample
    np.testing.assert_allclose(H, _differenced_hessian(model, theta), rtol=1e-6, atol=1e-5)


def test_heckprobit_analytic_hessian_matches_differences():
    y, X, s, Z = make_tobit2(3000, rho=0.5, sigma=1.0, random_state=0)
    model = HeckmanProbit((y > 0).astype(float), X, s, Z)
    for athrho in (0.4, -1.2, 2.5):  # rho 0.38, -0.83, 0.987
        theta = np.array([0.1, 0.8, -0.5, 0.3, 0.7, -0.6, athrho])
        np.testing.assert_allclose(model.hessian(theta), _differenced_hessian(model, theta),
                                   rtol=1e-6, atol=1e-5)
        ll, grad, _ = model._derivatives(theta)
        assert ll == pytest.approx(model.loglike(theta), rel=1e-13)
        np.testing.assert_allclose(grad, model.score_obs(theta).sum(axis=0), rtol=1e-10,
                                   atol=1e-9)
