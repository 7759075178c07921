"""Sampled unobserved pairs against the exact sweep: bias, variance, SE and time (issue 15).

One simulated log (make_selection_log: 5,000 users x 2,000 items, density 1%, rank 4,
rho = 0.5) is fitted once with unobserved="complement" (the exact sweep of all 1e7 grid
pairs) and then with unobserved="sampled" at several unobserved_ratio values, each over
several random_state values (each a new sample, and a new start). Per ratio: the mean and
SD over the samples of rho_ - rho_(complement) (the bias and the spread that sampling
adds), the mean reported sampling SD sqrt(design_share) * rho_se_ (what the SEs add for
it; it should match the measured spread), the mean rho_se_ against the complement's,
the draws per fit and the median fit time beside the complement's, all in one run.

--evidence: every fit with rho_criterion="evidence" (rho and the prior precisions by the
Laplace marginal likelihood, whose row blocks a sample estimates from its weighted draws),
at ratios 1, 10 and 30 over 2 samples each. Its rho_se_ is the curvature of log m and leaves the
sample's variance out, so the reported sampling SD column is empty: the measured spread is
what the sample adds. With --binary as well: BivariateProbitMF at its defaults (biases
only, rho_criterion "auto", the evidence from the log or from a sample) on the same design
with a binary outcome.

Run: python benchmarks/bench_sampling.py [--quick | --evidence [--binary]]
     (--quick: 2 ratios x 3 samples)
"""

import sys
import time
import warnings

import numpy as np
from _common import write

from heckrec import BivariateProbitMF, HeckmanMFRegressor
from heckrec.datasets import make_selection_log

QUICK = "--quick" in sys.argv
EVIDENCE = "--evidence" in sys.argv
BINARY = EVIDENCE and "--binary" in sys.argv
CRITERION = "evidence" if EVIDENCE else "penalised"
MODEL = ("BivariateProbitMF(n_factors=0)" if BINARY else
         f"HeckmanMFRegressor(n_factors=4, rho_criterion={CRITERION!r})")
SHAPE = (5000, 2000)
RATIOS = (2.0, 10.0) if QUICK else (1.0, 10.0, 30.0) if EVIDENCE else (1.0, 3.0, 10.0)
SAMPLES = 3 if QUICK else 2 if EVIDENCE else 8
TRUE_RHO = 0.5


def fit(X, r, **params):
    """Fit MODEL with ``params`` on the log; (est, seconds with SEs, warnings)."""
    est = (BivariateProbitMF(n_factors=0, **params) if BINARY else
           HeckmanMFRegressor(n_factors=4, rho_criterion=CRITERION, **params))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        est.fit(X, r)
        seconds = time.perf_counter() - start
    return est, seconds, sorted({type(w.message).__name__ for w in caught})


def main():
    X, r, _ = make_selection_log(*SHAPE, n_factors=4, rho=TRUE_RHO, density=0.01,
                                 outcome="binary" if BINARY else "continuous",
                                 random_state=0)
    grid = SHAPE[0] * SHAPE[1]
    print(f"log: {X.shape[0]:,} observed of {grid:,} pairs", flush=True)
    exact, exact_s, exact_w = fit(X, r, unobserved="complement", random_state=0)
    print(f"complement: rho {exact.rho_:+.4f} +- {exact.rho_se_:.4f}, {exact_s:.1f} s",
          flush=True)
    rows = [{"unobserved": "complement", "ratio": "", "draws per fit": f"{grid - X.shape[0]:,}",
             "samples": 1, f"mean rho_ (truth {TRUE_RHO})": f"{exact.rho_:+.4f}",
             "mean rho_ - complement": "0", "SD over samples": "0",
             "reported sampling SD": "0", "mean rho_se_": f"{exact.rho_se_:.4f}",
             "median fit s": f"{exact_s:.1f}", "warnings": ", ".join(exact_w) or "none"}]
    fit_counts = []
    for ratio in RATIOS:
        gaps, reported, ses, times, warned, draws = [], [], [], [], set(), 0
        for seed in range(SAMPLES):
            est, seconds, caught = fit(X, r, unobserved="sampled", unobserved_ratio=ratio,
                                       random_state=seed)
            gaps.append(est.rho_ - exact.rho_)
            # the design's share of var(atanh rho_), mapped to rho by the same delta method
            # (the evidence's rho_se_ has none: rho is not a parameter of its final fit)
            share = np.nan if EVIDENCE else est.se_info_["design_share"]
            reported.append(np.sqrt(share) * est.rho_se_)
            ses.append(est.rho_se_)
            times.append(seconds)
            warned.update(caught)
            draws = est.n_sampled_
            fit_counts.append(getattr(est, "n_laplace_fits_", 1))
            print(f"ratio {ratio:g} seed {seed}: rho {est.rho_:+.4f} +- {est.rho_se_:.4f}, "
                  f"design share {share:.3f}, {seconds:.1f} s",
                  flush=True)
        rows.append({"unobserved": "sampled", "ratio": f"{ratio:g}", "draws per fit": f"{draws:,}",
                     "samples": SAMPLES, f"mean rho_ (truth {TRUE_RHO})":
                     f"{exact.rho_ + np.mean(gaps):+.4f}",
                     "mean rho_ - complement": f"{np.mean(gaps):+.4f}",
                     "SD over samples": f"{np.std(gaps, ddof=1):.4f}",
                     "reported sampling SD": "" if EVIDENCE else f"{np.mean(reported):.4f}",
                     "mean rho_se_": f"{np.mean(ses):.4f}",
                     "median fit s": f"{np.median(times):.1f}",
                     "warnings": ", ".join(sorted(warned)) or "none"})
    evidence = (f", {exact.n_laplace_fits_} penalised fits; sampled fits' median "
                f"{np.median(fit_counts):g}" if EVIDENCE else "")
    name = ("sampling_quick" if QUICK else "sampling_evidence_binary" if BINARY
            else "sampling_evidence" if EVIDENCE else "sampling")
    write(name, rows, list(rows[0]),
          note=f"{MODEL} defaults otherwise, on a simulated log of "
               f"{SHAPE[0]:,} x {SHAPE[1]:,} ({X.shape[0]:,} observed, rho {TRUE_RHO}); "
               f"complement rho_ {exact.rho_:+.4f}{evidence}. Fit times include the SEs.")


if __name__ == "__main__":
    main()
