"""HeckmanSelection against R sampleSelection and Stata, to the printed precision."""

import numpy as np
import pytest

from heckrec.classic import HeckmanSelection
from heckrec.datasets import load_mroz87

GREENE = ("lfp ~ age + I(age**2) + faminc + kids + educ",
          "wage ~ exper + I(exper**2) + educ + city")
WOOLDRIDGE = ("lfp ~ nwifeinc + educ + exper + I(exper**2) + age + kids5 + kids618",
              "np.log(wage) ~ educ + exper + I(exper**2)")


def printed(value, sig=None, dp=None):
    """Half a unit in the last printed place: the tolerance a printed number allows."""
    if dp is not None:
        return 0.5 * 10.0**-dp * 1.02
    return 0.5 * 10.0 ** (np.floor(np.log10(abs(value))) - sig + 1) * 1.02


def as_printed(value):
    """Half a unit in the last place of the number as copied (Stata's %9.0g keeps
    7 characters of digits, so 0.0583645 has 7 decimals, 1.792559 has 6)."""
    text = repr(float(value))
    mantissa, _, exponent = text.partition("e")
    decimals = len(mantissa.partition(".")[2]) - int(exponent or 0)
    return 0.5 * 10.0**-decimals * 1.02


def check(ours, ref, kind, sig=None, dp=None):
    for value, (name, entry) in zip(np.asarray(ours), ref.items()):
        expected = entry[kind]
        tol = as_printed(expected) if sig == "stata" else printed(expected, sig, dp)
        assert abs(value - expected) <= tol, (name, kind, value, expected)


def mroz():
    d = load_mroz87()
    d["kids"] = ((d.kids5 + d.kids618) > 0).astype(float)
    return d


def test_greene_twostep(refcase):
    ref = refcase("mroz87_greene_tobit2_2step")
    res = HeckmanSelection.from_formula(*GREENE, mroz()).fit(method="twostep")
    check(res.params_select, ref["selection"], "estimate", sig=5)
    check(res.bse_select, ref["selection"], "std_error", sig=5)
    check(res.params_outcome, ref["outcome"], "estimate", dp=8)
    check(res.bse_outcome, ref["outcome"], "std_error", sig=5)
    assert abs(res.params_lambda - ref["invMillsRatio"]["estimate"]) <= printed(1, dp=8)
    assert abs(res.bse_lambda - ref["invMillsRatio"]["std_error"]) <= printed(1.27, sig=8)
    assert abs(res.sigma - ref["sigma"]["estimate"]) <= printed(3.2, sig=6)
    assert abs(res.rho - ref["rho"]["estimate"]) <= printed(0.343, sig=6)
    assert abs(res.llf_select - ref["selection_probit_loglik"]) <= printed(1, dp=3)
    # The corrected SEs differ from the naive OLS ones R also prints.
    naive = ref["uncorrected_ols_second_step_se_for_contrast"]["(Intercept)"]["std_error"]
    assert abs(res.bse_outcome.iloc[0] - naive) > 0.01


def test_greene_ml(refcase):
    ref = refcase("mroz87_greene_tobit2_ml")
    res = HeckmanSelection.from_formula(*GREENE, mroz()).fit(method="ml")
    check(res.params_select, ref["selection"], "estimate", sig=3)
    check(res.bse_select, ref["selection"], "std_error", sig=3)
    # t values are printed to 5 significant digits: a tighter check of both.
    t = np.asarray(res.params_select) / np.asarray(res.bse_select)
    for value, expected in zip(t, ref["selection_t_values"].values()):
        assert abs(value - expected) <= printed(expected, sig=5)
    check(res.params_outcome, ref["outcome"], "estimate", dp=6)
    check(res.bse_outcome, ref["outcome"], "std_error", dp=6)
    assert abs(res.sigma / res.sigma_se - ref["sigma"]["t_value"]) <= printed(27.3, sig=6)
    assert abs(res.rho / res.rho_se - ref["rho"]["t_value"]) <= printed(0.8, sig=4)
    assert abs(res.rho - ref["rho"]["estimate"]) <= printed(0.132, sig=3)
    assert abs(res.sigma - ref["sigma"]["estimate"]) <= printed(3.108, sig=4)
    # The vignette's -1581.259 comes from a BHHH fit stopped by its own
    # tolerance; our Newton fit reaches -1581.2577, 0.0013 higher (a better
    # maximum of the same likelihood), so allow 2e-3.
    assert res.llf == pytest.approx(ref["loglik_vignette_bhhh_fit"], abs=2e-3)
    assert res.llf >= ref["loglik_vignette_bhhh_fit"]


def test_wooldridge_twostep(refcase):
    ref = refcase("mroz87_wooldridge_tobit2_2step")
    res = HeckmanSelection.from_formula(*WOOLDRIDGE, mroz()).fit(method="twostep")
    check(res.params_select, ref["selection"], "estimate", dp=8)
    check(res.bse_select, ref["selection"], "std_error", dp=8)
    check(res.params_outcome, ref["outcome"], "estimate", dp=8)
    check(res.bse_outcome, ref["outcome"], "std_error", dp=8)
    assert abs(res.params_lambda - ref["invMillsRatio"]["estimate"]) <= printed(1, dp=8)
    assert abs(res.bse_lambda - ref["invMillsRatio"]["std_error"]) <= printed(1, dp=8)
    assert abs(res.sigma - ref["sigma"]["estimate"]) <= printed(1, dp=8)
    assert abs(res.rho - ref["rho"]["estimate"]) <= printed(1, dp=8)


def test_wooldridge_ml(refcase):
    ref = refcase("mroz87_wooldridge_tobit2_ml")
    res = HeckmanSelection.from_formula(*WOOLDRIDGE, mroz()).fit(method="ml")
    check(res.params_select, ref["selection"], "estimate", dp=6)
    check(res.bse_select, ref["selection"], "std_error", dp=6)
    check(res.params_outcome, ref["outcome"], "estimate", dp=6)
    check(res.bse_outcome, ref["outcome"], "std_error", dp=6)
    for name in ("sigma", "rho"):
        assert abs(getattr(res, name) - ref[name]["estimate"]) <= printed(1, dp=6)
        assert abs(getattr(res, name + "_se") - ref[name]["std_error"]) <= printed(1, dp=6)
    assert abs(res.llf - ref["loglik"]) <= 0.5  # printed as -833


def womenwk(refdata):
    d = refdata("womenwk.csv")
    s = d.wage.notna().astype(int).to_numpy()
    # Stata's column order: regressors first, _cons last.
    X = np.column_stack([d.education, d.age, np.ones(len(d))])
    Z = np.column_stack([d.married, d.children, d.education, d.age, np.ones(len(d))])
    return HeckmanSelection(d.wage.to_numpy(), X, s, Z)


def test_womenwk_ml(refcase, refdata):
    ref = refcase("womenwk_stata_heckman_ml")
    res = womenwk(refdata).fit(method="ml")
    # Stata stops at its default nrtolerance(1e-5): its printed estimates have
    # a score of 0.02 (ours 1e-11) at the same log-likelihood to 1e-6, and
    # differ from the exact maximum by up to 2e-5 standard errors. Estimates
    # are held to 1e-4 SE (or the printed precision, if larger).
    for ours, se, entries in ((res.params_select, res.bse_select, ref["selection"]),
                              (res.params_outcome, res.bse_outcome, ref["outcome"])):
        for value, s_err, (name, entry) in zip(ours, se, entries.items()):
            tol = max(as_printed(entry["estimate"]), 1e-4 * s_err)
            assert abs(value - entry["estimate"]) <= tol, name
    # Stata's SEs come from its numerical Hessian at its own stopping point:
    # agreement to 1e-5 relative or the printed precision (measured: 1.2e-6 at worst).
    for ours, entries in ((res.bse_select, ref["selection"]), (res.bse_outcome, ref["outcome"])):
        for value, (name, entry) in zip(ours, entries.items()):
            expected = entry["std_error"]
            assert abs(value - expected) <= max(1e-5 * expected, as_printed(expected)), name
    for name, se in (("athrho", res.athrho_se), ("lnsigma", res.lnsigma_se),
                     ("rho", res.rho_se), ("sigma", res.sigma_se), ("lambda", res.bse_lambda)):
        attr = "params_lambda" if name == "lambda" else name
        tol = max(as_printed(ref[name]["estimate"]), 1e-4 * se)
        assert abs(getattr(res, attr) - ref[name]["estimate"]) <= tol, name
    assert abs(res.llf - ref["loglik"]) <= printed(1, dp=4)
    assert isinstance(res.params_outcome, np.ndarray)  # arrays in, arrays out


def test_womenwk_twostep(refcase, refdata):
    ref = refcase("womenwk_stata_heckman_2step")
    res = womenwk(refdata).fit(method="twostep")
    sel = {k: v for k, v in ref["selection"].items() if v["estimate"] is not None}
    check(np.asarray(res.params_select)[:len(sel)], sel, "estimate", sig="stata")
    check(np.asarray(res.bse_select)[:len(sel)], sel, "std_error", sig="stata")
    check(res.params_outcome, ref["outcome"], "estimate", sig="stata")
    check(res.bse_outcome, ref["outcome"], "std_error", sig="stata")
    assert abs(res.params_lambda - ref["lambda"]["estimate"]) <= printed(4.0, sig=5)
    assert abs(res.bse_lambda - ref["lambda"]["std_error"]) <= printed(0.61, sig=4)
    assert abs(res.rho - ref["rho"]["estimate"]) <= printed(0.67, sig=4)
    assert abs(res.sigma - ref["sigma"]["estimate"]) <= printed(5.9, sig=5)


@pytest.mark.parametrize("fit, cov_type", [("bhhh_fit", "opg"), ("bfgs_fit", "hessian")])
def test_heckprobit_binsim_against_r(refcase, refdata, fit, cov_type):
    """R sampleSelection's binary-outcome selection model (tests/binarySelectionOutcome.R).

    Its BHHH run reports the OPG covariance, its BFGS run the Hessian's; both
    printed with options(digits = 3): estimates to 3-4 significant digits,
    standard errors to 3, the log-likelihood to 3 (-398).
    """
    from heckrec.classic import HeckmanProbit

    ref = refcase("binsim_seed0_heckprobit_ml")[fit]
    model = HeckmanProbit.from_formula("ys ~ xs", "yo ~ xo", refdata("binsim_seed0.csv"))
    res = model.fit(cov_type=cov_type)
    names = {"(Intercept)": "Intercept", "xs": "xs", "xo": "xo"}
    for part, params, bse in (("selection", res.params_select, res.bse_select),
                              ("outcome", res.params_outcome, res.bse_outcome)):
        for rname, entry in ref[part].items():
            value, se = params[names[rname]], bse[names[rname]]
            assert abs(value - entry["estimate"]) <= printed(entry["estimate"], dp=3), rname
            assert abs(se - entry["std_error"]) <= printed(entry["std_error"], dp=3), rname
    assert abs(res.rho - ref["rho"]["estimate"]) <= printed(0.817, dp=3)
    assert abs(res.rho_se - ref["rho"]["std_error"]) <= printed(0.141, dp=3)
    assert round(res.llf) == ref["loglik"]
    if cov_type == "opg":
        vcov = np.array(ref["vcov_printed"]["rows"])
        # Printed to 3-5 significant digits: within 0.6% or one unit in the 5th decimal.
        np.testing.assert_allclose(res.cov_params_natural, vcov, rtol=6e-3, atol=1e-5)
