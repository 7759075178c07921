"""Intervals and tests for rho of the classic models, each against an independent computation."""

import warnings

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import optimize, stats
from sklearn.exceptions import ConvergenceWarning

from heckrec.classic import HeckmanProbit, HeckmanSelection
from heckrec.datasets import load_mroz87, make_tobit2
from heckrec.inference import lr_test_rho, profile_rho, wald_interval


@pytest.fixture(scope="module")
def fit():
    y, X, s, Z = make_tobit2(600, rho=0.5, sigma=1.5, random_state=3)
    return HeckmanSelection(y, X, s, Z).fit()


def independent_profile(model, theta, rho):
    """max over every other parameter with rho fixed, by scipy BFGS from ``theta``."""
    a = np.arctanh(rho)

    def negll(free):
        return -model.loglike(np.append(free, a))

    res = optimize.minimize(negll, theta[:-1], method="BFGS", options={"gtol": 1e-8})
    return -res.fun


def test_lr_statistic_against_hand_computed_independent_fits(fit):
    model = fit.model
    # rho = 0: a probit of s and OLS on the selected rows, fitted separately by statsmodels.
    probit = sm.Probit(model.s.astype(float), model.Z).fit(disp=0)
    ols = sm.OLS(model.y[model.s], model.X[model.s]).fit()
    by_hand = 2 * (fit.llf - (probit.llf + ols.llf))
    stat, p = lr_test_rho(fit)
    assert stat == pytest.approx(by_hand, rel=1e-8)
    assert p == pytest.approx(stats.chi2.sf(by_hand, 1), rel=1e-6)


def test_probit_lr_statistic_against_two_statsmodels_probits():
    y, X, s, Z = make_tobit2(1500, rho=0.6, sigma=1.0, random_state=1)
    res = HeckmanProbit((y > 0).astype(float), X, s, Z).fit()
    sel = s == 1
    llf0 = (sm.Probit(s.astype(float), Z).fit(disp=0).llf
            + sm.Probit((y[sel] > 0).astype(float), X[sel]).fit(disp=0).llf)
    assert res.lr_test_rho[0] == pytest.approx(2 * (res.llf - llf0), rel=1e-8)


def test_wald_interval_is_tanh_of_the_atanh_interval(fit):
    z = stats.norm.ppf(0.975)
    by_hand = np.tanh(fit.athrho - z * fit.athrho_se), np.tanh(fit.athrho + z * fit.athrho_se)
    np.testing.assert_allclose(wald_interval(fit), by_hand, rtol=1e-12)
    ci = fit.conf_int(alpha=0.1)
    np.testing.assert_allclose(ci.loc["rho"], fit.conf_int_rho(0.1), rtol=1e-12)
    z90 = stats.norm.ppf(0.95)
    np.testing.assert_allclose(ci.iloc[0], [fit.params_select[0] - z90 * fit.bse_select[0],
                                            fit.params_select[0] + z90 * fit.bse_select[0]])
    sigma_ci = ci.loc["sigma"]
    assert sigma_ci["lower"] < fit.sigma < sigma_ci["upper"]


def test_profile_values_match_an_independent_optimiser(fit):
    prof = fit.profile_rho(grid=[0.1, 0.3, 0.7])
    for rho in (0.1, 0.3, 0.7):
        ours = prof.loglik[np.argmin(np.abs(prof.rho - rho))]
        # BFGS converges to ~1e-8 in the gradient: the values agree to ~1e-7.
        assert ours == pytest.approx(independent_profile(fit.model, fit.theta, rho), abs=1e-6)


def test_profile_interval_against_a_grid_search(fit):
    prof = profile_rho(fit)
    lo, hi = prof.interval
    crit = stats.chi2.ppf(0.95, 1)
    # Independent: the LR statistic on a fine grid of rho (fits by BFGS), and the
    # crossings of crit by linear interpolation. Grid step 0.005 with the statistic's
    # slope ~ 30-60 per unit rho: interpolation error ~ 1e-4 in rho.
    grid = np.arange(lo - 0.02, lo + 0.02, 0.005)
    lr = [2 * (fit.llf - independent_profile(fit.model, fit.theta, r)) for r in grid]
    assert lo == pytest.approx(np.interp(0.0, -(np.array(lr) - crit), grid), abs=5e-4)
    grid = np.arange(hi - 0.02, hi + 0.02, 0.005)
    lr = [2 * (fit.llf - independent_profile(fit.model, fit.theta, r)) for r in grid]
    assert hi == pytest.approx(np.interp(0.0, np.array(lr) - crit, grid), abs=5e-4)
    # At its ends the statistic equals the quantile (root found to xtol 1e-5 in atanh rho).
    assert lo < fit.rho < hi
    at_ends = [2 * (fit.llf - fit.model.profile_loglike(np.arctanh(e), fit.theta)[0])
               for e in (lo, hi)]
    np.testing.assert_allclose(at_ends, crit, atol=1e-3)


def test_profile_and_wald_agree_where_the_likelihood_is_quadratic():
    # n = 20000: the log-likelihood is close to quadratic in atanh(rho) over the interval.
    y, X, s, Z = make_tobit2(20000, rho=0.3, sigma=1.0, random_state=0)
    res = HeckmanSelection(y, X, s, Z).fit()
    np.testing.assert_allclose(res.conf_int_rho(method="profile"), res.conf_int_rho(),
                               atol=2e-3)


def test_profile_finds_the_higher_maximum_on_mroz87():
    # The Greene specification (wage in levels): R sampleSelection and Stata report the
    # maximum at rho = -0.13 (llf -1581.26). The likelihood is higher near rho = 1; the
    # profile finds it, says so, and measures the interval from there.
    d = load_mroz87()
    d["kids"] = ((d.kids5 + d.kids618) > 0).astype(float)
    model = HeckmanSelection.from_formula("lfp ~ age + I(age**2) + faminc + kids + educ",
                                          "wage ~ exper + I(exper**2) + educ + city", d)
    res = model.fit()
    assert res.llf == pytest.approx(-1581.2577, abs=1e-3)
    with pytest.warns(ConvergenceWarning, match="local maximum"):
        prof = res.profile_rho()
    assert prof.rho_hat == pytest.approx(0.99308, abs=1e-4)
    assert prof.loglik_max == pytest.approx(-1479.654, abs=1e-2)
    # Independent check of that value: the textbook density with scipy, at the
    # unrestricted Newton optimum started from the profile's maximiser.
    llf, theta = model.profile_loglike(np.arctanh(prof.rho_hat), res.theta)
    theta, _, converged = model._newton(theta, 100, 1e-10)
    assert converged
    m, k = model.Z.shape[1], model.X.shape[1]
    g, e = model.Z @ theta[:m], (model.y - model.X @ theta[m:m + k]) / np.exp(theta[-2])
    rho = np.tanh(theta[-1])
    ll = np.where(model.s, stats.norm.logcdf((g + rho * e) / np.sqrt(1 - rho**2))
                  + stats.norm.logpdf(e) - theta[-2], stats.norm.logcdf(-g))
    assert ll.sum() == pytest.approx(prof.loglik_max, abs=1e-2)
    assert 0.98 < prof.interval[0] < prof.rho_hat < prof.interval[1] < 1.0


def test_bootstrap_is_reproducible_and_independent_of_n_jobs(fit):
    a = fit.bootstrap(n_boot=8, random_state=5)
    b = fit.bootstrap(n_boot=8, random_state=5)
    c = fit.bootstrap(n_boot=8, n_jobs=2, random_state=5)
    d = fit.bootstrap(n_boot=8, random_state=6)
    np.testing.assert_array_equal(a.estimates.to_numpy(), b.estimates.to_numpy())
    np.testing.assert_array_equal(a.estimates.to_numpy(), c.estimates.to_numpy())
    assert not np.array_equal(a.estimates["rho"], d.estimates["rho"])
    assert a.n_failed == 0 and list(a.estimates.columns)[-2:] == ["rho", "sigma"]


def test_bootstrap_spread_matches_the_hessian_standard_error():
    y, X, s, Z = make_tobit2(1000, rho=0.4, sigma=1.0, random_state=2)
    res = HeckmanSelection(y, X, s, Z).fit()
    boot = res.bootstrap(n_boot=100, random_state=0)
    # The SD of 100 draws is within ~15% of the truth (2 sigma); the Hessian SE is itself
    # an estimate, so allow 30%.
    assert boot.bse["rho"] == pytest.approx(res.rho_se, rel=0.3)
    lo, hi = boot.rho_interval()
    assert lo < res.rho < hi
    blo, bhi = boot.rho_interval(method="basic")
    assert blo == pytest.approx(2 * res.rho - hi) and bhi == pytest.approx(2 * res.rho - lo)


def test_twostep_bootstrap_gives_rho_a_spread():
    y, X, s, Z = make_tobit2(800, rho=0.5, sigma=1.0, random_state=4)
    res = HeckmanSelection(y, X, s, Z).fit(method="twostep")
    boot = res.bootstrap(n_boot=20, random_state=0)
    assert np.isnan(res.rho_se) and 0.02 < boot.bse["rho"] < 0.5


def test_probit_bootstrap_survives_replications_running_to_the_boundary():
    # Seed 0 of this design drives one replication's Newton step past |atanh rho| = 20,
    # which divided by zero inside the bivariate normal kernel before the line search
    # kept steps inside the domain.
    y, X, s, Z = make_tobit2(1000, rho=0.8, sigma=1.0, random_state=0)
    res = HeckmanProbit((y > 0).astype(float), X, s, Z).fit()
    boot = res.bootstrap(n_boot=20, random_state=0)
    assert boot.n_failed == 0 and boot.estimates["rho"].notna().all()


def test_bad_requests_raise_clear_errors(fit):
    two = fit.model.fit(method="twostep")
    with pytest.raises(ValueError, match="ML fit"):
        two.profile_rho()
    with pytest.raises(ValueError, match="ML fit"):
        two.conf_int_rho()
    with pytest.raises(ValueError, match="method must be"):
        fit.conf_int_rho(method="delta")
    with pytest.raises(ValueError, match="alpha"):
        fit.conf_int_rho(alpha=1.5)
    with pytest.raises(TypeError, match="alpha"):
        fit.conf_int(alpha="5%")
    with pytest.raises(ValueError, match="grid"):
        fit.profile_rho(grid=[1.0])
    with pytest.raises(ValueError, match="n_boot"):
        fit.bootstrap(n_boot=1)
    y, X, s, Z = make_tobit2(300, rho=0.5, random_state=0)
    X = X.copy()
    X[s == 0, 1] = np.nan  # regressors missing where unselected: allowed by fit ...
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = HeckmanSelection(y, X, s, Z).fit()
    with pytest.raises(ValueError, match="finite at unselected rows"):
        res.bootstrap(n_boot=5)  # ... but a bootstrap sample may select those rows
