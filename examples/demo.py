"""heckrec's main job in one run: a classic Heckman fit and an MF selection fit.

1. The classic tobit-2 model on Mroz (1987) women's wages (shipped with the
   package), the textbook specification of Greene (2003, example 22.8), by ML
   and two-step, to compare with R sampleSelection.
2. HeckmanMFRegressor on simulated recommender data whose true rho is known:
   ratings are observed where users chose to rate, and the choice is
   correlated with the rating (rho = 0.6).
3. The binary half: HeckmanProbit on a simulated linear-index case, and
   BivariateProbitMF on simulated clicks with a known rho: at its defaults (the
   per-user and per-item biases integrated out) and by the penalised likelihood,
   whose bias from those parameters bias_corrected_rho removes.

Run: python examples/demo.py
"""

import time
import warnings

import numpy as np

from heckrec import BivariateProbitMF, HeckmanMFRegressor
from heckrec.classic import HeckmanProbit, HeckmanSelection
from heckrec.datasets import load_mroz87, make_selection_mf, make_tobit2
from heckrec.inference import bias_corrected_rho


def classic():
    data = load_mroz87()
    data["kids"] = ((data.kids5 + data.kids618) > 0).astype(float)
    model = HeckmanSelection.from_formula(
        "lfp ~ age + I(age**2) + faminc + kids + educ",
        "wage ~ exper + I(exper**2) + educ + city", data)
    ml = model.fit(method="ml")
    print(ml.summary())
    two = model.fit(method="twostep")
    print(f"\nTwo-step: rho = {two.rho:.4f}, lambda = {two.params_lambda:.4f} "
          f"(SE {two.bse_lambda:.4f}); ML: rho = {ml.rho:.4f} (SE {ml.rho_se:.4f})")
    # Inference for rho (docs/inference.md). The profile likelihood also scans rho and,
    # on this specification, finds a higher maximum near rho = 1 than the one R and
    # Stata report: it warns, and the interval is measured from there.
    lo, hi = ml.conf_int_rho()
    print(f"95% Wald interval for rho (atanh scale): [{lo:.4f}, {hi:.4f}]")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        prof = ml.profile_rho()
    for w in caught:
        print(f"warning: {w.message}")
    print(f"95% profile-likelihood interval: [{prof.interval[0]:.4f}, {prof.interval[1]:.4f}] "
          f"around rho = {prof.rho_hat:.5f} (loglik {prof.loglik_max:.4f})")
    boot = two.bootstrap(n_boot=99, random_state=0)
    lo, hi = boot.rho_interval()
    print(f"Two-step rho has no standard error; parametric bootstrap (99 replications): "
          f"SE {boot.bse['rho']:.4f}, 95% percentile interval [{lo:.4f}, {hi:.4f}]\n")


def recommender(seed=0):
    X, r, o, truth = make_selection_mf(n_users=800, n_items=500, n_factors=2, rho=0.6,
                                       sigma=1.0, density=0.1, bias_scale=0.8,
                                       random_state=seed)
    print(f"Simulated grid: {X.shape[0]:,} user-item pairs, {o.mean():.1%} observed, "
          f"true rho = {truth['rho']}, sigma = {truth['sigma']}")
    start = time.perf_counter()
    # Defaults: rho_criterion="auto" fits the penalised likelihood, checks whether its rho
    # reflects the penalties (here reg_factors 100 holds the rank-2 factors at 0: a
    # biases-only fit), and if so refits with the users' and items' parameters integrated
    # out under priors chosen from the data (the evidence).
    est = HeckmanMFRegressor(n_factors=2, random_state=seed).fit(X, r, o)
    seconds = time.perf_counter() - start
    print(est.summary())
    naive = np.nanmean(r) - truth["g_r"].mean()
    debiased = est.predict(X).mean() - truth["g_r"].mean()
    print(f"\nfit: {seconds:.1f} s. Mean preference over all pairs: naive (observed mean) "
          f"off by {naive:+.3f}, heckrec off by {debiased:+.3f}.")
    print(f"rho_ = {est.rho_:.3f} +- {est.rho_se_:.3f} (truth {truth['rho']}; rho_criterion_ = "
          f"{est.rho_criterion_!r}).")
    start = time.perf_counter()
    penalised = HeckmanMFRegressor(n_factors=2, rho_criterion="penalised",
                                   random_state=seed).fit(X, r, o)
    print(f"The penalised fit alone: rho_ = {penalised.rho_:.3f} +- {penalised.rho_se_:.3f} "
          f"({time.perf_counter() - start:.1f} s); a tenfold change of all the penalties would "
          f"move it by {penalised.rho_penalty_shift_:.1f} SEs to first order, which cannot see "
          "factors held at 0.\n")


def binary(seed=0):
    y, X, s, Z = make_tobit2(5000, rho=0.5, sigma=1.0, random_state=seed)
    res = HeckmanProbit(np.where(s == 1, (y > 0).astype(float), np.nan), X, s, Z).fit()
    print(res.summary())
    print(f"HeckmanProbit: rho = {res.rho:.3f} +- {res.rho_se:.3f} (truth 0.5)\n")
    X, r, o, truth = make_selection_mf(n_users=300, n_items=200, n_factors=0, rho=0.6,
                                       density=0.3, outcome="binary", bias_scale=0.8,
                                       random_state=seed)
    start = time.perf_counter()
    # Defaults: a biases-only model whose per-user and per-item biases are integrated out
    # under prior precisions chosen from the data (rho_criterion="auto", the evidence).
    clf = BivariateProbitMF(random_state=seed).fit(X, r, o)
    print(clf.summary())
    print(f"\nBivariateProbitMF fit: {time.perf_counter() - start:.1f} s, rho_ = {clf.rho_:.3f} "
          f"+- {clf.rho_se_:.3f} (truth 0.6; rho_criterion_ = {clf.rho_criterion_!r}).")
    penalised = BivariateProbitMF(rho_criterion="penalised", random_state=seed).fit(X, r, o)
    print(f"The same model by the penalised likelihood: rho_ = {penalised.rho_:.3f} +- "
          f"{penalised.rho_se_:.3f} (the per-user and per-item biases, fitted as parameters, "
          "bias a binary model's rho upwards on a grid this size; docs/model.md).")
    # The penalised fit's bias, measured by refits on data simulated from the fit, at rho_
    # and at the corrected value, and removed (four warm-started refits; docs/inference.md).
    start = time.perf_counter()
    corrected = bias_corrected_rho(penalised, X, random_state=seed)
    low, high = corrected.conf_int()
    print(f"The penalised fit bias-corrected: rho = {corrected.estimate:.3f} +- {corrected.se:.3f}, 95% interval "
          f"[{low:.3f}, {high:.3f}] ({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    classic()
    recommender()
    binary()
